// The admin layer's error: what every use case in operations.h throws for input it refuses or
// a store that fails, so the CLI (exit status + sentence) and the HTTP API (status + JSON
// body) answer the same refusal the same way. Lower layers' errors (policies::Error,
// storage::Error) are translated into it at the use case's boundary.
#pragma once

#include <stdexcept>
#include <string>

namespace ariadne::gateway {

enum class AdminErrorCode {
    invalid_field,  // a value failed validation (the field is named)       HTTP 400, CLI 2
    time_zone,      // an unknown IANA time zone                            HTTP 400, CLI 2
    refused,        // valid, but a rule forbids it                         HTTP 422, CLI 2
    conflict,       // already exists (e.g. a taken username)               HTTP 409, CLI 2
    not_found,      // no such account, case or plan                        HTTP 404, CLI 1
    storage,        // the database failed                                  HTTP 500, CLI 1
};

/// Stable, machine-readable name ("invalid_field", ...): the JSON body's "error".
const char* to_string(AdminErrorCode code) noexcept;

class AdminError : public std::runtime_error {
  public:
    /// `message` is the whole sentence; it starts with the field it is about, if any.
    AdminError(AdminErrorCode code, std::string field, const std::string& message)
        : std::runtime_error(message), code_(code), field_(std::move(field)) {}
    AdminErrorCode code() const noexcept { return code_; }
    /// The offending input field ("initials", "--id", "plan.window"), or "".
    const std::string& field() const noexcept { return field_; }
    /// The HTTP status the admin API answers it with (table above).
    int http_status() const noexcept;
    /// The exit status `ariadne admin` ends with (table above).
    int exit_status() const noexcept;

  private:
    AdminErrorCode code_;
    std::string field_;
};

}  // namespace ariadne::gateway
