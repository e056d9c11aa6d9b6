// Sealing: the one AES-256-GCM authenticated encryption that every part of Ariadne uses to keep
// a secret at rest (the gateway's server key, the sealed client stores, the console history).
//
// Format, version 1 (`kSealVersion1`):
//     0x01 || nonce (12 random bytes) || ciphertext (as long as the plaintext) || tag (16)
// The caller's `label` is the GCM associated data: it names the purpose and the row a value
// belongs to ("address:<ref>", "ariadne-store-v1|sessions|…"), so a value copied to another
// row or used for another purpose does not open. The label is not stored in the value.
//
// Unversioned format: before version 1, the gateway's ServerKey and the console history wrote
// `nonce || ciphertext || tag` with the same key and label. open_sealed() reads it only when asked
// (Accept::versioned_or_unversioned); nothing writes it any more.
//
// Thread-safety: every function is thread-safe (no shared state; a fresh OpenSSL context per
// call, nonces from OpenSSL's thread-safe DRBG).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

inline constexpr std::uint8_t kSealVersion1 = 0x01;
inline constexpr std::size_t kSealKeyBytes = 32;
inline constexpr std::size_t kSealNonceBytes = 12;
inline constexpr std::size_t kSealTagBytes = 16;
/// Bytes a version-1 sealed value adds to its plaintext.
inline constexpr std::size_t kSealOverhead = 1 + kSealNonceBytes + kSealTagBytes;

/// Which formats open_sealed() reads.
enum class Accept {
    versioned,                 // version 1 only
    versioned_or_unversioned,  // version 1, else the unversioned format of older data
};

/// Why a sealed value did not open. Thrown by open_sealed() as a crypto::Error with code
/// corrupt_record; `reason()` lets a caller word its own message.
class OpenError : public Error {
  public:
    enum class Reason {
        too_short,        // shorter than the smallest value of any accepted format
        unknown_version,  // versioned only: the first byte names no known format
        not_authentic,    // the tag does not verify: another key, another label, or altered
    };
    OpenError(Reason reason, const std::string& message)
        : Error(ErrorCode::corrupt_record, message), reason_(reason) {}
    Reason reason() const noexcept { return reason_; }

  private:
    Reason reason_;
};

/// Seals `plaintext` under `key` (32 bytes) with `label` as associated data, in the version-1
/// format with a fresh random nonce. Throws Error(invalid_argument) if the key is not 32 bytes
/// or the plaintext or label is larger than 2 GiB; Error(internal) if OpenSSL fails. The
/// result is a new buffer owned by the caller.
Bytes seal(ByteView key, std::string_view label, ByteView plaintext);

/// Opens a value sealed by seal() (or, with Accept::versioned_or_unversioned, by the older
/// unversioned writers) under the same key and label. Throws OpenError (an Error with code
/// corrupt_record) when it does not open: too_short, unknown_version, or not_authentic —
/// the wrong key, the wrong label and an altered value are indistinguishable by design.
/// Throws Error(invalid_argument) if the key is not 32 bytes; Error(internal) if OpenSSL
/// fails. The plaintext is wiped when the result is destroyed.
SecretBytes open_sealed(ByteView key, std::string_view label, ByteView sealed,
                        Accept accept = Accept::versioned);

}  // namespace ariadne::crypto
