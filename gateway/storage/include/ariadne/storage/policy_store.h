// PolicyStore: survivors and their caseworkers, consent records, organisation policy,
// templates, the audit chain and the check-in scheduler's state, in SQLite tables prefixed
// `policies_`. The rules (validation, the decision, scheduling) are policies/'s; this class
// stores what they decide. Every input is validated before it is written; every change and
// every outbound decision is appended to the audit chain in the same transaction.
//
// Errors: the policies::Error codes named per method; a database failure, or a stored row
// that cannot be read back, is policies::Error{storage} (callers handle one error type).
// Thread safety: safe for concurrent use from several threads; calls are serialised by an
// internal recursive mutex (lock()). Several processes (gateway nodes) may share one
// PostgreSQL database: every write transaction that appends to the audit chain first takes
// the chain's cluster lock (a transaction-scoped advisory lock), so the chain stays one,
// gap-free and in order, and a check followed by its write is not raced by another node.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/policies/audit.h"
#include "ariadne/policies/checkin_store.h"
#include "ariadne/policies/decision.h"
#include "ariadne/policies/model.h"
#include "ariadne/sqlite/sqlite.h"

namespace ariadne::storage {

using sqlite::Connection;

class PolicyStore final : public policies::CheckinStore {
  public:
    using AuditCheckpoint = policies::AuditCheckpoint;
    using AuditEntry = policies::AuditEntry;
    using AuditKey = policies::AuditKey;
    using AuditVerification = policies::AuditVerification;
    using Actor = policies::Actor;
    using CaseCode = policies::CaseCode;
    using ChannelRef = policies::ChannelRef;
    using CheckinPlan = policies::CheckinPlan;
    using ConsentRecord = policies::ConsentRecord;
    using Decision = policies::Decision;
    using Instant = policies::Instant;
    using LanguageTag = policies::LanguageTag;
    using LocalWindow = policies::LocalWindow;
    using OrgPolicy = policies::OrgPolicy;
    using Purpose = policies::Purpose;
    using Survivor = policies::Survivor;

    /// Opens or creates (0600) the database file at `path` with the gateway's pragmas (WAL,
    /// synchronous=FULL, secure_delete) and creates the policies_ tables. Throws
    /// Error{storage}.
    static std::unique_ptr<PolicyStore> open(const std::string& path);
    /// Uses a connection the caller owns (e.g. the gateway's); it must outlive the store and
    /// must not be used by the caller concurrently with a store call. Creates the tables.
    static std::unique_ptr<PolicyStore> attach(sqlite3* db);
    ~PolicyStore() override;
    PolicyStore(const PolicyStore&) = delete;
    PolicyStore& operator=(const PolicyStore&) = delete;

    // ---- survivors (no name field exists) ----
    /// Enrols a survivor under a fresh random case code (retrying on collision) and returns
    /// the stored record. `s.case_code` is ignored. Throws Error{invalid_field | time_zone}.
    Survivor enrol_survivor(Survivor s, const Actor& actor, Instant now);
    /// Stores `s` under its own case code; Error{conflict} if the code is taken.
    void create_survivor(const Survivor& s, const Actor& actor, Instant now);
    /// Replaces her record (initials, language, zone, assignment, status, flags).
    /// Error{not_found}. Clearing duress_lock needs a caseworker (Error{refused} for admins).
    void update_survivor(const Survivor& s, const Actor& actor, Instant now);
    std::optional<Survivor> find_survivor(const CaseCode& code) const override;
    /// Sets duress_lock and records "duress.raised" (actor may be "system"). Idempotent.
    void raise_duress(const CaseCode& code, const std::string& actor, Instant now) override;
    /// Clears duress_lock; only a caseworker may (Error{refused} otherwise).
    void clear_duress(const CaseCode& code, const Actor& actor, Instant now);
    void set_paused(const CaseCode& code, bool paused, const Actor& actor, Instant now);

    // ---- consent (append-only) ----
    /// Validates and appends one consent record; recorded_by is set to `actor`. Refuses social
    /// media (Error{refused}), messenger consent without evidence, an unknown survivor
    /// (Error{not_found}) and an actor the organisation policy does not allow to record
    /// consent (Error{refused}). Returns the stored record with its version.
    ConsentRecord record_consent(ConsentRecord r, const Actor& actor);
    /// Every stored consent record for her, oldest first. Rows that cannot be parsed are
    /// returned with kind social_media so the decision denies them (fail closed).
    std::vector<ConsentRecord> consent_history(const CaseCode& code) const override;

    // ---- organisation policy ----
    /// The stored policy, or the defaults if none was ever set. Error{storage} if unreadable.
    OrgPolicy org_policy() const override;
    /// Validates and stores the policy; only an admin may (Error{refused}).
    void set_org_policy(const OrgPolicy& p, const Actor& actor, Instant now);

    // ---- templates of the texts the organisation sends her ----
    /// Sets the organisation's text for (template_id, language). Only the built-in ids
    /// ("neutral_checkin", "neutral_handover", "discreet_handover") exist. Error{invalid_field,
    /// "template_id" | "template.text"} for another id, an empty text, more than 320 bytes,
    /// a control character or invalid UTF-8, a link, or a placeholder other than {initials}
    /// (allowed in "neutral_handover" only); Error{refused, "template.text"} for a text that
    /// contains one of the organisation's names (OrgPolicy::organisation_names). Admin only.
    void set_template(const std::string& template_id, const LanguageTag& language,
                      const std::string& text, const Actor& actor, Instant now);
    /// Removes the organisation's text for (template_id, language): the built-in one applies
    /// again. Returns false if there was none. Admin only (Error{refused}). Audited.
    bool clear_template(const std::string& template_id, const LanguageTag& language,
                        const Actor& actor, Instant now);
    /// Text for her language: the organisation's, else the built-in neutral default, else
    /// English. An organisation text that contains one of its names (added to the policy after
    /// the text) is skipped. Error{not_found} when none exists.
    std::string template_text(const std::string& template_id,
                              const LanguageTag& language) const override;

    struct TemplateText {
        std::string template_id;
        std::string language;  // primary subtag
        std::string text;
    };
    /// The organisation's own texts (not the built-in ones), by id then language.
    std::vector<TemplateText> org_templates() const;

    // ---- the decision at send time ----
    /// Loads her record, consent history and the policy, runs decide_outbound at `now` and
    /// appends a "decision.outbound" audit entry (allow/deny + reason, no content). Anything
    /// that cannot be loaded denies (policy_unavailable / unknown_survivor). Never throws for
    /// a denial; throws Error{storage} only if the audit entry itself cannot be written.
    Decision decide_and_record(const CaseCode& code, const ChannelRef& channel,
                               const std::string& address_ref, Purpose purpose, Instant now,
                               const std::string& actor,
                               std::optional<LocalWindow> window = std::nullopt) override;

    // ---- audit ----
    /// Keys the chain from now on (audit.h): every later entry is MACed under `key`, and the
    /// first keyed entry of a chain that holds unkeyed entries is an `audit.keyed` marker.
    /// Once a chain holds a keyed entry, a store without the key refuses to append to it
    /// (Error{storage}) rather than write an entry no one could tell from a forgery.
    /// Returns true when it appended the marker. `mark` = false keys the store without
    /// appending (verification must not change the chain it verifies).
    /// Call right after open(), before other threads use the store. Throws Error{storage}.
    bool set_audit_key(const AuditKey& key, Instant now, bool mark = true);
    /// Appends one entry (fields validated as tokens). Returns it with seq and hashes.
    /// Inside the caller's transaction when one is open (SharedTransaction), else in its own.
    AuditEntry append_audit(const std::string& actor, const std::string& action,
                            const std::string& case_code, const std::string& decision,
                            const std::string& reason, Instant at) override;
    /// Re-reads the whole chain and names the first entry that was edited, removed or
    /// reordered. Never throws for a broken chain (ok = false); Error{storage} on I/O failure.
    /// With the audit key set, keyed entries are checked under it, unkeyed ones may only come
    /// before them, and every checkpoint must be authentic (its MAC) and still be in the
    /// chain (entry seq with hash head). Without the key, keyed entries cannot be checked and
    /// the chain is reported broken at the first one.
    AuditVerification verify_audit_chain(
        const std::vector<AuditCheckpoint>& checkpoints = {}) const;
    /// On PostgreSQL, takes the audit chain's cluster lock until the caller's transaction
    /// (SharedTransaction) ends: a check followed by a write and its audit entry (one open
    /// alert per kind) then runs on one node at a time, and takes its row locks after the
    /// chain's, in the order every audited write takes them. Nothing on SQLite (its write
    /// transaction holds the file). Error{storage} outside a transaction.
    void lock_audit_chain();
    /// The current head, authenticated. Error{refused} without the audit key.
    AuditCheckpoint audit_checkpoint() const;
    /// Entries with seq >= from_seq, at most `limit`, in order (for export).
    std::vector<AuditEntry> audit_entries(std::uint64_t from_seq, std::size_t limit) const;

    // ---- the check-in scheduler's state (policies::CheckinStore, checkin_store.h) ----
    std::int64_t save_checkin_plan(const CheckinPlan& plan,
                                   const std::optional<policies::ScheduledSlot>& next,
                                   const std::string& actor, Instant now) override;
    std::optional<CheckinPlan> find_checkin_plan(std::int64_t plan_id) const override;
    void set_checkin_plan_status(std::int64_t plan_id, policies::PlanStatus status,
                                 const std::optional<policies::ScheduledSlot>& next,
                                 const std::string& actor, Instant now) override;
    void halt_checkin_plan(std::int64_t plan_id, const CaseCode& code, const std::string& reason,
                           Instant now) override;
    void move_checkin_plan(std::int64_t plan_id, const std::optional<policies::ScheduledSlot>& next,
                           Instant now) override;
    std::vector<std::int64_t> due_checkin_plans(Instant now, std::size_t limit) const override;
    std::optional<policies::DueCheckin> due_checkin(std::int64_t plan_id,
                                                    Instant now) const override;
    std::vector<std::string> overdue_checkins(Instant now, std::size_t limit) const override;
    std::optional<Instant> next_checkin_due() const override;
    bool claim_checkin(const policies::CheckinClaim& claim,
                       const std::optional<policies::ScheduledSlot>& next, Instant now) override;
    void settle_checkin(const std::string& key, const CaseCode& code, const std::string& state,
                        const std::string& reason, const std::string& channel,
                        Instant now) override;
    std::optional<policies::OpenCheckin> open_checkin(const std::string& key) const override;
    bool mark_checkin_missed(const std::string& key, const CaseCode& code,
                             const std::string& reason, Instant now) override;
    void interrupt_claimed_checkins() override;
    std::vector<policies::Occurrence> checkin_occurrences(std::int64_t plan_id) const override;
    std::optional<Instant> last_inbound(const CaseCode& code) const override;
    void record_inbound(const CaseCode& code, Instant at) override;

    /// The underlying connection, for the storage layer's other repositories that share this
    /// database (wrap it in storage::Connection(Connection::Borrowed)). A connection is not
    /// safe for concurrent use: hold `lock()` while using it.
    Connection::Borrowed connection() const noexcept;

    /// The lock that serialises every call of this store; hold it around your own
    /// statements on connection() (it is recursive, so store calls inside are fine).
    std::unique_lock<std::recursive_mutex> lock() const override {
        return std::unique_lock<std::recursive_mutex>(mutex_);
    }

  private:
    explicit PolicyStore(std::unique_ptr<Connection> db);
    void create_schema();
    /// Runs `f` under the lock; a storage::Error leaves as policies::Error{storage}.
    template <class F>
    decltype(auto) locked(F&& f) const;

    std::optional<Survivor> load_survivor_locked(const CaseCode& code) const;
    std::vector<ConsentRecord> consent_history_locked(const CaseCode& code) const;
    OrgPolicy org_policy_locked() const;
    void write_survivor_locked(const Survivor& s, bool insert, Instant at);
    AuditEntry append_audit_locked(const std::string& actor, const std::string& action,
                                   const std::string& case_code, const std::string& decision,
                                   const std::string& reason, Instant at);
    /// lock_audit_chain() with the store's lock held; called first in every write
    /// transaction of this store that may append.
    void lock_audit_chain_locked();
    Decision decide_locked(const CaseCode& code, const ChannelRef& channel,
                           const std::string& address_ref, Purpose purpose, Instant now,
                           const std::optional<LocalWindow>& window) const;
    /// Moves every plan of hers to its next slot from `now` (her zone changed).
    void reschedule_case_locked(const CaseCode& code, Instant now,
                                const std::string& previous_time_zone = {});
    void write_next_slot_locked(std::int64_t plan_id,
                                const std::optional<policies::ScheduledSlot>& next, Instant now);

    std::unique_ptr<Connection> db_;
    std::optional<AuditKey> audit_key_;
    mutable std::recursive_mutex mutex_;
};

}  // namespace ariadne::storage

// The gateway names the store policies::PolicyStore.
namespace ariadne::policies {
using PolicyStore = storage::PolicyStore;
}  // namespace ariadne::policies
