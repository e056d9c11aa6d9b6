// Survivor cases as the gateway sees them: which account belongs to which case (and whether
// it is her duress login), the channel her last message came in on, caseworkers' initials,
// her new-device notice preference and the handover note of her case.
//
// Tables: gateway_survivor_cases, gateway_last_inbound_channel, gateway_caseworker_initials,
// gateway_new_device_notices, gateway_handover_notes, in the policy store's database and on
// its connection (policy_connection.h). Values are stored as given: the handover note arrives
// already sealed (the server key is the gateway's), initials already validated.
//
// Thread safety: safe from any thread (every method holds the store's lock). A CaseLinks
// keeps its statements prepared, so a long-lived one serves the hot path; it must not
// outlive the store.
// Errors: every method throws storage::Error when SQLite fails; link() throws it with
// ErrorKind::constraint when the account is already linked. A stored case code that does not
// parse throws policies::Error{invalid_field}.
#pragma once

#include <optional>
#include <string>

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/channel.h"
#include "ariadne/policies/values.h"
#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

/// The case a survivor account belongs to.
struct CaseLink {
    policies::CaseCode case_code;
    bool duress_account = false;  // this account is her duress login
};

class CaseLinks {
  public:
    explicit CaseLinks(const policies::PolicyStore& store);

    /// Links `account` to `code` (her own login, or her duress login when `duress_account`).
    void link(const std::string& account, const policies::CaseCode& code, bool duress_account);
    /// The case of `account`, or nullopt when it is linked to none.
    std::optional<CaseLink> find(const std::string& account) const;
    /// Her own (never her duress) account in case `code`, or nullopt.
    std::optional<std::string> account_of(const policies::CaseCode& code) const;

    /// The channel her last message came in on, or nullopt when none is recorded (or the
    /// recorded kind is unknown to this version).
    std::optional<policies::ChannelKind> last_inbound_channel(const std::string& account) const;
    /// Records (replaces) the channel her last message came in on.
    void set_last_inbound_channel(const std::string& account, policies::ChannelKind kind);

    /// Sets (replaces) a caseworker's initials.
    void set_caseworker_initials(const std::string& account, const policies::Initials& initials);
    std::optional<std::string> caseworker_initials(const std::string& account) const;

    /// Sets (replaces) whether she is told of a new installation; false when never set.
    void set_new_device_notice(const policies::CaseCode& code, bool notify);
    bool new_device_notice(const policies::CaseCode& code) const;

    /// Sets (replaces) the sealed handover note of a case, set at `at`.
    void set_handover_note(const policies::CaseCode& code, const crypto::Bytes& sealed,
                           policies::Instant at);
    /// The sealed handover note of a case, or nullopt.
    std::optional<crypto::Bytes> handover_note(const policies::CaseCode& code) const;

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
