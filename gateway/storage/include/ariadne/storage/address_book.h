// Survivors' SMS numbers, sealed: each number is kept only as ciphertext under its keyed
// reference (gateway_sealed_addresses), and a reference is linked to her case with whether a
// caseworker verified it (gateway_sms_links). Sealing, normalising and the reference itself
// are the gateway's (sms_numbers.h): nothing here sees a number in clear.
//
// Tables live in the policy store's database, on its connection (policy_connection.h).
// Thread safety: safe from any thread (every method holds the store's lock); must not outlive
// the store.
// Errors: every method throws storage::Error when SQLite fails. A stored case code that does
// not parse throws policies::Error{invalid_field}.
#pragma once

#include <optional>
#include <string>

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/values.h"
#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

/// The case a number's reference is linked to.
struct SmsLink {
    policies::CaseCode case_code;
    bool verified = false;  // false: an unverified thread; nothing is ever sent to it
};

/// A number as stored: its reference and its sealed bytes.
struct SealedAddress {
    std::string address_ref;
    crypto::Bytes sealed;
};

class AddressBook {
  public:
    explicit AddressBook(const policies::PolicyStore& store);

    /// Stores the sealed number under its reference and links the reference to `code`, both
    /// replacing what was stored for the reference, in one transaction.
    void link_number(const SealedAddress& number, const policies::CaseCode& code, bool verified);
    /// Stores a sealed address unless its reference is already stored (a consent's address:
    /// the first copy is kept). Does not link it to a case.
    void keep_address(const SealedAddress& address);

    /// The link of a reference, or nullopt.
    std::optional<SmsLink> find_link(const std::string& address_ref) const;
    /// A verified number of case `code`, sealed, or nullopt when it has none.
    std::optional<SealedAddress> verified_number(const policies::CaseCode& code) const;
    /// The sealed address stored under `address_ref` (a consent's address), or nullopt.
    std::optional<SealedAddress> sealed_address(const std::string& address_ref) const;
    /// nullopt when no number is linked to `code`; else whether one of them is verified.
    std::optional<bool> thread_verified(const policies::CaseCode& code) const;

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
