// Keyed digests of whole-word phrases: lets the gateway's edge and every caseworker console
// recognise the organisation's agreed duress words in a text without the words being kept
// anywhere in clear. A phrase is stored as HMAC-SHA256(key, normalised phrase); a text
// matches when any run of consecutive words in it has a stored digest.
//
// Normalisation: a word is a maximal run of letters and digits (ASCII letters and digits, and
// any non-ASCII character except the Latin-1 punctuation U+00A0..U+00BF, U+00D7, U+00F7, the
// general punctuation block U+2000..U+206F and CJK punctuation U+3000..U+303F). Words are
// folded to lower case for ASCII, Latin-1, Latin Extended-A/B pairs, Greek and Cyrillic;
// other scripts match as written. Invalid UTF-8 bytes separate words. A normalised phrase is
// its words joined by one space, so "Blue  UMBRELLA!" and "blue umbrella" are the same.
//
// Pure functions, thread-safe. The digests are only as secret as the phrases are hard to
// guess: whoever holds the key and the digests can test candidate phrases.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

/// Size of the key and of each digest.
inline constexpr std::size_t kPhraseDigestBytes = 32;

/// The words of `text`, normalised as above, in order.
std::vector<std::string> phrase_words(std::string_view text);

/// The normalised form of a phrase (its words joined by single spaces; "" if it has none).
std::string normalise_phrase(std::string_view phrase);

/// HMAC-SHA256 under `key` of normalise_phrase(phrase). Throws Error(invalid_argument) if
/// `key` is not 32 bytes or the phrase has no word; Error(internal) if OpenSSL fails.
Bytes phrase_digest(ByteView key, std::string_view phrase);

/// True when some run of 1..max_words consecutive words of `text` has its digest in
/// `digests` (whole words only: "umbrellas" does not match "umbrella"). Throws like
/// phrase_digest for a bad key; false for an empty set.
bool holds_phrase(ByteView key, const std::set<Bytes>& digests, std::size_t max_words,
                  std::string_view text);

}  // namespace ariadne::crypto
