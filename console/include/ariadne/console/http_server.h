// A small HTTP/1.1 server for the console's local UI, listening on 127.0.0.1 ONLY (the
// address is not configurable: the console must never be reachable from another machine).
// Boost.Beast lives only in src/http_server.cpp; this header is the whole interface.
//
// Threading: requests are handled on the server's own threads (`threads` of them), so the
// handler must be thread-safe and may block (it runs a reply's encryption and send).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ariadne::console {

/// One request, reduced to what the console checks and serves. A header that is absent is
/// empty; a security-relevant header sent twice (Host, Origin, Cookie) is refused by the
/// server with 400 before the handler sees it.
struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // origin-form: "/api/inbox?x=1"
    std::string host;
    std::string origin;
    std::string cookie;
    std::string content_type;
    std::string sec_fetch_site;  // "same-origin", "cross-site", "none", ... (may be empty)
    std::string body;

    /// The path part of `target` (before '?').
    std::string path() const;
    /// Value of query parameter `name` in `target` (percent-decoded), or empty.
    std::string query(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Never throws out to the server: an exception becomes a 500 with a generic sentence.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
    std::uint16_t port = 0;  // 0: a random free port chosen by the kernel
    unsigned threads = 3;
    std::size_t max_body = 64 * 1024;  // larger bodies get 413
};

class HttpServerError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class HttpServer {
  public:
    /// Binds and listens on 127.0.0.1:options.port (connections wait in the backlog until
    /// serve()). Two steps, so the handler can know the port. Throws HttpServerError naming
    /// the cause if the port cannot be bound.
    static std::unique_ptr<HttpServer> bind(HttpServerOptions options = {});
    /// Starts the threads that serve requests with `handler`. Call once.
    void serve(HttpHandler handler);
    /// Stops accepting, closes connections and joins the threads.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// The port actually bound.
    std::uint16_t port() const noexcept;

    struct Impl;

  private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Percent-decodes `s` ('+' stays '+'). Invalid escapes are kept as they are.
std::string percent_decode(std::string_view s);

}  // namespace ariadne::console
