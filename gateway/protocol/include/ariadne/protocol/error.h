// Errors of the gateway. Two families:
//  - `ErrorCode`: the stable wire codes of docs/protocol.md section 5, carried in error
//    frames (`ProtocolError`, a value, never thrown across the session boundary);
//  - `GatewayError`: thrown by the configuration loader and the admin commands, with a
//    stable `GatewayErrorCode` and a human sentence that never holds message content,
//    names, passwords or key material. The storage layer throws its own storage::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace ariadne::gateway {

/// Wire error codes (docs/protocol.md section 5).
enum class ErrorCode {
    malformed_json,
    unsupported_version,
    unknown_type,
    invalid_frame,
    not_authenticated,
    already_authenticated,
    auth_failed,
    rate_limited,
    invalid_keys,
    forbidden,
    stale_devices,
    not_found,
    storage_unavailable,
    overloaded,
    internal,
    policy_denied,     // the consent policy refused this message (carries reason + message)
    account_disabled,  // an administrator disabled this caseworker account
    quota_exceeded,    // undelivered bytes for the recipient or from the sender at their limit
    callback_refused,  // a call-back request or reveal refused by policy (carries reason)
};

/// The wire name of a code ("invalid_frame", ...).
const char* to_string(ErrorCode code) noexcept;

/// An error answer to one request. `id` is empty when the request's id could not be read
/// (the frame then carries `"id": null`).
struct ProtocolError {
    ErrorCode code = ErrorCode::internal;
    std::string message;
    std::optional<std::int64_t> id;
};

enum class GatewayErrorCode {
    config,     // a setting is unknown or invalid (the message names it)
    storage,    // SQLite failure (open, schema, commit)
    io,         // file system failure (data dir, key file, certificate)
    not_found,  // admin: an account that does not exist or has the wrong role
    conflict,   // admin: e.g. a username that is already taken
    internal,   // OpenSSL or invariant failure
};

const char* to_string(GatewayErrorCode code) noexcept;

class GatewayError : public std::runtime_error {
  public:
    GatewayError(GatewayErrorCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    GatewayErrorCode code() const noexcept { return code_; }

  private:
    GatewayErrorCode code_;
};

}  // namespace ariadne::gateway
