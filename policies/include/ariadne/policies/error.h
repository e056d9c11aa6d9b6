// Error type of ariadne::policies. Every refused input or failed operation throws `Error`:
// a stable code (callers and tests switch on it), the name of the offending field (empty
// when no single field is at fault) and a human sentence that names the field and says
// what would be accepted. Messages never contain a survivor's name, address or message text.
#pragma once

#include <stdexcept>
#include <string>

namespace ariadne::policies {

enum class ErrorCode {
    invalid_field,  // a value failed validation (the field is named)
    refused,        // valid syntax, but a rule forbids it (e.g. enabling social media)
    not_found,      // no such survivor / plan / template
    conflict,       // already exists
    storage,        // SQLite failure or a row that cannot be read back
    time_zone,      // unknown IANA name or unreadable zoneinfo file
};

/// Stable, machine-readable name of a code ("invalid_field", ...).
const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
  public:
    /// `message` is the whole human sentence; it should start with the field name.
    Error(ErrorCode code, std::string field, const std::string& message)
        : std::runtime_error(message), code_(code), field_(std::move(field)) {}
    ErrorCode code() const noexcept { return code_; }
    /// Name of the offending input field ("initials", "consent.evidence_ref"), or "".
    const std::string& field() const noexcept { return field_; }

  private:
    ErrorCode code_;
    std::string field_;
};

}  // namespace ariadne::policies
