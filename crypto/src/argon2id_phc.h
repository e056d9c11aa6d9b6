// Internal: Argon2id through libargon2 and the PHC string format shared by passwords
// (password.cpp) and recovery codes (recovery.cpp). Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto::detail {

struct Argon2idCost {
    std::uint32_t t_cost;       // passes over memory
    std::uint32_t m_kib;        // memory in KiB
    std::uint32_t parallelism;  // lanes
};

// Bounds accepted anywhere (generation and parsing). Parsing an attacker-modified record
// must not make us allocate unbounded memory or spin for hours.
inline constexpr std::uint32_t kMaxTCost = 64;
inline constexpr std::uint32_t kMaxMKib = 4u * 1024 * 1024;  // 4 GiB
inline constexpr std::uint32_t kMaxParallelism = 16;
// 8 is the PHC format's minimum (accepted when reading); we generate 16-byte salts.
inline constexpr std::size_t kMinSaltLength = 8;
inline constexpr std::size_t kGeneratedSaltLength = 16;
inline constexpr std::size_t kMaxSaltLength = 64;
inline constexpr std::size_t kMinHashLength = 16;
inline constexpr std::size_t kMaxHashLength = 64;

// Throws Error(invalid_argument) naming the parameter that is out of bounds.
void check_cost(const Argon2idCost& cost);

// Argon2id v0x13 of `secret` under `salt`. Throws Error(invalid_argument) on bad parameters,
// Error(internal) if libargon2 fails (e.g. memory allocation).
SecretBytes argon2id(ByteView secret, ByteView salt, const Argon2idCost& cost,
                     std::size_t out_length);

// "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>" (+ "$<hash>" when `hash` is non-empty), with
// standard base64 without padding, as in the PHC string format.
std::string phc_encode(const Argon2idCost& cost, ByteView salt, ByteView hash);

struct PhcRecord {
    Argon2idCost cost;
    Bytes salt;
    Bytes hash;  // empty when the record carries parameters only
};

// Strict inverse of phc_encode: exactly that field order, decimal numbers without leading
// zeros or signs, canonical unpadded base64, bounds checked. `with_hash` says whether the
// hash field must be present (true) or absent (false). `what` names the record in errors
// ("password hash", "recovery parameters"). Throws Error(invalid_argument).
PhcRecord phc_decode(std::string_view text, bool with_hash, const char* what);

}  // namespace ariadne::crypto::detail
