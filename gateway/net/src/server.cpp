// The only translation unit that includes Beast/Asio (they dominate compile time).
// Structure follows Beast's server-flex and chat-multi examples: Listener accepts,
// HttpSession does the TLS handshake and serves HTTP or hands the stream to a WsSession,
// which moves frames between the socket and a gateway::Session. Each connection runs on
// its own strand; the core calls back through SessionOutput, which posts to that strand.
#include "ariadne/net/server.h"

#include <linux/sockios.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "ariadne/protocol/error.h"
#include "ariadne/core/gateway.h"
#include "ariadne/core/http_workers.h"
#include "ariadne/core/login_budget.h"
#include "ariadne/core/worker_pool.h"

namespace ariadne::gateway {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// Output queued for one connection, counting what its TCP send buffer holds: a client that
// does not read is closed once this much waits for it (docs/protocol.md).
constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
// Teardown: everything queued (the close frame last) must reach the kernel within this...
constexpr auto kTeardownDrain = std::chrono::seconds(5);
// ...then the server stops writing and reads and discards what the peer still sends, for at
// most this long or this many bytes, so that closing the descriptor does not answer the
// peer's unread bytes with an RST that destroys the close frame in its receive buffer. A
// client cut off in the middle of a WebSocket frame (one too big) will still send the rest
// of it: the byte bound grows by what that frame still declares (the time bound stays).
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1024 * 1024;
// A TLS handshake takes well under a second even on a slow mobile link; a client that has
// not finished in this long is holding a slot, not connecting.
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);  // HTTP request, WebSocket upgrade
constexpr auto kAuthDeadline = std::chrono::seconds(60);
constexpr auto kIdleTimeout = std::chrono::seconds(60);  // Beast pings at half of it
constexpr auto kCloseGrace = std::chrono::seconds(5);
constexpr auto kSlowConsumerGrace = std::chrono::seconds(1);
constexpr auto kShutdownGrace = std::chrono::seconds(5);
constexpr std::size_t kMaxHttpBody = 64 * 1024;
constexpr std::size_t kFirstRead = 512;  // WsSession::do_read
// Descriptors the server needs besides its connections (databases and their WAL files,
// read pool, epoll, timers, stdio, the listening socket), with room to spare.
constexpr rlim_t kSpareDescriptors = 64;

class WsSession;
struct TlsCore;

/// Closes a connection from any thread (on its strand). Defined with TlsCore.
void cut_connection(const std::weak_ptr<TlsCore>& core);

/// Connections of one client address.
struct AddressCount {
    std::uint32_t open = 0;
    std::uint32_t unauthenticated = 0;
};

/// State shared by every connection of one server.
struct Shared {
    Gateway& gateway;
    Metrics& metrics;
    std::uint32_t max_connections;
    bool log_ip;
    std::shared_ptr<const HttpRoutes> routes;  // may be null
    HttpWorkers* http_workers;                 // runs route handlers, one pool per class

    std::mutex sessions_mutex;
    std::unordered_map<WsSession*, std::weak_ptr<WsSession>> sessions;
    std::condition_variable sessions_cv;
    std::atomic<bool> stopping{false};

    // Connection caps (ServerOptions). Entries exist only while the address has a
    // connection, so the table is bounded by max_connections.
    std::uint32_t max_per_address = 0;
    std::uint32_t max_unauthenticated_per_address = 0;
    std::uint32_t max_unauthenticated = 0;  // in total: the rest is kept for logged-in ones
    std::mutex addresses_mutex;
    std::unordered_map<std::string, AddressCount> addresses;
    std::uint32_t unauthenticated = 0;
    // Connections not logged in, oldest first: when their share is full, a new connection
    // cuts the oldest (a legitimate client logs in within a second; one that holds a slot
    // without doing so is the first to go).
    std::uint64_t next_seq = 0;
    std::map<std::uint64_t, std::weak_ptr<TlsCore>> waiting;
};

/// Counts one open connection for as long as it lives (moved from HTTP to WebSocket), in
/// total, for its client address, and as not logged in until mark_authenticated().
class ConnectionSlot {
  public:
    /// A slot for a new connection from `address`, or nullopt when a cap is reached.
    static std::optional<ConnectionSlot> acquire(Shared& shared, std::string address) {
        std::weak_ptr<TlsCore> victim;
        std::uint64_t seq = 0;
        {
            std::lock_guard lock(shared.addresses_mutex);
            auto [it, added] = shared.addresses.try_emplace(address);
            AddressCount& count = it->second;
            if (count.open >= shared.max_per_address ||
                count.unauthenticated >= shared.max_unauthenticated_per_address) {
                if (added) shared.addresses.erase(it);
                return std::nullopt;
            }
            if (shared.metrics.connections_open.load(std::memory_order_relaxed) >=
                    static_cast<std::int64_t>(shared.max_connections) ||
                shared.unauthenticated >= shared.max_unauthenticated) {
                if (shared.waiting.empty()) {  // every slot is logged in
                    if (added) shared.addresses.erase(it);
                    return std::nullopt;
                }
                victim = std::move(shared.waiting.begin()->second);
                shared.waiting.erase(shared.waiting.begin());
            }
            ++count.open;
            ++count.unauthenticated;
            ++shared.unauthenticated;
            seq = shared.next_seq++;
            shared.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
        }
        if (!victim.expired()) {
            shared.metrics.connections_cut.fetch_add(1, std::memory_order_relaxed);
            cut_connection(victim);
        }
        return ConnectionSlot(shared, std::move(address), seq);
    }
    ConnectionSlot(ConnectionSlot&& o) noexcept
        : shared_(std::exchange(o.shared_, nullptr)),
          address_(std::move(o.address_)),
          seq_(o.seq_),
          authenticated_(o.authenticated_) {}
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;

    /// Makes the connection one that a newcomer may cut while it is not logged in.
    void attach(std::weak_ptr<TlsCore> core) {
        std::lock_guard lock(shared_->addresses_mutex);
        if (!authenticated_) shared_->waiting.emplace(seq_, std::move(core));
    }

    ~ConnectionSlot() {
        if (!shared_) return;
        std::lock_guard lock(shared_->addresses_mutex);
        if (!authenticated_) shared_->waiting.erase(seq_);
        auto it = shared_->addresses.find(address_);
        if (it != shared_->addresses.end()) {
            if (!authenticated_) --it->second.unauthenticated;
            if (--it->second.open == 0) shared_->addresses.erase(it);
        }
        if (!authenticated_) --shared_->unauthenticated;
        shared_->metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
    }

    /// The connection logged in: it no longer counts as unauthenticated.
    void mark_authenticated() {
        if (!shared_ || authenticated_) return;
        authenticated_ = true;
        std::lock_guard lock(shared_->addresses_mutex);
        shared_->waiting.erase(seq_);
        auto it = shared_->addresses.find(address_);
        if (it != shared_->addresses.end()) --it->second.unauthenticated;
        --shared_->unauthenticated;
    }

    const std::string& address() const noexcept { return address_; }

  private:
    ConnectionSlot(Shared& shared, std::string address, std::uint64_t seq)
        : shared_(&shared), address_(std::move(address)), seq_(seq) {}
    Shared* shared_;
    std::string address_;
    std::uint64_t seq_ = 0;
    bool authenticated_ = false;
};

std::string endpoint_text(const tcp::socket& socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// ---------------------------------------------------------------------------------------
// TLS directly on the socket (SSL_set_fd), instead of asio::ssl::stream.
//
// Why: asio's ssl::stream keeps two zero-filled 17 KB vectors and a 2 x 17 KB BIO pair per
// connection whatever OpenSSL holds, ~50-70 KB of the 75 KB an idle connection cost; with
// the socket as OpenSSL's BIO, SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record buffers
// whenever a connection is idle. And writes are coalesced: a write only appends plaintext
// to `out`, and one flush per strand turn encrypts everything queued (SSL_write in records
// of up to 16 KB) and sends it, instead of one SSL_write and one send(2) per frame.
//
// All calls happen on the connection's strand (the socket's executor), so the SSL object is
// never used by two threads at once. Reads and writes may be outstanding together: OpenSSL
// allows interleaving SSL_read and a retried SSL_write on one non-blocking SSL.
/// Follows the WebSocket frame headers in the plaintext a client sends (RFC 6455 5.2), only
/// to know how much of the current frame is still to come when the server closes.
class FrameTracker {
  public:
    void feed(const unsigned char* p, std::size_t n) {
        while (n > 0) {
            if (payload_left_ > 0) {
                std::uint64_t k = std::min<std::uint64_t>(n, payload_left_);
                payload_left_ -= k;
                p += k;
                n -= static_cast<std::size_t>(k);
                continue;
            }
            header_[have_++] = *p++;
            --n;
            if (have_ == 2) {
                unsigned len7 = header_[1] & 0x7f;
                need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
            }
            if (have_ >= 2 && have_ == need_) {
                unsigned len7 = header_[1] & 0x7f;
                std::uint64_t length = len7;
                if (len7 >= 126) {
                    length = 0;
                    std::size_t bytes = len7 == 126 ? 2 : 8;
                    for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | header_[2 + i];
                }
                payload_left_ = length;
                have_ = 0;
                need_ = 2;
            }
        }
    }
    /// Payload bytes of the current frame not received yet.
    std::uint64_t unread() const noexcept { return payload_left_; }

  private:
    unsigned char header_[14] = {};
    std::size_t have_ = 0;
    std::size_t need_ = 2;
    std::uint64_t payload_left_ = 0;
};

struct TlsCore : std::enable_shared_from_this<TlsCore> {
    TlsCore(tcp::socket&& s, SSL_CTX* ctx) : socket(std::move(s)), ssl(SSL_new(ctx)) {
        if (ssl == nullptr) throw std::bad_alloc();
        beast::error_code ec;
        socket.non_blocking(true, ec);
        SSL_set_fd(ssl, static_cast<int>(socket.native_handle()));
    }
    ~TlsCore() { SSL_free(ssl); }
    TlsCore(const TlsCore&) = delete;
    TlsCore& operator=(const TlsCore&) = delete;

    enum class Want { done, read, write };

    /// Maps the outcome of an SSL call; `ret` is its return value.
    Want check(int ret, beast::error_code& ec) {
        int err = SSL_get_error(ssl, ret);
        switch (err) {
            case SSL_ERROR_WANT_READ:
                return Want::read;
            case SSL_ERROR_WANT_WRITE:
                return Want::write;
            case SSL_ERROR_ZERO_RETURN:
                ec = net::error::eof;
                return Want::done;
            case SSL_ERROR_SYSCALL:
                // errno 0: the peer closed the TCP connection without close_notify.
                ec = errno != 0 ? beast::error_code(errno, beast::system_category())
                                : beast::error_code(net::error::eof);
                ERR_clear_error();
                return Want::done;
            default:
                ec = beast::error_code(static_cast<int>(ERR_get_error()),
                                       net::error::get_ssl_category());
                if (!ec) ec = net::error::connection_aborted;
                ERR_clear_error();
                return Want::done;
        }
    }

    /// Appends plaintext to send; a flush is scheduled on the strand.
    void append(const void* data, std::size_t size) {
        if (dead) return;
        if (out.size() == out_pos && out_pos > 0) {
            out.clear();
            out_pos = 0;
        }
        out.append(static_cast<const char*>(data), size);
        schedule_flush();
    }

    std::size_t unsent() const noexcept { return out.size() - out_pos; }

    /// At least as much as the socket's send queue holds (bytes not yet acknowledged by the
    /// peer), and exact when that could exceed `limit`. The queue is asked for (SIOCOUTQ)
    /// only when what was handed to the kernel since the last question could have taken it
    /// past `limit`: a client that keeps up costs one ioctl per `limit` bytes sent.
    std::size_t kernel_queued(std::size_t limit) {
        std::size_t bound = outq_known + (handed_to_kernel - handed_at_check);
        if (bound <= limit) return bound;
        int n = 0;
        if (::ioctl(static_cast<int>(socket.native_handle()), SIOCOUTQ, &n) != 0 || n < 0) n = 0;
        outq_known = static_cast<std::size_t>(n);
        handed_at_check = handed_to_kernel;
        return outq_known;
    }

    void schedule_flush() {
        if (flush_scheduled || waiting_writable) return;
        flush_scheduled = true;
        net::post(socket.get_executor(), [self = shared_from_this()] {
            self->flush_scheduled = false;
            self->flush();
        });
    }

    void flush() {
        if (dead || waiting_writable) return;
        while (out_pos < out.size()) {
            ERR_clear_error();
            std::size_t n = 0;
            int r = SSL_write_ex(ssl, out.data() + out_pos, out.size() - out_pos, &n);
            if (r == 1) {
                out_pos += n;
                handed_to_kernel += n;
                continue;
            }
            beast::error_code ec;
            Want want = check(r, ec);
            if (want == Want::done) {
                fail();
                return;
            }
            // WANT_READ cannot happen while writing (renegotiation is off); wait either way.
            waiting_writable = true;
            socket.async_wait(
                want == Want::write ? tcp::socket::wait_write : tcp::socket::wait_read,
                [self = shared_from_this()](beast::error_code ec) {
                    self->waiting_writable = false;
                    if (ec) {
                        self->fail();
                        return;
                    }
                    self->flush();
                });
            return;
        }
        out.clear();
        out_pos = 0;
        // An idle connection keeps none of it (~250 bytes per idle connection otherwise).
        std::string().swap(out);
        auto waiters = std::move(drained);
        drained.clear();
        for (auto& w : waiters) w();
    }

    /// Runs `f` on the strand once everything appended so far was handed to the kernel (or
    /// the connection failed).
    void when_drained(std::function<void()> f) {
        if (dead || unsent() == 0) {
            net::post(socket.get_executor(), std::move(f));
        } else {
            drained.push_back(std::move(f));
        }
    }

    void fail() {
        if (dead) {
            close_socket();
            return;
        }
        dead = true;
        close_socket();
        out.clear();
        out_pos = 0;
        auto waiters = std::move(drained);
        drained.clear();
        for (auto& w : waiters) net::post(socket.get_executor(), std::move(w));
    }

    void close_socket() {
        beast::error_code ignored;
        socket.close(ignored);
        if (teardown_timer) teardown_timer->cancel();
    }

    /// Fails the connection (closing its socket) unless re-armed first. Only closing
    /// connections pay for the timer.
    void arm_teardown(std::chrono::steady_clock::duration d) {
        if (!teardown_timer)
            teardown_timer = std::make_unique<net::steady_timer>(socket.get_executor());
        teardown_timer->expires_after(d);
        teardown_timer->async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->fail();
        });
    }

    /// Lingering close, after close_notify: no more writes (FIN), read and discard what the
    /// peer still sends until its EOF, kLingerBytes or kLingerTime, then close.
    void linger() {
        dead = true;  // no more TLS reads or writes
        lingering = true;
        // The rest of a frame the client is still sending, plus TLS record overhead (under
        // 1 % with full records). SSL may already hold some of it decrypted: no harm.
        // A declared length near 2^64 is only bounded by kLingerTime.
        std::uint64_t rest = std::min<std::uint64_t>(frames ? frames->unread() : 0, SIZE_MAX / 4);
        linger_budget = kLingerBytes + static_cast<std::size_t>(rest + rest / 64);
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        arm_teardown(kLingerTime);
        linger_wait();
    }

    void linger_wait() {
        socket.async_wait(tcp::socket::wait_read, [self =
                                                       shared_from_this()](beast::error_code ec) {
            if (ec) {
                self->close_socket();
                return;
            }
            char sink[4096];
            for (;;) {
                ssize_t n = ::recv(static_cast<int>(self->socket.native_handle()), sink,
                                   sizeof sink, MSG_DONTWAIT);
                if (n > 0) {
                    self->discarded += static_cast<std::size_t>(n);
                    if (self->discarded <= self->linger_budget) continue;
                } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    self->linger_wait();
                    return;
                }
                self->close_socket();  // EOF, error, or too much
                return;
            }
        });
    }

    tcp::socket socket;
    SSL* ssl;
    std::string out;  // plaintext not yet accepted by SSL_write, from out_pos on
    std::size_t out_pos = 0;
    bool flush_scheduled = false;
    bool waiting_writable = false;
    bool dead = false;
    bool lingering = false;
    std::uint64_t handed_to_kernel = 0;  // plaintext bytes SSL_write took (kernel_queued)
    std::uint64_t handed_at_check = 0;
    std::size_t outq_known = 0;
    std::size_t discarded = 0;  // while lingering
    std::size_t linger_budget = kLingerBytes;
    std::optional<FrameTracker> frames;  // set once the connection speaks WebSocket
    std::unique_ptr<net::steady_timer> teardown_timer;
    std::vector<std::function<void()>> drained;
};

void cut_connection(const std::weak_ptr<TlsCore>& weak) {
    if (auto core = weak.lock()) {
        net::post(core->socket.get_executor(), [core] { core->fail(); });
    }
}

/// The AsyncStream Beast's HTTP and WebSocket code run on. Movable handle to a TlsCore.
class TlsStream {
  public:
    using executor_type = tcp::socket::executor_type;
    using next_layer_type = tcp::socket;
    using lowest_layer_type = tcp::socket;

    TlsStream(tcp::socket&& socket, SSL_CTX* ctx)
        : core_(std::make_shared<TlsCore>(std::move(socket), ctx)) {}
    TlsStream(TlsStream&&) noexcept = default;
    TlsStream& operator=(TlsStream&&) noexcept = default;
    ~TlsStream() {
        // Pending waits hold the core; closing the socket ends them. A lingering close ends
        // on its own (bounded by kLingerTime).
        if (core_ && !core_->lingering) close();
    }

    executor_type get_executor() noexcept { return core_->socket.get_executor(); }
    tcp::socket& next_layer() noexcept { return core_->socket; }
    tcp::socket& lowest_layer() noexcept { return core_->socket; }
    TlsCore& core() noexcept { return *core_; }
    std::weak_ptr<TlsCore> weak_core() const noexcept { return core_; }

    void close() {
        beast::error_code ignored;
        core_->socket.close(ignored);
    }

    template <class Handler>
    class HandshakeOp : public beast::async_base<Handler, executor_type> {
      public:
        HandshakeOp(Handler&& h, std::shared_ptr<TlsCore> core)
            : beast::async_base<Handler, executor_type>(std::move(h), core->socket.get_executor()),
              core_(std::move(core)) {
            (*this)({}, false);
        }
        void operator()(beast::error_code ec, bool cont = true) {
            if (!ec) {
                ERR_clear_error();
                int r = SSL_accept(core_->ssl);
                if (r != 1) {
                    auto want = core_->check(r, ec);
                    if (want != TlsCore::Want::done) {
                        auto& socket = core_->socket;
                        return socket.async_wait(want == TlsCore::Want::read
                                                     ? tcp::socket::wait_read
                                                     : tcp::socket::wait_write,
                                                 std::move(*this));
                    }
                }
            }
            this->complete(cont, ec);
        }

      private:
        std::shared_ptr<TlsCore> core_;
    };

    template <class Token>
    auto async_handshake(Token&& token) {
        return net::async_initiate<Token, void(beast::error_code)>(
            [](auto&& handler, std::shared_ptr<TlsCore> core) {
                using H = std::decay_t<decltype(handler)>;
                HandshakeOp<H>(std::forward<decltype(handler)>(handler), std::move(core));
            },
            token, core_);
    }

    template <class Handler, class Buffers>
    class ReadOp : public beast::async_base<Handler, executor_type> {
      public:
        ReadOp(Handler&& h, std::shared_ptr<TlsCore> core, const Buffers& buffers)
            : beast::async_base<Handler, executor_type>(std::move(h), core->socket.get_executor()),
              core_(std::move(core)),
              buffers_(buffers) {
            (*this)({}, false);
        }
        void operator()(beast::error_code ec, bool cont = true) {
            std::size_t n = 0;
            if (!ec && !core_->dead) {
                net::mutable_buffer target;
                for (auto it = net::buffer_sequence_begin(buffers_);
                     it != net::buffer_sequence_end(buffers_); ++it) {
                    net::mutable_buffer b(*it);
                    if (b.size() > 0) {
                        target = b;
                        break;
                    }
                }
                if (target.size() > 0) {
                    ERR_clear_error();
                    int r = SSL_read_ex(core_->ssl, target.data(), target.size(), &n);
                    if (r == 1 && core_->frames) {
                        core_->frames->feed(static_cast<const unsigned char*>(target.data()), n);
                    }
                    if (r != 1) {
                        n = 0;
                        auto want = core_->check(r, ec);
                        if (want != TlsCore::Want::done) {
                            auto& socket = core_->socket;
                            return socket.async_wait(want == TlsCore::Want::read
                                                         ? tcp::socket::wait_read
                                                         : tcp::socket::wait_write,
                                                     std::move(*this));
                        }
                    }
                }
            } else if (!ec) {
                ec = net::error::connection_aborted;
            }
            this->complete(cont, ec, n);
        }

      private:
        std::shared_ptr<TlsCore> core_;
        Buffers buffers_;
    };

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [](auto&& handler, std::shared_ptr<TlsCore> core, const MutableBuffers& b) {
                using H = std::decay_t<decltype(handler)>;
                ReadOp<H, MutableBuffers>(std::forward<decltype(handler)>(handler), std::move(core),
                                          b);
            },
            token, core_, buffers);
    }

    /// Accepts everything at once (copied into the write queue); completes on the strand.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [](auto&& handler, std::shared_ptr<TlsCore> core, const ConstBuffers& b) {
                std::size_t n = 0;
                beast::error_code ec;
                if (core->dead) {
                    ec = net::error::connection_aborted;
                } else {
                    for (auto it = net::buffer_sequence_begin(b); it != net::buffer_sequence_end(b);
                         ++it) {
                        net::const_buffer chunk(*it);
                        core->append(chunk.data(), chunk.size());
                        n += chunk.size();
                    }
                }
                auto ex = net::get_associated_executor(handler, core->socket.get_executor());
                net::post(ex, beast::bind_front_handler(std::move(handler), ec, n));
            },
            token, core_, buffers);
    }

    /// Sends close_notify once everything queued is out (at most kTeardownDrain: a peer that
    /// does not read is cut off), then closes with a lingering close (TlsCore::linger).
    /// Completes when the close_notify is sent; the linger goes on without the caller.
    template <class Token>
    auto async_shutdown(Token&& token) {
        return net::async_initiate<Token, void(beast::error_code)>(
            [](auto&& handler, std::shared_ptr<TlsCore> core) {
                auto work = std::make_shared<std::decay_t<decltype(handler)>>(
                    std::forward<decltype(handler)>(handler));
                if (!core->dead) core->arm_teardown(kTeardownDrain);
                core->when_drained([core, work] {
                    if (!core->dead) {
                        ERR_clear_error();
                        SSL_shutdown(core->ssl);  // one attempt: no wait for the peer's reply
                        ERR_clear_error();
                        core->linger();
                    }
                    (*work)(beast::error_code{});
                });
            },
            token, core_);
    }

  private:
    std::shared_ptr<TlsCore> core_;
};

// Beast's WebSocket close ends with a teardown of the next layer (found by ADL; only the
// asynchronous close is used).
template <class TeardownHandler>
void async_teardown(beast::role_type, TlsStream& stream, TeardownHandler&& handler) {
    stream.async_shutdown(std::forward<TeardownHandler>(handler));
}

// ---------------------------------------------------------------------------------------

class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(TlsStream&& stream, Shared& shared, ConnectionSlot slot)
        : ws_(std::move(stream)),
          shared_(shared),
          slot_(std::move(slot)),
          auth_timer_(ws_.get_executor()),
          close_timer_(ws_.get_executor()) {}

    void run(http::request<http::string_body> request) {
        ws_.next_layer().core().frames.emplace();
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

    /// Graceful shutdown: close with 1001 after what is queued (the close frame is written
    /// after every queued frame, and the teardown waits until all of it is sent).
    void close_when_drained() {
        net::post(ws_.get_executor(), [self = shared_from_this()] {
            if (!self->accepted_ || self->ended_) return;
            self->start_close(kCloseGoingAway, "server shutting down");
        });
    }

  private:
    /// The core's view of this connection. Frames from any thread collect in an outbox;
    /// one strand turn writes all of them (one flush, so one TLS write for the lot).
    class Output : public SessionOutput {
      public:
        explicit Output(std::weak_ptr<WsSession> ws) : ws_(std::move(ws)) {}
        void send_text(std::string frame) override {
            if (auto ws = ws_.lock()) {
                bool first;
                {
                    std::lock_guard lock(ws->outbox_mutex_);
                    first = ws->outbox_.empty();
                    ws->outbox_.push_back(std::move(frame));
                }
                if (first) net::post(ws->ws_.get_executor(), [ws] { ws->drain_outbox(); });
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
        core_ = shared_.gateway.open_session(std::make_shared<Output>(weak_from_this()),
                                             slot_.address());
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

    /// Beast reserves room in the buffer before it waits for data (1,536 bytes for a whole
    /// message), so an idle connection would hold that much; the first read of a message
    /// asks for kFirstRead bytes (most requests fit), the rest of a longer one follows.
    void do_read() {
        ws_.async_read_some(buffer_, buffer_.size() == 0 ? kFirstRead : 0,
                            beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            // Beast already answered a too-big message with close 1009; timeouts and
            // closes end up here too.
            end();
            return;
        }
        if (!ws_.is_message_done()) {
            if (!closing_) do_read();  // a close in progress reads on its own
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
        if (buffer_.capacity() > kFirstRead) buffer_.shrink_to_fit();
        if (!closing_) do_read();
    }

    /// Writes every frame in the outbox as WebSocket text frames (server frames are not
    /// masked and this server negotiates no extension, so the framing is just a header).
    void drain_outbox() {
        std::vector<std::string> frames;
        {
            std::lock_guard lock(outbox_mutex_);
            frames.swap(outbox_);
        }
        if (closing_ || ended_) return;
        if (!auth_done_ && core_ && core_->authenticated()) {
            // The login answer is on its way: the authentication deadline has done its
            // job, and its pending wait would stay allocated for up to a minute.
            auth_done_ = true;
            auth_timer_.cancel();
            slot_.mark_authenticated();
        }
        TlsCore& tls = ws_.next_layer().core();
        // What waits for this client: plaintext not yet encrypted plus what the kernel holds
        // unacknowledged. Counting only the former, a client that stopped reading got ~3 MB
        // more into the socket's send buffer (the kernel grows it up to 4 MB) before the cap
        // counted anything; under a slow server that took ~25 s instead of ~2.
        std::size_t frames_size = 0;
        for (const auto& frame : frames) frames_size += frame.size();
        std::size_t unsent = tls.unsent();
        std::size_t queued =
            unsent + (unsent + frames_size > kMaxQueuedBytes
                          ? 0
                          : tls.kernel_queued(kMaxQueuedBytes - unsent - frames_size));
        for (const auto& frame : frames) {
            queued += frame.size();
            if (queued > kMaxQueuedBytes) {
                // A client that does not read is closed; its mailbox keeps what it missed.
                shared_.metrics.slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
                start_close(kClosePolicy, "slow consumer", false);
                return;
            }
            unsigned char header[10];
            std::size_t n = frame.size(), h = 0;
            header[h++] = 0x81;  // FIN + text
            if (n < 126) {
                header[h++] = static_cast<unsigned char>(n);
            } else if (n <= 0xFFFF) {
                header[h++] = 126;
                header[h++] = static_cast<unsigned char>(n >> 8);
                header[h++] = static_cast<unsigned char>(n);
            } else {
                header[h++] = 127;
                for (int shift = 56; shift >= 0; shift -= 8) {
                    header[h++] = static_cast<unsigned char>(std::uint64_t{n} >> shift);
                }
            }
            tls.append(header, h);
            tls.append(frame.data(), n);
        }
    }

    void start_close(std::uint16_t code, const std::string& reason, bool drain = true) {
        if (closing_ || ended_) return;
        if (drain) drain_outbox();  // frames the core produced before the close go first
        if (closing_ || ended_) return;
        closing_ = true;
        auth_timer_.cancel();
        websocket::close_reason why;
        why.code = code;
        why.reason = reason;
        // Beast waits for the peer's close frame; a peer that never answers (or never
        // reads) would keep it waiting, so the socket is torn down after a grace period.
        ws_.async_close(why, [self = shared_from_this()](beast::error_code) { self->end(); });
        // A slow consumer is not reading: its close frame waits behind what it did not read,
        // so there is no point in waiting long for its answer.
        close_timer_.expires_after(drain ? kCloseGrace : kSlowConsumerGrace);
        close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            self->ws_.next_layer().close();
        });
    }

    void end() {
        if (ended_) return;
        ended_ = true;
        auth_timer_.cancel();
        close_timer_.cancel();
        if (core_) core_->on_closed();
        {
            std::lock_guard lock(outbox_mutex_);
            std::vector<std::string>().swap(outbox_);
        }
        std::lock_guard lock(shared_.sessions_mutex);
        shared_.sessions.erase(this);
        shared_.sessions_cv.notify_all();
    }

    websocket::stream<TlsStream> ws_;
    Shared& shared_;
    ConnectionSlot slot_;
    beast::flat_buffer buffer_;
    net::steady_timer auth_timer_;
    net::steady_timer close_timer_;
    std::shared_ptr<Session> core_;
    std::mutex outbox_mutex_;
    std::vector<std::string> outbox_;  // frames from the core, not yet on the strand
    bool accepted_ = false;
    bool auth_done_ = false;
    bool closing_ = false;
    bool ended_ = false;
};

// ---------------------------------------------------------------------------------------

/// Which listener accepted a connection: the main one, or the metrics listener (which
/// serves /metrics and /healthz only).
enum class Listener { main, metrics };

class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(tcp::socket&& socket, ssl::context& ctx, Shared& shared, ConnectionSlot slot,
                Listener listener)
        : stream_(std::move(socket), ctx.native_handle()),
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
        parser_->header_limit(8192);
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
                std::make_shared<WsSession>(std::move(stream_), shared_, std::move(slot_))
                    ->run(parser_->release());
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
        bool queued = shared_.http_workers->post(
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
        expires_after(std::chrono::seconds(5));
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

// ---------------------------------------------------------------------------------------

struct Server::Impl {
    Impl(Gateway& gateway, ServerOptions opts)
        : options(std::move(opts)),
          shared{gateway,
                 gateway.metrics(),
                 options.max_connections,
                 options.log_ip,
                 options.routes,
                 &http_workers,
                 {},
                 {},
                 {},
                 {},
                 options.max_connections_per_address,
                 options.max_unauthenticated_per_address,
                 // A tenth of the slots is kept for connections that have logged in.
                 std::max<std::uint32_t>(1, options.max_connections - options.max_connections / 10),
                 {},
                 {},
                 0,
                 0,
                 {}},
          ioc(static_cast<int>(options.io_threads)),
          tls(ssl::context::tls_server),
          acceptor(net::make_strand(ioc)),
          signals(ioc),
          http_workers(options.http_workers) {
        configure_tls();
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
        beast::error_code ec;
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
        // OpenSSL frees a connection's record buffers while it is idle (~34 KB otherwise);
        // writes resume from a moved buffer (TlsCore::flush appends behind them).
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // One read takes whatever the socket holds (fewer recv calls under load).
        SSL_CTX_set_read_ahead(ctx, 1);
        // No resumption: clients reconnect rarely, and a session cache or tickets cost
        // memory per connection and CPU per handshake.
        // num_tickets covers TLS 1.3 only; SSL_OP_NO_TICKET turns off TLS 1.2 tickets.
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
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

    void do_accept(tcp::acceptor& from, Listener listener) {
        from.async_accept(net::make_strand(ioc), [this, &from, listener](beast::error_code ec,
                                                                         tcp::socket socket) {
            if (ec) {
                if (!from.is_open()) return;  // shutting down
                // EMFILE and friends: back off briefly instead of spinning.
                spdlog::warn("accept failed: {}", ec.message());
                auto timer = std::make_shared<net::steady_timer>(from.get_executor(),
                                                                 std::chrono::milliseconds(100));
                timer->async_wait([this, timer, &from, listener](beast::error_code) {
                    do_accept(from, listener);
                });
                return;
            }
            shared.metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
            beast::error_code pec;
            auto peer = socket.remote_endpoint(pec);
            auto slot = pec ? std::nullopt
                            : ConnectionSlot::acquire(
                                  shared, client_address_key(peer.address().to_string()));
            if (!slot) {
                shared.metrics.connections_refused.fetch_add(1, std::memory_order_relaxed);
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                if (shared.log_ip) spdlog::info("connection from {}", endpoint_text(socket));
                socket.set_option(tcp::no_delay(true), ec);
                std::make_shared<HttpSession>(std::move(socket), tls, shared, std::move(*slot),
                                              listener)
                    ->run();
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
    Shared shared;
    net::io_context ioc;
    ssl::context tls;
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
    : impl_(std::make_unique<Impl>(gateway, std::move(options))) {
    // Caught from here on (Asio keeps a signal that arrives before run() waits for it): a
    // SIGTERM right after "listening on" is printed stops cleanly instead of killing.
    if (impl_->options.handle_signals) {
        impl_->signals.add(SIGINT);
        impl_->signals.add(SIGTERM);
    }
}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept { return impl_->port; }

std::uint16_t Server::metrics_port() const noexcept { return impl_->metrics_port; }

void Server::stop() noexcept { impl_->request_stop(); }

void Server::run() {
    Impl& s = *impl_;
    if (s.options.handle_signals) {
        s.signals.async_wait([&s](beast::error_code ec, int) {
            if (!ec) s.request_stop();
        });
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
        beast::error_code ignored;
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
