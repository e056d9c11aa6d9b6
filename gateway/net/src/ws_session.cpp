// The WebSocket side of a connection: moves frames between the socket and a
// gateway::Session, with the authentication deadline, the outbound queue cap and the close.
// The only translation unit that compiles Beast's WebSocket templates.
#include "ws_session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/core/gateway.h"
#include "ariadne/protocol/codec.h"
#include "net_limits.h"

namespace ariadne::gateway::net_detail {

namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;

/// One WebSocket connection. Lives as long as an operation on it is pending (each holds a
/// shared_ptr); every member is used on the connection's strand except the outbox, which
/// the core fills from any thread (outbox_mutex_).
class WsSession final : public ClosableSession, public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(TlsStream&& stream, Shared& shared, ConnectionSlot slot)
        : ws_(std::move(stream)),
          shared_(shared),
          slot_(std::move(slot)),
          auth_timer_(ws_.get_executor()),
          close_timer_(ws_.get_executor()) {}

    void run(http::request<http::string_body>&& request) {
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
    void close_when_drained() override {
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
        shared_.sessions.add(this, weak_from_this());
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
        shared_.sessions.remove(this);
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

}  // namespace

void start_ws_session(TlsStream&& stream, Shared& shared, ConnectionSlot slot,
                      http::request<http::string_body>&& upgrade) {
    std::make_shared<WsSession>(std::move(stream), shared, std::move(slot))
        ->run(std::move(upgrade));
}

}  // namespace ariadne::gateway::net_detail
