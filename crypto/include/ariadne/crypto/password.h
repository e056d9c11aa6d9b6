// Caseworker and administrator login passwords, hashed with Argon2id (RFC 9106) and stored as
// a self-describing PHC string:
//     $argon2id$v=19$m=19456,t=2,p=1$<salt, base64 unpadded>$<hash, base64 unpadded>
// The string carries algorithm, version (0x13), cost, salt and (through its length) the hash
// length, so parameters can be raised later without invalidating stored hashes.
// All functions are thread-safe (no shared state). Hashing takes ~tens of milliseconds and
// `m_kib` KiB of memory by design: call it off any latency-sensitive thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ariadne::crypto {

/// Passwords longer than this are refused (a login form never needs more; it bounds work).
inline constexpr std::size_t kMaxPasswordBytes = 1024;

/// Argon2id cost. Defaults are the OWASP minimum for login passwords (m=19 MiB, t=2, p=1).
struct PasswordParams {
    std::uint32_t t_cost = 2;         // passes over memory, 1..64
    std::uint32_t m_kib = 19 * 1024;  // memory in KiB, 8*p .. 4 GiB
    std::uint32_t parallelism = 1;    // lanes, 1..16
    std::size_t salt_length = 16;     // random salt bytes, 16..64 (8..64 accepted when verifying)
    std::size_t hash_length = 32;     // output bytes, 16..64
};

/// Hashes `password` (any bytes, typically UTF-8) with a fresh random salt and returns the
/// PHC string to store. Throws Error(invalid_argument) if the password is empty, longer than
/// kMaxPasswordBytes, or a parameter is out of bounds; Error(internal) if Argon2id fails.
std::string hash_password(std::string_view password, const PasswordParams& params = {});

/// True if `password` matches `encoded` (a string from hash_password). The parameters are
/// read from `encoded`; the comparison is constant-time. Throws Error(invalid_argument) if
/// `encoded` is not a well-formed, in-bounds $argon2id$v=19$ string (it is refused, never
/// guessed at) or the password is empty or too long; Error(internal) if Argon2id fails.
bool verify_password(std::string_view password, std::string_view encoded);

/// True if `encoded` was made with parameters other than `params` (cost, salt or hash
/// length), so the caller should re-hash the password after a successful login.
/// Throws Error(invalid_argument) if `encoded` is malformed.
bool password_needs_rehash(std::string_view encoded, const PasswordParams& params = {});

}  // namespace ariadne::crypto
