// The HTTP side of a connection: TLS handshake, request parsing with its limits, /healthz,
// the registered routes (run on the worker pools), the metrics listener's two paths, and the
// hand-over of an upgrade request to the WebSocket session.
#include "http_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net_limits.h"
#include "tls_stream.h"
#include "ws_session.h"

namespace ariadne::gateway::net_detail {

namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;

// The 431 answer names the limit.
static_assert(kMaxHttpHeader == 8192);

/// One HTTP connection. Lives as long as an operation on it is pending (each holds a
/// shared_ptr); used on the connection's strand only.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(tcp::socket&& socket, SSL_CTX* ctx, Shared& shared, ConnectionSlot slot,
                Listener listener)
        : stream_(std::move(socket), ctx),
          shared_(shared),
          slot_(std::move(slot)),
          listener_(listener),
          deadline_(stream_.get_executor()) {
        slot_.attach(stream_.weak_core());
    }

    void run() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->expires_after(kTlsHandshakeTimeout);
            self->stream_.async_handshake(
                beast::bind_front_handler(&HttpSession::on_handshake, self));
        });
    }

  private:
    /// Closes the socket (failing whatever waits on it) unless re-armed or cancelled first.
    void expires_after(std::chrono::steady_clock::duration d) {
        deadline_.expires_after(d);
        deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->stream_.close();
        });
    }

    void on_handshake(beast::error_code ec) {
        if (ec) return;
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(kMaxHttpHeader);
        parser_->body_limit(kMaxHttpBody);
        expires_after(kHandshakeTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream) {
            do_shutdown();
            return;
        }
        if (ec == http::error::body_limit) {
            respond(http::status::payload_too_large, "request body too large\n", "text/plain",
                    false);
            return;
        }
        if (ec == http::error::header_limit) {
            respond(http::status::request_header_fields_too_large,
                    "request header fields too large (limit 8192 bytes)\n", "text/plain", false);
            return;
        }
        if (ec) return;
        auto& request = parser_->get();
        if (listener_ == Listener::metrics) {
            serve_metrics_listener(request);
            return;
        }
        if (websocket::is_upgrade(request)) {
            if (request.target() == "/v1/ws" && !shared_.stopping.load()) {
                deadline_.cancel();  // the WebSocket keeps its own timeouts
                start_ws_session(std::move(stream_), shared_, std::move(slot_), parser_->release());
                return;
            }
            respond(http::status::not_found, "not found\n", "text/plain", false);
            return;
        }
        std::string_view target(request.target().data(), request.target().size());
        std::string path(target.substr(0, target.find('?')));
        if (path != "/healthz" && shared_.routes) {
            if (const HttpRoute* route = shared_.routes->find(path)) {
                run_route(*route, std::move(path));
                return;
            }
        }
        if (request.method() != http::verb::get) {
            respond(http::status::method_not_allowed, "method not allowed\n", "text/plain",
                    request.keep_alive());
        } else if (request.target() == "/healthz") {
            respond(http::status::ok, "ok\n", "text/plain", request.keep_alive());
        } else {
            respond(http::status::not_found, "not found\n", "text/plain", request.keep_alive());
        }
    }

    /// The metrics listener: GET /metrics and /healthz; no WebSocket, no routes.
    void serve_metrics_listener(const http::request<http::string_body>& request) {
        std::string_view target(request.target().data(), request.target().size());
        bool known = target == "/metrics" || target == "/healthz";
        if (!known || websocket::is_upgrade(request)) {
            respond(http::status::not_found, "not found\n", "text/plain", request.keep_alive());
        } else if (request.method() != http::verb::get) {
            respond(http::status::method_not_allowed, "method not allowed\n", "text/plain",
                    request.keep_alive());
        } else if (target == "/healthz") {
            respond(http::status::ok, "ok\n", "text/plain", request.keep_alive());
        } else {
            respond(http::status::ok, shared_.metrics.render_prometheus(),
                    "text/plain; version=0.0.4", request.keep_alive());
        }
    }

    /// Runs a route handler on its class's worker pool and writes its answer on this strand;
    /// 503 when that pool's queue is full.
    void run_route(const HttpRoute& route, std::string path) {
        auto& request = parser_->get();
        HttpRequest r;
        r.method = std::string(request.method_string());
        r.target = std::string(request.target());
        r.path = std::move(path);
        if (auto q = r.target.find('?'); q != std::string::npos) r.query = r.target.substr(q + 1);
        for (const auto& field : request) {
            std::string name(field.name_string());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[std::move(name)] = std::string(field.value());
        }
        r.body = std::move(request.body());
        beast::error_code ec;
        auto peer = stream_.next_layer().remote_endpoint(ec);
        if (!ec) {
            r.peer_address = peer.address().to_string();
            r.peer_is_loopback = peer.address().is_loopback();
        }
        bool keep_alive = request.keep_alive();
        // No read timeout while the handler runs; respond() sets the next one.
        deadline_.cancel();
        const HttpHandler& handler = route.handler;
        bool queued = shared_.http_workers.post(
            route.route_class,
            [self = shared_from_this(), &handler, r = std::move(r), keep_alive]() mutable {
                HttpResponse out;
                try {
                    out = handler(r);
                } catch (const std::exception& e) {
                    spdlog::error("HTTP route handler failed: {}", e.what());
                    out = HttpResponse::text(500, "internal error\n");
                }
                net::post(self->stream_.get_executor(), [self, out = std::move(out),
                                                         keep_alive]() mutable {
                    self->respond(static_cast<http::status>(out.status), std::move(out.body),
                                  out.content_type, keep_alive, out.headers);
                });
            });
        if (!queued) {
            respond(http::status::service_unavailable, "busy; try again in a moment\n",
                    "text/plain", keep_alive, {{"Retry-After", "1"}});
        }
    }

    void respond(http::status status, std::string body, const std::string& type, bool keep_alive,
                 const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        auto res = std::make_shared<http::response<http::string_body>>(status, 11);
        res->set(http::field::server, "ariadne");
        for (const auto& [name, value] : extra) res->set(name, value);
        res->set(http::field::content_type, type);
        res->set(http::field::cache_control, "no-store");
        res->set("X-Content-Type-Options", "nosniff");
        res->keep_alive(keep_alive && !shared_.stopping.load());
        res->body() = std::move(body);
        res->prepare_payload();
        http::async_write(stream_, *res,
                          [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                              if (ec) return;
                              if (res->keep_alive()) {
                                  self->do_read();
                              } else {
                                  self->do_shutdown();
                              }
                          });
    }

    void do_shutdown() {
        expires_after(kHttpShutdownTimeout);
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    }

    TlsStream stream_;
    Shared& shared_;
    ConnectionSlot slot_;
    Listener listener_;
    net::steady_timer deadline_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void start_http_session(tcp::socket&& socket, SSL_CTX* ctx, Shared& shared, ConnectionSlot slot,
                        Listener listener) {
    std::make_shared<HttpSession>(std::move(socket), ctx, shared, std::move(slot), listener)->run();
}

}  // namespace ariadne::gateway::net_detail
