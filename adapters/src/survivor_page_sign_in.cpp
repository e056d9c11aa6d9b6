// The survivor page's sessions and sign-in: the signed visitor cookie (her language, form
// token and one-time message before she signs in), the session table and its limits, the
// code check with its throttle, and a duress sign-in's alert.
#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/hkdf.h"
#include "survivor_page_impl.h"
#include "web_form.h"

namespace ariadne::adapters {

using detail::kCookie;
using detail::kVisitorFlashes;
using gateway::HttpRequest;
using gateway::HttpResponse;
using PageSession = detail::PageSession;
using Visitor = detail::Visitor;
using detail::base64url;
using detail::random_token;

std::string SurvivorPage::Impl::cookie_header(const std::string& token) const {
    return std::string(kCookie) + "=" + token + "; Path=" + options.path +
           "; Secure; HttpOnly; SameSite=Strict";
}

std::string SurvivorPage::Impl::cleared_cookie_header() const {
    return std::string(kCookie) + "=; Path=" + options.path +
           "; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
}

PageSession* SurvivorPage::Impl::signed_in_locked(const std::string& token, std::int64_t now) {
    auto it = sessions.find(token);
    if (it == sessions.end()) return nullptr;
    if (now - it->second.last_ms > idle_ms()) {
        sessions.erase(it);
        return nullptr;
    }
    it->second.last_ms = now;
    return &it->second;
}

bool SurvivorPage::Impl::room_for_session_locked(std::int64_t now) {
    if (sessions.size() < options.max_sessions) return true;
    for (auto s = sessions.begin(); s != sessions.end();) {
        s = now - s->second.last_ms > idle_ms() ? sessions.erase(s) : std::next(s);
    }
    return sessions.size() < options.max_sessions;
}

std::size_t SurvivorPage::Impl::sessions_of_locked(const std::string& account) const {
    return static_cast<std::size_t>(
        std::count_if(sessions.begin(), sessions.end(),
                      [&](const auto& entry) { return entry.second.account == account; }));
}

std::string SurvivorPage::Impl::cookie_mac(const std::string& payload) const {
    return base64url(
        crypto::hkdf_sha256(cookie_key.view(), {}, crypto::as_bytes(payload), 16).view());
}

std::string SurvivorPage::Impl::visitor_value(const Visitor& v) const {
    const std::string payload = "a." + v.nonce + "." + v.lang + "." + v.flash;
    return payload + "." + cookie_mac(payload);
}

std::string SurvivorPage::Impl::visitor_csrf(const Visitor& v) const {
    return cookie_mac("csrf." + v.nonce);
}

std::optional<Visitor> SurvivorPage::Impl::parse_visitor(const std::string& value) const {
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (;;) {
        auto dot = value.find('.', from);
        parts.push_back(value.substr(from, dot - from));
        if (dot == std::string::npos) break;
        from = dot + 1;
    }
    if (parts.size() != 5 || parts[0] != "a") return std::nullopt;
    const std::string payload = value.substr(0, value.rfind('.'));
    if (!crypto::equal_constant_time(crypto::as_bytes(cookie_mac(payload)),
                                     crypto::as_bytes(parts[4]))) {
        return std::nullopt;
    }
    Visitor v{parts[1], catalogue.contains(parts[2]) ? parts[2] : "en", ""};
    for (const char* known : kVisitorFlashes) {
        if (parts[3] == known) v.flash = known;
    }
    return v;
}

Visitor SurvivorPage::Impl::new_visitor(const HttpRequest& r) const {
    return Visitor{random_token(), negotiate(r), ""};
}

std::pair<std::string, bool> SurvivorPage::Impl::check_code(const std::string& code) {
    crypto::RecoverySecrets secrets;
    try {
        secrets = crypto::derive_recovery_secrets(code, params);
    } catch (const crypto::Error&) {
        return {"", false};
    }
    if (auto creds = store.find_survivor(secrets.locator)) {
        if (crypto::equal_constant_time(creds->auth_public_key, secrets.auth_public_key)) {
            if (options.duress_target) {
                if (auto her = options.duress_target(creds->account.id)) return {*her, true};
            }
            return {creds->account.id, false};
        }
    }
    return {"", false};
}

HttpResponse SurvivorPage::Impl::login(const HttpRequest& r, Visitor visitor,
                                       const std::map<std::string, std::string>& form) {
    auto code_it = form.find("code");
    const std::string code = code_it == form.end() ? std::string() : code_it->second;
    std::string normalised;
    try {
        normalised = crypto::normalize_recovery_code(code);
    } catch (const crypto::Error&) {
        normalised = code;
    }
    const std::string ip_key = "ip:" + r.peer_address;
    const std::string code_key =
        "code:" +
        crypto::hex_encode(
            crypto::hkdf_sha256(throttle_key.view(), {}, crypto::as_bytes(normalised), 16).view());
    auto refuse = [&](const char* key) {
        visitor.flash = key;
        return redirect(cookie_header(visitor_value(visitor)));
    };
    {
        std::lock_guard lock(mutex);
        const std::int64_t now = now_ms();
        // A full page says so before any check: the code is neither checked nor counted.
        if (!room_for_session_locked(now)) return refuse("full");
        if (std::max(throttle.remaining(ip_key, now), throttle.remaining(code_key, now)) > 0) {
            return refuse("wait");
        }
        // Counted as failed before the check, under the same lock as the test above:
        // simultaneous guesses from one address cannot all pass it. A success resets.
        throttle.fail(ip_key, now);
        throttle.fail(code_key, now);
    }
    auto [account, duress] = check_code(code);
    if (account.empty()) return refuse("failed");
    throttle.reset(code_key);
    throttle.reset(ip_key);
    if (duress) {
        // Logged without her account: a log must not say whose duress code was used.
        spdlog::warn("survivor page: duress sign-in");
        try {
            hub.notify_team(account,
                            "ALERT: her duress code was just used to sign in on the web "
                            "page. Check on her safety by the means agreed with her.");
        } catch (const std::exception& e) {
            spdlog::error("survivor page: a duress alert was not delivered: {}", e.what());
        }
        if (options.on_duress) options.on_duress(account);
    } else {
        try {
            hub.attach(account);
        } catch (const std::exception& e) {
            spdlog::warn("survivor page: edge device for account {} unavailable: {}", account,
                         e.what());
        }
    }
    // The session is created only now, with a new id (no fixation).
    std::lock_guard lock(mutex);
    const std::int64_t now = now_ms();
    if (!room_for_session_locked(now) ||
        sessions_of_locked(account) >= options.max_sessions_per_account) {
        return refuse("full");
    }
    PageSession s;
    s.lang = visitor.lang;
    s.account = account;
    s.duress = duress;
    s.flash.clear();
    s.draft.clear();
    if (options.profile) {
        try {
            if (auto p = options.profile(account)) {
                if (auto lang = catalogue_language(p->language); !lang.empty()) s.lang = lang;
                s.time_zone = p->time_zone;
            }
        } catch (const std::exception& e) {
            spdlog::warn("survivor page: record of account {} unreadable: {}", account, e.what());
        }
    }
    for (auto k = kept_drafts.begin(); k != kept_drafts.end();) {
        k = now_ms() - k->second.second > idle_ms() ? kept_drafts.erase(k) : std::next(k);
    }
    if (auto k = kept_drafts.find(account); k != kept_drafts.end() && !duress) {
        s.draft = std::move(k->second.first);
        s.flash = "draft_kept";
        kept_drafts.erase(k);
    }
    s.csrf = random_token();
    s.last_ms = now;
    const std::string fresh = random_token();
    sessions.emplace(fresh, std::move(s));
    return redirect(cookie_header(fresh));
}

}  // namespace ariadne::adapters
