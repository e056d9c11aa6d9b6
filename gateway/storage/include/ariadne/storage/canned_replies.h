// CannedReplies: the organisation's canned replies for caseworker consoles, each in one
// language, in order, in the table `gateway_canned_replies` of the gateway database (the
// `language` column comes from migration 2; rows stored before it are English). Neutral
// texts written by the organisation, never survivor content. Validation and the built-in defaults
// belong to the caller (gateway/org_settings.h); this stores what it is given.
//
// Thread safety: safe from any thread; every call holds the PolicyStore's lock (the store
// must outlive this object). Errors: storage::Error when the database cannot be read or
// written; a failed replace changes nothing.
#pragma once

#include <string>
#include <vector>

#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

struct CannedReply {
    std::string label;            // 1..40 bytes, shown on the button
    std::string text;             // 1..1000 bytes, no control characters except newlines
    std::string language = "en";  // a language tag (policies::LanguageTag), as given
    bool operator==(const CannedReply&) const = default;
};

class CannedReplies {
  public:
    /// The table comes from migrations 1 and 2 (the store migrates on open).
    explicit CannedReplies(policies::PolicyStore& store);

    /// The stored replies of every language in the order they were given; empty when the
    /// organisation set none.
    std::vector<CannedReply> list() const;
    /// Replaces every stored reply with `replies` (empty: none) and appends the audit entry
    /// `policy.canned_replies` by `actor` at `at`, in one transaction. Throws storage::Error,
    /// or policies::Error when the audit entry is refused.
    void replace(const std::vector<CannedReply>& replies, const std::string& actor,
                 policies::Instant at);

  private:
    policies::PolicyStore& store_;
};

}  // namespace ariadne::storage
