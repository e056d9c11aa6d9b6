// The audit chain: an append-only, hash-chained log of who did what to which case and what
// was decided — metadata only, never message content, names or addresses. Every field is a
// validated token, so free text cannot enter it.
//
// Entry hash (see docs/policies.md), over the canonical encoding
//   TAG || u64be seq || i64be at_us || str actor || str action ||
//   str case_code || str decision || str reason || prev_hash (32 bytes)
// where str = u32be length || UTF-8 bytes and the first entry's prev_hash is 32 zero bytes:
// - keyed (v2): HMAC-SHA256 under the audit key, TAG = "ariadne.audit.v2". The key is derived
//   from the gateway's server key, which the database does not hold, so someone who can write
//   the database cannot edit an entry and re-hash the chain after it.
// - unkeyed (v1): SHA-256, TAG = "ariadne.audit.v1": entries written before the chain was
//   keyed; they may only precede the keyed entries (a v1 entry after a v2 one is tampering).
// Truncation (removing the newest entries) leaves a valid chain; it is detected against a
// checkpoint (seq, head, MAC under the audit key) kept outside the database.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/policies/values.h"

namespace ariadne::policies {

using Hash = std::array<unsigned char, 32>;
/// The key of the keyed chain (32 secret bytes; the gateway derives it from its server key).
using AuditKey = std::array<unsigned char, 32>;

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

/// The bytes hashed for `e` (its own `hash` field excluded), tagged v1 (unkeyed) or v2
/// (keyed). Pure, thread-safe.
std::string audit_canonical_encoding(const AuditEntry& e, bool keyed = false);
/// SHA-256 of the v1 encoding of `e`. Throws Error{storage} if OpenSSL fails.
Hash audit_hash(const AuditEntry& e);
/// HMAC-SHA256 under `key` of the v2 encoding of `e`. Throws Error{storage} if OpenSSL fails.
Hash audit_mac(const AuditEntry& e, const AuditKey& key);

/// A checkpoint of the chain: its length and head at one moment, authenticated under the
/// audit key, to be kept outside the database (the journal, a file shipped elsewhere). A
/// chain verified against it must still hold entry `seq` with hash `head`: removing newest
/// entries, or rewriting older ones, is then detected even by someone who also holds the key
/// file but not the place the checkpoint was shipped to.
struct AuditCheckpoint {
    std::uint64_t seq = 0;  // 0: the chain was empty
    Hash head{};            // hash of entry `seq` (zeros for an empty chain)
    Hash mac{};             // HMAC-SHA256(key, "ariadne.audit.checkpoint.v1" || u64be seq || head)
};
/// The MAC of a checkpoint. Throws Error{storage} if OpenSSL fails.
Hash audit_checkpoint_mac(std::uint64_t seq, const Hash& head, const AuditKey& key);
/// Lower-case hex parsing of a 32-byte hash; nullopt unless exactly 64 hex digits.
std::optional<Hash> hash_from_hex(const std::string& hex);
/// Lower-case hex of a hash (for export and the CLI).
std::string to_hex(const Hash& h);

struct AuditVerification {
    bool ok = false;
    std::uint64_t entries = 0;                   // entries read
    std::optional<std::uint64_t> first_bad_seq;  // the first entry that does not verify
    std::string problem;                         // a sentence: what is wrong with that entry
    Hash head{};                                 // hash of the last good entry (for anchoring)
    std::uint64_t keyed_entries = 0;             // entries verified under the audit key
    std::uint64_t checkpoints = 0;               // checkpoints the chain was checked against
};

/// The entry that follows `previous` (nullopt: the chain is empty) with these fields: its
/// seq, prev_hash and hash (the v2 MAC under `key`, or the v1 hash when `key` is null).
/// Throws Error{invalid_field, "audit.<field>"} for a field that is not a short token (no
/// free text can enter the log); Error{storage} when `key` is null but `previous` is keyed
/// (an unkeyed entry after a keyed one would read as a forgery). Pure, thread-safe.
AuditEntry next_audit_entry(const std::optional<AuditEntry>& previous, const std::string& actor,
                            const std::string& action, const std::string& case_code,
                            const std::string& decision, const std::string& reason, Instant at,
                            const AuditKey* key);
/// True when `e.hash` is its MAC under `key` (compared in constant time).
bool audit_entry_keyed(const AuditEntry& e, const AuditKey& key);

/// Verifies a chain read entry by entry in seq order, so a long chain is never held in
/// memory. With `key`, keyed entries are checked under it, unkeyed ones may only come before
/// them, and every checkpoint must be authentic and still be in the chain; without it, the
/// chain is reported broken at the first keyed entry. Not thread-safe (one verification).
class AuditChainVerifier {
  public:
    AuditChainVerifier(const std::optional<AuditKey>& key,
                       const std::vector<AuditCheckpoint>& checkpoints);
    /// Checks the next entry; false once the chain is broken (reading further is useless).
    bool add(const AuditEntry& e);
    /// The verdict after the last entry (ok, or the first bad entry and why).
    AuditVerification finish();

  private:
    void fail(std::uint64_t seq, std::string problem);

    std::optional<AuditKey> key_;
    std::map<std::uint64_t, Hash> expected_heads_;
    AuditVerification v_;
    std::uint64_t expected_ = 1;
    Hash prev_{};
    bool keyed_seen_ = false;
    bool broken_ = false;
};

}  // namespace ariadne::policies
