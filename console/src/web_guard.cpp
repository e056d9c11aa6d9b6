#include "ariadne/console/web_guard.h"

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "ariadne/console/assets.h"
#include "ariadne/crypto/bytes.h"

namespace ariadne::console {

namespace {

HttpResponse refusal(int status, std::string sentence) {
    return HttpResponse{status, "text/plain; charset=utf-8", {}, std::move(sentence) + "\n"};
}

HttpResponse json_refusal(int status, const std::string& sentence) {
    return HttpResponse{status, "application/json", {}, nlohmann::json{{"error", sentence}}.dump()};
}

HttpResponse see_other(const std::string& where) {
    HttpResponse r{303, "text/plain; charset=utf-8", {}, "See " + where + "\n"};
    r.headers.emplace_back("Location", where);
    return r;
}

// Pages and files anyone at 127.0.0.1 may load without a session: the sign-in page holds
// nothing but a passphrase field.
bool public_asset(const std::string& path) {
    return path == "/signin" || path == "/signin.js" || path == "/app.css";
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
    if (request.path() == "/api/signin" && request.method == "POST") {
        if (!origin_allowed(request.origin)) {
            return refusal(403, "Changes are accepted only from the console's own page.");
        }
        if (lower(request.content_type).rfind("application/json", 0) != 0) {
            return refusal(415, "The console accepts changes only as JSON.");
        }
        return sign_in(request);
    }
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && public_asset(request.path()) && request.query("token").empty()) {
        const Asset* a = find_asset(request.path() == "/signin" ? "/signin.html" : request.path());
        if (a) return HttpResponse{200, std::string(a->content_type), {}, std::string(a->body)};
    }
    std::lock_guard lock(mu_);
    bool session = has_session(request.cookie);
    std::string offered = request.query("token");
    if (request.path() == "/" && !offered.empty() && request.method == "GET") {
        if (!token_.empty() && equal_secret(offered, token_)) {
            token_.clear();  // spent: the link works once
            HttpResponse r = new_session_locked(303, "text/plain; charset=utf-8", "Signed in.\n");
            r.headers.emplace_back("Location", "/");
            return r;
        }
        if (session) return see_other("/");
        // A spent or wrong link: the styled sign-in page explains and offers the passphrase.
        return see_other("/signin#link-used");
    }
    if (!session) {
        // An old tab or a bookmark: the page goes to the sign-in page, the API says why.
        if (get && (request.path() == "/" || request.path() == "/index.html")) {
            return see_other("/signin");
        }
        return json_refusal(401, "Signed out: sign in again at /signin with your passphrase.");
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

void WebGuard::set_sign_in(std::function<bool(const std::string&)> unlock) {
    std::lock_guard lock(mu_);
    unlock_ = std::move(unlock);
}

HttpResponse WebGuard::new_session_locked(int status, std::string content_type, std::string body) {
    session_ = crypto::hex_encode(crypto::random_bytes(32));
    HttpResponse r{status, std::move(content_type), {}, std::move(body)};
    r.headers.emplace_back("Set-Cookie",
                           cookie_name() + "=" + *session_ + "; HttpOnly; SameSite=Strict; Path=/");
    return r;
}

HttpResponse WebGuard::sign_in(const HttpRequest& request) {
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("passphrase") || !body["passphrase"].is_string() ||
        body["passphrase"].get<std::string>().empty() ||
        body["passphrase"].get<std::string>().size() > 1024) {
        return json_refusal(400, "Type the passphrase of this console's keys.");
    }
    std::string passphrase = body["passphrase"].get<std::string>();
    std::function<bool(const std::string&)> unlock;
    {
        std::lock_guard lock(mu_);
        unlock = unlock_;
    }
    if (!unlock) {
        crypto::wipe(passphrase.data(), passphrase.size());
        return json_refusal(409,
                            "This console cannot be signed in to from the page: restart "
                            "ariadne-console and open the link it prints.");
    }
    bool ok = false;
    std::string problem;
    {
        std::lock_guard attempt(sign_in_mu_);
        try {
            ok = unlock(passphrase);
        } catch (const std::exception& e) {
            problem = e.what();
        }
        crypto::wipe(passphrase.data(), passphrase.size());
        if (!ok) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (!problem.empty()) return json_refusal(503, problem);
    if (!ok) return json_refusal(401, "That passphrase does not open this console's keys.");
    std::lock_guard lock(mu_);
    return new_session_locked(200, "application/json", R"({"signed_in":true})");
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
