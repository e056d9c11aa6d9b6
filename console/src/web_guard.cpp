#include "ariadne/console/web_guard.h"

#include "ariadne/crypto/bytes.h"

namespace ariadne::console {

namespace {

HttpResponse refusal(int status, std::string sentence) {
    return HttpResponse{status, "text/plain; charset=utf-8", {}, std::move(sentence) + "\n"};
}

bool equal_secret(const std::string& a, const std::string& b) {
    return a.size() == b.size() && !a.empty() &&
           crypto::equal_constant_time(crypto::as_bytes(a), crypto::as_bytes(b));
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

}  // namespace

WebGuard::WebGuard(std::uint16_t port)
    : port_(port), token_(crypto::hex_encode(crypto::random_bytes(32))) {}

std::string WebGuard::start_url() const {
    std::lock_guard lock(mu_);
    return "http://127.0.0.1:" + std::to_string(port_) + "/?token=" + token_;
}

std::string WebGuard::cookie_name() const { return "ariadne_console_" + std::to_string(port_); }

bool WebGuard::host_allowed(const std::string& host) const {
    std::string h = lower(host);
    std::string p = ":" + std::to_string(port_);
    return h == "127.0.0.1" + p || h == "localhost" + p;
}

bool WebGuard::origin_allowed(const std::string& origin) const {
    std::string o = lower(origin);
    std::string p = ":" + std::to_string(port_);
    return o == "http://127.0.0.1" + p || o == "http://localhost" + p;
}

bool WebGuard::has_session(const std::string& cookie_header) const {
    if (!session_) return false;
    std::string name = cookie_name() + "=";
    std::string_view rest(cookie_header);
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        if (item.substr(0, name.size()) == name &&
            equal_secret(std::string(item.substr(name.size())), *session_)) {
            return true;
        }
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    return false;
}

std::optional<HttpResponse> WebGuard::screen(const HttpRequest& request) {
    if (!host_allowed(request.host)) {
        return refusal(403, "This console answers only at 127.0.0.1:" + std::to_string(port_) +
                                " or localhost:" + std::to_string(port_) + ".");
    }
    const std::string& site = request.sec_fetch_site;
    if (!site.empty() && site != "same-origin" && site != "none") {
        return refusal(403, "Requests from other web sites are refused.");
    }
    std::lock_guard lock(mu_);
    bool session = has_session(request.cookie);
    std::string offered = request.query("token");
    if (request.path() == "/" && !offered.empty() && request.method == "GET") {
        if (!token_.empty() && equal_secret(offered, token_)) {
            token_.clear();  // spent: the link works once
            session_ = crypto::hex_encode(crypto::random_bytes(32));
            HttpResponse r{303, "text/plain; charset=utf-8", {}, "Signed in.\n"};
            r.headers.emplace_back("Location", "/");
            r.headers.emplace_back("Set-Cookie", cookie_name() + "=" + *session_ +
                                                     "; HttpOnly; SameSite=Strict; Path=/");
            return r;
        }
        if (session) {
            HttpResponse r{303, "text/plain; charset=utf-8", {}, "Already signed in.\n"};
            r.headers.emplace_back("Location", "/");
            return r;
        }
        return refusal(403,
                       "This link was already used or is not valid. Restart ariadne-console to "
                       "get a new link.");
    }
    if (!session) {
        return refusal(401,
                       "Open the console with the link ariadne-console printed when it started.");
    }
    bool safe_method = request.method == "GET" || request.method == "HEAD";
    if (!safe_method) {
        if (!origin_allowed(request.origin)) {
            return refusal(403, "Changes are accepted only from the console's own page.");
        }
        if (!request.body.empty() &&
            lower(request.content_type).rfind("application/json", 0) != 0) {
            return refusal(415, "The console accepts changes only as JSON.");
        }
    }
    return std::nullopt;
}

void WebGuard::add_security_headers(HttpResponse& r) {
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    r.headers.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

HttpHandler WebGuard::protect(HttpHandler app) {
    return [this, app = std::move(app)](const HttpRequest& request) {
        HttpResponse r;
        if (auto refused = screen(request)) {
            r = std::move(*refused);
        } else {
            r = app(request);
        }
        add_security_headers(r);
        return r;
    };
}

}  // namespace ariadne::console
