// Phone numbers of SMS survivors: sealed at rest, found by a keyed hash, linked to a case.
//
// A number is normalised (normalize_phone_number) before anything else, so the same phone
// gives the same reference whether it came from `ariadne admin consent-record
// --address-stdin` or from Kannel. Its reference is `address_ref_of`: "k:" + the first 43
// characters of base64url(HMAC-SHA256 under a key derived from the server key) — a stolen
// database cannot be searched for a number without `server.key`. The number itself is kept
// only sealed (AES-256-GCM under the server key, bound to its reference) in
// `gateway_sealed_addresses`; `gateway_sms_links` maps a reference to her case and says
// whether a caseworker verified it. Neither the number nor its reference is ever logged.
//
// The tables are storage::AddressBook's (address_book.h), on the PolicyStore's connection
// under its lock: thread-safe. They throw
// policies::Error{storage} when SQLite fails, policies::Error{invalid_field, "address"} for
// a number that does not normalise.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ariadne/core/server_key.h"
#include "ariadne/storage/address_book.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// "+4915112345678" style: separators (space, '-', '.', '(', ')', '/') removed, a leading
/// "00" becomes '+', then an optional '+' and 3 to 20 digits. nullopt for anything else
/// (letters, a '+' in the middle, too short or long).
std::optional<std::string> normalize_phone_number(std::string_view text);

/// The keyed reference of a normalised number (also used as the consent's address_ref).
std::string address_ref_of(const ServerKey& key, std::string_view number);

/// The case a number's reference is linked to, and whether the number is verified.
using SmsLink = storage::SmsLink;

/// Seals `number` (normalised; else Error{invalid_field, "address"}) and links it to `code`,
/// replacing an earlier link of the same number. Returns its reference.
std::string link_sms_number(policies::PolicyStore& store, const ServerKey& key,
                            std::string_view number, const policies::CaseCode& code, bool verified);

/// The link of a number's reference, or nullopt.
std::optional<SmsLink> find_sms_link(const policies::PolicyStore& store,
                                     const std::string& address_ref);

/// The verified number of a case (unsealed, for handing to Kannel) and its reference, or
/// nullopt when her case has no verified number. The caller must wipe it after use.
struct SmsNumber {
    std::string address_ref;
    std::string number;
};
std::optional<SmsNumber> verified_sms_number(const policies::PolicyStore& store,
                                             const ServerKey& key, const policies::CaseCode& code);

/// Whether her case has a linked number: nullopt none (not an SMS thread), else whether a
/// verified one exists (false: only unverified numbers — an unverified thread).
std::optional<bool> sms_thread_verified(const policies::PolicyStore& store,
                                        const policies::CaseCode& code);

}  // namespace ariadne::gateway
