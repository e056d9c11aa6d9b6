// Error type of ariadne::client. Every failure is reported by throwing `Error` (or its
// subclass `ServerError` when the gateway answered with an error frame). Codes are stable;
// messages are human sentences that never contain message content or key material.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace ariadne::client {

enum class ErrorCode {
    invalid_argument,      // a caller passed something unusable (bad URL, bad fingerprint)
    connect_failed,        // DNS/TCP connection could not be established
    tls_failed,            // TLS handshake failed (protocol, CA verification)
    certificate_mismatch,  // the server certificate does not have the pinned fingerprint
    websocket_failed,      // HTTP upgrade to WebSocket refused or failed
    timeout,               // no answer within the deadline
    closed,                // the connection is closed (by either side)
    protocol,              // the server sent something that is not valid protocol v1
    server,                // the server answered with an error frame (see ServerError)
    state,                 // local state missing or inconsistent (not enrolled, no account)
};

/// Stable, machine-readable name of a code ("timeout", ...).
const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
  public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

  private:
    ErrorCode code_;
};

/// The gateway refused a request: `server_code()` is the protocol error code
/// ("auth_failed", "stale_devices", ...), `frame()` the whole error frame (for
/// `retry_after_ms`, `missing`, `extra`).
class ServerError : public Error {
  public:
    ServerError(std::string server_code, const std::string& message, nlohmann::json frame)
        : Error(ErrorCode::server, message),
          server_code_(std::move(server_code)),
          frame_(std::move(frame)) {}
    const std::string& server_code() const noexcept { return server_code_; }
    const nlohmann::json& frame() const noexcept { return frame_; }
    /// `retry_after_ms` of the frame, or 0 when absent.
    std::int64_t retry_after_ms() const noexcept {
        auto it = frame_.find("retry_after_ms");
        return it != frame_.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    }

  private:
    std::string server_code_;
    nlohmann::json frame_;
};

}  // namespace ariadne::client
