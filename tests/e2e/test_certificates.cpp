// The gateway's certificate on the real server: `--cert`/`--key` read again on SIGHUP while
// logged-in sessions go on (new handshakes get the new certificate, a bad pair is refused
// and the old one stays), and a public --listen address refused with the development
// certificate unless --allow-dev-certificate.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <regex>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

namespace fs = std::filesystem;

/// Writes a self-signed P-256 certificate for localhost/127.0.0.1, valid from
/// now + `from` to now + `until` (seconds), and its key.
void make_certificate(const fs::path& cert_path, const fs::path& key_path, long from = -60,
                      long until = 30L * 24 * 3600) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASSERT_TRUE(key && cert);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(::getpid()) + until);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), from);
    X509_gmtime_adj(X509_getm_notAfter(cert), until);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    ASSERT_NE(X509_sign(cert, key, EVP_sha256()), 0);
    FILE* k = std::fopen(key_path.c_str(), "w");
    FILE* c = std::fopen(cert_path.c_str(), "w");
    ASSERT_TRUE(k && c);
    PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_X509(c, cert);
    std::fclose(k);
    std::fclose(c);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/// "AB:CD:…", as `ariadne serve` prints it.
std::string sha256_fingerprint(X509* cert) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(cert, EVP_sha256(), digest, &length);
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out += ':';
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

/// Result of one TLS handshake with 127.0.0.1:port (no verification: test certificates).
struct Handshake {
    std::string fingerprint;  // SHA-256 of the certificate served, "AB:CD:..."
    std::string answer;       // the HTTP answer to `GET path`, when a path was given
};

Handshake handshake(std::uint16_t port, const std::string& path = "") {
    static SSL_CTX* ctx = [] {
        SSL_CTX* c = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
        return c;
    }();
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot connect to port " + std::to_string(port));
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    Handshake result;
    if (SSL_connect(ssl) == 1) {
        X509* cert = SSL_get1_peer_certificate(ssl);
        result.fingerprint = sha256_fingerprint(cert);
        X509_free(cert);
        if (!path.empty()) {
            std::string request =
                "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            SSL_write(ssl, request.data(), static_cast<int>(request.size()));
            char buf[16384];
            for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) result.answer.append(buf, n);
        }
    }
    SSL_free(ssl);
    ::close(fd);
    return result;
}

std::string fingerprint_of(const fs::path& cert_path) {
    FILE* f = std::fopen(cert_path.c_str(), "r");
    X509* cert = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    if (!cert) throw std::runtime_error("no certificate in " + cert_path.string());
    std::string out = sha256_fingerprint(cert);
    X509_free(cert);
    return out;
}

/// Copies `from` over `to` the way certbot's hooks do: write beside, then rename.
void replace_file(const fs::path& from, const fs::path& to) {
    fs::path tmp = to;
    tmp += ".new";
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, to);
}

/// Waits until the server log holds `needle` `count` times (10 s at most).
bool log_holds(const Gateway& gateway, const std::string& needle, std::size_t count = 1) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
        std::string log = gateway.log();
        std::size_t found = 0;
        for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) {
            ++found;
        }
        if (found >= count) return true;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

std::uint16_t metrics_port(const Gateway& gateway) {
    static const std::regex line(R"(metrics on https://127\.0\.0\.1:([0-9]+)/metrics)");
    auto found = gateway.stdout_line(line);
    if (!found) throw std::runtime_error("no metrics line on stdout");
    std::smatch m;
    std::regex_search(*found, m, line);
    return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

class Certificates : public ::testing::Test {
  protected:
    void SetUp() override {
        make_certificate(cert_, key_);
        make_certificate(dir("second-cert.pem"), dir("second-key.pem"));
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data",
            std::vector<std::string>{"--cert", cert_.string(), "--key", key_.string(),
                                     "--metrics-listen", "127.0.0.1:0"});
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    fs::path dir(const std::string& name) const { return tmp_.path() / name; }

    static std::string receive_text(client::Messenger& m) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(1000ms);
            if (msg && !msg->is_receipt) return msg->plaintext;
        }
        return {};
    }

    TempDir tmp_;
    fs::path cert_ = tmp_.path() / "cert.pem";
    fs::path key_ = tmp_.path() / "key.pem";
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(Certificates, SighupServesTheNewCertificateToNewConnectionsWhileLiveSessionsGoOn) {
    const std::string first = fingerprint_of(cert_);
    const std::string second = fingerprint_of(dir("second-cert.pem"));
    ASSERT_NE(first, second);
    EXPECT_EQ(gateway_->fingerprint(), first);
    auto console = register_console(*gateway_, cw_, dir("console"));
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "before the renewal");
    EXPECT_EQ(receive_text(*console), "before the renewal");
    const std::uint16_t metrics = metrics_port(*gateway_);
    EXPECT_EQ(handshake(gateway_->port()).fingerprint, first);
    EXPECT_EQ(handshake(metrics).fingerprint, first);

    replace_file(dir("second-cert.pem"), cert_);
    replace_file(dir("second-key.pem"), key_);
    ASSERT_EQ(::kill(gateway_->pid(), SIGHUP), 0);
    ASSERT_TRUE(log_holds(*gateway_, "certificate reloaded from " + cert_.string()));
    EXPECT_NE(gateway_->log().find("sha256 " + second), std::string::npos);

    // The sessions logged in before go on, on their connections of before, both ways.
    phone->send_text(cw_.account, "after the renewal");
    EXPECT_EQ(receive_text(*console), "after the renewal");
    console->send_text(survivor_.account, "still here");
    EXPECT_EQ(receive_text(*phone), "still here");
    EXPECT_TRUE(gateway_->running());

    // New handshakes, on both listeners, see the new certificate; a client pinned to the
    // new fingerprint connects and one pinned to the old one is refused.
    EXPECT_EQ(handshake(gateway_->port()).fingerprint, second);
    Handshake health = handshake(gateway_->port(), "/healthz");
    EXPECT_EQ(health.answer.rfind("HTTP/1.1 200", 0), 0u) << health.answer;
    Handshake scrape = handshake(metrics, "/metrics");
    EXPECT_EQ(scrape.fingerprint, second);
    EXPECT_EQ(scrape.answer.rfind("HTTP/1.1 200", 0), 0u) << scrape.answer;
    client::Endpoint pinned_new = gateway_->endpoint();
    pinned_new.fingerprint_sha256 = second;
    EXPECT_NO_THROW(client::Connection::open(pinned_new));
    EXPECT_ANY_THROW(client::Connection::open(gateway_->endpoint()));  // pinned to the first
}

TEST_F(Certificates, ABadPairOnSighupIsRefusedNamingTheFileAndTheOldCertificateStays) {
    const std::string first = fingerprint_of(cert_);
    auto console = register_console(*gateway_, cw_, dir("console"));
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    const fs::path saved_key = dir("saved-key.pem");
    fs::copy_file(key_, saved_key);
    std::size_t refusals = 0;
    auto hup_is_refused = [&](const std::string& reason) {
        ASSERT_EQ(::kill(gateway_->pid(), SIGHUP), 0);
        ++refusals;
        ASSERT_TRUE(log_holds(*gateway_, "certificate reload refused", refusals));
        EXPECT_NE(gateway_->log().find(reason), std::string::npos) << reason;
        EXPECT_EQ(handshake(gateway_->port()).fingerprint, first);
        EXPECT_TRUE(gateway_->running());
    };

    // The key of another certificate.
    replace_file(dir("second-key.pem"), key_);
    hup_is_refused("The TLS key " + key_.string() + " does not match the certificate " +
                   cert_.string());
    // A key file that is gone (renewal half done).
    fs::remove(key_);
    hup_is_refused("The TLS key " + key_.string() + " cannot be read");
    // Not PEM at all.
    std::ofstream(key_) << "not a key\n";
    hup_is_refused("The TLS key " + key_.string() + " holds no PEM private key");
    // An expired certificate with its own key.
    make_certificate(dir("old-cert.pem"), dir("old-key.pem"), -400L * 24 * 3600, -24L * 3600);
    replace_file(dir("old-cert.pem"), cert_);
    replace_file(dir("old-key.pem"), key_);
    hup_is_refused("The TLS certificate " + cert_.string() + " expired on ");

    // Through all that the live session kept working, and a good pair is taken again.
    phone->send_text(cw_.account, "still on the first certificate");
    EXPECT_EQ(receive_text(*console), "still on the first certificate");
    replace_file(dir("second-cert.pem"), cert_);
    replace_file(dir("second-key.pem"), key_);
    ASSERT_EQ(::kill(gateway_->pid(), SIGHUP), 0);
    ASSERT_TRUE(log_holds(*gateway_, "certificate reloaded from"));
    EXPECT_EQ(handshake(gateway_->port()).fingerprint, fingerprint_of(dir("second-cert.pem")));
}

/// A new certificate for the key in `key_path` (a renewal that keeps the key, as certbot
/// --reuse-key does), valid from now.
void renew_certificate(const fs::path& key_path, const fs::path& cert_path) {
    FILE* k = std::fopen(key_path.c_str(), "r");
    ASSERT_TRUE(k);
    EVP_PKEY* key = PEM_read_PrivateKey(k, nullptr, nullptr, nullptr);
    std::fclose(k);
    X509* cert = X509_new();
    ASSERT_TRUE(key && cert);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -30);
    X509_gmtime_adj(X509_getm_notAfter(cert), 90L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    ASSERT_NE(X509_sign(cert, key, EVP_sha256()), 0);
    FILE* c = std::fopen(cert_path.c_str(), "w");
    ASSERT_TRUE(c);
    PEM_write_X509(c, cert);
    std::fclose(c);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/// SHA-256 of the certificate's DER SubjectPublicKeyInfo, "AB:CD:…".
std::string public_key_fingerprint_of(const fs::path& cert_path) {
    FILE* f = std::fopen(cert_path.c_str(), "r");
    X509* cert = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    if (!cert) throw std::runtime_error("no certificate in " + cert_path.string());
    unsigned char* der = nullptr;
    int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(der, static_cast<std::size_t>(size), digest, &length, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    X509_free(cert);
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out += ':';
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// A certbot renewal changes the certificate every 60-90 days: a console pinned to the
// certificate would then refuse its gateway. Pinned to the public key it goes on, as long as
// the renewal keeps the key; a certificate on another key is still refused.
TEST_F(Certificates, AClientPinnedToThePublicKeyConnectsAcrossARenewalThatKeepsTheKey) {
    const std::string key_pin = public_key_fingerprint_of(cert_);
    const std::string first = fingerprint_of(cert_);
    ASSERT_NE(key_pin, first);
    auto printed = gateway_->stdout_line(std::regex("public key sha256 " + key_pin));
    EXPECT_TRUE(printed) << "ariadne serve prints the public key fingerprint to pin";

    client::Endpoint pinned_key = gateway_->endpoint();
    pinned_key.fingerprint_sha256 = key_pin;
    EXPECT_NO_THROW(client::Connection::open(pinned_key));

    renew_certificate(key_, dir("renewed-cert.pem"));
    const std::string renewed = fingerprint_of(dir("renewed-cert.pem"));
    ASSERT_NE(renewed, first);
    ASSERT_EQ(public_key_fingerprint_of(dir("renewed-cert.pem")), key_pin);
    replace_file(dir("renewed-cert.pem"), cert_);
    ASSERT_EQ(::kill(gateway_->pid(), SIGHUP), 0);
    ASSERT_TRUE(log_holds(*gateway_, "certificate reloaded from " + cert_.string()));
    ASSERT_EQ(handshake(gateway_->port()).fingerprint, renewed);

    EXPECT_NO_THROW(client::Connection::open(pinned_key)) << "the key pin outlives the renewal";
    EXPECT_ANY_THROW(client::Connection::open(gateway_->endpoint()))
        << "a pin of the old certificate does not";

    // A certificate on another key: refused under the key pin.
    replace_file(dir("second-cert.pem"), cert_);
    replace_file(dir("second-key.pem"), key_);
    ASSERT_EQ(::kill(gateway_->pid(), SIGHUP), 0);
    ASSERT_TRUE(log_holds(*gateway_, "certificate reloaded from " + cert_.string(), 2));
    ASSERT_EQ(handshake(gateway_->port()).fingerprint, fingerprint_of(dir("second-cert.pem")));
    EXPECT_ANY_THROW(client::Connection::open(pinned_key));
}

// At start an expired certificate does not keep the gateway down (a renewal that failed
// over a holiday): it serves, and the log says why clients refuse it.
TEST(ExpiredCertificate, AtStartItIsServedWithAWarningNamingTheFile) {
    TempDir tmp;
    make_certificate(tmp.path() / "cert.pem", tmp.path() / "key.pem", -400L * 24 * 3600, -3600);
    Gateway gateway(tmp.path() / "data",
                    {"--cert", (tmp.path() / "cert.pem").string(), "--key",
                     (tmp.path() / "key.pem").string(), "--metrics-listen", "off"});
    gateway.start();
    EXPECT_EQ(handshake(gateway.port()).fingerprint, fingerprint_of(tmp.path() / "cert.pem"));
    EXPECT_NE(gateway.log().find("[warning] the TLS certificate " +
                                 (tmp.path() / "cert.pem").string() + " expired on "),
              std::string::npos)
        << gateway.log();
}

// ---- the development certificate on a public address ------------------------------------

ProcessResult serve_briefly(const fs::path& data, std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        server_binary(),    "serve", "--data-dir",       data.string(), "--insecure-test-params",
        "--recovery-m-kib", "8192",  "--metrics-listen", "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", 30s);
}

TEST(DevCertificate, APublicListenAddressWithoutACertificateIsRefusedNamingBothWaysOut) {
    TempDir tmp;
    for (std::string listen : {"0.0.0.0:0", "[::]:0", "192.0.2.10:8443", "[2001:db8::1]:443"}) {
        auto r = serve_briefly(tmp.path() / "data", {"--listen", listen});
        EXPECT_EQ(r.exit_code, 2) << listen << "\n" << r.err;
        EXPECT_NE(r.err.find("--listen " + listen), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("--cert FILE --key FILE"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("--allow-dev-certificate"), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("listening"), std::string::npos);
    }
    // Nothing was generated or created: refused before anything starts.
    EXPECT_FALSE(fs::exists(tmp.path() / "data" / "tls-cert.pem"));

    // The same from the configuration file.
    std::ofstream(tmp.path() / "ariadne.conf") << "listen = 0.0.0.0:8443\n";
    auto r =
        serve_briefly(tmp.path() / "data", {"--config", (tmp.path() / "ariadne.conf").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--allow-dev-certificate"), std::string::npos) << r.err;
}

TEST(DevCertificate, APublicAddressIsServedWithARealCertificateOrWhenAllowed) {
    TempDir tmp;
    {
        Gateway allowed(tmp.path() / "allowed", {"--listen", "0.0.0.0:0", "--allow-dev-certificate",
                                                 "--metrics-listen", "off"});
        allowed.start();
        EXPECT_EQ(handshake(allowed.port()).fingerprint,
                  fingerprint_of(tmp.path() / "allowed" / "tls-cert.pem"));
    }
    {
        std::ofstream(tmp.path() / "allow.conf")
            << "allow-dev-certificate = true\nmetrics-listen = off\n";
        Gateway from_file(tmp.path() / "from-file", {"--listen", "0.0.0.0:0", "--config",
                                                     (tmp.path() / "allow.conf").string()});
        from_file.start();
        EXPECT_FALSE(handshake(from_file.port()).fingerprint.empty());
    }
    make_certificate(tmp.path() / "cert.pem", tmp.path() / "key.pem");
    Gateway real(tmp.path() / "real",
                 {"--listen", "0.0.0.0:0", "--cert", (tmp.path() / "cert.pem").string(), "--key",
                  (tmp.path() / "key.pem").string(), "--metrics-listen", "off"});
    real.start();
    EXPECT_EQ(handshake(real.port()).fingerprint, fingerprint_of(tmp.path() / "cert.pem"));
}

}  // namespace
}  // namespace ariadne::e2e
