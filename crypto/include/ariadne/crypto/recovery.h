// Survivor recovery codes. At enrolment a survivor receives one code; years later, on a new
// phone, the code alone gives back her login and her Signal identity:
//
//   master        = Argon2id(normalised code, deployment salt, t, m, p) -> 32 bytes
//   auth_key      = HKDF-SHA256(master, info "ariadne/v1/auth")      -> login key pair
//   identity_seed = HKDF-SHA256(master, info "ariadne/v1/identity")  -> Signal identity
//   locator       = HKDF-SHA256(master, info "ariadne/v1/locator")   -> finds her record
//   verifier      = HKDF-SHA256(master, info "ariadne/v1/verifier")  -> checks the code
//
// The gateway keeps only StoredRecovery {params, locator, verifier, auth public key}: never
// the code, never master, auth_key or identity_seed. The salt and Argon2id parameters are
// per deployment and public (she cannot say who she is before logging in); see
// docs/crypto.md "Recovery codes" for the threat model and the offline-attack cost.
//
// Code formats (entropy is what an attacker must search):
//   digits (default): 16 random decimal digits, 53.1 bits, shown as "07612 345 6789 0123"
//                     (5-3-4-4, like a landline number with extension, so it can be saved
//                     as a contact; it is deliberately not 4-4-4-4, which reads as a card
//                     number). Any grouping is accepted when typed back.
//   words:            8 words from a built-in list of 256 short English words, 64 bits,
//                     e.g. "maple otter pencil river swan lemon cabin tulip". The first three
//                     letters of every word are unique, so an app can complete words.
//
// All functions are thread-safe (no shared state). Derivation costs one Argon2id run with the
// given parameters (~0.1-0.5 s and m_kib of memory at the defaults): keep it off event loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

enum class RecoveryFormat { digits, words };

inline constexpr std::size_t kRecoveryCodeDigits = 16;
inline constexpr std::size_t kRecoveryCodeWords = 8;
inline constexpr std::size_t kRecoveryWordListSize = 256;
inline constexpr std::size_t kLoginSignatureLength = 64;  // XEdDSA signature
inline constexpr std::size_t kAuthPublicKeyLength = 33;   // 0x05 || X25519 public key

/// A fresh random recovery code in display form (digits grouped 5-3-4-4, or words separated
/// by single spaces). The caller shows it once and must not store or log it.
/// Throws Error(internal) if the random generator fails.
std::string generate_recovery_code(RecoveryFormat format = RecoveryFormat::digits);

/// The canonical form that derivation hashes: 16 digits without separators, or 8 lower-case
/// list words separated by single spaces. Accepts what people type: for digits, spaces, tabs
/// and - . + ( ) / anywhere; for words, any case and spaces, tabs, newlines, '-', ',', '.'
/// between words. Throws Error(invalid_argument) with a sentence for the person typing
/// ("a recovery code has 16 digits", "a recovery code has 8 words", "word 3 of the recovery
/// code is not in the word list", letters mixed with digits, other characters, empty).
/// The message never repeats any part of the code.
std::string normalize_recovery_code(std::string_view text);

/// The display form of a code (accepts anything normalize_recovery_code accepts).
/// Throws like normalize_recovery_code.
std::string format_recovery_code(std::string_view text);

/// The 256 words of the words format, sorted; for autocompletion in clients.
std::span<const std::string_view> recovery_word_list() noexcept;

/// Argon2id cost and salt for deriving recovery secrets. Defaults: t=3, m=64 MiB, p=1
/// (a recovery code protects keys against offline attack, so it costs more than a login
/// password). One set per deployment, published to clients; see docs/crypto.md.
struct RecoveryParams {
    std::uint32_t t_cost = 3;         // passes, 1..64
    std::uint32_t m_kib = 64 * 1024;  // memory in KiB, 8*p .. 4 GiB
    std::uint32_t parallelism = 1;    // lanes, 1..16
    Bytes salt;                       // 16..64 bytes; new_recovery_params makes 16 random
};

/// Default cost with a fresh 16-byte random salt. Throws Error(internal) if randomness fails.
RecoveryParams new_recovery_params();

/// Text form for storage and publication:
///   $argon2id$v=19$m=65536,t=3,p=1$<salt, unpadded base64>
/// Throws Error(invalid_argument) if a parameter or the salt length is out of bounds.
std::string serialize_recovery_params(const RecoveryParams& params);

/// Strict inverse of serialize_recovery_params. Throws Error(invalid_argument) on any other
/// text (other algorithm or version, field order, bounds, padding, trailing characters).
RecoveryParams parse_recovery_params(std::string_view text);

/// Everything derived from one code. Secret fields are wiped on destruction.
struct RecoverySecrets {
    SecretBytes master;         // 32 bytes, Argon2id output; only input to the HKDFs below
    SecretBytes auth_key;       // 32 bytes, private key of the login key pair (clamped X25519)
    SecretBytes identity_seed;  // 32 bytes, seed of her deterministic Signal identity
    Bytes locator;              // 32 bytes, sent at login so the gateway can find her record
    Bytes verifier;             // 32 bytes, lets the gateway check a code it is given
    Bytes auth_public_key;      // 33 bytes, the login public key the gateway stores
};

/// Derives all secrets of `code` (normalised first) under `params`. Deterministic: the same
/// code and params give the same secrets on any device. Throws Error(invalid_argument) for a
/// malformed code or out-of-bounds params, Error(internal) if Argon2id or libsignal fails.
RecoverySecrets derive_recovery_secrets(std::string_view code, const RecoveryParams& params);

/// What the gateway stores for one code (a duress code is simply a second record).
/// None of it reveals the code except by guessing at one Argon2id run per guess.
struct StoredRecovery {
    RecoveryParams params;
    Bytes locator;          // 32 bytes; index it to find the record at login
    Bytes verifier;         // 32 bytes; never sent over the network
    Bytes auth_public_key;  // 33 bytes; checks login signatures
};

/// Derives the record to store at enrolment. Throws like derive_recovery_secrets.
StoredRecovery make_recovery_verifier(std::string_view code, const RecoveryParams& params);

/// True if `code` is the code `stored` was made from (re-derives with stored.params and
/// compares locator and verifier in constant time). Throws Error(invalid_argument) for a
/// malformed code or stored record, Error(internal) if Argon2id fails.
bool verify_recovery_code(std::string_view code, const StoredRecovery& stored);

/// Signs a gateway login challenge with the recovery auth key:
///   signature = XEdDSA(auth_key, "ariadne-auth-v1" || challenge)   (64 bytes)
/// The gateway sends a fresh random challenge (16..1024 bytes) per attempt and verifies the
/// signature with the stored auth public key, so it never learns anything that logs in.
/// Throws Error(invalid_argument) if auth_key is not 32 bytes or the challenge length is out
/// of range, Error(internal) if libsignal fails.
Bytes sign_login_challenge(const SecretBytes& auth_key, ByteView challenge);

/// The 33-byte public key of a login key (her recovery auth key, or an installation key an
/// app generates once from 32 random bytes), clamped as for signing. Throws
/// Error(invalid_argument) if `private_key` is not 32 bytes, Error(internal) if libsignal fails.
Bytes login_public_key(const SecretBytes& private_key);

/// True if `signature` is auth_public_key's signature of "ariadne-auth-v1" || challenge.
/// A signature of the wrong length is simply false. Throws Error(invalid_argument) if the
/// public key is not a 33-byte Signal curve25519 key or the challenge length is out of range.
bool verify_login_signature(ByteView auth_public_key, ByteView challenge, ByteView signature);

}  // namespace ariadne::crypto
