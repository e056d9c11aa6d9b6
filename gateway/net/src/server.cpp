// The server: the TLS configuration, the main and metrics listeners (bind, accept, connection
// caps at accept), the I/O threads, and the graceful shutdown. Connections are served by
// HttpSession (http_session.cpp) and WsSession (ws_session.cpp), as in Beast's server-flex
// and chat-multi examples; each runs on its own strand.
#include "ariadne/net/server.h"

#include <openssl/ssl.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ariadne/core/gateway.h"
#include "ariadne/core/http_workers.h"
#include "ariadne/core/login_budget.h"
#include "ariadne/protocol/error.h"
#include "connection_slots.h"
#include "http_session.h"
#include "net_limits.h"
#include "shared_state.h"
#include "tls_context.h"

namespace ariadne::gateway {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace net_detail;

std::string endpoint_text(const tcp::socket& socket) {
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

struct Server::Impl {
    Impl(Gateway& gateway, ServerOptions opts)
        : options(std::move(opts)),
          shared(gateway, gateway.metrics(), options.log_ip, options.routes, http_workers,
                 {options.max_connections, options.max_connections_per_address,
                  options.max_unauthenticated_per_address}),
          ioc(static_cast<int>(options.io_threads)),
          acceptor(net::make_strand(ioc)),
          signals(ioc),
          http_workers(options.http_workers) {
        // Caught from here on (Asio keeps a signal that arrives before run() waits for it): a
        // SIGTERM right after "listening on" is printed stops cleanly instead of killing, and
        // a SIGHUP while the certificate is read is a reload once running, not lost.
        if (options.handle_signals) {
            signals.add(SIGINT);
            signals.add(SIGTERM);
            signals.add(SIGHUP);
        }
        tls = load_tls_context(options.certificate_chain, options.private_key,
                               ExpiredCertificate::warn);
        port = listen(acceptor, options.host, options.port, "--listen");
        if (!options.metrics_host.empty()) {
            metrics_acceptor.emplace(net::make_strand(ioc));
            try {
                metrics_port = listen(*metrics_acceptor, options.metrics_host, options.metrics_port,
                                      "--metrics-listen");
            } catch (const GatewayError& e) {
                if (!options.metrics_optional) throw;
                spdlog::warn("no metrics listener: {}", e.what());
                metrics_acceptor.reset();
            }
        }
        raise_descriptor_limit();
    }

    /// Binds `a` to host:port and listens; returns the bound port. Throws GatewayError.
    static std::uint16_t listen(tcp::acceptor& a, const std::string& host, std::uint16_t port,
                                const char* setting) {
        error_code ec;
        auto address = net::ip::make_address(host, ec);
        if (ec) {
            throw GatewayError(GatewayErrorCode::config, std::string("Configuration refused: ") +
                                                             setting + " host '" + host +
                                                             "' is not an IP address.");
        }
        tcp::endpoint endpoint(address, port);
        a.open(endpoint.protocol(), ec);
        if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) a.bind(endpoint, ec);
        if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
        if (ec) {
            throw GatewayError(GatewayErrorCode::io, "Cannot listen on " + host + ":" +
                                                         std::to_string(port) + ": " +
                                                         ec.message() + ".");
        }
        return a.local_endpoint().port();
    }

    /// Each connection is a descriptor: the soft limit is often 1,024 (PAM, systemd's
    /// default), which stalls the server near 1,000 connections with accept failing. Raise it
    /// to the hard limit, and say when even that is below --max-connections.
    void raise_descriptor_limit() const {
        rlimit lim{};
        if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
        if (lim.rlim_cur < lim.rlim_max) {
            rlimit raised = lim;
            raised.rlim_cur = lim.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
        }
        const rlim_t needed = rlim_t{options.max_connections} + kSpareDescriptors;
        if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
            spdlog::warn(
                "descriptor limit {} allows about {} connections, below --max-connections {}; "
                "raise it (ulimit -n / LimitNOFILE) to at least {}",
                lim.rlim_cur,
                lim.rlim_cur > kSpareDescriptors ? lim.rlim_cur - kSpareDescriptors : 0,
                options.max_connections, needed);
        }
    }

    /// The context new connections are made with (a reload replaces it; connections keep
    /// the one they were made with).
    TlsContext current_tls() {
        std::lock_guard lock(tls_mutex);
        return tls;
    }

    /// Loads the certificate and key files again; on success new connections use them, on
    /// failure the ones in use stay and the reason is logged and thrown.
    std::string reload_certificate() {
        TlsContext fresh;
        try {
            fresh = load_tls_context(options.certificate_chain, options.private_key,
                                     ExpiredCertificate::refuse);
        } catch (const GatewayError& e) {
            spdlog::error("certificate reload refused, still serving the previous certificate: {}",
                          e.what());
            throw;
        }
        std::string fingerprint = certificate_fingerprint(fresh.get());
        {
            std::lock_guard lock(tls_mutex);
            tls = std::move(fresh);
        }
        spdlog::info("certificate reloaded from {} (sha256 {}); new connections use it",
                     options.certificate_chain.string(), fingerprint);
        return fingerprint;
    }

    /// SIGINT/SIGTERM start the graceful shutdown; SIGHUP reloads the certificate.
    void wait_for_signal() {
        signals.async_wait([this](error_code ec, int signal) {
            if (ec) return;
            if (signal != SIGHUP) return request_stop();
            try {
                reload_certificate();
            } catch (const std::exception&) {
                // Logged; the previous certificate keeps serving.
            }
            wait_for_signal();
        });
    }

    void do_accept(tcp::acceptor& from, Listener listener) {
        from.async_accept(
            net::make_strand(ioc), [this, &from, listener](error_code ec, tcp::socket socket) {
                if (ec) {
                    if (!from.is_open()) return;  // shutting down
                    // EMFILE and friends: back off briefly instead of spinning.
                    spdlog::warn("accept failed: {}", ec.message());
                    auto timer = std::make_shared<net::steady_timer>(
                        from.get_executor(), std::chrono::milliseconds(100));
                    timer->async_wait(
                        [this, timer, &from, listener](error_code) { do_accept(from, listener); });
                    return;
                }
                shared.metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
                error_code pec;
                auto peer = socket.remote_endpoint(pec);
                auto slot =
                    pec ? std::nullopt
                        : ConnectionSlot::acquire(shared.connections,
                                                  client_address_key(peer.address().to_string()));
                if (!slot) {
                    shared.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
                    error_code ignored;
                    socket.close(ignored);
                } else {
                    if (shared.log_ip) spdlog::info("connection from {}", endpoint_text(socket));
                    socket.set_option(tcp::no_delay(true), ec);
                    start_http_session(std::move(socket), current_tls().get(), shared,
                                       std::move(*slot), listener);
                }
                do_accept(from, listener);
            });
    }

    void request_stop() {
        std::lock_guard lock(stop_mutex);
        stop_requested = true;
        stop_cv.notify_all();
    }

    ServerOptions options;
    // Before the io_context: destroying it destroys handlers still queued, and with them
    // connections whose slots are given back to this state.
    Shared shared;  // refers to http_workers, which is destroyed first (its queued tasks
                    // hold connections, which give their slots back to `shared`)
    net::io_context ioc;
    std::mutex tls_mutex;
    TlsContext tls;  // guarded by tls_mutex
    tcp::acceptor acceptor;
    std::optional<tcp::acceptor> metrics_acceptor;
    net::signal_set signals;
    HttpWorkers http_workers;
    std::uint16_t port = 0;
    std::uint16_t metrics_port = 0;

    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool stop_requested = false;
};

Server::Server(Gateway& gateway, ServerOptions options)
    : impl_(std::make_unique<Impl>(gateway, std::move(options))) {}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept { return impl_->port; }

std::uint16_t Server::metrics_port() const noexcept { return impl_->metrics_port; }

void Server::stop() noexcept { impl_->request_stop(); }

std::string Server::reload_certificate() { return impl_->reload_certificate(); }

void Server::run() {
    Impl& s = *impl_;
    if (s.options.handle_signals) {
        s.wait_for_signal();
    }
    s.do_accept(s.acceptor, Listener::main);
    if (s.metrics_acceptor) s.do_accept(*s.metrics_acceptor, Listener::metrics);
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
        error_code ignored;
        s.acceptor.close(ignored);
        if (s.metrics_acceptor) s.metrics_acceptor->close(ignored);
        s.signals.cancel(ignored);
        closed.set_value();
    });
    closed.get_future().wait();
    // 2. No new requests; 3. commit everything queued (their answers are posted to the
    // connections' queues before the close below).
    s.shared.gateway.stop_accepting();
    s.shared.gateway.store().flush();
    // 4. Close every WebSocket with 1001 once its queue is written.
    s.shared.sessions.close_all(kShutdownGrace);
    s.http_workers.shutdown();  // handlers in progress finish; their answers may be dropped
    s.ioc.stop();
    for (auto& t : threads) t.join();
}

}  // namespace ariadne::gateway
