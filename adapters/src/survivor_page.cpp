// The survivor page's route: dispatch under options.path, the page, its forms (language,
// draft, sign-out, sign-in, send) and sending, the quick exit, the assets. The contract is
// in ariadne/adapters/survivor_page.h; the shared state in survivor_page_impl.h.
#include <spdlog/spdlog.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/crypto/bytes.h"
#include "call_windows.h"
#include "survivor_page_impl.h"
#include "unix_clock.h"
#include "web_assets.h"
#include "web_form.h"

namespace ariadne::adapters {

using detail::cookie_value;
using detail::kCookie;
using detail::parse_form;
using gateway::HttpRequest;
using gateway::HttpResponse;
using Json = nlohmann::json;
using PageSession = detail::PageSession;
using Visitor = detail::Visitor;
using detail::kMaxText;

SurvivorPage::Impl::Impl(gateway::Store& s, EdgeHub& h, crypto::RecoveryParams p,
                         SurvivorPageOptions o)
    : store(s), hub(h), params(std::move(p)), options(std::move(o)) {
    const detail::Asset* a = detail::find_asset("/catalogue.json");
    catalogue = Json::parse(a->body);
    catalogue.erase("_comment");
}

std::int64_t SurvivorPage::Impl::now_ms() const { return detail::unix_now_ms(options.clock_ms); }

std::int64_t SurvivorPage::Impl::idle_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout).count();
}

HttpResponse SurvivorPage::Impl::handle(const HttpRequest& r) {
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

HttpResponse SurvivorPage::Impl::get_page(const HttpRequest& r) {
    const std::string cookie = cookie_value(r, kCookie);
    PageSession view;
    {
        std::lock_guard lock(mutex);
        if (PageSession* s = signed_in_locked(cookie, now_ms())) {
            view = *s;
            s->flash.clear();
            s->flash_detail.clear();
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

HttpResponse SurvivorPage::Impl::post(const HttpRequest& r) {
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
    std::string time_zone;
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
            time_zone = it->second.time_zone;
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
                return redirect(cleared_cookie_header());
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
    if (action == "call") return ask_for_call(token, account, duress, time_zone, form);
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
            it->second.flash_detail.clear();
            // A note that did not go stays in her box for another try.
            it->second.draft = std::string_view(flash) == "sent" || duress ? "" : text;
        }
        crypto::wipe(text.data(), text.size());
    }
    return redirect("");
}

HttpResponse SurvivorPage::Impl::ask_for_call(const std::string& token, const std::string& account,
                                              bool duress, const std::string& time_zone,
                                              const std::map<std::string, std::string>& form) {
    // Only the windows offered now count: a key from an old page that is over is ignored.
    std::vector<CallbackWindow> chosen;
    std::string when;  // digits shown after the answer: the window, or the earliest time
    for (const auto& w : detail::call_windows(now_ms(), time_zone)) {
        bool picked = false;
        for (const auto& [name, value] : form) {
            if (name.size() == 2 && name[0] == 'w' && value == w.key) picked = true;
        }
        if (!picked || chosen.size() == 3) continue;
        chosen.push_back({w.from_ms, w.to_ms});
    }
    std::string flash = "call_asked";
    if (chosen.empty()) {
        flash = "call_choose";
    } else if (duress) {
        // Her duress lock refuses a call; her team learns she asked, the page shows the same
        // neutral refusal a locked request gets from her app.
        flash = "call_refused";
        try {
            // Worded as the edge's duress alert, so consoles show it as the gateway's line.
            hub.notify_team(account,
                            "ALERT: her duress code was just used on the web page, and she then "
                            "asked to be called (from " +
                                detail::local_clock(chosen.front().from_ms, time_zone) +
                                ", her time). Check on her safety by the means agreed with her; "
                                "call only if that is safe.");
        } catch (const std::exception& e) {
            spdlog::warn("survivor page: a call request after a duress sign-in was not sent: {}",
                         e.what());
        }
    } else {
        try {
            CallbackAccepted answer = hub.request_callback(account, EdgeChannel::web, chosen);
            if (answer.next_allowed_from) {
                flash = "call_later";
                when = detail::local_clock(*answer.next_allowed_from, time_zone);
            } else {
                when = detail::local_clock(answer.window.from_ms, time_zone) + "\u2013" +
                       detail::local_clock(answer.window.to_ms, time_zone).substr(11);
            }
        } catch (const AdapterError& e) {
            // A refusal's reason is for her caseworkers (the gateway tells them); she reads
            // one neutral sentence whatever it was.
            flash = e.code() == AdapterError::Code::refused ? "call_refused" : "call_not_sent";
            spdlog::warn("survivor page: call-back request of account {} not taken: {} {}", account,
                         e.what(), e.reason());
        }
    }
    std::lock_guard lock(mutex);
    auto it = sessions.find(token);
    if (it != sessions.end()) {
        it->second.flash = flash;
        it->second.flash_detail = when;
    }
    return redirect("");
}

HttpResponse SurvivorPage::Impl::away(const HttpRequest& r) {
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
    res.headers.emplace_back("Set-Cookie", cleared_cookie_header());
    res.headers.emplace_back("Clear-Site-Data", "\"cache\", \"cookies\", \"storage\"");
    return res;
}

HttpResponse SurvivorPage::Impl::redirect(const std::string& cookie) const {
    HttpResponse res;
    res.status = 303;
    res.headers = {{"Location", options.path}, {"Referrer-Policy", "no-referrer"}};
    if (!cookie.empty()) res.headers.emplace_back("Set-Cookie", cookie);
    return res;
}

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
