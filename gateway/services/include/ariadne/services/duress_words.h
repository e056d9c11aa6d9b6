// The organisation's duress words: words or phrases agreed with survivors as danger
// signals. One list for the whole organisation, set by an administrator (`ariadne admin
// duress-words-set`, `PUT /v1/admin/duress-words`), used by the gateway's edge for texts
// from the survivor page and SMS, and by every caseworker console for app messages (which
// only the console can read): consoles receive it in the `settings` answer.
//
// Nothing here holds a word in clear: each phrase is stored as its keyed digest
// (crypto/phrase_digest.h) under a key derived from the server key, in table
// `gateway_duress_words(digest, words)`; a phrase cannot be read back, only replaced.
// Consoles receive the key and the digests (docs/threat-model.md says what that exposes).
//
// Thread-safety: every function takes the PolicyStore's lock; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/core/server_key.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

inline constexpr std::size_t kMaxDuressWords = 50;         // phrases in the list
inline constexpr std::size_t kMaxDuressPhraseWords = 6;    // words in one phrase
inline constexpr std::size_t kMaxDuressPhraseBytes = 100;  // bytes of one phrase

/// Replaces the organisation's list (an empty list removes every word). Admin only
/// (Error{refused}). Each phrase must hold 1..6 words and at most 100 bytes, at most 50
/// phrases (Error{invalid_field, "duress_words[i]"}); duplicates (after normalisation) are
/// stored once. Audited as `policy.duress_words` with the count only. Returns the count
/// stored. Throws Error{storage}.
std::size_t set_duress_words(policies::PolicyStore& store, const ServerKey& key,
                             const std::vector<std::string>& phrases, const policies::Actor& actor,
                             policies::Instant at);

/// How many phrases the organisation has set. Throws Error{storage}.
std::size_t duress_word_count(policies::PolicyStore& store);

/// True when `text` holds one of the phrases (whole words, case-insensitive as
/// crypto/phrase_digest.h normalises). Never keeps or logs the text. Throws Error{storage}.
bool holds_duress_word(policies::PolicyStore& store, const ServerKey& key, std::string_view text);

/// The `duress_words` field of the consoles' `settings` answer (docs/protocol.md 4.8):
/// {"key": base64 32 bytes, "max_words": N, "digests": [base64, ...]}. Throws Error{storage}.
nlohmann::json duress_words_for_consoles(policies::PolicyStore& store, const ServerKey& key);

}  // namespace ariadne::gateway
