// The only translation unit that includes Beast/Asio (they dominate compile time).
// Structure follows Beast's server-flex and chat-multi examples: Listener accepts,
// HttpSession does the TLS handshake and serves HTTP or hands the stream to a WsSession,
// which moves frames between the socket and a gateway::Session. Each connection runs on
// its own strand; the core calls back through SessionOutput, which posts to that strand.
#include "ariadne/gateway/server.h"

#include <openssl/ssl.h>

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "ariadne/gateway/error.h"
#include "ariadne/gateway/gateway.h"
#include "ariadne/gateway/worker_pool.h"

namespace ariadne::gateway {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kAuthDeadline = std::chrono::seconds(60);
constexpr auto kIdleTimeout = std::chrono::seconds(60);  // Beast pings at half of it
constexpr auto kCloseGrace = std::chrono::seconds(5);
constexpr auto kShutdownGrace = std::chrono::seconds(5);
constexpr std::size_t kMaxHttpBody = 64 * 1024;

class WsSession;

/// State shared by every connection of one server.
struct Shared {
    Gateway& gateway;
    Metrics& metrics;
    std::uint32_t max_connections;
    bool log_ip;
    std::shared_ptr<const HttpRoutes> routes;  // may be null
    WorkerPool* http_workers;                  // runs route handlers

    std::mutex sessions_mutex;
    std::unordered_map<WsSession*, std::weak_ptr<WsSession>> sessions;
    std::condition_variable sessions_cv;
    std::atomic<bool> stopping{false};
};

/// Counts one open connection for as long as it lives (moved from HTTP to WebSocket).
class ConnectionSlot {
  public:
    explicit ConnectionSlot(Metrics& m) : metrics_(&m) {
        metrics_->connections_open.fetch_add(1, std::memory_order_relaxed);
    }
    ConnectionSlot(ConnectionSlot&& o) noexcept : metrics_(std::exchange(o.metrics_, nullptr)) {}
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ~ConnectionSlot() {
        if (metrics_) metrics_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    }

  private:
    Metrics* metrics_;
};

std::string endpoint_text(const tcp::socket& socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// ---------------------------------------------------------------------------------------

class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(beast::ssl_stream<beast::tcp_stream>&& stream, Shared& shared, ConnectionSlot slot)
        : ws_(std::move(stream)),
          shared_(shared),
          slot_(std::move(slot)),
          auth_timer_(ws_.get_executor()),
          close_timer_(ws_.get_executor()) {}

    void run(http::request<http::string_body> request) {
        beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = kHandshakeTimeout;
        timeouts.idle_timeout = kIdleTimeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        websocket::permessage_deflate deflate;
        deflate.server_enable = false;
        deflate.client_enable = false;
        ws_.set_option(deflate);
        ws_.read_message_max(kMaxFrameBytes);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "ariadne"); }));
        ws_.async_accept(request,
                         beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
    }

    /// Graceful shutdown: send what is queued, then close with 1001.
    void close_when_drained() {
        net::post(ws_.get_executor(), [self = shared_from_this()] {
            if (!self->accepted_ || self->ended_) return;
            self->drain_then_close_ = true;
            if (!self->writing_) self->start_close(kCloseGoingAway, "server shutting down");
        });
    }

  private:
    /// The core's view of this connection: posts everything onto the strand.
    class Output : public SessionOutput {
      public:
        explicit Output(std::weak_ptr<WsSession> ws) : ws_(std::move(ws)) {}
        void send_text(std::string frame) override {
            if (auto ws = ws_.lock()) {
                net::post(ws->ws_.get_executor(), [ws, frame = std::move(frame)]() mutable {
                    ws->enqueue(std::move(frame));
                });
            }
        }
        void close(std::uint16_t code, std::string reason) override {
            if (auto ws = ws_.lock()) {
                net::post(ws->ws_.get_executor(), [ws, code, reason = std::move(reason)] {
                    ws->start_close(code, reason);
                });
            }
        }

      private:
        std::weak_ptr<WsSession> ws_;
    };

    void on_accept(beast::error_code ec) {
        if (ec) return;  // handshake failed or timed out: the stream is dropped
        accepted_ = true;
        core_ = shared_.gateway.open_session(std::make_shared<Output>(weak_from_this()));
        {
            std::lock_guard lock(shared_.sessions_mutex);
            shared_.sessions.emplace(this, weak_from_this());
        }
        if (shared_.stopping.load()) {
            start_close(kCloseGoingAway, "server shutting down");
            return;
        }
        auth_timer_.expires_after(kAuthDeadline);
        auth_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || self->ended_ || !self->core_ || self->core_->authenticated()) return;
            self->start_close(kClosePolicy, "authentication timeout");
        });
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            // Beast already answered a too-big message with close 1009; timeouts and
            // closes end up here too.
            end();
            return;
        }
        if (ws_.got_text()) {
            auto data = buffer_.cdata();
            core_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
        } else {
            core_->on_binary();
        }
        buffer_.consume(buffer_.size());
        // Keep idle connections small: give back space a large message needed.
        if (buffer_.capacity() > 8192) buffer_.shrink_to_fit();
        if (!closing_) do_read();
    }

    void enqueue(std::string frame) {
        if (closing_ || ended_) return;
        queued_bytes_ += frame.size();
        if (queued_bytes_ > kMaxQueuedBytes) {
            // A client that does not read is closed; its mailbox keeps what it missed.
            shared_.metrics.slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
            queue_.clear();
            queue_.shrink_to_fit();
            head_ = 0;
            queued_bytes_ = 0;
            start_close(kClosePolicy, "slow consumer");
            return;
        }
        queue_.push_back(std::move(frame));
        if (!writing_) do_write();
    }

    void do_write() {
        // The frame being written lives outside the vector, which may reallocate.
        current_ = std::move(queue_[head_]);
        if (++head_ == queue_.size()) {
            queue_.clear();
            head_ = 0;
            if (queue_.capacity() > 64) queue_.shrink_to_fit();
        }
        writing_ = true;
        ws_.text(true);
        ws_.async_write(net::buffer(current_),
                        beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        writing_ = false;
        if (ec) {
            end();
            return;
        }
        queued_bytes_ -= std::min(queued_bytes_, current_.size());
        std::string().swap(current_);
        if (!queue_.empty() && !closing_) {
            do_write();
        } else if (queue_.empty() && drain_then_close_) {
            start_close(kCloseGoingAway, "server shutting down");
        }
    }

    void start_close(std::uint16_t code, const std::string& reason) {
        if (closing_ || ended_) return;
        closing_ = true;
        auth_timer_.cancel();
        websocket::close_reason why;
        why.code = code;
        why.reason = reason;
        // Beast suspends the close until a pending write finishes; a peer that never reads
        // would keep it waiting, so the socket is torn down after a grace period.
        ws_.async_close(why, [self = shared_from_this()](beast::error_code) { self->end(); });
        close_timer_.expires_after(kCloseGrace);
        close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            beast::error_code ignored;
            beast::get_lowest_layer(self->ws_).socket().close(ignored);
        });
    }

    void end() {
        if (ended_) return;
        ended_ = true;
        auth_timer_.cancel();
        close_timer_.cancel();
        if (core_) core_->on_closed();
        queue_.clear();
        head_ = 0;
        std::lock_guard lock(shared_.sessions_mutex);
        shared_.sessions.erase(this);
        shared_.sessions_cv.notify_all();
    }

    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
    Shared& shared_;
    ConnectionSlot slot_;
    beast::flat_buffer buffer_;
    net::steady_timer auth_timer_;
    net::steady_timer close_timer_;
    std::shared_ptr<Session> core_;
    std::vector<std::string> queue_;  // frames to write, from head_ on (no deque: see Session)
    std::size_t head_ = 0;
    std::string current_;  // the frame async_write is sending
    std::size_t queued_bytes_ = 0;
    bool accepted_ = false;
    bool writing_ = false;
    bool closing_ = false;
    bool drain_then_close_ = false;
    bool ended_ = false;
};

// ---------------------------------------------------------------------------------------

class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(tcp::socket&& socket, ssl::context& ctx, Shared& shared)
        : stream_(std::move(socket), ctx), shared_(shared), slot_(shared.metrics) {}

    void run() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            beast::get_lowest_layer(self->stream_).expires_after(kHandshakeTimeout);
            self->stream_.async_handshake(
                ssl::stream_base::server,
                beast::bind_front_handler(&HttpSession::on_handshake, self));
        });
    }

  private:
    void on_handshake(beast::error_code ec) {
        if (ec) return;
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->header_limit(8192);
        parser_->body_limit(kMaxHttpBody);
        beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
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
        if (ec) return;
        auto& request = parser_->get();
        if (websocket::is_upgrade(request)) {
            if (request.target() == "/v1/ws" && !shared_.stopping.load()) {
                std::make_shared<WsSession>(std::move(stream_), shared_, std::move(slot_))
                    ->run(parser_->release());
                return;
            }
            respond(http::status::not_found, "not found\n", "text/plain", false);
            return;
        }
        std::string_view target(request.target().data(), request.target().size());
        std::string path(target.substr(0, target.find('?')));
        if (path != "/healthz" && path != "/metrics" && shared_.routes) {
            if (const HttpHandler* handler = shared_.routes->find(path)) {
                run_route(*handler, std::move(path));
                return;
            }
        }
        if (request.method() != http::verb::get) {
            respond(http::status::method_not_allowed, "method not allowed\n", "text/plain",
                    request.keep_alive());
        } else if (request.target() == "/healthz") {
            respond(http::status::ok, "ok\n", "text/plain", request.keep_alive());
        } else if (request.target() == "/metrics") {
            respond(http::status::ok, shared_.metrics.render_prometheus(),
                    "text/plain; version=0.0.4", request.keep_alive());
        } else {
            respond(http::status::not_found, "not found\n", "text/plain", request.keep_alive());
        }
    }

    /// Runs a route handler on the worker pool and writes its answer on this strand.
    void run_route(const HttpHandler& handler, std::string path) {
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
        auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
        if (!ec) {
            r.peer_address = peer.address().to_string();
            r.peer_is_loopback = peer.address().is_loopback();
        }
        bool keep_alive = request.keep_alive();
        // No read timeout while the handler runs; respond() sets the next one.
        beast::get_lowest_layer(stream_).expires_never();
        shared_.http_workers->post([self = shared_from_this(), &handler, r = std::move(r),
                                    keep_alive]() mutable {
            HttpResponse out;
            try {
                out = handler(r);
            } catch (const std::exception& e) {
                spdlog::error("HTTP route handler failed: {}", e.what());
                out = HttpResponse::text(500, "internal error\n");
            }
            net::post(self->stream_.get_executor(),
                      [self, out = std::move(out), keep_alive]() mutable {
                          self->respond(static_cast<http::status>(out.status), std::move(out.body),
                                        out.content_type, keep_alive, out.headers);
                      });
        });
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
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    Shared& shared_;
    ConnectionSlot slot_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

// ---------------------------------------------------------------------------------------

struct Server::Impl {
    Impl(Gateway& gateway, ServerOptions opts)
        : options(std::move(opts)),
          ioc(static_cast<int>(options.io_threads)),
          tls(ssl::context::tls_server),
          acceptor(net::make_strand(ioc)),
          signals(ioc),
          http_workers(std::max<std::uint32_t>(1, options.http_workers)),
          shared{gateway,
                 gateway.metrics(),
                 options.max_connections,
                 options.log_ip,
                 options.routes,
                 &http_workers,
                 {},
                 {},
                 {},
                 {}} {
        configure_tls();
        beast::error_code ec;
        auto address = net::ip::make_address(options.host, ec);
        if (ec) {
            throw GatewayError(GatewayErrorCode::config, "Configuration refused: --listen host '" +
                                                             options.host +
                                                             "' is not an IP address.");
        }
        tcp::endpoint endpoint(address, options.port);
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
        if (ec) {
            throw GatewayError(GatewayErrorCode::io, "Cannot listen on " + options.host + ":" +
                                                         std::to_string(options.port) + ": " +
                                                         ec.message() + ".");
        }
        port = acceptor.local_endpoint().port();
    }

    void configure_tls() {
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use | ssl::context::no_compression);
        SSL_CTX* ctx = tls.native_handle();
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
        // TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are all AEAD).
        SSL_CTX_set_cipher_list(ctx,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
        // ~34 KB of OpenSSL buffers per idle connection otherwise.
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        beast::error_code ec;
        tls.use_certificate_chain_file(options.certificate_chain.string(), ec);
        if (!ec) tls.use_private_key_file(options.private_key.string(), ssl::context::pem, ec);
        if (ec || SSL_CTX_check_private_key(ctx) != 1) {
            throw GatewayError(GatewayErrorCode::io, "The TLS certificate " +
                                                         options.certificate_chain.string() +
                                                         " or key " + options.private_key.string() +
                                                         " cannot be loaded or do not match.");
        }
    }

    void do_accept() {
        acceptor.async_accept(
            net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
                if (ec) {
                    if (!acceptor.is_open()) return;  // shutting down
                    // EMFILE and friends: back off briefly instead of spinning.
                    spdlog::warn("accept failed: {}", ec.message());
                    auto timer = std::make_shared<net::steady_timer>(
                        acceptor.get_executor(), std::chrono::milliseconds(100));
                    timer->async_wait([this, timer](beast::error_code) { do_accept(); });
                    return;
                }
                shared.metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
                if (shared.metrics.connections_open.load(std::memory_order_relaxed) >=
                    static_cast<std::int64_t>(shared.max_connections)) {
                    shared.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
                    beast::error_code ignored;
                    socket.close(ignored);
                } else {
                    if (shared.log_ip) spdlog::info("connection from {}", endpoint_text(socket));
                    socket.set_option(tcp::no_delay(true), ec);
                    std::make_shared<HttpSession>(std::move(socket), tls, shared)->run();
                }
                do_accept();
            });
    }

    void request_stop() {
        std::lock_guard lock(stop_mutex);
        stop_requested = true;
        stop_cv.notify_all();
    }

    ServerOptions options;
    net::io_context ioc;
    ssl::context tls;
    tcp::acceptor acceptor;
    net::signal_set signals;
    WorkerPool http_workers;
    Shared shared;
    std::uint16_t port = 0;

    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool stop_requested = false;
};

Server::Server(Gateway& gateway, ServerOptions options)
    : impl_(std::make_unique<Impl>(gateway, std::move(options))) {}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept { return impl_->port; }

void Server::stop() noexcept { impl_->request_stop(); }

void Server::run() {
    Impl& s = *impl_;
    if (s.options.handle_signals) {
        s.signals.add(SIGINT);
        s.signals.add(SIGTERM);
        s.signals.async_wait([&s](beast::error_code ec, int) {
            if (!ec) s.request_stop();
        });
    }
    s.do_accept();
    std::vector<std::thread> threads;
    for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, s.options.io_threads); ++i) {
        threads.emplace_back([&s] { s.ioc.run(); });
    }
    {
        std::unique_lock lock(s.stop_mutex);
        s.stop_cv.wait(lock, [&] { return s.stop_requested; });
    }
    spdlog::info("shutting down: closing connections after committing queued messages");
    s.shared.stopping.store(true);
    // 1. No new connections.
    std::promise<void> closed;
    net::post(s.acceptor.get_executor(), [&s, &closed] {
        beast::error_code ignored;
        s.acceptor.close(ignored);
        s.signals.cancel(ignored);
        closed.set_value();
    });
    closed.get_future().wait();
    // 2. No new requests; 3. commit everything queued (their answers are posted to the
    // connections' queues before the close below).
    s.shared.gateway.stop_accepting();
    s.shared.gateway.store().flush();
    // 4. Close every WebSocket with 1001 once its queue is written.
    std::vector<std::shared_ptr<WsSession>> sessions;
    {
        std::lock_guard lock(s.shared.sessions_mutex);
        for (auto& [ptr, weak] : s.shared.sessions) {
            if (auto ws = weak.lock()) sessions.push_back(std::move(ws));
        }
    }
    for (auto& ws : sessions) ws->close_when_drained();
    sessions.clear();
    {
        std::unique_lock lock(s.shared.sessions_mutex);
        s.shared.sessions_cv.wait_for(lock, kShutdownGrace,
                                      [&] { return s.shared.sessions.empty(); });
    }
    s.http_workers.shutdown();  // handlers in progress finish; their answers may be dropped
    s.ioc.stop();
    for (auto& t : threads) t.join();
}

}  // namespace ariadne::gateway
