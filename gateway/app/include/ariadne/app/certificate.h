// The development TLS certificate `ariadne serve` makes on first run, and fingerprints.
// Thread-safe (no shared state; OpenSSL 3 EVP APIs).
#pragma once

#include <filesystem>
#include <string>

namespace ariadne::gateway {

/// Writes a new self-signed certificate (ECDSA P-256, SHA-256, CN=localhost, SAN
/// DNS:localhost and IP:127.0.0.1, valid 397 days) to `cert_path` and its private key to
/// `key_path` (created with mode 0600). Throws GatewayError(io) if a file cannot be
/// written, GatewayError(internal) if OpenSSL fails.
void generate_dev_certificate(const std::filesystem::path& cert_path,
                              const std::filesystem::path& key_path);

/// SHA-256 of the DER form of the (first) certificate in a PEM file, as upper-case hex
/// pairs separated by ':' ("AB:CD:..."), the form browsers and `openssl x509 -fingerprint`
/// show. Throws GatewayError(io) if the file cannot be read or holds no certificate.
std::string certificate_sha256_fingerprint(const std::filesystem::path& cert_path);

/// SHA-256 of the DER SubjectPublicKeyInfo of that certificate, in the same form: what
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum` computes. It
/// stays the same across renewals that keep the key (certbot --reuse-key), so consoles
/// pinned to it keep working when the certificate changes.
std::string public_key_sha256_fingerprint(const std::filesystem::path& cert_path);

}  // namespace ariadne::gateway
