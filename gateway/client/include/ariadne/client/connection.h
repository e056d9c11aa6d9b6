// Low-level connection to an Ariadne gateway: one TLS WebSocket at wss://HOST:PORT/v1/ws,
// speaking protocol v1 (docs/protocol.md) as JSON frames. It knows nothing about accounts or
// Signal: it sends requests, matches responses by `id`, and queues everything else (pushes,
// and answers nobody waits for). Tests use it to send raw and malformed frames; `Messenger`
// (messenger.h) builds the protocol's meaning on top of it.
//
// Threading: I/O runs on a `Runtime` (one or more event-loop threads). Every public method
// of `Connection` is thread-safe and blocking calls may be made from several threads at
// once (each waits for its own response). Never call a blocking method from a Runtime
// thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ariadne/client/error.h"

namespace ariadne::client {

using Json = nlohmann::json;
using std::chrono::milliseconds;

/// Where a gateway is and how its certificate is trusted.
struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8443;
    std::string path = "/v1/ws";
    /// SHA-256 fingerprint of the server's certificate or of its public key (DER
    /// SubjectPublicKeyInfo), hex with or without ':' separators, any case. When set, the
    /// certificate is accepted if and only if one of the two matches (the gateway's
    /// development certificate is self-signed, so no CA check); `ariadne serve` prints both.
    std::string fingerprint_sha256;
    /// PEM file of trusted CAs, used when no fingerprint is set; the host name is checked
    /// too. With neither set, the system's default CAs are used.
    std::string ca_file;

    /// Parses "wss://HOST:PORT[/PATH]" (PATH defaults to /v1/ws, PORT to 443).
    /// Throws Error(invalid_argument) naming what is wrong.
    static Endpoint parse_url(std::string_view url);
};

struct ConnectionOptions {
    /// Deadline for TCP connect + TLS handshake + WebSocket upgrade together.
    milliseconds connect_timeout{10000};
    /// Largest frame accepted from the server; a larger one closes the connection.
    std::size_t max_inbound_frame = 1 << 20;
    /// SO_RCVBUF for the socket (0: kernel default). A small value makes a client that
    /// stops reading fill up quickly (tests of the server's slow-consumer limit).
    int socket_receive_buffer = 0;
    /// Local IP address to connect from (empty: chosen by the system). Tests use other
    /// loopback addresses (127.0.0.2, ...) to appear as different clients.
    std::string local_address;
};

/// Event-loop threads shared by many connections (e.g. a test that opens 1,000 of them).
/// Thread-safe. Destroy every Connection that uses it before destroying the Runtime.
class Runtime {
  public:
    explicit Runtime(unsigned threads = 1);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    struct Impl;
    Impl& impl() noexcept { return *impl_; }

  private:
    std::unique_ptr<Impl> impl_;
};

/// How a connection ended: WebSocket close code (1006 when the transport dropped without
/// a close frame) and the peer's reason text.
struct CloseInfo {
    int code = 0;
    std::string reason;
};

class Connection {
  public:
    /// Connects, verifies the certificate, upgrades to WebSocket. Blocks until connected.
    /// Throws Error(connect_failed | tls_failed | certificate_mismatch | websocket_failed |
    /// timeout). With no `runtime`, the connection runs its own event-loop thread.
    static std::unique_ptr<Connection> open(const Endpoint& endpoint,
                                            const ConnectionOptions& options = {},
                                            std::shared_ptr<Runtime> runtime = nullptr);

    /// Closes (WebSocket close 1000, bounded wait) and releases the socket.
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Sends a request and waits for the frame with the same `id`: returns it whether it is
    /// `ok` or `error`. Fills in `"v": 1` and a fresh `id` when the frame has none.
    /// Throws Error(timeout) or Error(closed); nothing else.
    Json request(Json frame, milliseconds timeout = milliseconds{10000});

    /// Like request(), but an `error` answer throws ServerError carrying its code and frame.
    Json call(Json frame, milliseconds timeout = milliseconds{10000});

    /// Sends a request without waiting; returns its id for await_response(). Fills in `v`
    /// and `id` like request(). Throws Error(closed).
    std::uint64_t send_request(Json& frame);

    /// Waits for the answer to a request sent with send_request(). Throws like request().
    Json await_response(std::uint64_t id, milliseconds timeout = milliseconds{10000});

    /// Sends `text` as one text frame exactly as given (malformed frames for tests). The
    /// answer, if any, arrives through next_unsolicited(). Throws Error(closed).
    void send_text(std::string text);
    /// Sends one binary frame (the protocol refuses them; for tests).
    void send_binary(std::string bytes);

    /// Next frame nobody is waiting for: `deliver` pushes, and answers to frames sent with
    /// send_text() (including `"id": null` errors). A frame that is not JSON is returned as
    /// a JSON string. Returns nullopt after `timeout`, or at once when the queue is empty
    /// and the connection closed.
    std::optional<Json> next_unsolicited(milliseconds timeout);

    /// Stops reading from the socket after the frame being read (so the server's outbound
    /// queue grows: slow-consumer tests); resume_reading() starts again.
    void pause_reading();
    void resume_reading();

    /// True until the connection has closed (either side, or transport failure).
    bool is_open() const;
    /// How it closed, once it has.
    std::optional<CloseInfo> close_info() const;
    /// Waits until the connection is closed; nullopt on timeout.
    std::optional<CloseInfo> wait_closed(milliseconds timeout);
    /// Starts a close handshake with `code` and waits up to `timeout` for it to finish;
    /// then drops the transport. Idempotent.
    void close(int code = 1000, milliseconds timeout = milliseconds{2000});

    struct Impl;

  private:
    Connection(std::shared_ptr<Runtime> runtime, std::shared_ptr<Impl> impl);
    std::shared_ptr<Runtime> runtime_;
    std::shared_ptr<Impl> impl_;
};

/// Normalises a fingerprint to upper-case hex with ':' separators ("AB:CD:...").
/// Throws Error(invalid_argument) if it is not 32 bytes of hex.
std::string normalize_fingerprint(std::string_view fingerprint);

}  // namespace ariadne::client
