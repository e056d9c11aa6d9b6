// What the organisation decides for every caseworker console (issue 5): how long decrypted
// history may stay on a console (the org policy's retention_days) and the canned replies
// caseworkers can start a reply from. Consoles read both with the `settings` request
// (docs/protocol.md 4.8); administrators set the replies with `ariadne admin policy-set
// --canned-replies-file` or `PUT /v1/admin/policy`.
//
// Canned replies are the organisation's own neutral texts, never survivor content; they are
// stored by storage::CannedReplies and every change is audited (`policy.canned_replies`).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/storage/canned_replies.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

using storage::CannedReply;

inline constexpr std::size_t kMaxCannedReplies = 20;  // per language
inline constexpr std::size_t kMaxCannedLanguages = 30;
/// The organisation's default language: a plain list of replies is in it, and consoles fall
/// back to it when her language has no replies.
inline constexpr const char* kDefaultCannedLanguage = "en";

/// The built-in neutral, non-judgmental replies (used until the organisation sets its own).
std::vector<CannedReply> default_canned_replies();

/// Parses [{"label": "...", "text": "..."}, ...] (the default language) or
/// {"en": [...], "ar": [...]} (a list per language tag). Throws policies::Error{invalid_field}
/// naming the element ("canned_replies[2].text", "canned_replies.ar[0].label", or the
/// tag "canned_replies.x!").
std::vector<CannedReply> parse_canned_replies(const nlohmann::json& value);
/// The default language's replies as [{"label","text"}].
nlohmann::json canned_replies_json(const std::vector<CannedReply>& replies);
/// {"en": [{"label","text"}...], "ar": [...]}; always holds the default language.
nlohmann::json canned_replies_by_language_json(const std::vector<CannedReply>& replies);

/// The organisation's replies of every language; the built-in English ones when it set no
/// English replies. Throws policies::Error{storage}.
std::vector<CannedReply> canned_replies(policies::PolicyStore& store);
/// Replaces them (an empty list restores the defaults); admin only (Error{refused}).
/// Validates like parse_canned_replies. Audited.
void set_canned_replies(policies::PolicyStore& store, const std::vector<CannedReply>& replies,
                        const policies::Actor& actor, policies::Instant at);

/// The answer of the `settings` request: {"retention_days": N, "canned_replies": [...],
/// "canned_replies_by_language": {...}, "default_language": "en"}.
nlohmann::json console_settings(policies::PolicyStore& store);

}  // namespace ariadne::gateway
