// Error type of ariadne::crypto. Every failure is reported by throwing `Error`, whose code
// is stable (tests and callers switch on it) and whose message is a human sentence that
// never contains key material, plaintext or any personal data.
#pragma once

#include <stdexcept>
#include <string>

namespace ariadne::crypto {

enum class ErrorCode {
    invalid_argument,    // malformed input from a caller (bad length, bad encoding)
    invalid_bundle,      // a pre-key bundle that cannot be parsed or whose signature fails
    invalid_message,     // ciphertext that cannot be parsed, fails its MAC, or is a replay
    untrusted_identity,  // the peer's identity key changed since it was first seen
    no_session,          // no session with that peer yet
    wrong_passphrase,    // store key does not open the store
    corrupt_record,      // a sealed record failed to open (tampered, or moved to another row)
    storage,             // SQLite failure
    wrong_code,          // a recovery code that does not verify
    internal,            // OpenSSL/libsignal failure that is not the caller's fault
};

/// Stable, machine-readable name of a code ("invalid_message", ...).
const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
  public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

  private:
    ErrorCode code_;
};

}  // namespace ariadne::crypto
