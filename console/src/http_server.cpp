// The console's loopback HTTP server (Boost.Beast). The only translation unit that includes
// Beast/Asio, so the heavy templates are compiled once.
#include "ariadne/console/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <optional>
#include <thread>

namespace ariadne::console {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpRequest::path() const { return target.substr(0, target.find('?')); }

std::string HttpRequest::query(std::string_view name) const {
    auto q = target.find('?');
    if (q == std::string::npos) return {};
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string{}
                                                : percent_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(30);

struct Shared {
    HttpHandler handler;
    HttpServerOptions options;
};

http::response<http::string_body> to_beast(const HttpResponse& r, unsigned version,
                                           bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "ariadne-console");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res.insert(name, value);
    res.body() = r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, std::shared_ptr<Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::read, shared_from_this()));
    }

  private:
    void read() {
        parser_.emplace();
        parser_->body_limit(shared_->options.max_body);
        parser_->header_limit(16 * 1024);
        stream_.expires_after(kReadTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::body_limit) {
            HttpResponse r{413, "text/plain; charset=utf-8", {}, "The request is too large.\n"};
            return write(r, 11, false);
        }
        if (ec) return close();
        auto req = parser_->release();
        HttpRequest in;
        in.method = std::string(req.method_string());
        in.target = std::string(req.target());
        bool duplicate = false;
        auto single = [&](http::field f) -> std::string {
            auto n = req.count(f);
            if (n > 1) duplicate = true;
            return n == 0 ? std::string{} : std::string(req[f]);
        };
        in.host = single(http::field::host);
        in.origin = single(http::field::origin);
        in.cookie = single(http::field::cookie);
        in.content_type = single(http::field::content_type);
        in.sec_fetch_site = std::string(req["Sec-Fetch-Site"]);
        in.body = std::move(req.body());
        HttpResponse out;
        if (duplicate) {
            out = {400, "text/plain; charset=utf-8", {}, "A header was sent twice.\n"};
        } else {
            try {
                out = shared_->handler(in);
            } catch (...) {
                out = {
                    500, "text/plain; charset=utf-8", {}, "The console hit an internal error.\n"};
            }
        }
        write(out, req.version(), req.keep_alive());
    }

    void write(const HttpResponse& r, unsigned version, bool keep_alive) {
        res_ = to_beast(r, version, keep_alive);
        stream_.expires_after(kReadTimeout);
        http::async_write(
            stream_, res_,
            beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
    }

    void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
        if (ec) return close();
        if (!keep_alive) return close();
        read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace

struct HttpServer::Impl {
    net::io_context ioc;
    tcp::acceptor acceptor{net::make_strand(ioc)};
    std::shared_ptr<Shared> shared;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;

    void accept() {
        acceptor.async_accept(net::make_strand(ioc),
                              [this](beast::error_code ec, tcp::socket socket) {
                                  if (ec == net::error::operation_aborted || !acceptor.is_open())
                                      return;
                                  if (!ec)
                                      std::make_shared<Session>(std::move(socket), shared)->run();
                                  accept();
                              });
    }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<HttpServer> HttpServer::bind(HttpServerOptions options) {
    auto impl = std::make_unique<Impl>();
    impl->shared = std::make_shared<Shared>(Shared{nullptr, options});
    // Loopback only, by construction: there is no option to bind anything else.
    tcp::endpoint endpoint{net::ip::address_v4::loopback(), options.port};
    beast::error_code ec;
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(endpoint, ec);
    if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw HttpServerError("The console could not listen on 127.0.0.1:" +
                              std::to_string(options.port) + ": " + ec.message() + ".");
    }
    impl->port = impl->acceptor.local_endpoint().port();
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::serve(HttpHandler handler) {
    if (!impl_->threads.empty()) throw HttpServerError("The console's server is already serving.");
    impl_->shared->handler = std::move(handler);
    impl_->accept();
    unsigned n = impl_->shared->options.threads == 0 ? 1 : impl_->shared->options.threads;
    for (unsigned i = 0; i < n; ++i) {
        impl_->threads.emplace_back([io = &impl_->ioc] { io->run(); });
    }
}

HttpServer::~HttpServer() {
    net::post(impl_->acceptor.get_executor(), [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
    });
    impl_->ioc.stop();
    for (auto& t : impl_->threads) t.join();
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

}  // namespace ariadne::console
