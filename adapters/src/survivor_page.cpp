#include "ariadne/adapters/survivor_page.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/adapters/edge.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/policies/time_zone.h"
#include "unix_clock.h"
#include "web_assets.h"

namespace ariadne::adapters {

using gateway::HttpRequest;
using gateway::HttpResponse;
using Json = nlohmann::json;

namespace {

constexpr std::size_t kMaxText = 4000;
constexpr const char* kCookie = "n";
constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos) {
            out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return out;
}

std::string cookie_value(const HttpRequest& r, std::string_view name) {
    std::string header = r.header("cookie");
    std::string_view h = header;
    while (!h.empty()) {
        while (!h.empty() && (h.front() == ' ' || h.front() == ';')) h.remove_prefix(1);
        auto semi = h.find(';');
        std::string_view part = h.substr(0, semi);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) {
            return std::string(part.substr(eq + 1));
        }
        if (semi == std::string_view::npos) break;
        h.remove_prefix(semi + 1);
    }
    return {};
}

std::string base64url(crypto::ByteView bytes) {
    std::string t = crypto::base64_encode(bytes);
    while (!t.empty() && t.back() == '=') t.pop_back();
    for (char& c : t) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return t;
}

std::string random_token() { return base64url(crypto::random_bytes(24)); }

/// A signed-in survivor: the only state the page keeps on the server.
struct PageSession {
    std::string lang;
    std::string csrf;
    std::string account;
    bool duress = false;
    std::string time_zone;  // hers, for timestamps (empty: UTC)
    std::string flash;      // catalogue key shown once
    std::string draft;      // the text in her box, not sent yet (memory only)
    std::int64_t last_ms = 0;
};

/// Only "sent" and "draft_kept" are confirmations; every other flash is a problem to fix.
bool is_confirmation(const std::string& flash) { return flash == "sent" || flash == "draft_kept"; }

/// "2026-03-14 09:05" in `zone` (UTC if it cannot be loaded): digits read the same in every
/// language the page speaks.
std::string local_time(std::int64_t at_ms, const std::string& zone) {
    using namespace std::chrono;
    const policies::Instant t{duration_cast<microseconds>(milliseconds(at_ms))};
    local_seconds local{duration_cast<seconds>(t.time_since_epoch())};
    try {
        if (!zone.empty()) local = policies::TimeZone::load(zone)->to_local(t).local();
    } catch (const std::exception&) {
    }
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss hms{local - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    return buf;
}

std::string iso_utc(std::int64_t at_ms) {
    using namespace std::chrono;
    const sys_seconds t{duration_cast<seconds>(milliseconds(at_ms))};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

/// Someone who has not signed in. Kept only in her cookie, authenticated with a server
/// key ("a.<nonce>.<lang>.<flash>.<mac>"), so requests without a session cost no memory.
struct Visitor {
    std::string nonce;
    std::string lang;
    std::string flash;  // "", or one of kVisitorFlashes
};

constexpr const char* kVisitorFlashes[] = {"failed", "wait", "full"};

}  // namespace

struct SurvivorPage::Impl {
    gateway::Store& store;
    EdgeHub& hub;
    crypto::RecoveryParams params;
    SurvivorPageOptions options;
    Json catalogue;
    crypto::SecretBytes throttle_key{crypto::random_bytes(32)};
    crypto::SecretBytes cookie_key{crypto::random_bytes(32)};
    gateway::AuthThrottle throttle;

    std::mutex mutex;
    std::map<std::string, PageSession> sessions;  // signed in only, by cookie token
    // Unsent notes of sessions that ended by the quick exit, by account: (text, saved at).
    // Memory only; taken back at her next sign-in or dropped after the idle timeout.
    std::map<std::string, std::pair<std::string, std::int64_t>> kept_drafts;

    Impl(gateway::Store& s, EdgeHub& h, crypto::RecoveryParams p, SurvivorPageOptions o)
        : store(s), hub(h), params(std::move(p)), options(std::move(o)) {
        const detail::Asset* a = detail::find_asset("/catalogue.json");
        catalogue = Json::parse(a->body);
        catalogue.erase("_comment");
    }

    std::int64_t now_ms() const { return detail::unix_now_ms(options.clock_ms); }

    std::string text(const std::string& lang, const std::string& key) const {
        auto l = catalogue.find(lang);
        if (l != catalogue.end()) {
            auto v = l->find(key);
            if (v != l->end()) return v->get<std::string>();
        }
        return catalogue.at("en").at(key).get<std::string>();
    }

    std::string negotiate(const HttpRequest& r) const {
        std::string header = r.header("accept-language");
        std::string_view h = header;
        while (!h.empty()) {
            while (!h.empty() && (h.front() == ' ' || h.front() == ',')) h.remove_prefix(1);
            auto comma = h.find(',');
            std::string_view item = h.substr(0, comma);
            std::string tag(item.substr(0, item.find_first_of(";-_ ")));
            std::transform(tag.begin(), tag.end(), tag.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (catalogue.contains(tag)) return tag;
            if (comma == std::string_view::npos) break;
            h.remove_prefix(comma + 1);
        }
        return "en";
    }

    /// The catalogue language for a tag ("pt-BR" → "pt"), or "" when the page lacks it.
    std::string catalogue_language(const std::string& tag) const {
        std::string primary = tag.substr(0, tag.find_first_of("-_"));
        std::transform(primary.begin(), primary.end(), primary.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return catalogue.contains(primary) ? primary : std::string();
    }

    std::int64_t idle_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout).count();
    }

    std::string cookie_header(const std::string& token) const {
        return std::string(kCookie) + "=" + token + "; Path=" + options.path +
               "; Secure; HttpOnly; SameSite=Strict";
    }

    /// The signed-in session named by `token` (touched), or nullptr; an idle one is ended.
    /// Lock held.
    PageSession* signed_in_locked(const std::string& token, std::int64_t now) {
        auto it = sessions.find(token);
        if (it == sessions.end()) return nullptr;
        if (now - it->second.last_ms > idle_ms()) {
            sessions.erase(it);
            return nullptr;
        }
        it->second.last_ms = now;
        return &it->second;
    }

    /// Whether one more session fits, after ending idle ones. Active sessions are never
    /// ended to make room. Lock held.
    bool room_for_session_locked(std::int64_t now) {
        if (sessions.size() < options.max_sessions) return true;
        for (auto s = sessions.begin(); s != sessions.end();) {
            s = now - s->second.last_ms > idle_ms() ? sessions.erase(s) : std::next(s);
        }
        return sessions.size() < options.max_sessions;
    }

    std::size_t sessions_of_locked(const std::string& account) const {
        return static_cast<std::size_t>(
            std::count_if(sessions.begin(), sessions.end(),
                          [&](const auto& entry) { return entry.second.account == account; }));
    }

    std::string cookie_mac(const std::string& payload) const {
        return base64url(
            crypto::hkdf_sha256(cookie_key.view(), {}, crypto::as_bytes(payload), 16).view());
    }

    std::string visitor_value(const Visitor& v) const {
        const std::string payload = "a." + v.nonce + "." + v.lang + "." + v.flash;
        return payload + "." + cookie_mac(payload);
    }

    /// The form token of a visitor's page (bound to her cookie's nonce).
    std::string visitor_csrf(const Visitor& v) const { return cookie_mac("csrf." + v.nonce); }

    /// The visitor a cookie value describes, if it is one this page signed.
    std::optional<Visitor> parse_visitor(const std::string& value) const {
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

    Visitor new_visitor(const HttpRequest& r) const {
        return Visitor{random_token(), negotiate(r), ""};
    }

    HttpResponse html(int status, std::string body) const {
        HttpResponse res;
        res.status = status;
        res.content_type = "text/html; charset=utf-8";
        res.body = std::move(body);
        res.headers = {{"Content-Security-Policy", kCsp},
                       {"Referrer-Policy", "no-referrer"},
                       {"X-Frame-Options", "DENY"},
                       {"Cross-Origin-Opener-Policy", "same-origin"},
                       {"Cross-Origin-Resource-Policy", "same-origin"},
                       {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
                       {"Pragma", "no-cache"}};
        return res;
    }

    HttpResponse redirect(const std::string& cookie) const {
        HttpResponse res;
        res.status = 303;
        res.headers = {{"Location", options.path}, {"Referrer-Policy", "no-referrer"}};
        if (!cookie.empty()) res.headers.emplace_back("Set-Cookie", cookie);
        return res;
    }

    std::string head(const std::string& lang, const std::string& title) const {
        const std::string dir =
            catalogue.contains(lang) ? catalogue.at(lang).value("dir", "ltr") : std::string("ltr");
        return "<!doctype html>\n<html lang=\"" + html_escape(lang) + "\" dir=\"" + dir +
               "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
               "content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" "
               "content=\"no-referrer\"><title>" +
               html_escape(title) + "</title><link rel=\"stylesheet\" href=\"" + options.path +
               "/notes.css\"><script src=\"" + options.path + "/notes.js\" defer></script>" +
               "</head>";
    }

    std::string render(const PageSession& s) {
        const std::string& l = s.lang;
        std::string b = head(l, text(l, "title"));
        // The exit is a link (it works without script) that acts as a button: notes.js makes
        // Space activate it as well as Enter.
        b += "<body data-away=\"" + options.path + "/away\"><header><a id=\"exit\" " +
             "class=\"exit\" role=\"button\" href=\"" + options.path + "/away\">" +
             html_escape(text(l, "exit")) + "</a></header><main><h1>" +
             html_escape(text(l, "title")) + "</h1>";
        // The Shift hint is hidden by CSS on touch-only devices (no keyboard to press it on).
        b += "<p class=\"hint keys\">" + html_escape(text(l, "exit_hint")) + "</p>";
        // The status of the last action is in the page that follows it: notes.js moves focus
        // to it so that screen readers read it (a live region present at load is not read).
        const bool problem = !s.flash.empty() && !is_confirmation(s.flash);
        if (!s.flash.empty()) {
            b += std::string("<p id=\"status\" tabindex=\"-1\" class=\"flash ") +
                 (problem ? "problem\" role=\"alert\">" : "ok\" role=\"status\">") +
                 html_escape(text(l, s.flash)) + "</p>";
        }
        const std::string form = "<form method=\"post\" action=\"" + options.path +
                                 "\" autocomplete=\"off\"><input type=\"hidden\" name=\"t\" "
                                 "value=\"" +
                                 s.csrf + "\">";
        if (s.account.empty()) {
            b += form + "<label for=\"code\">" + html_escape(text(l, "code_label")) +
                 "</label><input id=\"code\" name=\"code\" type=\"password\" "
                 "autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"off\" " +
                 (problem ? "aria-invalid=\"true\" aria-describedby=\"status\" " : "") +
                 "required><button class=\"primary\" name=\"a\" value=\"login\">" +
                 html_escape(text(l, "sign_in")) + "</button></form>";
        } else {
            std::vector<HistoryEntry> entries;
            if (!s.duress) entries = hub.history(s.account);
            const int days = options.retention_days ? options.retention_days() : 365;
            const std::int64_t oldest = now_ms() - std::int64_t{days} * 86'400'000;
            std::erase_if(entries, [&](const HistoryEntry& e) { return e.at_ms < oldest; });
            if (entries.empty()) {
                b += "<p id=\"empty\">" + html_escape(text(l, "empty")) + "</p>";
            } else {
                b += "<ol class=\"thread\" id=\"thread\">";
                for (const auto& e : entries) {
                    b += std::string("<li class=\"") + (e.from_survivor ? "me" : "them") +
                         "\"><span class=\"who\">" +
                         html_escape(text(l, e.from_survivor ? "me" : "them")) +
                         " <time datetime=\"" + iso_utc(e.at_ms) + "\">" +
                         local_time(e.at_ms, s.time_zone) + "</time></span><span dir=\"auto\">" +
                         html_escape(e.text) + "</span></li>";
                }
                b += "</ol>";
            }
            b += form + "<label for=\"text\">" + html_escape(text(l, "write_label")) +
                 "</label><textarea id=\"text\" name=\"text\" maxlength=\"4000\" dir=\"auto\" "
                 "required>" +
                 html_escape(s.draft) +
                 "</textarea><div class=\"row\"><button class=\"primary\" name=\"a\" "
                 "value=\"send\">" +
                 html_escape(text(l, "send")) + "</button></div></form>";
            b += form + "<button name=\"a\" value=\"logout\">" + html_escape(text(l, "sign_out")) +
                 "</button></form>";
        }
        // Language choice (a form, so the URL never changes).
        b += form + "<div class=\"row\"><div><label for=\"lang\">" +
             html_escape(text(l, "language")) + "</label><select id=\"lang\" name=\"lang\">";
        for (auto it = catalogue.begin(); it != catalogue.end(); ++it) {
            b += "<option value=\"" + html_escape(it.key()) + "\" lang=\"" + html_escape(it.key()) +
                 "\" dir=\"" + it->value("dir", "ltr") + "\"" + (it.key() == l ? " selected" : "") +
                 ">" + html_escape(it->value("name", it.key())) + "</option>";
        }
        b += "</select></div><button name=\"a\" value=\"lang\">" + html_escape(text(l, "change")) +
             "</button></div></form></main></body></html>\n";
        return b;
    }

    /// The catalogue's list `key` of `lang` (English when missing).
    const Json& list(const std::string& lang, const std::string& key) const {
        auto l = catalogue.find(lang);
        if (l != catalogue.end() && l->contains(key)) return l->at(key);
        return catalogue.at("en").at(key);
    }

    /// The cover page after the quick exit: an ordinary small weather page (today, the next
    /// days, an update time) that changes with the date, in the page's language.
    std::string cover(const std::string& lang) const {
        const std::int64_t now = now_ms();
        const std::int64_t day = now / 86'400'000;
        const Json& names = list(lang, "away_days");
        const Json& conditions = list(lang, "away_conditions");
        // Plausible, stable within a day: a mild temperature wandering with the date.
        auto high = [](std::int64_t d) { return 12 + static_cast<int>((d * 7 + 3) % 11); };
        auto condition = [&](std::int64_t d) {
            return conditions.at(static_cast<std::size_t>((d * 5 + 1) % conditions.size()))
                .get<std::string>();
        };
        std::string b = "<body class=\"cover\"><header class=\"cover-head\"><span>" +
                        html_escape(text(lang, "away_title")) + "</span></header><main><h1>" +
                        html_escape(text(lang, "away_today")) +
                        "</h1><p class=\"now\"><span class=\"temp\">" +
                        std::to_string(high(day) - 2) + "°</span> " + html_escape(condition(day)) +
                        "</p><p>" + html_escape(text(lang, "away_body")) + "</p><h2>" +
                        html_escape(text(lang, "away_week")) + "</h2><ul class=\"days\">";
        for (std::int64_t d = day + 1; d <= day + 5; ++d) {
            // 1970-01-01 was a Thursday (index 4 from Sunday).
            const auto weekday = static_cast<std::size_t>((d + 4) % 7);
            b += "<li><span>" + html_escape(names.at(weekday).get<std::string>()) +
                 "</span><span>" + html_escape(condition(d)) + "</span><span>" +
                 std::to_string(high(d)) + "° / " + std::to_string(high(d) - 8) + "°</span></li>";
        }
        const std::int64_t minute = (now / 60'000) % (24 * 60);
        char updated[8];
        std::snprintf(updated, sizeof updated, "%02d:%02d", static_cast<int>(minute / 60),
                      static_cast<int>(minute % 60 / 30 * 30));
        b += "</ul><p class=\"small\">" + html_escape(text(lang, "away_updated")) + " " + updated +
             " UTC</p></main></body></html>\n";
        return b;
    }

    HttpResponse away(const HttpRequest& r) {
        const std::string cookie = cookie_value(r, kCookie);
        std::string lang;
        {
            std::lock_guard lock(mutex);
            auto it = sessions.find(cookie);
            if (it != sessions.end()) {
                lang = it->second.lang;
                const PageSession& s = it->second;
                if (!s.account.empty() && !s.duress &&
                    s.draft.find_first_not_of(" \t\r\n") != std::string::npos) {
                    if (kept_drafts.size() >= options.max_sessions) {
                        kept_drafts.erase(kept_drafts.begin());
                    }
                    kept_drafts[s.account] = {s.draft, now_ms()};
                }
                sessions.erase(it);
            }
        }
        if (lang.empty()) {
            auto visitor = parse_visitor(cookie);
            lang = visitor ? visitor->lang : negotiate(r);
        }
        std::string b = head(lang, text(lang, "away_title")) + cover(lang);
        HttpResponse res = html(200, std::move(b));
        res.headers.emplace_back("Set-Cookie",
                                 std::string(kCookie) + "=; Path=" + options.path +
                                     "; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
        res.headers.emplace_back("Clear-Site-Data", "\"cache\", \"cookies\", \"storage\"");
        return res;
    }

    /// Checks a code: "" (no), or the account and whether it is her duress code.
    std::pair<std::string, bool> check_code(const std::string& code) {
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

    HttpResponse login(const HttpRequest& r, Visitor visitor,
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
            "code:" + crypto::hex_encode(crypto::hkdf_sha256(throttle_key.view(), {},
                                                             crypto::as_bytes(normalised), 16)
                                             .view());
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
                spdlog::warn("survivor page: record of account {} unreadable: {}", account,
                             e.what());
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

    HttpResponse post(const HttpRequest& r) {
        // Same-origin forms only (SameSite=Strict and the CSRF token do the rest).
        const std::string origin = r.header("origin");
        if (!origin.empty() && origin != "null" && origin != "https://" + r.header("host")) {
            return HttpResponse::text(403, "Forbidden\n");
        }
        auto form = parse_form(r.body);
        std::string token = cookie_value(r, kCookie);
        std::string action = form.count("a") ? form["a"] : "";
        std::string account;
        bool duress = false;
        {
            std::lock_guard lock(mutex);
            auto it = sessions.find(token);
            if (it != sessions.end()) {
                if (now_ms() - it->second.last_ms > idle_ms() ||
                    !crypto::equal_constant_time(crypto::as_bytes(it->second.csrf),
                                                 crypto::as_bytes(form["t"]))) {
                    sessions.erase(it);
                    return redirect("");
                }
                it->second.last_ms = now_ms();
                account = it->second.account;
                duress = it->second.duress;
                if (action == "lang") {
                    if (catalogue.contains(form["lang"])) it->second.lang = form["lang"];
                    return redirect("");
                }
                if (action == "draft") {
                    // Saved as she types (notes.js), so that a quick exit loses nothing.
                    HttpResponse res;
                    res.status = 204;
                    if (!account.empty() && !duress && form["text"].size() <= kMaxText) {
                        it->second.draft = form["text"];
                    }
                    return res;
                }
                if (action == "logout") {
                    sessions.erase(it);
                    return redirect(std::string(kCookie) + "=; Path=" + options.path +
                                    "; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
                }
            }
        }
        if (account.empty()) {
            auto visitor = parse_visitor(token);
            if (!visitor || !crypto::equal_constant_time(crypto::as_bytes(visitor_csrf(*visitor)),
                                                         crypto::as_bytes(form["t"]))) {
                return redirect("");
            }
            if (action == "lang") {
                if (catalogue.contains(form["lang"])) visitor->lang = form["lang"];
                visitor->flash.clear();
                return redirect(cookie_header(visitor_value(*visitor)));
            }
            if (action == "login") return login(r, std::move(*visitor), form);
            return redirect("");
        }
        if (action == "send") {
            std::string text = form["text"];
            const char* flash = "sent";
            if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
                flash = "";
            } else if (text.size() > kMaxText) {
                flash = "too_long";
            } else {
                try {
                    if (duress) {
                        hub.notify_team(account, "Written after a duress sign-in: " + text);
                    } else {
                        hub.submit_inbound(account, EdgeChannel::web, text);
                    }
                } catch (const std::exception& e) {
                    spdlog::warn("survivor page: message of account {} not stored: {}", account,
                                 e.what());
                    flash = "not_sent";
                }
            }
            std::lock_guard lock(mutex);
            auto it = sessions.find(token);
            if (it != sessions.end()) {
                it->second.flash = flash;
                // A note that did not go stays in her box for another try.
                it->second.draft = std::string_view(flash) == "sent" || duress ? "" : text;
            }
            crypto::wipe(text.data(), text.size());
        }
        return redirect("");
    }

    HttpResponse get_page(const HttpRequest& r) {
        const std::string cookie = cookie_value(r, kCookie);
        PageSession view;
        {
            std::lock_guard lock(mutex);
            if (PageSession* s = signed_in_locked(cookie, now_ms())) {
                view = *s;
                s->flash.clear();
            }
        }
        std::string set_cookie;
        if (view.account.empty()) {
            auto known = parse_visitor(cookie);
            Visitor visitor = known ? *known : new_visitor(r);
            view.lang = visitor.lang;
            view.flash = visitor.flash;
            view.csrf = visitor_csrf(visitor);
            // The message is shown once: the cookie forgets it.
            if (!known || !visitor.flash.empty()) {
                visitor.flash.clear();
                set_cookie = cookie_header(visitor_value(visitor));
            }
        }
        HttpResponse res = html(200, render(view));
        if (!set_cookie.empty()) res.headers.emplace_back("Set-Cookie", set_cookie);
        return res;
    }

    HttpResponse handle(const HttpRequest& r) {
        if (r.path == options.path) {
            if (r.method == "POST") return post(r);
            if (r.method != "GET") return HttpResponse::text(405, "Method not allowed\n");
            return get_page(r);
        }
        if (r.method != "GET") return HttpResponse::text(405, "Method not allowed\n");
        if (r.path == options.path + "/away") return away(r);
        const std::string rest = r.path.substr(options.path.size());
        if (rest == "/notes.css" || rest == "/notes.js") {
            const detail::Asset* a = detail::find_asset(rest);
            HttpResponse res;
            res.content_type = std::string(a->content_type);
            res.body = std::string(a->body);
            res.headers = {{"Cross-Origin-Resource-Policy", "same-origin"}};
            return res;
        }
        return HttpResponse::text(404, "Not found\n");
    }
};

SurvivorPage::SurvivorPage(gateway::Store& store, EdgeHub& hub, crypto::RecoveryParams params,
                           SurvivorPageOptions options)
    : impl_(std::make_unique<Impl>(store, hub, std::move(params), std::move(options))) {}

SurvivorPage::~SurvivorPage() = default;

void SurvivorPage::register_routes(gateway::HttpRoutes& routes) {
    routes.add(impl_->options.path, [this](const HttpRequest& r) { return impl_->handle(r); });
}

void SurvivorPage::register_with(gateway::ExtensionRegistry& registry) {
    register_routes(registry.routes());
}

HttpResponse SurvivorPage::handle(const HttpRequest& request) { return impl_->handle(request); }

}  // namespace ariadne::adapters
