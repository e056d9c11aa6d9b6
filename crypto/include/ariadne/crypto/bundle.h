// Pre-key bundles and upload sets: the public key material a device publishes so others can
// start Signal sessions with it, in the JSON formats documented in docs/crypto.md.
//
// All binary fields are standard base64 with padding. Public keys are 33 bytes (0x05 type
// byte + X25519), signatures 64 bytes (XEdDSA by the identity key over the 33-byte signed
// pre-key). Parsing never trusts its input: every failure is Error(invalid_bundle) naming the
// field, and garbage never crashes. All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

/// A one-time (or last-resort, id 0xFFFFFF) pre-key's public half.
struct PublicPreKey {
    std::uint32_t id = 0;  // 1..0xFFFFFF
    Bytes public_key;      // 33 bytes
    bool operator==(const PublicPreKey&) const = default;
};

/// The current signed pre-key's public half and its signature by the identity key.
struct SignedPublicPreKey {
    std::uint32_t id = 0;  // 0..0xFFFFFF
    Bytes public_key;      // 33 bytes
    Bytes signature;       // 64 bytes
    bool operator==(const SignedPublicPreKey&) const = default;
};

/// What a sender needs to start a session with one device (served by the key directory).
struct PreKeyBundle {
    std::uint32_t registration_id = 0;
    std::int32_t device_id = 1;  // >= 1
    Bytes identity_key;          // 33 bytes
    SignedPublicPreKey signed_pre_key;
    std::optional<PublicPreKey> pre_key;  // absent when the directory has none left
    bool operator==(const PreKeyBundle&) const = default;
};

/// What a device uploads to the gateway's key directory: its identity, current signed
/// pre-key, a batch of one-time pre-keys and the last-resort pre-key.
struct UploadSet {
    std::uint32_t registration_id = 0;
    std::int32_t device_id = 1;
    Bytes identity_key;
    SignedPublicPreKey signed_pre_key;
    std::vector<PublicPreKey> pre_keys;  // one-time keys, ids != 0xFFFFFF, at most 1000
    PublicPreKey last_resort_pre_key;    // id 0xFFFFFF
    bool operator==(const UploadSet&) const = default;
};

/// Largest batch of one-time pre-keys accepted in one upload set.
inline constexpr std::size_t kMaxPreKeysPerUpload = 1000;

/// True iff `signature` is a valid XEdDSA signature by `identity_key` over the serialized
/// `public_key` (both 33 bytes). Malformed keys or signatures give false, never throw.
bool verify_signed_pre_key(ByteView identity_key, ByteView public_key, ByteView signature);

/// Parses and validates a bundle: JSON shape, ranges, key lengths and type bytes, and the
/// signed pre-key signature. Throws Error(invalid_bundle) naming the first bad field.
PreKeyBundle parse_bundle(std::string_view json);
/// Serialises a bundle to compact JSON (fields in the documented order).
std::string to_json(const PreKeyBundle& bundle);

/// Parses and validates an upload set like parse_bundle (signature included; pre-key ids
/// unique). Throws Error(invalid_bundle) naming the first bad field.
UploadSet parse_upload_set(std::string_view json);
std::string to_json(const UploadSet& upload);

}  // namespace ariadne::crypto
