// TLS on the socket: the handshake-free part of a connection's life (sending, the drain, the
// teardown and the lingering close). The asynchronous operations Beast calls are templates
// in tls_stream.h.
#include "tls_stream.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <new>

#include "connection_slots.h"

namespace ariadne::gateway::net_detail {

TlsCore::TlsCore(tcp::socket&& s, SSL_CTX* ctx) : socket(std::move(s)), ssl(SSL_new(ctx)) {
    if (ssl == nullptr) throw std::bad_alloc();
    beast::error_code ec;
    socket.non_blocking(true, ec);
    SSL_set_fd(ssl, static_cast<int>(socket.native_handle()));
}

TlsCore::~TlsCore() { SSL_free(ssl); }

TlsCore::Want TlsCore::check(int ret, beast::error_code& ec) {
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

void TlsCore::append(const void* data, std::size_t size) {
    if (dead) return;
    if (out.size() == out_pos && out_pos > 0) {
        out.clear();
        out_pos = 0;
    }
    out.append(static_cast<const char*>(data), size);
    schedule_flush();
}

std::size_t TlsCore::kernel_queued(std::size_t limit) {
    std::size_t bound = outq_known + (handed_to_kernel - handed_at_check);
    if (bound <= limit) return bound;
    int n = 0;
    if (::ioctl(static_cast<int>(socket.native_handle()), SIOCOUTQ, &n) != 0 || n < 0) n = 0;
    outq_known = static_cast<std::size_t>(n);
    handed_at_check = handed_to_kernel;
    return outq_known;
}

void TlsCore::schedule_flush() {
    if (flush_scheduled || waiting_writable) return;
    flush_scheduled = true;
    net::post(socket.get_executor(), [self = shared_from_this()] {
        self->flush_scheduled = false;
        self->flush();
    });
}

void TlsCore::flush() {
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
        socket.async_wait(wait_for(want), [self = shared_from_this()](beast::error_code ec) {
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

void TlsCore::when_drained(std::function<void()> f) {
    if (dead || unsent() == 0) {
        net::post(socket.get_executor(), std::move(f));
    } else {
        drained.push_back(std::move(f));
    }
}

void TlsCore::fail() {
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

void TlsCore::close_socket() {
    beast::error_code ignored;
    socket.close(ignored);
    if (teardown_timer) teardown_timer->cancel();
}

void TlsCore::arm_teardown(std::chrono::steady_clock::duration d) {
    if (!teardown_timer)
        teardown_timer = std::make_unique<net::steady_timer>(socket.get_executor());
    teardown_timer->expires_after(d);
    teardown_timer->async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->fail();
    });
}

void TlsCore::linger() {
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

void TlsCore::linger_wait() {
    socket.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec) {
            self->close_socket();
            return;
        }
        char sink[4096];
        for (;;) {
            ssize_t n = ::recv(static_cast<int>(self->socket.native_handle()), sink, sizeof sink,
                               MSG_DONTWAIT);
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

void cut_connection(const std::weak_ptr<TlsCore>& weak) {
    if (auto core = weak.lock()) {
        net::post(core->socket.get_executor(), [core] { core->fail(); });
    }
}

}  // namespace ariadne::gateway::net_detail
