// The survivor page (/notes) as a browser uses it, over real TLS from a chosen 127.0.0.x
// address, and the receipts a console gets: shared by the end-to-end tests of the page.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ariadne/client/messenger.h"

namespace ariadne::e2e {

struct HttpAnswer {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// One keep-alive HTTPS connection from a chosen local address (127.0.0.x), blocking.
class Https {
  public:
    Https(std::uint16_t port, const std::string& from) : port_(port) {
        static SSL_CTX* ctx = [] {
            SSL_CTX* c = SSL_CTX_new(TLS_client_method());
            SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);  // self-signed test certificate
            return c;
        }();
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
            ::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
            throw std::runtime_error("cannot connect from " + from);
        }
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
    }
    ~Https() {
        SSL_free(ssl_);
        ::close(fd_);
    }
    Https(const Https&) = delete;
    Https& operator=(const Https&) = delete;

    void write(const std::string& method, const std::string& path, const std::string& body = "",
               const std::vector<std::string>& headers = {}) {
        std::string host = "127.0.0.1:" + std::to_string(port_);
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n";
        for (const auto& h : headers) req += h + "\r\n";
        if (method == "POST") req += "Origin: https://" + host + "\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (SSL_write(ssl_, req.data(), static_cast<int>(req.size())) <= 0) {
            throw std::runtime_error("write failed");
        }
    }

    HttpAnswer read() {
        while (in_.find("\r\n\r\n") == std::string::npos) fill();
        const auto end = in_.find("\r\n\r\n");
        HttpAnswer a;
        std::string head = in_.substr(0, end);
        a.status = std::atoi(head.c_str() + 9);
        for (auto at = head.find("\r\n"); at != std::string::npos;) {
            auto next = head.find("\r\n", at + 2);
            std::string line =
                head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
            auto colon = line.find(':');
            std::string name = line.substr(0, colon);
            for (char& c : name) c = static_cast<char>(std::tolower(c));
            a.headers[name] = line.substr(colon + 2);
            at = next;
        }
        std::size_t length = std::stoul(
            a.header("content-length").empty() ? std::string("0") : a.header("content-length"));
        while (in_.size() < end + 4 + length) fill();
        a.body = in_.substr(end + 4, length);
        in_.erase(0, end + 4 + length);
        return a;
    }

    HttpAnswer request(const std::string& method, const std::string& path,
                       const std::string& body = "", const std::vector<std::string>& headers = {}) {
        write(method, path, body, headers);
        return read();
    }

    /// Whether an answer (or part of one) has arrived and not been read: nothing waits.
    bool answered() {
        if (!in_.empty() || SSL_pending(ssl_) > 0) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }

  private:
    void fill() {
        char buf[16384];
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n <= 0) throw std::runtime_error("connection closed");
        in_.append(buf, static_cast<std::size_t>(n));
    }
    std::uint16_t port_;
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    std::string in_;
};

/// A browser on the survivor page: its cookie, the page's form token.
struct PageVisit {
    std::unique_ptr<Https> conn;
    std::string cookie;  // "n=..."
    std::string token;
    std::string last_body;

    PageVisit(std::uint16_t port, const std::string& from)
        : conn(std::make_unique<Https>(port, from)) {
        get();
    }
    void take_cookie(const HttpAnswer& a) {
        std::string set = a.header("set-cookie");
        if (!set.empty()) cookie = set.substr(0, set.find(';'));
    }
    std::vector<std::string> cookie_header() const {
        return cookie.empty() ? std::vector<std::string>{} : std::vector{"Cookie: " + cookie};
    }
    HttpAnswer get() {
        HttpAnswer a = conn->request("GET", "/notes", "", cookie_header());
        take_cookie(a);
        last_body = a.body;
        auto at = a.body.find("name=\"t\" value=\"");
        if (at != std::string::npos)
            token = a.body.substr(at + 16, a.body.find('"', at + 16) - at - 16);
        return a;
    }
    /// Writes a form POST (without reading the answer).
    void write_post(const std::string& form) {
        auto headers = cookie_header();
        headers.push_back("Content-Type: application/x-www-form-urlencoded");
        conn->write("POST", "/notes", "t=" + token + "&" + form, headers);
    }
    /// Reads the POST's 303 and follows it.
    HttpAnswer finish_post() {
        HttpAnswer a = conn->read();
        EXPECT_EQ(a.status, 303) << a.body;
        take_cookie(a);
        return get();
    }
    HttpAnswer post(const std::string& form) {
        write_post(form);
        return finish_post();
    }
    bool signed_in() const { return last_body.find("name=\"text\"") != std::string::npos; }
};

inline std::string login_form(std::string code) {
    for (char& c : code) {
        if (c == ' ') c = '+';
    }
    return "a=login&code=" + code;
}

/// The next receipt for `ref` that `console` receives within `timeout` (other deliveries
/// are acknowledged and skipped).
inline std::optional<client::ReceivedMessage> receipt_for(client::Messenger& console,
                                                          std::int64_t ref,
                                                          std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto m = console.receive(std::chrono::milliseconds(200));
        if (m && m->is_receipt && m->ref == ref) return m;
    }
    return std::nullopt;
}

}  // namespace ariadne::e2e
