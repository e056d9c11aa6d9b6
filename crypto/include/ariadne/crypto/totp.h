// Time-based one-time passwords (RFC 6238 TOTP over RFC 4226 HOTP): the caseworker's second
// factor. HMAC-SHA1, 30-second steps counted from the Unix epoch, 6 digits by default
// (8 supported), which is what every authenticator app expects.
// All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

inline constexpr std::uint64_t kTotpStepSeconds = 30;

/// A fresh 20-byte (160-bit, RFC 4226's recommended length) random TOTP secret.
/// Throws Error(internal) if the random generator fails.
SecretBytes generate_totp_secret();

/// RFC 4648 base32 (upper-case alphabet A-Z2-7) without '=' padding, as authenticator apps
/// expect in otpauth URIs.
std::string base32_encode(ByteView data);

/// Strict inverse of base32_encode; lower-case letters are accepted. Throws
/// Error(invalid_argument) on padding, whitespace, any other character, an impossible length
/// or non-zero trailing bits.
Bytes base32_decode(std::string_view text);

/// The TOTP code of `secret` at `unix_time` (seconds), zero-padded to `digits` (6 or 8).
/// Throws Error(invalid_argument) if `secret` is empty or `digits` is not 6 or 8.
std::string totp_code(ByteView secret, std::uint64_t unix_time, int digits = 6);

/// Checks `code` against the steps within `window` steps (0..10) either side of the step of
/// `unix_time` (tolerates clock drift). Returns the matching time step, or nullopt if none
/// matches. The caller must remember the last accepted step per account and refuse a step
/// that is not greater (a replayed code). All candidate steps are computed and compared in
/// constant time. Throws Error(invalid_argument) if `code` is not exactly `digits` ASCII
/// digits, `digits` is not 6 or 8, `window` > 10 or `secret` is empty.
std::optional<std::uint64_t> verify_totp(ByteView secret, std::string_view code,
                                         std::uint64_t unix_time, unsigned window = 1,
                                         int digits = 6);

/// The Key URI that authenticator apps import (usually as a QR code):
///   otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1
///   &digits=6&period=30
/// with issuer and account percent-encoded (RFC 3986). `account_label` must be an opaque
/// label (e.g. a staff code), never a person's name: the URI ends up on a phone.
/// The URI contains the secret: treat it like the secret. Throws Error(invalid_argument)
/// if issuer or label is empty, longer than 64 bytes or contains ':'.
std::string otpauth_uri(std::string_view issuer, std::string_view account_label, ByteView secret);

}  // namespace ariadne::crypto
