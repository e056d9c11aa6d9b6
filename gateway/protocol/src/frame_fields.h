// The full decoder's field reader: reads the fields of one JSON object of a client frame,
// checking each one's type, range, length and base64 exactly, and remembers which fields
// were read so that every other one can be refused by name. Its error sentences are the
// wire's (docs/protocol.md section 5): they name the field, never echo its value.
//
// Errors: every check that fails throws FieldError, which decode_request_full catches and
// turns into the ProtocolError it returns; FieldError never leaves the codec.
//
// Ownership: a Fields borrows the JSON object it reads, which must outlive it.
// Thread-safety: none needed; one Fields reads one frame on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/error.h"

namespace ariadne::gateway::detail {

/// A field that is not what the protocol allows, and the error to answer with.
struct FieldError {
    ErrorCode code;
    std::string message;
};

/// Throws FieldError{invalid_frame, message}.
[[noreturn]] void fail(const std::string& message);

class Fields {
  public:
    /// `path` prefixes field names in messages ("messages[2]" → "'messages[2].body'").
    Fields(const nlohmann::json& object, std::string path);

    /// The field, or nullptr; either way it counts as read.
    const nlohmann::json* find(const char* name);
    /// The field; "field 'x' is missing" if absent.
    const nlohmann::json& require(const char* name);

    /// An integer field in [min, max].
    std::int64_t integer(const char* name, std::int64_t min, std::int64_t max);
    /// `value` (the field `name`) as an integer in [min, max].
    std::int64_t integer_value(const nlohmann::json& value, const std::string& name,
                               std::int64_t min, std::int64_t max);
    /// A string field of at most `max_bytes` bytes, not empty unless `allow_empty`.
    std::string text(const char* name, std::size_t max_bytes, bool allow_empty = false);
    /// A string field holding an account id (is_account_id).
    std::string account_id(const char* name);
    /// A boolean field; `fallback` when absent.
    bool boolean(const char* name, bool fallback);
    /// A base64 field whose decoded length is exactly `exact` (if non-zero) or at most
    /// `max_decoded` bytes. Oversized text is refused before anything is decoded.
    crypto::Bytes binary(const char* name, std::size_t exact, std::size_t max_decoded = 0);
    crypto::Bytes binary_value(const nlohmann::json& value, const std::string& name,
                               std::size_t exact, std::size_t max_decoded);
    /// An object field, read by its own Fields (names qualified "name.field").
    Fields object(const char* name);
    /// An array field of at most `max_items` entries.
    const nlohmann::json& array(const char* name, std::size_t max_items);

    /// Fails on the first field of the object that was not read.
    void refuse_unknown() const;

    /// "name", or "path.name" inside a nested object.
    std::string qualified(const std::string& name) const;
    /// The qualified name between single quotes, as messages show it.
    std::string quoted(const std::string& name) const;

  private:
    const nlohmann::json& object_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
};

/// The array entry at `path` ("pre_keys[3]") as an object to read.
Fields element_object(const nlohmann::json& element, const std::string& path);

}  // namespace ariadne::gateway::detail
