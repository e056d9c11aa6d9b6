// WebGuard: who may talk to the console's local web UI. The UI listens on 127.0.0.1, but any
// web page the caseworker visits could try to reach it (cross-site requests, DNS rebinding),
// and any local user could try to connect. So every request must carry:
//   - a `Host` of exactly 127.0.0.1:PORT or localhost:PORT (defeats DNS rebinding);
//   - the session cookie obtained by exchanging the one-time token printed at start
//     (http://127.0.0.1:PORT/?token=...; the token is spent by the exchange), or by typing
//     the console's passphrase into its sign-in page (/signin, set_sign_in); one session at
//     a time: a new sign-in ends the previous one;
//   - on state-changing methods, an `Origin` of http://127.0.0.1:PORT or
//     http://localhost:PORT and a JSON content type (cross-site forms cannot send one);
//   - no `Sec-Fetch-Site` other than same-origin or none.
// Every response, refusals included, carries the security headers (strict CSP, nosniff,
// no-referrer, no-store, no framing).
//
// Errors: a refused request is a response (403, 400...) with a sentence, never an exception;
// protect() passes on what the wrapped handler throws (the server answers it with 500).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "ariadne/console/http_server.h"

namespace ariadne::console {

/// The Content-Security-Policy sent with every response.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

class WebGuard {
  public:
    /// A guard for a UI served at 127.0.0.1:`port`, with a fresh random one-time token.
    explicit WebGuard(std::uint16_t port);

    /// The one-time URL to print at start: http://127.0.0.1:PORT/?token=TOKEN.
    std::string start_url() const;
    /// Name of the session cookie (it carries the port, so two consoles do not collide).
    std::string cookie_name() const;

    /// Decides what happens to `request`: a response to send instead of serving it (a
    /// refusal with a sentence saying why, or the redirect that completes the token
    /// exchange), or nullopt when the request may be served.
    std::optional<HttpResponse> screen(const HttpRequest& request);

    /// Wraps `app` so that every request is screened first and every response carries the
    /// security headers.
    HttpHandler protect(HttpHandler app);

    /// Enables the sign-in page: `unlock` gets the passphrase typed at /signin and returns
    /// true when it opens this console's keys (unlocking them if the console was started
    /// locked), false when it does not; it throws with a sentence for anything else (the
    /// gateway unreachable), shown on the page. Called one attempt at a time, outside the guard's
    /// lock; a wrong passphrase costs its Argon2id derivation plus a second. Without it, /signin
    /// says to restart.
    void set_sign_in(std::function<bool(const std::string& passphrase)> unlock);
    /// Adds CSP, X-Content-Type-Options, Referrer-Policy, Cache-Control and friends.
    static void add_security_headers(HttpResponse& response);

  private:
    bool host_allowed(const std::string& host) const;
    bool origin_allowed(const std::string& origin) const;
    bool has_session(const std::string& cookie_header) const;

    std::uint16_t port_;
    mutable std::mutex mu_;
    std::string token_;                   // hex; cleared once spent
    std::optional<std::string> session_;  // the one session id, once the token is exchanged
    std::function<bool(const std::string&)> unlock_;
    std::mutex sign_in_mu_;  // one passphrase attempt at a time

    HttpResponse sign_in(const HttpRequest& request);
    HttpResponse new_session_locked(int status, std::string content_type, std::string body);
};

}  // namespace ariadne::console
