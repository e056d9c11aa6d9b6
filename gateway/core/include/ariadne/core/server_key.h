// ServerKey: the gateway's own secret, 32 random bytes in `<data dir>/server.key` (mode 0600).
// It seals what the gateway must read back later and nobody else may read at rest: caseworkers'
// TOTP secrets, SMS addresses, handover notes, the edge's pending messages and page history.
// It also keys MACs (references to sealed addresses, the audit key, duress phrase digests).
// A stolen database without the key file reveals none of them.
//
// Sealing is crypto/aead.h's AES-256-GCM in its versioned format, with the caller's `context`
// as the associated data; values written by releases before that format (unversioned) still
// open. Errors are GatewayError, this layer's type.
//
// Thread-safety: immutable after construction, so safe to share across threads. Copyable; each
// copy holds the key in memory that is wiped on destruction.
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

    /// Seals `plaintext`; `context` is bound as associated data (e.g. "address:<ref>", an
    /// account id), so a sealed value moved to another row or purpose does not open.
    /// Throws GatewayError(internal) if OpenSSL fails.
    crypto::Bytes seal(std::string_view context, crypto::ByteView plaintext) const;

    /// Inverse of seal; also opens values sealed by earlier releases. Throws
    /// GatewayError(internal, "Sealing failed: the sealed value is too short.") for a
    /// truncated value, and GatewayError(internal, "Sealing failed: the sealed value does not
    /// open (tampered, moved or another key).") if it was altered, sealed for another context,
    /// or sealed under another key.
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
