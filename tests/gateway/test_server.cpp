// The real `ariadne serve` process on 127.0.0.1 with real TLS: HTTPS endpoints, the
// WebSocket limits, the printed certificate fingerprint, configuration refusal, and a
// SIGTERM that closes sessions with 1001 and keeps every acknowledged message.
// The client is a deliberately small OpenSSL + RFC 6455 implementation (no Beast here, so
// this test compiles fast and checks the server against an independent client).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"

namespace ariadne::gateway::test {
namespace {

// A server that closes while the test still writes must fail the test by assertion, not
// kill the test process with SIGPIPE.
const bool kSigpipeIgnored = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
}();

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// One `ariadne serve` child process on an ephemeral port.
class ServerProcess {
  public:
    ServerProcess(const std::filesystem::path& dir, std::vector<std::string> extra = {})
        : dir_(dir) {
        std::filesystem::remove(dir / "port");
        std::vector<std::string> args = {ARIADNE_BINARY,
                                         "serve",
                                         "--listen",
                                         "127.0.0.1:0",
                                         "--data-dir",
                                         (dir / "data").string(),
                                         "--port-file",
                                         (dir / "port").string(),
                                         "--recovery-m-kib",
                                         "8192",
                                         "--insecure-test-params",
                                         "--log-level",
                                         "warn"};
        // No metrics listener unless a test asks for one (the default port is shared by every
        // server of a parallel test run).
        if (std::find(extra.begin(), extra.end(), "--metrics-listen") == extra.end() &&
            std::find(extra.begin(), extra.end(), "--config") == extra.end()) {
            args.insert(args.end(), {"--metrics-listen", "off"});
        }
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            std::FILE* out = std::freopen((dir / "stdout.txt").c_str(), "w", stdout);
            std::FILE* err = std::freopen((dir / "stderr.txt").c_str(), "a", stderr);
            (void)out;
            (void)err;
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 600 && port_ == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::string text = read_file(dir / "port");
            if (!text.empty() && text.back() == '\n')
                port_ = static_cast<std::uint16_t>(std::stoi(text));
        }
        if (port_ == 0) ADD_FAILURE() << "server did not start: " << read_file(dir / "stderr.txt");
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::uint16_t port() const { return port_; }
    std::string stdout_text() const { return read_file(dir_ / "stdout.txt"); }

    void signal_terminate() { ::kill(pid_, SIGTERM); }

    /// Sends SIGTERM and returns the exit status (-1 if it did not exit normally in 20 s).
    int terminate() {
        signal_terminate();
        return wait_exit();
    }
    int wait_exit() {
        for (int i = 0; i < 400; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return -1;
    }

  private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

/// A TLS connection to 127.0.0.1 (certificate not verified: the test compares its
/// fingerprint with the one the server printed).
class TlsConnection {
  public:
    explicit TlsConnection(std::uint16_t port, int max_version = 0, SSL_SESSION* resume = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("connect");
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        if (resume != nullptr) SSL_set_session(ssl_, resume);
        if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
    }
    ~TlsConnection() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
        ::close(fd_);
    }
    TlsConnection(const TlsConnection&) = delete;
    TlsConnection& operator=(const TlsConnection&) = delete;

    std::string protocol() const { return SSL_get_version(ssl_); }
    SSL* ssl() const { return ssl_; }

    std::string peer_fingerprint() const {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        X509_digest(cert, EVP_sha256(), md, &n);
        X509_free(cert);
        std::string out;
        char buf[4];
        for (unsigned int i = 0; i < n; ++i) {
            std::snprintf(buf, sizeof buf, i ? ":%02X" : "%02X", md[i]);
            out += buf;
        }
        return out;
    }

    void write(const std::string& data) {
        if (SSL_write(ssl_, data.data(), static_cast<int>(data.size())) !=
            static_cast<int>(data.size())) {
            throw std::runtime_error("write failed");
        }
    }
    /// Exactly n bytes, or throws on EOF/timeout.
    std::string read_exact(std::size_t n) {
        std::string out;
        while (out.size() < n) {
            if (pending_.empty()) fill();
            std::size_t take = std::min(n - out.size(), pending_.size());
            out += pending_.substr(0, take);
            pending_.erase(0, take);
        }
        return out;
    }
    std::string read_until(const std::string& marker) {
        while (pending_.find(marker) == std::string::npos) fill();
        auto end = pending_.find(marker) + marker.size();
        std::string out = pending_.substr(0, end);
        pending_.erase(0, end);
        return out;
    }

  private:
    void fill() {
        char buf[16384];
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n <= 0) throw std::runtime_error("connection closed or timed out");
        pending_.append(buf, static_cast<std::size_t>(n));
    }
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string pending_;
};

std::string http_get(std::uint16_t port, const std::string& path) {
    TlsConnection c(port);
    c.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    std::string head = c.read_until("\r\n\r\n");
    auto pos = head.find("Content-Length: ");
    std::size_t length = pos == std::string::npos ? 0 : std::stoul(head.substr(pos + 16));
    return head + c.read_exact(length);
}

/// RFC 6455 client frames (masked), server frames parsed.
class WebSocket {
  public:
    WebSocket(std::uint16_t port, const std::string& path = "/v1/ws") : tls_(port) {
        tls_.write("GET " + path +
                   " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
        response_ = tls_.read_until("\r\n\r\n");
    }
    const std::string& handshake_response() const { return response_; }
    bool upgraded() const { return response_.rfind("HTTP/1.1 101", 0) == 0; }

    /// Sends a frame; with `declared_length`, only the header announcing that many payload
    /// bytes (and none of them) — enough for the server to refuse it, without leaving
    /// unread bytes that would turn its close into a reset.
    void send(const std::string& payload, int opcode = 1,
              std::optional<std::size_t> declared_length = std::nullopt) {
        std::string frame;
        frame += static_cast<char>(0x80 | opcode);
        std::size_t n = declared_length.value_or(payload.size());
        if (n < 126) {
            frame += static_cast<char>(0x80 | n);
        } else if (n < 65536) {
            frame += static_cast<char>(0x80 | 126);
            frame += static_cast<char>(n >> 8);
            frame += static_cast<char>(n & 0xff);
        } else {
            frame += static_cast<char>(0x80 | 127);
            for (int i = 7; i >= 0; --i) frame += static_cast<char>((n >> (8 * i)) & 0xff);
        }
        const char mask[4] = {0x12, 0x34, 0x56, 0x78};
        frame.append(mask, 4);
        for (std::size_t i = 0; i < payload.size(); ++i)
            frame += static_cast<char>(payload[i] ^ mask[i % 4]);
        tls_.write(frame);
    }

    struct Frame {
        int opcode;
        std::string payload;
    };
    Frame read_frame() {
        std::string h = tls_.read_exact(2);
        int opcode = h[0] & 0x0f;
        std::uint64_t n = static_cast<unsigned char>(h[1]) & 0x7f;
        if (n == 126) {
            std::string e = tls_.read_exact(2);
            n = (static_cast<unsigned char>(e[0]) << 8) | static_cast<unsigned char>(e[1]);
        } else if (n == 127) {
            std::string e = tls_.read_exact(8);
            n = 0;
            for (char c : e) n = (n << 8) | static_cast<unsigned char>(c);
        }
        return {opcode, tls_.read_exact(n)};
    }
    /// The next JSON text frame (pings are answered, other control frames fail the test).
    json next_json() {
        for (;;) {
            Frame f = read_frame();
            if (f.opcode == 9) {
                send(f.payload, 10);
                continue;
            }
            if (f.opcode != 1) {
                ADD_FAILURE() << "expected a text frame, got opcode " << f.opcode;
                return nullptr;
            }
            return json::parse(f.payload);
        }
    }
    json call(json frame) {
        frame["v"] = 1;
        frame["id"] = next_id_++;
        send(frame.dump());
        for (;;) {
            json r = next_json();
            if (r.is_null() || r.contains("id")) return r;
            pushes.push_back(r);
        }
    }
    /// Reads until a close frame and returns its code (0 if none).
    int close_code() {
        for (;;) {
            Frame f = read_frame();
            if (f.opcode == 8) {
                return f.payload.size() >= 2 ? (static_cast<unsigned char>(f.payload[0]) << 8) |
                                                   static_cast<unsigned char>(f.payload[1])
                                             : 0;
            }
            if (f.opcode == 1) pushes.push_back(json::parse(f.payload));
        }
    }
    std::deque<json> pushes;

  private:
    TlsConnection tls_;
    std::string response_;
    std::int64_t next_id_ = 1;
};

std::string run_admin_command(const std::string& args, const std::string& input = "") {
    TempDir tmp;
    std::ofstream(tmp.path / "in") << input;
    std::string cmd = std::string(ARIADNE_BINARY) + " admin " + args + " < " +
                      (tmp.path / "in").string() + " > " + (tmp.path / "out").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return read_file(tmp.path / "out");
}

TEST(ServerProcess, ServesHealthMetricsAndNotFoundOverTls) {
    TempDir dir;
    ServerProcess server(dir.path);
    ASSERT_NE(server.port(), 0);
    std::string health = http_get(server.port(), "/healthz");
    EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
    EXPECT_NE(health.find("Cache-Control: no-store"), std::string::npos);
    EXPECT_EQ(health.substr(health.size() - 3), "ok\n");
    // Metrics are not served on the main port (they show activity live).
    EXPECT_EQ(http_get(server.port(), "/metrics").rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_EQ(http_get(server.port(), "/admin").rfind("HTTP/1.1 404", 0), 0u);
    WebSocket elsewhere(server.port(), "/v2/ws");
    EXPECT_FALSE(elsewhere.upgraded());
    EXPECT_EQ(elsewhere.handshake_response().rfind("HTTP/1.1 404", 0), 0u);
}

TEST(ServerProcess, PrintsTheListeningLineWithTheCertificateFingerprint) {
    TempDir dir;
    ServerProcess server(dir.path);
    TlsConnection tls(server.port());
    EXPECT_EQ(tls.protocol(), "TLSv1.3");
    std::string expected =
        "ariadne: listening on https://127.0.0.1:" + std::to_string(server.port()) +
        "/ (certificate sha256 " + tls.peer_fingerprint() + ")\n";
    // Then the public key's fingerprint (a pin that outlives renewals on the same key).
    const std::string out = server.stdout_text();
    EXPECT_EQ(out.substr(0, expected.size()), expected);
    EXPECT_TRUE(
        std::regex_match(out.substr(std::min(expected.size(), out.size())),
                         std::regex("ariadne: public key sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\n")))
        << out;
    EXPECT_EQ(out.find(tls.peer_fingerprint(), expected.size()), std::string::npos);
    auto mode = std::filesystem::status(dir.path / "data").permissions();
    EXPECT_EQ(mode, std::filesystem::perms::owner_all);
    auto key_mode = std::filesystem::status(dir.path / "data" / "tls-key.pem").permissions();
    EXPECT_EQ(key_mode, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(ServerProcess, WebSocketErrorsKeepTheConnectionUsable) {
    TempDir dir;
    ServerProcess server(dir.path);
    WebSocket ws(server.port());
    ASSERT_TRUE(ws.upgraded()) << ws.handshake_response();
    EXPECT_EQ(ws.handshake_response().find("permessage-deflate"), std::string::npos);
    EXPECT_EQ(ws.call({{"type", "ping"}})["type"], "ok");
    ws.send("{oops");
    json r = ws.next_json();
    EXPECT_EQ(r["code"], "malformed_json");
    EXPECT_TRUE(r["id"].is_null());
    ws.send("\x01\x02", 2);
    EXPECT_EQ(ws.next_json()["code"], "invalid_frame");
    EXPECT_EQ(ws.call({{"type", "contacts"}})["code"], "not_authenticated");
    EXPECT_EQ(ws.call({{"type", "ping"}})["type"], "ok");
}

TEST(ServerProcess, OversizedFrameClosesWith1009) {
    TempDir dir;
    ServerProcess server(dir.path);
    WebSocket ws(server.port());
    ASSERT_TRUE(ws.upgraded());
    ws.send("", 1, 70000);  // a text frame announcing 70,000 bytes: over the 65,536 limit
    EXPECT_EQ(ws.close_code(), 1009);
}

TEST(ServerProcess, RefusesUnknownSettingsNamingThem) {
    TempDir dir;
    std::string cmd = std::string(ARIADNE_BINARY) + " serve --data-dir " +
                      (dir.path / "d").string() + " --mailbox-ttl-dayz 3 2> " +
                      (dir.path / "err").string();
    int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_NE(read_file(dir.path / "err").find("mailbox-ttl-dayz"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.path / "d"));
}

TEST(ServerProcess, SigtermClosesWithGoingAwayAndKeepsAcknowledgedMessages) {
    TempDir dir;
    std::string data = (dir.path / "data").string();
    json cw = json::parse(run_admin_command(
        "caseworker-add --data-dir " + data + " --username mara.k", "correct horse\n"));
    json sv = json::parse(run_admin_command("survivor-enrol --data-dir " + data + " --caseworker " +
                                            cw["account"].get<std::string>() +
                                            " --initials A.B. --language en --time-zone UTC"
                                            " --recovery-m-kib 8192 --insecure-test-params"));
    auto totp_secret = crypto::base32_decode(cw["totp_secret"].get<std::string>());
    TestIdentity mara_identity, amina_identity;
    std::vector<std::int64_t> acknowledged;
    {
        ServerProcess server(dir.path);
        auto mara_ws = std::make_unique<WebSocket>(server.port());
        WebSocket& mara = *mara_ws;
        json ch = mara.call({{"type", "challenge"}});
        auto now = static_cast<std::uint64_t>(std::time(nullptr));
        json r = mara.call({{"type", "register_device"},
                            {"username", "mara.k"},
                            {"password", "correct horse"},
                            {"totp", crypto::totp_code(totp_secret, now)},
                            {"identity_key", b64(mara_identity.public_key())},
                            {"registration_id", 77},
                            {"signature", b64(mara_identity.sign_login(unb64(ch["challenge"])))}});
        ASSERT_EQ(r["type"], "ok") << r.dump();
        Bytes spk = TestIdentity::random_public_key();
        r = mara.call(
            {{"type", "keys_upload"},
             {"signed_pre_key",
              {{"id", 1}, {"public_key", b64(spk)}, {"signature", b64(mara_identity.sign(spk))}}},
             {"last_resort",
              {{"id", 16777215}, {"public_key", b64(TestIdentity::random_public_key())}}}});
        ASSERT_EQ(r["type"], "ok") << r.dump();

        auto amina_ws = std::make_unique<WebSocket>(server.port());
        WebSocket& amina = *amina_ws;
        json params = amina.call({{"type", "recovery_params"}})["params"];
        crypto::RecoveryParams rp;
        rp.t_cost = params["t"];
        rp.m_kib = params["m_kib"];
        rp.parallelism = params["p"];
        rp.salt = unb64(params["salt"]);
        auto secrets = crypto::derive_recovery_secrets(sv["recovery_code"].get<std::string>(), rp);
        ch = amina.call({{"type", "challenge"}});
        r = amina.call({{"type", "auth_survivor"},
                        {"locator", b64(secrets.locator)},
                        {"signature", b64(crypto::sign_login_challenge(secrets.auth_key,
                                                                       unb64(ch["challenge"])))},
                        {"identity_key", b64(amina_identity.public_key())},
                        {"registration_id", 5}});
        ASSERT_EQ(r["type"], "ok") << r.dump();
        // mara goes offline; amina's messages wait in the mailbox.
        mara.send("", 8);
        mara.close_code();  // the server answers the close handshake
        mara_ws.reset();
        for (int i = 0; i < 20; ++i) {
            r = amina.call(
                {{"type", "send"},
                 {"to", cw["account"]},
                 {"messages",
                  json::array({json{{"device_id", 1},
                                    {"type", 3},
                                    {"body", b64(crypto::to_bytes("m" + std::to_string(i)))}}})}});
            ASSERT_EQ(r["type"], "ok") << r.dump();
            acknowledged.push_back(r["server_ids"][0]["server_id"]);
        }
        server.signal_terminate();
        EXPECT_EQ(amina.close_code(), 1001);
        amina.send("\x03\xe9", 8);  // answer the close handshake
        amina_ws.reset();
        EXPECT_EQ(server.wait_exit(), 0) << "exit status after SIGTERM";
    }
    ServerProcess restarted(dir.path);
    WebSocket mara(restarted.port());
    json ch = mara.call({{"type", "challenge"}});
    json r = mara.call({{"type", "auth_device"},
                        {"account", cw["account"]},
                        {"device_id", 1},
                        {"signature", b64(mara_identity.sign_login(unb64(ch["challenge"])))}});
    ASSERT_EQ(r["type"], "ok") << r.dump();
    std::vector<std::int64_t> delivered;
    for (auto& p : mara.pushes) delivered.push_back(p["message"]["server_id"]);
    while (delivered.size() < acknowledged.size()) {
        json d = mara.next_json();
        if (d.is_null()) break;
        delivered.push_back(d["message"]["server_id"]);
    }
    EXPECT_EQ(delivered, acknowledged);
}

}  // namespace
}  // namespace ariadne::gateway::test

namespace ariadne::gateway::test {
namespace {

/// The metrics listener's port from the server's stdout (0 if it printed none).
std::uint16_t metrics_port_of(const ServerProcess& server) {
    static const std::regex line(R"(ariadne: metrics on https://127\.0\.0\.1:([0-9]+)/metrics)");
    std::smatch m;
    std::string out = server.stdout_text();
    return std::regex_search(out, m, line) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
}

TEST(ServerProcess, MetricsAreServedOnlyOnTheMetricsListener) {
    TempDir dir;
    ServerProcess server(dir.path, {"--metrics-listen", "127.0.0.1:0"});
    std::uint16_t port = metrics_port_of(server);
    EXPECT_EQ(server.stdout_text().find("ariadne: listening on"), 0u);
    ASSERT_NE(port, 0) << server.stdout_text();
    ASSERT_NE(port, server.port());
    std::string metrics = http_get(port, "/metrics");
    EXPECT_EQ(metrics.rfind("HTTP/1.1 200", 0), 0u) << metrics;
    EXPECT_NE(metrics.find("ariadne_connections_open"), std::string::npos);
    EXPECT_NE(metrics.find("ariadne_commit_batch_size_bucket"), std::string::npos);
    EXPECT_NE(metrics.find("ariadne_send_commit_latency_seconds_count"), std::string::npos);
    EXPECT_EQ(http_get(port, "/healthz").rfind("HTTP/1.1 200", 0), 0u);
    // Nothing else there: no admin API, no WebSocket.
    EXPECT_EQ(http_get(port, "/v1/admin/policy").rfind("HTTP/1.1 404", 0), 0u);
    WebSocket ws(port);
    EXPECT_FALSE(ws.upgraded());
    // And not on the main port.
    EXPECT_EQ(http_get(server.port(), "/metrics").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(ServerProcess, TheMetricsListenerIsSetInTheConfigFileToo) {
    TempDir dir;
    std::ofstream(dir.path / "ariadne.conf") << "metrics-listen = 127.0.0.1:0\n";
    ServerProcess server(dir.path, {"--config", (dir.path / "ariadne.conf").string()});
    EXPECT_NE(metrics_port_of(server), 0);
    TempDir dir2;
    std::ofstream(dir2.path / "ariadne.conf") << "metrics-listen = off\n";
    std::string cmd = std::string(ARIADNE_BINARY) + " serve --config " +
                      (dir2.path / "ariadne.conf").string() + " --metrics-listen nowhere 2> " +
                      (dir2.path / "err").string();
    int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_NE(read_file(dir2.path / "err").find("--metrics-listen"), std::string::npos);
}

TEST(ServerProcess, Tls12GetsNoSessionTicketAndNoResumption) {
    TempDir dir;
    ServerProcess server(dir.path);
    SSL_SESSION* session = nullptr;
    {
        TlsConnection first(server.port(), TLS1_2_VERSION);
        ASSERT_EQ(first.protocol(), "TLSv1.2");
        session = SSL_get1_session(first.ssl());
        ASSERT_NE(session, nullptr);
        EXPECT_EQ(SSL_SESSION_has_ticket(session), 0) << "the server issued a TLS 1.2 ticket";
    }
    TlsConnection second(server.port(), TLS1_2_VERSION, session);
    EXPECT_EQ(SSL_session_reused(second.ssl()), 0) << "a TLS 1.2 session was resumed";
    SSL_SESSION_free(session);
}

TEST(ServerProcess, OversizedRequestHeadersAreAnswered431) {
    TempDir dir;
    ServerProcess server(dir.path);
    TlsConnection c(server.port());
    c.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + std::string(9 * 1024, 'a') +
            "\r\n\r\n");
    std::string head = c.read_until("\r\n\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 431", 0), 0u) << head;
    // Headers just under the limit are fine.
    TlsConnection ok(server.port());
    ok.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + std::string(7 * 1024, 'a') +
             "\r\n\r\n");
    EXPECT_EQ(ok.read_until("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

// A client that sends a whole multi-megabyte frame before reading must read close 1009, not
// a reset: the server discards the rest of the declared frame before closing the socket.
TEST(ServerProcess, AMultiMegabyteFrameIsAnsweredWithClose1009NotAReset) {
    TempDir dir;
    ServerProcess server(dir.path);
    for (int attempt = 0; attempt < 4; ++attempt) {
        WebSocket ws(server.port());
        ASSERT_TRUE(ws.upgraded());
        try {
            ws.send(std::string(6 * 1024 * 1024, 'x'));
            EXPECT_EQ(ws.close_code(), 1009) << "attempt " << attempt;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "attempt " << attempt << ": " << e.what();
        }
    }
}

}  // namespace
}  // namespace ariadne::gateway::test
