// Internal: built-in neutral check-in texts, template validation, and the check-in tables
// (created together with the other policies_ tables).
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>

namespace ariadne::policies::detail {

/// The built-in text for (template_id, primary language), if any. Built-in id:
/// "neutral_checkin", "neutral_handover" (with an "{initials}" placeholder) and
/// "neutral_new_device" in en, es, it,
/// ro, el, fr, ar.
std::optional<std::string> builtin_template(const std::string& template_id,
                                            const std::string& language);
/// Throws Error{invalid_field} for a bad id (1-40 of [a-z0-9_]), an empty text, a text over
/// 320 bytes, or a text containing a link.
void validate_template(const std::string& template_id, const std::string& text);

void create_checkin_schema(sqlite3* db);

}  // namespace ariadne::policies::detail
