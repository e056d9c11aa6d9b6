// TLS directly on the socket (SSL_set_fd), as the AsyncStream that Beast's HTTP and WebSocket
// code run on: TlsCore holds the connection's state, TlsStream is Beast's handle to it.
//
// Why not asio::ssl::stream: it keeps two zero-filled 17 KB vectors and a 2 x 17 KB BIO pair
// per connection whatever OpenSSL holds, ~50-70 KB of the 75 KB an idle connection cost; with
// the socket as OpenSSL's BIO, SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record buffers
// whenever a connection is idle. And writes are coalesced: a write only appends plaintext to
// `out`, and one flush per strand turn encrypts everything queued (SSL_write in records of up
// to 16 KB) and sends it, instead of one SSL_write and one send(2) per frame.
//
// Thread safety: every call happens on the connection's strand (the socket's executor), so
// the SSL object is never used by two threads at once; cut_connection() (connection_slots.h)
// is the one entry from other threads. Reads and writes may be outstanding together: OpenSSL
// allows interleaving SSL_read and a retried SSL_write on one non-blocking SSL.
// Errors are reported as error codes to the completion handlers; nothing here throws except
// std::bad_alloc.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/async_base.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frame_tracker.h"
#include "net_limits.h"

namespace ariadne::gateway::net_detail {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// One TLS connection: its socket, its SSL object and its queue of plaintext to send. Owned
/// through shared_ptr by the TlsStream and by every operation pending on it.
struct TlsCore : std::enable_shared_from_this<TlsCore> {
    /// Throws std::bad_alloc if OpenSSL cannot allocate the connection.
    TlsCore(tcp::socket&& s, SSL_CTX* ctx);
    ~TlsCore();
    TlsCore(const TlsCore&) = delete;
    TlsCore& operator=(const TlsCore&) = delete;

    enum class Want { done, read, write };

    /// Maps the outcome of an SSL call; `ret` is its return value.
    Want check(int ret, beast::error_code& ec);

    /// What to wait for on the socket before retrying a call that returned `want` (read or
    /// write).
    static tcp::socket::wait_type wait_for(Want want) noexcept {
        return want == Want::write ? tcp::socket::wait_write : tcp::socket::wait_read;
    }

    /// Appends plaintext to send; a flush is scheduled on the strand.
    void append(const void* data, std::size_t size);

    std::size_t unsent() const noexcept { return out.size() - out_pos; }

    /// At least as much as the socket's send queue holds (bytes not yet acknowledged by the
    /// peer), and exact when that could exceed `limit`. The queue is asked for (SIOCOUTQ)
    /// only when what was handed to the kernel since the last question could have taken it
    /// past `limit`: a client that keeps up costs one ioctl per `limit` bytes sent.
    std::size_t kernel_queued(std::size_t limit);

    void schedule_flush();
    void flush();

    /// Runs `f` on the strand once everything appended so far was handed to the kernel (or
    /// the connection failed).
    void when_drained(std::function<void()> f);

    /// Closes the socket and drops what is queued; the drain waiters still run.
    void fail();
    void close_socket();

    /// Fails the connection (closing its socket) unless re-armed first. Only closing
    /// connections pay for the timer.
    void arm_teardown(std::chrono::steady_clock::duration d);

    /// Lingering close, after close_notify: no more writes (FIN), read and discard what the
    /// peer still sends until its EOF, kLingerBytes or kLingerTime, then close.
    void linger();

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

  private:
    void linger_wait();
};

/// The AsyncStream Beast's HTTP and WebSocket code run on. Movable handle to a TlsCore;
/// destroying it closes the socket (unless a lingering close is under way, which ends on its
/// own within kLingerTime).
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
        // Pending waits hold the core; closing the socket ends them.
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

    /// The server side of the TLS handshake (SSL_accept).
    template <class Token>
    auto async_handshake(Token&& token) {
        return net::async_initiate<Token, void(beast::error_code)>(
            [](auto&& handler, std::shared_ptr<TlsCore> core) {
                using H = std::decay_t<decltype(handler)>;
                HandshakeOp<H>(std::forward<decltype(handler)>(handler), std::move(core));
            },
            token, core_);
    }

    /// Reads into the first non-empty buffer (SSL_read); fails with connection_aborted once
    /// the connection is closing.
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
                        return socket.async_wait(TlsCore::wait_for(want), std::move(*this));
                    }
                }
            }
            this->complete(cont, ec);
        }

      private:
        std::shared_ptr<TlsCore> core_;
    };

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
                            return socket.async_wait(TlsCore::wait_for(want), std::move(*this));
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

    std::shared_ptr<TlsCore> core_;
};

// Beast's WebSocket close ends with a teardown of the next layer (found by ADL; only the
// asynchronous close is used).
template <class TeardownHandler>
void async_teardown(beast::role_type, TlsStream& stream, TeardownHandler&& handler) {
    stream.async_shutdown(std::forward<TeardownHandler>(handler));
}

}  // namespace ariadne::gateway::net_detail
