// Connection slots against the real server: one client address flooding partial TLS
// handshakes (the first 7 bytes of a ClientHello, then nothing) cannot take the slots other
// clients need, partial handshakes are cut after the TLS deadline, and the connections not
// logged in yet leave a reserve for logged-in ones.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

/// A TCP connection from `from` (a loopback address) to the server that sends the start of
/// a TLS ClientHello and then waits. -1 if connect failed.
int partial_handshake(std::uint16_t port, const std::string& from) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    const unsigned char hello[7] = {0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00};
    if (::send(fd, hello, sizeof hello, MSG_NOSIGNAL) != 7) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// True when the server has closed `fd` (EOF or reset) within `wait`.
bool closed_by_server(int fd, std::chrono::milliseconds wait) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

struct Flood {
    std::vector<int> fds;
    ~Flood() {
        for (int fd : fds) ::close(fd);
    }
    /// How many of the flood's connections the server still holds after `settle`.
    int held(std::chrono::milliseconds settle = std::chrono::milliseconds(300)) const {
        std::this_thread::sleep_for(settle);
        int n = 0;
        for (int fd : fds) n += closed_by_server(fd, std::chrono::milliseconds(0)) ? 0 : 1;
        return n;
    }
};

class ConnectionLimits : public ::testing::Test {
  protected:
    void start(std::vector<std::string> args) {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data", std::move(args));
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(ConnectionLimits, PartialHandshakesFromOneAddressDoNotLockOutAnotherThatLogsInAndSends) {
    start({"--max-connections", "50"});
    Flood flood;
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 80; ++i) {
        int fd = partial_handshake(gateway_->port(), "127.0.0.2");
        if (fd >= 0) flood.fds.push_back(fd);
    }
    // 32 (--max-unauthenticated-per-address) are held; the rest were closed at accept.
    EXPECT_EQ(flood.held(), 32);

    // Meanwhile a caseworker and a survivor log in from 127.0.0.1 and exchange messages.
    auto console = register_console(*gateway_, cw_, dir("console"));
    auto her = recover_survivor(*gateway_, survivor_, dir("her"));
    her->send_text(cw_.account, "hello from the flood test");
    auto got = console->receive(std::chrono::milliseconds(10000));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "hello from the flood test");

    // The partial handshakes are cut after the 10 s TLS deadline (not 30 s).
    int still_open = 0;
    for (int fd : flood.fds) {
        auto left = std::chrono::seconds(14) - (std::chrono::steady_clock::now() - started);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left);
        if (!closed_by_server(fd, std::max(ms, std::chrono::milliseconds(0)))) ++still_open;
    }
    EXPECT_EQ(still_open, 0) << "partial handshakes still held 14 s after they started";
}

TEST_F(ConnectionLimits, AFloodFromManyAddressesCannotFillEverySlotAndNewcomersStillLogIn) {
    start({"--max-connections", "20", "--max-unauthenticated-per-address", "4"});
    // Six addresses, four partial handshakes each (24): at most 18 (20 - 20/10) may wait to
    // log in; each one beyond that cuts the oldest waiting connection.
    Flood flood;
    for (int a = 2; a < 8; ++a) {
        for (int i = 0; i < 4; ++i) {
            int fd = partial_handshake(gateway_->port(), "127.0.0." + std::to_string(a));
            if (fd >= 0) flood.fds.push_back(fd);
        }
    }
    EXPECT_EQ(flood.held(), 18);
    // Two devices connect, log in and talk: the first cuts the oldest waiting partial
    // handshake; once it is logged in it no longer counts as waiting, so the second fits.
    auto console = register_console(*gateway_, cw_, dir("console"));
    auto her = recover_survivor(*gateway_, survivor_, dir("her"));
    her->send_text(cw_.account, "still here");
    auto got = console->receive(std::chrono::milliseconds(10000));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "still here");
    EXPECT_EQ(flood.held(std::chrono::milliseconds(0)), 17);
}

}  // namespace
}  // namespace ariadne::e2e
