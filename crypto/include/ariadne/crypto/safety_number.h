// Safety numbers: libsignal's numeric fingerprint (5200 iterations of SHA-512 per side), the
// 60 digits two people compare out of band to know no one sits between them. Both sides
// compute the same digits. Thread-safe (each call uses its own libsignal context).
#pragma once

#include <string>
#include <string_view>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

/// Iterations used by Signal clients; every party must use the same value.
inline constexpr int kSafetyNumberIterations = 5200;

/// The safety number between a local identity (stable identifier `local_id`, e.g. an account
/// name both sides agree on, and its 33-byte key) and a remote one, as 12 groups of 5 digits
/// separated by single spaces. Throws Error(invalid_argument) for malformed keys or empty ids.
std::string safety_number(std::string_view local_id, ByteView local_identity_key,
                          std::string_view remote_id, ByteView remote_identity_key);

/// Groups 60 digits as "12345 67890 ...". Throws Error(invalid_argument) for anything else.
std::string format_safety_number(std::string_view digits);

/// True iff both texts hold the same 60 digits (spaces ignored; anything else, or another
/// count of digits, gives false). Constant time in the digits.
bool safety_numbers_match(std::string_view a, std::string_view b);

}  // namespace ariadne::crypto
