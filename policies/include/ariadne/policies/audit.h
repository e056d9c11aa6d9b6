// The audit chain: an append-only, hash-chained log of who did what to which case and what
// was decided — metadata only, never message content, names or addresses. Every field is a
// validated token, so free text cannot enter it.
//
// Entry hash = SHA-256 of the canonical encoding (see docs/policies.md):
//   "ariadne.audit.v1" || u64be seq || i64be at_us || str actor || str action ||
//   str case_code || str decision || str reason || prev_hash (32 bytes)
// where str = u32be length || UTF-8 bytes. The first entry's prev_hash is 32 zero bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "ariadne/policies/values.h"

namespace ariadne::policies {

using Hash = std::array<unsigned char, 32>;

struct AuditEntry {
    std::uint64_t seq = 0;  // 1, 2, 3 … without gaps
    Instant at{};
    std::string actor;      // opaque account id, or "system" for the scheduler
    std::string action;     // e.g. "decision.outbound", "consent.record", "checkin.sent"
    std::string case_code;  // "K7Q-2F9" or "" when no case is involved
    std::string decision;   // "allow", "deny" or ""
    std::string reason;     // a reason code or short token, or ""
    Hash prev_hash{};
    Hash hash{};
};

/// The bytes hashed for `e` (its own `hash` field excluded). Pure, thread-safe.
std::string audit_canonical_encoding(const AuditEntry& e);
/// SHA-256 of audit_canonical_encoding(e). Throws Error{storage} if OpenSSL fails.
Hash audit_hash(const AuditEntry& e);
/// Lower-case hex of a hash (for export and the CLI).
std::string to_hex(const Hash& h);

struct AuditVerification {
    bool ok = false;
    std::uint64_t entries = 0;                   // entries read
    std::optional<std::uint64_t> first_bad_seq;  // the first entry that does not verify
    std::string problem;                         // a sentence: what is wrong with that entry
    Hash head{};                                 // hash of the last good entry (for anchoring)
};

}  // namespace ariadne::policies
