// Internal: built-in neutral check-in texts, template validation, and the check-in tables
// (created together with the other policies_ tables).
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

namespace ariadne::policies::detail {

/// The built-in text for (template_id, primary language), if any. Built-in ids:
/// "neutral_checkin", "neutral_handover" (with an "{initials}" placeholder) and
/// "discreet_handover" (for survivors with never_confirm_client) and "neutral_new_device", in en,
/// es, it, ro, el, fr, ar.
std::optional<std::string> builtin_template(const std::string& template_id,
                                            const std::string& language);
/// Every built-in template id, and every language each of them exists in.
std::vector<std::string> builtin_template_ids();
std::vector<std::string> builtin_template_languages();
/// Throws Error{invalid_field} for an id that is not a built-in one, an empty text, a text
/// over 320 bytes, a control character or invalid UTF-8, a link, or a placeholder other than
/// "{initials}" in a handover text (none elsewhere); Error{refused} when the text contains
/// one of `organisation_names` (case-insensitive).
void validate_template(const std::string& template_id, const std::string& text,
                       const std::vector<std::string>& organisation_names);
/// The first of `organisation_names` that `text` contains (ASCII case-insensitive), if any.
std::optional<std::string> name_in(const std::string& text,
                                   const std::vector<std::string>& organisation_names);

}  // namespace ariadne::policies::detail
