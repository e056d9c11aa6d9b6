// The only translation unit of the client that includes Beast/Asio: TLS WebSocket transport,
// certificate pinning, request/response matching. Every Impl member below the mutex is
// touched only on the connection's strand; members guarded by `mu` are shared with callers.
#include "ariadne/client/connection.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ariadne::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument:
            return "invalid_argument";
        case ErrorCode::connect_failed:
            return "connect_failed";
        case ErrorCode::tls_failed:
            return "tls_failed";
        case ErrorCode::certificate_mismatch:
            return "certificate_mismatch";
        case ErrorCode::websocket_failed:
            return "websocket_failed";
        case ErrorCode::timeout:
            return "timeout";
        case ErrorCode::closed:
            return "closed";
        case ErrorCode::protocol:
            return "protocol";
        case ErrorCode::server:
            return "server";
        case ErrorCode::state:
            return "state";
    }
    return "unknown";
}

std::string normalize_fingerprint(std::string_view fingerprint) {
    std::string hex;
    for (char c : fingerprint) {
        if (c == ':' || c == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            throw Error(ErrorCode::invalid_argument,
                        "The certificate fingerprint must be hexadecimal (AB:CD:...).");
        }
        hex.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (hex.size() != 64) {
        throw Error(ErrorCode::invalid_argument,
                    "The certificate fingerprint must be a SHA-256 digest (32 bytes, 64 hex "
                    "digits).");
    }
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i) out.push_back(':');
        out.append(hex, i, 2);
    }
    return out;
}

Endpoint Endpoint::parse_url(std::string_view url) {
    constexpr std::string_view scheme = "wss://";
    if (url.substr(0, scheme.size()) != scheme) {
        throw Error(ErrorCode::invalid_argument,
                    "The server URL must start with wss:// (the gateway speaks TLS only).");
    }
    std::string_view rest = url.substr(scheme.size());
    Endpoint ep;
    std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.size() < rest.size()) ep.path = std::string(rest.substr(authority.size()));
    if (ep.path == "/") ep.path = "/v1/ws";
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            throw Error(ErrorCode::invalid_argument, "The server URL has an unclosed '['.");
        }
        ep.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw Error(ErrorCode::invalid_argument, "The server URL's port is malformed.");
            }
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        ep.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (ep.host.empty()) {
        throw Error(ErrorCode::invalid_argument, "The server URL has no host.");
    }
    ep.port = 443;
    if (!port_text.empty()) {
        unsigned long port = 0;
        for (char c : port_text) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || port > 65535) {
                port = 0;
                break;
            }
            port = port * 10 + static_cast<unsigned long>(c - '0');
        }
        if (port == 0 || port > 65535) {
            throw Error(ErrorCode::invalid_argument,
                        "The server URL's port must be a number between 1 and 65535.");
        }
        ep.port = static_cast<std::uint16_t>(port);
    }
    return ep;
}

struct Runtime::Impl {
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::vector<std::thread> threads;
};

Runtime::Runtime(unsigned threads) : impl_(std::make_unique<Impl>()) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) {
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
    }
}

Runtime::~Runtime() {
    impl_->work.reset();
    impl_->ioc.stop();
    for (auto& t : impl_->threads) t.join();
}

struct Connection::Impl : std::enable_shared_from_this<Connection::Impl> {
    using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

    Impl(net::io_context& ioc, Endpoint ep, ConnectionOptions opts)
        : strand(net::make_strand(ioc)),
          ssl_ctx(ssl::context::tls_client),
          endpoint(std::move(ep)),
          options(opts),
          resolver(strand) {
        if (!endpoint.fingerprint_sha256.empty()) {
            expected_fingerprint = normalize_fingerprint(endpoint.fingerprint_sha256);
        }
        SSL_CTX_set_min_proto_version(ssl_ctx.native_handle(), TLS1_2_VERSION);
        // Idle connections keep no read/write buffers (matters for tests with 1,000 of them).
        SSL_CTX_set_mode(ssl_ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
        ssl_ctx.set_options(ssl::context::no_compression);
        ssl_ctx.set_verify_mode(ssl::verify_peer);
        if (!expected_fingerprint.empty()) {
            ssl_ctx.set_verify_callback(
                [this](bool, ssl::verify_context& vc) { return check_pin(vc); });
        } else if (!endpoint.ca_file.empty()) {
            ssl_ctx.load_verify_file(endpoint.ca_file);
        } else {
            ssl_ctx.set_default_verify_paths();
        }
        ws.emplace(strand, ssl_ctx);
    }

    // Accepts the leaf certificate whose SHA-256 is the pin, or whose public key's (DER
    // SubjectPublicKeyInfo) is: a key pin survives renewals that keep the key. The chain
    // above the leaf is irrelevant.
    bool check_pin(ssl::verify_context& vc) {
        X509_STORE_CTX* store = vc.native_handle();
        if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
        X509* cert = X509_STORE_CTX_get_current_cert(store);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) return false;
        std::string got = colon_hex(md, len);
        if (got == expected_fingerprint) return true;
        unsigned char* der = nullptr;
        const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
        if (size <= 0) return false;
        const int hashed =
            EVP_Digest(der, static_cast<std::size_t>(size), md, &len, EVP_sha256(), nullptr);
        OPENSSL_free(der);
        if (hashed != 1) return false;
        if (colon_hex(md, len) == expected_fingerprint) return true;
        seen_fingerprint = got;
        return false;
    }

    static std::string colon_hex(const unsigned char* md, unsigned int len) {
        static const char* digits = "0123456789ABCDEF";
        std::string out;
        for (unsigned i = 0; i < len; ++i) {
            if (i) out.push_back(':');
            out.push_back(digits[md[i] >> 4]);
            out.push_back(digits[md[i] & 15]);
        }
        return out;
    }

    // ---- strand-only state ----
    net::strand<net::io_context::executor_type> strand;
    ssl::context ssl_ctx;
    Endpoint endpoint;
    ConnectionOptions options;
    std::string expected_fingerprint;
    std::string seen_fingerprint;
    tcp::resolver resolver;
    std::optional<Stream> ws;
    beast::flat_buffer read_buffer;
    websocket::response_type upgrade_response;
    std::deque<std::pair<std::string, bool>> write_queue;  // (payload, is_text)
    bool writing = false;
    bool reading = false;
    bool paused = false;
    bool closing = false;
    bool upgraded = false;

    // ---- shared with callers, guarded by mu ----
    mutable std::mutex mu;
    std::condition_variable cv;
    bool connect_done = false;
    std::optional<Error> connect_error;
    bool open = false;
    std::optional<CloseInfo> closed;
    std::set<std::uint64_t> awaited;
    std::map<std::uint64_t, Json> responses;
    std::deque<Json> inbox;
    std::atomic<std::uint64_t> next_id{1};

    // ---- connect sequence ----
    void start() {
        auto self = shared_from_this();
        resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                               [self](beast::error_code ec, tcp::resolver::results_type r) {
                                   self->on_resolve(ec, std::move(r));
                               });
    }

    void fail_connect(ErrorCode code, const std::string& message) {
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().close(ignored);
        std::lock_guard lock(mu);
        if (connect_done) return;
        connect_done = true;
        connect_error.emplace(code, message);
        closed = CloseInfo{1006, message};
        cv.notify_all();
    }

    void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
            return fail_connect(ErrorCode::connect_failed,
                                "Cannot resolve the server's host name: " + ec.message() + ".");
        }
        auto& tcp_stream = beast::get_lowest_layer(*ws);
        tcp_stream.expires_after(options.connect_timeout);
        auto self = shared_from_this();
        if (options.socket_receive_buffer > 0 || !options.local_address.empty()) {
            // Set before connecting so the TCP window is negotiated with it.
            tcp::endpoint target = results.begin()->endpoint();
            beast::error_code oec;
            tcp_stream.socket().open(target.protocol(), oec);
            if (!oec && options.socket_receive_buffer > 0) {
                tcp_stream.socket().set_option(
                    net::socket_base::receive_buffer_size(options.socket_receive_buffer), oec);
            }
            if (!oec && !options.local_address.empty()) {
                auto local = net::ip::make_address(options.local_address, oec);
                if (!oec) tcp_stream.socket().bind(tcp::endpoint(local, 0), oec);
            }
            if (oec) {
                return fail_connect(ErrorCode::connect_failed,
                                    "Cannot set up the socket: " + oec.message() + ".");
            }
            tcp_stream.async_connect(target, [self](beast::error_code e) { self->on_connect(e); });
        } else {
            tcp_stream.async_connect(results, [self](beast::error_code e, const tcp::endpoint&) {
                self->on_connect(e);
            });
        }
    }

    void on_connect(beast::error_code ec) {
        if (ec == beast::error::timeout) {
            return fail_connect(ErrorCode::timeout, "Timed out connecting to the server.");
        }
        if (ec) {
            return fail_connect(ErrorCode::connect_failed,
                                "Cannot connect to the server: " + ec.message() + ".");
        }
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay(true), ignored);
        auto& tls = ws->next_layer();
        beast::error_code addr_ec;
        net::ip::make_address(endpoint.host, addr_ec);
        if (addr_ec) {  // a name, not an address: send SNI
            SSL_set_tlsext_host_name(tls.native_handle(), endpoint.host.c_str());
            if (expected_fingerprint.empty()) {
                tls.set_verify_callback(ssl::host_name_verification(endpoint.host));
            }
        }
        auto self = shared_from_this();
        tls.async_handshake(ssl::stream_base::client,
                            [self](beast::error_code e) { self->on_tls(e); });
    }

    void on_tls(beast::error_code ec) {
        if (ec == beast::error::timeout) {
            return fail_connect(ErrorCode::timeout, "Timed out during the TLS handshake.");
        }
        if (ec) {
            if (!seen_fingerprint.empty()) {
                return fail_connect(ErrorCode::certificate_mismatch,
                                    "The server's certificate has SHA-256 fingerprint " +
                                        seen_fingerprint + ", not the pinned " +
                                        expected_fingerprint + ": refusing to connect.");
            }
            return fail_connect(ErrorCode::tls_failed,
                                "The TLS handshake failed: " + ec.message() + ".");
        }
        beast::get_lowest_layer(*ws).expires_never();
        websocket::stream_base::timeout t{};
        t.handshake_timeout = options.connect_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws->set_option(t);
        ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "ariadne-client/1");
        }));
        ws->read_message_max(options.max_inbound_frame);
        ws->auto_fragment(false);
        std::string host = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]"
                                                                        : endpoint.host;
        host += ":" + std::to_string(endpoint.port);
        auto self = shared_from_this();
        ws->async_handshake(upgrade_response, host, endpoint.path,
                            [self](beast::error_code e) { self->on_upgrade(e); });
    }

    void on_upgrade(beast::error_code ec) {
        if (ec == beast::error::timeout) {
            return fail_connect(ErrorCode::timeout, "Timed out during the WebSocket upgrade.");
        }
        if (ec) {
            std::string status =
                upgrade_response.result_int() != 0
                    ? " (HTTP " + std::to_string(upgrade_response.result_int()) + ")"
                    : "";
            return fail_connect(
                ErrorCode::websocket_failed,
                "The server refused the WebSocket upgrade" + status + ": " + ec.message() + ".");
        }
        upgraded = true;
        {
            std::lock_guard lock(mu);
            connect_done = true;
            open = true;
            cv.notify_all();
        }
        do_read();
    }

    // ---- reading ----
    void do_read() {
        if (reading || paused || closing || !upgraded || is_closed()) return;
        reading = true;
        auto self = shared_from_this();
        ws->async_read(read_buffer,
                       [self](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(beast::error_code ec, std::size_t n) {
        reading = false;
        if (ec) return on_transport_end(ec);
        std::string text = beast::buffers_to_string(read_buffer.data());
        read_buffer.consume(n);
        dispatch(std::move(text));
        do_read();
    }

    void dispatch(std::string text) {
        Json frame = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (frame.is_discarded()) frame = Json(std::move(text));
        std::lock_guard lock(mu);
        if (frame.is_object()) {
            auto id = frame.find("id");
            if (id != frame.end() && id->is_number_unsigned()) {
                auto it = awaited.find(id->get<std::uint64_t>());
                if (it != awaited.end()) {
                    responses[*it] = std::move(frame);
                    awaited.erase(it);
                    cv.notify_all();
                    return;
                }
            }
        }
        inbox.push_back(std::move(frame));
        cv.notify_all();
    }

    bool is_closed() {
        std::lock_guard lock(mu);
        return closed.has_value();
    }

    void on_transport_end(beast::error_code ec) {
        CloseInfo info;
        // A close frame from the server counts even when the transport failed right after it
        // (a server that closes with unread input resets the TCP connection, which can break
        // our close reply): its code is how the connection ended.
        if (ec == websocket::error::closed || (upgraded && ws->reason().code != 0)) {
            info.code = ws->reason().code;
            info.reason = std::string(ws->reason().reason.c_str());
        } else {
            info.code = 1006;
            info.reason = ec.message();
        }
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().close(ignored);
        write_queue.clear();
        std::lock_guard lock(mu);
        open = false;
        if (!closed) closed = std::move(info);
        cv.notify_all();
    }

    // ---- writing ----
    void enqueue(std::string payload, bool text) {
        if (is_closed()) return;
        write_queue.emplace_back(std::move(payload), text);
        if (!writing) do_write();
    }

    void do_write() {
        if (write_queue.empty() || closing) return;
        writing = true;
        ws->text(write_queue.front().second);
        auto self = shared_from_this();
        ws->async_write(net::buffer(write_queue.front().first),
                        [self](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing = false;
        if (ec) return on_transport_end(ec);
        if (!write_queue.empty()) write_queue.pop_front();
        do_write();
    }

    // ---- closing ----
    void start_close(int code) {
        if (closing || is_closed()) return;
        closing = true;
        if (!upgraded) {
            return on_transport_end(net::error::operation_aborted);
        }
        auto self = shared_from_this();
        ws->async_close(websocket::close_reason(static_cast<std::uint16_t>(code)),
                        [self, code](beast::error_code ec) {
                            beast::error_code ignored;
                            beast::get_lowest_layer(*self->ws).socket().close(ignored);
                            std::lock_guard lock(self->mu);
                            self->open = false;
                            if (!self->closed) {
                                self->closed = CloseInfo{ec ? 1006 : code,
                                                         ec ? ec.message() : "closed by client"};
                            }
                            self->cv.notify_all();
                        });
    }

    void drop() {
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).socket().close(ignored);
        std::lock_guard lock(mu);
        open = false;
        if (!closed) closed = CloseInfo{1006, "dropped by client"};
        cv.notify_all();
    }
};

Connection::Connection(std::shared_ptr<Runtime> runtime, std::shared_ptr<Impl> impl)
    : runtime_(std::move(runtime)), impl_(std::move(impl)) {}

std::unique_ptr<Connection> Connection::open(const Endpoint& endpoint,
                                             const ConnectionOptions& options,
                                             std::shared_ptr<Runtime> runtime) {
    if (!runtime) runtime = std::make_shared<Runtime>(1);
    std::shared_ptr<Impl> impl;
    try {
        impl = std::make_shared<Impl>(runtime->impl().ioc, endpoint, options);
    } catch (const boost::system::system_error& e) {
        throw Error(ErrorCode::invalid_argument,
                    std::string("Cannot set up TLS (CA file?): ") + e.what() + ".");
    }
    net::post(impl->strand, [impl] { impl->start(); });
    std::unique_lock lock(impl->mu);
    bool done = impl->cv.wait_for(lock, options.connect_timeout + milliseconds{2000},
                                  [&] { return impl->connect_done; });
    if (!done) {
        lock.unlock();
        net::post(impl->strand, [impl] { impl->drop(); });
        throw Error(ErrorCode::timeout, "Timed out connecting to the server.");
    }
    if (impl->connect_error) throw *impl->connect_error;
    lock.unlock();
    return std::unique_ptr<Connection>(new Connection(std::move(runtime), std::move(impl)));
}

Connection::~Connection() {
    try {
        close(1000, milliseconds{1000});
    } catch (...) {
    }
    auto impl = impl_;
    net::post(impl->strand, [impl] { impl->drop(); });
    // Wait for the drop so that a shared Runtime never runs our handlers after we return
    // with half-destroyed callers; the Impl itself lives on in the handlers that hold it.
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, milliseconds{2000}, [&] { return impl_->closed.has_value(); });
}

std::uint64_t Connection::send_request(Json& frame) {
    if (!frame.is_object()) {
        throw Error(ErrorCode::invalid_argument, "A request must be a JSON object.");
    }
    if (!frame.contains("v")) frame["v"] = 1;
    std::uint64_t id;
    auto it = frame.find("id");
    if (it != frame.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0) {
        id = it->get<std::uint64_t>();
    } else {
        id = impl_->next_id.fetch_add(1);
        frame["id"] = id;
    }
    {
        std::lock_guard lock(impl_->mu);
        if (impl_->closed) {
            throw Error(ErrorCode::closed, "The connection to the gateway is closed.");
        }
        impl_->awaited.insert(id);
    }
    auto impl = impl_;
    net::post(impl->strand,
              [impl, text = frame.dump()]() mutable { impl->enqueue(std::move(text), true); });
    return id;
}

Json Connection::await_response(std::uint64_t id, milliseconds timeout) {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, timeout, [&] {
        return impl_->responses.count(id) != 0 || impl_->closed.has_value();
    });
    auto it = impl_->responses.find(id);
    if (it != impl_->responses.end()) {
        Json frame = std::move(it->second);
        impl_->responses.erase(it);
        return frame;
    }
    impl_->awaited.erase(id);
    if (impl_->closed) {
        throw Error(ErrorCode::closed, "The connection closed (code " +
                                           std::to_string(impl_->closed->code) +
                                           ") before the gateway answered.");
    }
    throw Error(ErrorCode::timeout, "The gateway did not answer in time.");
}

Json Connection::request(Json frame, milliseconds timeout) {
    std::uint64_t id = send_request(frame);
    return await_response(id, timeout);
}

Json Connection::call(Json frame, milliseconds timeout) {
    std::string type = frame.value("type", std::string("?"));
    Json response = request(std::move(frame), timeout);
    if (response.value("type", std::string()) == "error") {
        std::string code = response.value("code", std::string("unknown"));
        std::string message = response.value("message", std::string());
        throw ServerError(code, "The gateway refused '" + type + "' (" + code + "): " + message,
                          std::move(response));
    }
    return response;
}

void Connection::send_text(std::string text) {
    if (!is_open()) throw Error(ErrorCode::closed, "The connection to the gateway is closed.");
    auto impl = impl_;
    net::post(impl->strand,
              [impl, text = std::move(text)]() mutable { impl->enqueue(std::move(text), true); });
}

void Connection::send_binary(std::string bytes) {
    if (!is_open()) throw Error(ErrorCode::closed, "The connection to the gateway is closed.");
    auto impl = impl_;
    net::post(impl->strand, [impl, bytes = std::move(bytes)]() mutable {
        impl->enqueue(std::move(bytes), false);
    });
}

std::optional<Json> Connection::next_unsolicited(milliseconds timeout) {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, timeout,
                       [&] { return !impl_->inbox.empty() || impl_->closed.has_value(); });
    if (impl_->inbox.empty()) return std::nullopt;
    Json frame = std::move(impl_->inbox.front());
    impl_->inbox.pop_front();
    return frame;
}

void Connection::pause_reading() {
    auto impl = impl_;
    net::post(impl->strand, [impl] { impl->paused = true; });
}

void Connection::resume_reading() {
    auto impl = impl_;
    net::post(impl->strand, [impl] {
        impl->paused = false;
        impl->do_read();
    });
}

bool Connection::is_open() const {
    std::lock_guard lock(impl_->mu);
    return impl_->open && !impl_->closed;
}

std::optional<CloseInfo> Connection::close_info() const {
    std::lock_guard lock(impl_->mu);
    return impl_->closed;
}

std::optional<CloseInfo> Connection::wait_closed(milliseconds timeout) {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, timeout, [&] { return impl_->closed.has_value(); });
    return impl_->closed;
}

void Connection::close(int code, milliseconds timeout) {
    auto impl = impl_;
    net::post(impl->strand, [impl, code] { impl->start_close(code); });
    if (!wait_closed(timeout)) {
        net::post(impl->strand, [impl] { impl->drop(); });
        wait_closed(milliseconds{1000});
    }
}

}  // namespace ariadne::client
