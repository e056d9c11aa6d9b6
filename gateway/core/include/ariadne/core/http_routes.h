// Plain-C++ HTTPS routes served on the gateway's TLS port, next to /healthz, /metrics and
// /v1/ws, without including Beast (the network layer, ariadne/net/server.h, adapts them).
// Adapters (SMS inbound, the survivor web page) and the admin API register here.
//
//   auto routes = std::make_shared<HttpRoutes>();
//   routes->add("/v1/admin/", [&](const HttpRequest& r) { return HttpResponse::json(200, "{}"); });
//   ServerOptions options; options.routes = routes;
//
// Dispatch: the longest registered prefix that the request path starts with wins; no match
// → 404. /healthz, /metrics and /v1/ws are the server's own and are never routed here.
// Limits applied before a handler runs: headers 8 KiB, body 64 KiB (bigger → 413, connection
// closed). Every response gets `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`
// whatever the handler sets.
//
// Threading: handlers run on worker threads owned by the server (not on an I/O thread), so
// they may block briefly (SQLite, an Argon2id password check); the answer is posted back to
// the connection. Each HttpRouteClass has its own threads and its own bounded queue
// (http_workers.h): sign-in guesses on the survivor page never delay the admin API or
// Kannel's calls. A request whose class queue is full is answered 503 with Retry-After: 1.
// Handlers run concurrently with each other and must be thread-safe.
// An exception escaping a handler becomes a 500 with a generic body (its text is not sent,
// it is logged without the request).
//
// Ownership: the server shares the HttpRoutes (shared_ptr); whatever a handler captures
// must outlive the server. Errors: add() throws std::invalid_argument (below); find() and
// empty() do not throw.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ariadne::gateway {

struct HttpRequest {
    std::string method;                          // upper case, e.g. "GET", "POST"
    std::string target;                          // as sent, e.g. "/v1/admin/survivors?x=1"
    std::string path;                            // target up to '?'
    std::string query;                           // after '?', undecoded ("" if none)
    std::map<std::string, std::string> headers;  // names lower-cased; repeated → last wins
    std::string body;                            // at most 64 KiB
    std::string peer_address;                    // IP text of the TCP peer
    bool peer_is_loopback = false;               // 127.0.0.0/8 or ::1

    /// The header's value, or "" if absent. `name` must be lower case.
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    std::string body;

    static HttpResponse text(int status, std::string body) {
        HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }
    static HttpResponse json(int status, std::string body) {
        HttpResponse r;
        r.status = status;
        r.content_type = "application/json";
        r.body = std::move(body);
        return r;
    }
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Which worker pool runs a route's handler (each has its own threads and queue).
enum class HttpRouteClass {
    page,   // the survivor page and anything public: Argon2id sign-ins, floods expected
    sms,    // Kannel's inbound SMS and delivery reports
    admin,  // the admin API
};

struct HttpRoute {
    HttpHandler handler;
    HttpRouteClass route_class = HttpRouteClass::page;
};

/// The route table. Register everything before handing it to the Server; after that it
/// is read concurrently and must not change (add() is not thread-safe).
class HttpRoutes {
  public:
    /// Routes every path starting with `prefix` (must start with '/') to `handler`, run on
    /// the pool of `route_class`. Registering the same prefix again replaces the route.
    /// Throws std::invalid_argument for a prefix not starting with '/' or one of the
    /// server's own paths.
    void add(std::string prefix, HttpHandler handler,
             HttpRouteClass route_class = HttpRouteClass::page) {
        if (prefix.empty() || prefix[0] != '/' || prefix == "/healthz" || prefix == "/metrics" ||
            prefix.rfind("/v1/ws", 0) == 0) {
            throw std::invalid_argument("HttpRoutes::add: prefix '" + prefix +
                                        "' must start with '/' and not be a server path");
        }
        routes_[std::move(prefix)] = HttpRoute{std::move(handler), route_class};
    }

    /// The route of the longest prefix of `path`, or nullptr. Thread-safe once built.
    const HttpRoute* find(const std::string& path) const {
        const HttpRoute* best = nullptr;
        std::size_t best_len = 0;
        for (const auto& [prefix, route] : routes_) {
            if (prefix.size() >= best_len && path.compare(0, prefix.size(), prefix) == 0) {
                best = &route;
                best_len = prefix.size();
            }
        }
        return best;
    }

    bool empty() const noexcept { return routes_.empty(); }

  private:
    std::map<std::string, HttpRoute> routes_;
};

}  // namespace ariadne::gateway
