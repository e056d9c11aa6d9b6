#include "kannel_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace ariadne::adapters::detail {

namespace {

class Socket {
  public:
    Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_;
};

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
}

}  // namespace

SendSmsResult post_sendsms(const KannelEndpoint& endpoint, const SendSms& sms) {
    SendSmsResult result;
    const auto deadline = std::chrono::steady_clock::now() + endpoint.timeout;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(endpoint.port);
    if (::inet_pton(AF_INET, endpoint.host.c_str(), &addr.sin_addr) != 1) {
        result.error = "the Kannel host is not an IPv4 address";
        return result;
    }
    Socket sock;
    if (sock.fd() < 0) {
        result.error = "no socket could be created";
        return result;
    }
    if (::connect(sock.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS || !wait_for(sock.fd(), POLLOUT, deadline)) {
            result.error = "Kannel's sendsms interface cannot be reached";
            return result;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            result.error = "Kannel's sendsms interface refused the connection";
            return result;
        }
    }
    std::string request = "POST /cgi-bin/sendsms HTTP/1.1\r\nHost: " + endpoint.host + ":" +
                          std::to_string(endpoint.port) +
                          "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8"
                          "\r\nX-Kannel-Username: " +
                          endpoint.username + "\r\nX-Kannel-Password: " + endpoint.password +
                          "\r\nX-Kannel-To: " + sms.to +
                          "\r\nX-Kannel-Coding: " + (sms.ucs2 ? "2" : "0") + "\r\n";
    if (!sms.from.empty()) request += "X-Kannel-From: " + sms.from + "\r\n";
    if (!sms.udh.empty()) {
        // Kannel reads X-Kannel-UDH as hex (every 1.4 release; newer ones also URL-encoding).
        static constexpr char kHex[] = "0123456789ABCDEF";
        request += "X-Kannel-UDH: ";
        for (unsigned char c : sms.udh) {
            request += kHex[c >> 4];
            request += kHex[c & 15];
        }
        request += "\r\n";
    }
    if (sms.dlr_mask > 0) {
        request += "X-Kannel-DLR-Mask: " + std::to_string(sms.dlr_mask) +
                   "\r\nX-Kannel-DLR-Url: " + sms.dlr_url + "\r\n";
    }
    request += "Content-Length: " + std::to_string(sms.text.size()) + "\r\n\r\n" + sms.text;
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(sock.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(sock.fd(), POLLOUT, deadline)) break;
        } else {
            break;
        }
    }
    // The request held the password, the number and the text: wipe it.
    for (auto& c : request) reinterpret_cast<volatile char&>(c) = 0;
    if (sent < request.size()) {
        result.error = "the request could not be sent to Kannel";
        return result;
    }
    std::string answer;
    char buffer[1024];
    while (answer.size() < 16384) {
        ssize_t n = ::recv(sock.fd(), buffer, sizeof buffer, 0);
        if (n > 0) {
            answer.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_for(sock.fd(), POLLIN, deadline)) break;
        } else {
            break;
        }
    }
    // "HTTP/1.1 202 Accepted"
    if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) {
        result.error = "Kannel did not answer in time";
        return result;
    }
    result.status = std::atoi(answer.substr(9, 3).c_str());
    if (!result.accepted()) result.error = "Kannel refused the message";
    return result;
}

}  // namespace ariadne::adapters::detail
