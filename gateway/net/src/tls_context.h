// The server's TLS configuration (protocols, ciphers, no resumption) over one certificate
// chain and key, loaded from PEM files into an SSL_CTX. A connection's SSL holds a reference
// to the SSL_CTX it was made from, so a context replaced after a reload lives on for the
// connections made before.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>

namespace ariadne::gateway::net_detail {

using TlsContext = std::shared_ptr<SSL_CTX>;

/// Whether a certificate outside its validity period is refused (`refuse`) or only logged
/// as a warning (`warn`).
enum class ExpiredCertificate { refuse, warn };

/// A server context serving `certificate_chain` with `private_key`. Throws
/// GatewayError(io) with a message naming the file and the reason when a file cannot be
/// read, holds no PEM certificate or key, the key does not match the certificate, or (with
/// ExpiredCertificate::refuse) the certificate has expired or is not valid yet.
TlsContext load_tls_context(const std::filesystem::path& certificate_chain,
                            const std::filesystem::path& private_key, ExpiredCertificate expired);

/// SHA-256 of the context's leaf certificate, upper-case hex with ':' separators.
std::string certificate_fingerprint(SSL_CTX* ctx);

}  // namespace ariadne::gateway::net_detail
