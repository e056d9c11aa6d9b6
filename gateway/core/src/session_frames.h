// What every part of the Session answers with: error frames and the checks of public keys
// and login signatures that more than one request makes. Private to the core's session
// translation units.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/bundle.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway::session_detail {

inline std::string error_frame(std::int64_t id, ErrorCode code, std::string message,
                               nlohmann::json extra = nullptr) {
    return encode_error(ProtocolError{code, std::move(message), id}, std::move(extra));
}

/// The answer to a request whose storage read or commit failed: nothing of it was stored.
inline std::string storage_unavailable(std::int64_t id) {
    return error_frame(
        id, ErrorCode::storage_unavailable,
        "The gateway could not store this change; nothing was stored. Try again later.");
}

/// A 33-byte Curve25519 public key with libsignal's type byte.
inline bool valid_public_key(const Bytes& key) { return key.size() == 33 && key[0] == 0x05; }

/// Whether `signature` is `public_key`'s login signature of `challenge`; a malformed key
/// gets the same answer as a bad signature.
inline bool verify_signature(const Bytes& public_key, const Bytes& challenge,
                             const Bytes& signature) {
    try {
        return crypto::verify_login_signature(public_key, challenge, signature);
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace ariadne::gateway::session_detail
