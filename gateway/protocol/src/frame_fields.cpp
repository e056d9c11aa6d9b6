// The full decoder's field reader (frame_fields.h): one check per field kind, one wording
// per check.
#include "frame_fields.h"

#include <algorithm>

#include "ariadne/crypto/error.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway::detail {

using nlohmann::json;

namespace {

// Field names are echoed only when they are short and plain, so an error never carries
// arbitrary client bytes.
std::string printable_name(const std::string& name, const std::string& qualified) {
    bool plain =
        !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
        });
    return plain ? "'" + qualified + "'" : "with an unprintable or very long name";
}

}  // namespace

void fail(const std::string& message) { throw FieldError{ErrorCode::invalid_frame, message}; }

Fields::Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

const json* Fields::find(const char* name) {
    seen_.insert(name);
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
}

const json& Fields::require(const char* name) {
    const json* value = find(name);
    if (value == nullptr) fail("field " + quoted(name) + " is missing");
    return *value;
}

std::int64_t Fields::integer(const char* name, std::int64_t min, std::int64_t max) {
    return integer_value(require(name), name, min, max);
}

std::int64_t Fields::integer_value(const json& value, const std::string& name, std::int64_t min,
                                   std::int64_t max) {
    if (!value.is_number_integer()) {
        fail("field " + quoted(name) + " must be an integer between " + std::to_string(min) +
             " and " + std::to_string(max));
    }
    bool in_range;
    std::int64_t result = 0;
    if (value.is_number_unsigned()) {
        auto u = value.get<std::uint64_t>();
        in_range = u <= static_cast<std::uint64_t>(max) &&
                   (min <= 0 || u >= static_cast<std::uint64_t>(min));
        result = static_cast<std::int64_t>(u);
    } else {
        result = value.get<std::int64_t>();
        in_range = result >= min && result <= max;
    }
    if (!in_range) {
        fail("field " + quoted(name) + " must be an integer between " + std::to_string(min) +
             " and " + std::to_string(max));
    }
    return result;
}

std::string Fields::text(const char* name, std::size_t max_bytes, bool allow_empty) {
    const json& value = require(name);
    if (!value.is_string()) fail("field " + quoted(name) + " must be a string");
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() > max_bytes) {
        fail("field " + quoted(name) + " must be at most " + std::to_string(max_bytes) +
             " bytes long");
    }
    if (s.empty() && !allow_empty) fail("field " + quoted(name) + " must not be empty");
    return s;
}

std::string Fields::account_id(const char* name) {
    std::string id = text(name, 64);
    if (!is_account_id(id)) {
        fail("field " + quoted(name) +
             " must be an account id ('a_' followed by 22 base64url characters)");
    }
    return id;
}

bool Fields::boolean(const char* name, bool fallback) {
    const json* value = find(name);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail("field " + quoted(name) + " must be true or false");
    return value->get<bool>();
}

crypto::Bytes Fields::binary(const char* name, std::size_t exact, std::size_t max_decoded) {
    return binary_value(require(name), name, exact, max_decoded);
}

crypto::Bytes Fields::binary_value(const json& value, const std::string& name, std::size_t exact,
                                   std::size_t max_decoded) {
    if (!value.is_string()) fail("field " + quoted(name) + " must be a base64 string");
    const auto& s = value.get_ref<const std::string&>();
    std::size_t limit = exact != 0 ? exact : max_decoded;
    // Refuse oversized text before decoding anything.
    if (s.size() > (limit + 2) / 3 * 4) {
        fail("field " + quoted(name) + " must decode to " + (exact != 0 ? "exactly " : "at most ") +
             std::to_string(limit) + " bytes");
    }
    crypto::Bytes decoded;
    try {
        decoded = crypto::base64_decode(s);
    } catch (const crypto::Error&) {
        fail("field " + quoted(name) + " is not valid base64 (standard alphabet, with padding)");
    }
    if ((exact != 0 && decoded.size() != exact) || decoded.size() > limit) {
        fail("field " + quoted(name) + " must decode to " + (exact != 0 ? "exactly " : "at most ") +
             std::to_string(limit) + " bytes");
    }
    return decoded;
}

Fields Fields::object(const char* name) {
    const json& value = require(name);
    if (!value.is_object()) fail("field " + quoted(name) + " must be an object");
    return Fields(value, qualified(name));
}

const json& Fields::array(const char* name, std::size_t max_items) {
    const json& value = require(name);
    if (!value.is_array()) fail("field " + quoted(name) + " must be an array");
    if (value.size() > max_items) {
        fail("field " + quoted(name) + " must have at most " + std::to_string(max_items) +
             " entries");
    }
    return value;
}

void Fields::refuse_unknown() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
        if (seen_.count(it.key()) == 0) {
            fail("unknown field " + printable_name(it.key(), qualified(it.key())));
        }
    }
}

std::string Fields::qualified(const std::string& name) const {
    return path_.empty() ? name : path_ + "." + name;
}

std::string Fields::quoted(const std::string& name) const { return "'" + qualified(name) + "'"; }

Fields element_object(const json& element, const std::string& path) {
    if (!element.is_object()) fail("field '" + path + "' must be an object");
    return Fields(element, path);
}

}  // namespace ariadne::gateway::detail
