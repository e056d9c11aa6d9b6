// SurvivorPage's state and what its translation units share: survivor_page.cpp (the route:
// the page, its forms, sending, the quick exit), survivor_page_sign_in.cpp (sessions,
// visitor cookies, sign-in and duress) and survivor_page_render.cpp (the catalogue, the
// page, the cover page). web_form.h reads forms and cookies. Private to the adapter.
//
// Thread-safety: `sessions` and `kept_drafts` are guarded by `mutex` (methods named
// *_locked expect it held); everything else is set at construction and read-only after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "ariadne/adapters/survivor_page.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/crypto/bytes.h"

namespace ariadne::adapters {

namespace detail {

/// Longest note she may send (and the textarea's maxlength).
inline constexpr std::size_t kMaxText = 4000;
/// The page's one cookie: a signed-in session id, or a signed Visitor.
inline constexpr const char* kCookie = "n";

/// A signed-in survivor: the only state the page keeps on the server.
struct PageSession {
    std::string lang;
    std::string csrf;
    std::string account;
    bool duress = false;
    std::string time_zone;     // hers, for timestamps (empty: UTC)
    std::string flash;         // catalogue key shown once
    std::string flash_detail;  // digits shown after it (a call's time), or ""
    std::string draft;         // the text in her box, not sent yet (memory only)
    std::int64_t last_ms = 0;
};

/// Someone who has not signed in. Kept only in her cookie, authenticated with a server
/// key ("a.<nonce>.<lang>.<flash>.<mac>"), so requests without a session cost no memory.
struct Visitor {
    std::string nonce;
    std::string lang;
    std::string flash;  // "", or one of kVisitorFlashes
};

inline constexpr const char* kVisitorFlashes[] = {"failed", "wait", "full"};

}  // namespace detail

struct SurvivorPage::Impl {
    using Json = nlohmann::json;
    using PageSession = detail::PageSession;
    using Visitor = detail::Visitor;

    gateway::Store& store;
    EdgeHub& hub;
    crypto::RecoveryParams params;
    SurvivorPageOptions options;
    Json catalogue;  // adapters/web/catalogue.json: language → key → text
    crypto::SecretBytes throttle_key{crypto::random_bytes(32)};
    crypto::SecretBytes cookie_key{crypto::random_bytes(32)};
    gateway::AuthThrottle throttle;

    std::mutex mutex;
    std::map<std::string, PageSession> sessions;  // signed in only, by cookie token
    // Unsent notes of sessions that ended by the quick exit, by account: (text, saved at).
    // Memory only; taken back at her next sign-in or dropped after the idle timeout.
    std::map<std::string, std::pair<std::string, std::int64_t>> kept_drafts;

    Impl(gateway::Store& s, EdgeHub& h, crypto::RecoveryParams p, SurvivorPageOptions o);

    std::int64_t now_ms() const;
    std::int64_t idle_ms() const;

    // ---- the route (survivor_page.cpp) ----

    /// Answers one request under options.path.
    gateway::HttpResponse handle(const gateway::HttpRequest& r);
    /// GET of the page: her session's view, or a visitor's sign-in form.
    gateway::HttpResponse get_page(const gateway::HttpRequest& r);
    /// POST of one of the page's forms (a = lang, draft, logout, login, send, call).
    gateway::HttpResponse post(const gateway::HttpRequest& r);
    /// Her "Please call me" form: the windows she ticked among those offered now, asked of
    /// her edge (channel web); the answer is her session's next flash.
    gateway::HttpResponse ask_for_call(const std::string& token, const std::string& account,
                                       bool duress, const std::string& time_zone,
                                       const std::map<std::string, std::string>& form);
    /// The quick exit: ends her session (keeping an unsent note), answers the cover page.
    gateway::HttpResponse away(const gateway::HttpRequest& r);
    /// 303 to options.path, setting `cookie` when not empty.
    gateway::HttpResponse redirect(const std::string& cookie) const;

    // ---- sessions and sign-in (survivor_page_sign_in.cpp) ----

    /// The Set-Cookie value carrying `token`.
    std::string cookie_header(const std::string& token) const;
    /// The Set-Cookie value that deletes the page's cookie (sign-out, quick exit).
    std::string cleared_cookie_header() const;
    /// The signed-in session named by `token` (touched), or nullptr; an idle one is ended.
    /// Lock held.
    PageSession* signed_in_locked(const std::string& token, std::int64_t now);
    /// Whether one more session fits, after ending idle ones. Active sessions are never
    /// ended to make room. Lock held.
    bool room_for_session_locked(std::int64_t now);
    /// How many sessions `account` has. Lock held.
    std::size_t sessions_of_locked(const std::string& account) const;
    /// A visitor's cookie value (signed).
    std::string visitor_value(const Visitor& v) const;
    /// The form token of a visitor's page (bound to her cookie's nonce).
    std::string visitor_csrf(const Visitor& v) const;
    /// The visitor a cookie value describes, if it is one this page signed.
    std::optional<Visitor> parse_visitor(const std::string& value) const;
    /// A visitor without a cookie yet, in the browser's language.
    Visitor new_visitor(const gateway::HttpRequest& r) const;
    /// Checks a code: "" (no), or the account and whether it is her duress code.
    std::pair<std::string, bool> check_code(const std::string& code);
    /// The sign-in form: throttle, check, duress alert, then a new session (never a
    /// reused id).
    gateway::HttpResponse login(const gateway::HttpRequest& r, Visitor visitor,
                                const std::map<std::string, std::string>& form);

    // ---- the catalogue and the pages (survivor_page_render.cpp) ----

    /// The catalogue's text `key` in `lang` (English when missing).
    std::string text(const std::string& lang, const std::string& key) const;
    /// The catalogue's list `key` of `lang` (English when missing).
    const Json& list(const std::string& lang, const std::string& key) const;
    /// The first Accept-Language the catalogue has, else "en".
    std::string negotiate(const gateway::HttpRequest& r) const;
    /// The catalogue language for a tag ("pt-BR" → "pt"), or "" when the page lacks it.
    std::string catalogue_language(const std::string& tag) const;
    /// An HTML answer with the page's security headers (CSP, no referrer, no framing).
    gateway::HttpResponse html(int status, std::string body) const;
    /// <!doctype> to </head> in `lang` (its direction from the catalogue).
    std::string head(const std::string& lang, const std::string& title) const;
    /// The whole page for `s` (a visitor's when s.account is empty).
    std::string render(const PageSession& s);
    /// Her "Please call me" section: the windows offered now (call_windows.h) as
    /// checkboxes in her language, inside the page's `form` opening tag.
    std::string call_form(const PageSession& s, const std::string& form) const;
    /// The cover page after the quick exit: an ordinary small weather page (today, the next
    /// days, an update time) that changes with the date, in the page's language.
    std::string cover(const std::string& lang) const;

  private:
    std::string cookie_mac(const std::string& payload) const;
};

}  // namespace ariadne::adapters
