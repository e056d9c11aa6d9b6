// The gateway's own sealing key: 32 random bytes in `<data dir>/server.key` (mode 0600),
// used to seal secrets the gateway must be able to read back later (caseworkers' TOTP
// secrets) with AES-256-GCM. A stolen database without the key file reveals none of them.
// Thread-safe after construction (the key is immutable).
#pragma once

#include <filesystem>
#include <string_view>

#include "ariadne/crypto/bytes.h"

namespace ariadne::gateway {

class ServerKey {
  public:
    /// Loads the key file, creating it (0600, exclusive create) if it does not exist.
    /// Throws GatewayError(io) if it cannot be read or created or has the wrong size.
    static ServerKey load_or_create(const std::filesystem::path& data_dir);

    /// nonce(12) || ciphertext || tag(16). `context` is bound as associated data (e.g. the
    /// account id), so a sealed value moved to another row does not open.
    /// Throws GatewayError(internal) if OpenSSL fails.
    crypto::Bytes seal(std::string_view context, crypto::ByteView plaintext) const;

    /// Inverse of seal. Throws GatewayError(internal) if the value was tampered with, moved
    /// to another context, or sealed under another key.
    crypto::SecretBytes open(std::string_view context, crypto::ByteView sealed) const;

    /// HMAC-SHA256 under a key derived from the server key and `context` (deterministic:
    /// the same input gives the same 32 bytes). For keyed references to sealed addresses,
    /// so a stolen database cannot be searched for a phone number without the key file.
    /// Throws GatewayError(internal) if OpenSSL fails.
    crypto::Bytes mac(std::string_view context, crypto::ByteView data) const;
    /// A key from raw bytes (tests). Throws GatewayError(internal) unless 32 bytes.
    explicit ServerKey(crypto::SecretBytes key);

  private:
    crypto::SecretBytes key_;
};

}  // namespace ariadne::gateway
