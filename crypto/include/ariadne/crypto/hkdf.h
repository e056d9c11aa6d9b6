// HKDF-SHA256 (RFC 5869): turns one uniformly random secret into several independent keys,
// one per purpose, by giving each purpose its own `info` string.
// Thread-safe (no shared state; OpenSSL's EVP_KDF is fetched per call).
#pragma once

#include <cstddef>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

/// Largest output HKDF-SHA256 can produce: 255 blocks of 32 bytes.
inline constexpr std::size_t kHkdfSha256MaxLength = 255 * 32;

/// HKDF-SHA256 extract-then-expand of `input_key_material` with `salt` (may be empty: RFC 5869
/// then uses 32 zero bytes) and `info` (may be empty), producing `length` bytes.
/// Throws Error(invalid_argument) if `input_key_material` is empty or `length` is 0 or larger
/// than kHkdfSha256MaxLength; Error(internal) if OpenSSL fails. The result is wiped on
/// destruction.
SecretBytes hkdf_sha256(ByteView input_key_material, ByteView salt, ByteView info,
                        std::size_t length);

}  // namespace ariadne::crypto
