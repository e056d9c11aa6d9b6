#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>

#include "ariadne/protocol/error.h"

namespace ariadne::gateway::net_detail {

namespace {

[[noreturn]] void refuse(const std::string& message) {
    ERR_clear_error();
    throw GatewayError(GatewayErrorCode::io, message);
}

void check_readable(const char* what, const std::filesystem::path& path) {
    if (::access(path.c_str(), R_OK) != 0) {
        refuse("The TLS " + std::string(what) + " " + path.string() +
               " cannot be read: " + std::strerror(errno) + ".");
    }
}

std::string asn1_time_text(const ASN1_TIME* t) {
    tm when{};
    if (ASN1_TIME_to_tm(t, &when) != 1) return "?";
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &when);
    return text;
}

}  // namespace

TlsContext load_tls_context(const std::filesystem::path& certificate_chain,
                            const std::filesystem::path& private_key, ExpiredCertificate expired) {
    check_readable("certificate", certificate_chain);
    check_readable("key", private_key);
    TlsContext tls(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!tls) throw std::bad_alloc();
    SSL_CTX* ctx = tls.get();
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                                 SSL_OP_NO_TLSv1_1 | SSL_OP_SINGLE_DH_USE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are all AEAD).
    SSL_CTX_set_cipher_list(ctx,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    // OpenSSL frees a connection's record buffers while it is idle (~34 KB otherwise);
    // writes resume from a moved buffer (TlsCore::flush appends behind them).
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // One read takes whatever the socket holds (fewer recv calls under load).
    SSL_CTX_set_read_ahead(ctx, 1);
    // No resumption: clients reconnect rarely, and a session cache or tickets cost
    // memory per connection and CPU per handshake.
    // num_tickets covers TLS 1.3 only; SSL_OP_NO_TICKET turns off TLS 1.2 tickets.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

    // The key first: loaded after the certificate, a key that does not match it would be
    // refused as if it were no key at all.
    ERR_clear_error();
    if (SSL_CTX_use_PrivateKey_file(ctx, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        refuse("The TLS key " + private_key.string() +
               " holds no PEM private key (or one protected by a passphrase).");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate_chain.c_str()) != 1) {
        refuse("The TLS certificate " + certificate_chain.string() +
               " holds no PEM certificate chain.");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        refuse("The TLS key " + private_key.string() + " does not match the certificate " +
               certificate_chain.string() + ".");
    }
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    std::string problem;
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
        problem = "expired on " + asn1_time_text(X509_get0_notAfter(leaf));
    } else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
        problem = "is not valid before " + asn1_time_text(X509_get0_notBefore(leaf));
    }
    if (!problem.empty()) {
        if (expired == ExpiredCertificate::refuse) {
            refuse("The TLS certificate " + certificate_chain.string() + " " + problem + ".");
        }
        spdlog::warn("the TLS certificate {} {}; clients will refuse it",
                     certificate_chain.string(), problem);
    }
    return tls;
}

std::string certificate_fingerprint(SSL_CTX* ctx) {
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (leaf == nullptr || X509_digest(leaf, EVP_sha256(), digest, &length) != 1) return "?";
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out += ':';
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

}  // namespace ariadne::gateway::net_detail
