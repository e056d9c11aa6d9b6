// What the survivor page reads from and writes into HTTP and HTML: form bodies, cookies,
// escaped text and random tokens. Private to the adapter.
//
// Errors: none; malformed input is read as far as it makes sense (a bad %-escape stays as
// it is, a pair without '=' is skipped). random_token throws crypto::Error only when the
// system's random source fails.
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ariadne/core/http_routes.h"
#include "ariadne/crypto/bytes.h"

namespace ariadne::adapters::detail {

/// `s` with & < > " ' replaced by their HTML entities: safe in text and in quoted attributes.
std::string html_escape(std::string_view s);

/// An application/x-www-form-urlencoded body as name → value ('+' and %XX decoded; a name
/// given twice keeps its last value).
std::map<std::string, std::string> parse_form(std::string_view body);

/// The value of cookie `name` in the request's Cookie header, or "".
std::string cookie_value(const gateway::HttpRequest& r, std::string_view name);

/// 24 random bytes as unpadded base64url (32 characters): session ids, form tokens.
std::string random_token();

/// Unpadded base64url of `bytes`.
std::string base64url(crypto::ByteView bytes);

}  // namespace ariadne::adapters::detail
