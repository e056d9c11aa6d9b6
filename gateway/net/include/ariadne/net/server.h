// Server: the gateway's network front, HTTPS and WSS on one TLS port. It only moves frames
// between sockets and gateway::Session objects; all protocol logic lives in the core
// (ariadne/core/gateway.h). Boost.Beast and Asio stay inside this layer's .cpp files
// (gateway/net/src: server.cpp listens, http_session.cpp and ws_session.cpp serve a
// connection, tls_stream.cpp is TLS on the socket, connection_slots.cpp counts connections).
//
//   GET /healthz → 200 "ok"; wss://…/v1/ws → a Session; paths registered in
//   ServerOptions::routes (http_routes.h) → their handler, run on the worker pool of its
//   class (503 when that queue is full); anything else → 404. Request bodies over 64 KiB →
//   413, request headers over 8 KiB → 431. Every response carries Cache-Control: no-store
//   and X-Content-Type-Options: nosniff.
//   GET /metrics (Prometheus text) only on the separate metrics listener (its own port,
//   same TLS certificate; it serves /metrics and /healthz and nothing else).
//
// TLS 1.2 minimum (1.3 preferred), AEAD ciphers only, no compression, no session
// resumption (no tickets, no cache), buffers released while idle, 10 s to finish the TLS
// handshake. Connections per client address (client_address_key in login_budget.h) are
// capped, and so are the ones not logged in yet, per address and in total (a tenth of
// max_connections is kept for logged-in ones; when the rest is full a newcomer cuts the
// oldest connection not logged in). WebSocket: no permessage-deflate, 64 KiB messages
// (bigger → close 1009, after reading and discarding the rest of the frame, bounded), 30 s
// upgrade, ping after 30 s of silence and close after 60 s without an answer, 60 s to
// authenticate (else close 1008), 1 MiB outbound queue (else close 1008).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "ariadne/core/http_routes.h"
#include "ariadne/core/http_workers.h"

namespace ariadne::gateway {

class Gateway;

/// What a Server listens on and its limits. Every field has a working default except the
/// certificate and key; checked when the Server is constructed.
struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8443;                // 0: ephemeral
    std::filesystem::path certificate_chain;  // PEM
    std::filesystem::path private_key;        // PEM
    std::uint32_t max_connections = 20000;
    std::uint32_t io_threads = 2;
    bool log_ip = false;
    // SIGINT/SIGTERM start the graceful shutdown; SIGHUP reloads the certificate and key.
    bool handle_signals = true;
    std::shared_ptr<const HttpRoutes> routes;  // extra HTTPS routes (null: none)
    HttpWorkerOptions http_workers;            // threads and queues that run route handlers
    // Per client address: open connections, and those not logged in yet (TLS handshake,
    // HTTP, WebSocket before its login succeeds). Further ones are closed at accept.
    std::uint32_t max_connections_per_address = 256;
    std::uint32_t max_unauthenticated_per_address = 32;
    // The metrics listener (GET /metrics). Empty host: none (the default here; `serve`
    // sets 127.0.0.1:9464 from its configuration), so an embedded server binds one port only.
    std::string metrics_host;
    std::uint16_t metrics_port = 0;  // 0: ephemeral
    // When binding it fails: false throws like the main listener, true only logs a warning
    // and serves without metrics (the default address may be taken by another instance).
    bool metrics_optional = false;
};

/// A listening server. Construction binds and loads everything, so a misconfiguration is
/// reported before anything is served; run() then serves on `io_threads` threads (plus the
/// calling one, which waits) until stop() or a signal.
///
/// Errors: the constructor throws GatewayError(config) when a host is not an IP address, and
/// GatewayError(io) when an address cannot be bound or the certificate/key cannot be loaded
/// or do not match (a metrics listener with metrics_optional only logs a warning; so does a
/// certificate outside its validity period, which clients will refuse). Once
/// running, a connection's failure (bad TLS, bad HTTP, a handler that throws: 500) closes or
/// answers that connection only; nothing is thrown to the caller of run() (but std::system_error
/// when its threads cannot be started).
///
/// Ownership: `gateway` must outlive the server; the server owns its sockets, I/O threads and
/// route worker pools, and its destructor releases them (after run() returned, or without
/// run() ever being called).
///
/// Thread safety: stop() may be called from any thread, at any time, any number of times;
/// port() and metrics_port() from any thread; run() once, from one thread.
class Server {
  public:
    /// Loads the certificate and key, binds and listens (also the metrics listener when
    /// options.metrics_host is set), and raises the descriptor soft limit to the hard limit
    /// (warning when even that is below max_connections + 64). Throws GatewayError as above.
    Server(Gateway& gateway, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound port (useful with port 0).
    std::uint16_t port() const noexcept;
    /// The metrics listener's bound port; 0 when there is none.
    std::uint16_t metrics_port() const noexcept;

    /// Serves until stop() or a signal (with handle_signals), then shuts down gracefully:
    /// stop accepting, stop reading requests, commit everything queued and send its answers,
    /// close every WebSocket with 1001 (going away; at most 5 s for all of them), stop the
    /// route workers, return. Call once, from one thread.
    void run();

    /// Starts the graceful shutdown; run() returns once it is done. Thread-safe, idempotent.
    void stop() noexcept;

    /// Reads options.certificate_chain and options.private_key again (also on SIGHUP, with
    /// handle_signals). New handshakes, on both listeners, use the new pair; connections
    /// already open keep theirs. Returns the new certificate's SHA-256 fingerprint and logs
    /// it. A pair that cannot be read, whose key does not match, or whose certificate has
    /// expired or is not valid yet is refused: the error is logged and thrown as
    /// GatewayError(io) naming the file, and the pair in use keeps serving. Thread-safe.
    std::string reload_certificate();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::gateway
