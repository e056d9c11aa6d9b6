// PolicyStore: survivors, consent records, organisation policy, templates and the audit
// chain in SQLite tables prefixed `policies_`. Every input is validated before it is
// written; every change and every outbound decision is appended to the audit chain in the
// same transaction. A PolicyStore is safe for concurrent use from several threads: calls are
// serialised by an internal mutex.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/policies/audit.h"
#include "ariadne/policies/decision.h"
#include "ariadne/policies/model.h"

struct sqlite3;

namespace ariadne::policies {

class CheckinScheduler;

class PolicyStore {
  public:
    /// Opens or creates the database file at `path` in WAL mode and creates the policies_
    /// tables. Throws Error{storage}.
    static std::unique_ptr<PolicyStore> open(const std::string& path);
    /// Uses a connection the caller owns (e.g. the gateway's); it must outlive the store and
    /// must not be used by the caller concurrently with a store call. Creates the tables.
    static std::unique_ptr<PolicyStore> attach(sqlite3* db);
    ~PolicyStore();
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
    std::optional<Survivor> find_survivor(const CaseCode& code) const;
    /// Sets duress_lock and records "duress.raised" (actor may be "system"). Idempotent.
    void raise_duress(const CaseCode& code, const std::string& actor, Instant now);
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
    std::vector<ConsentRecord> consent_history(const CaseCode& code) const;

    // ---- organisation policy ----
    /// The stored policy, or the defaults if none was ever set. Error{storage} if unreadable.
    OrgPolicy org_policy() const;
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
    std::string template_text(const std::string& template_id, const LanguageTag& language) const;

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
                               std::optional<LocalWindow> window = std::nullopt);

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
    AuditEntry append_audit(const std::string& actor, const std::string& action,
                            const std::string& case_code, const std::string& decision,
                            const std::string& reason, Instant at);
    /// Re-reads the whole chain and names the first entry that was edited, removed or
    /// reordered. Never throws for a broken chain (ok = false); Error{storage} on I/O failure.
    /// With the audit key set, keyed entries are checked under it, unkeyed ones may only come
    /// before them, and every checkpoint must be authentic (its MAC) and still be in the
    /// chain (entry seq with hash head). Without the key, keyed entries cannot be checked and
    /// the chain is reported broken at the first one.
    AuditVerification verify_audit_chain(
        const std::vector<AuditCheckpoint>& checkpoints = {}) const;
    /// The current head, authenticated. Error{refused} without the audit key.
    AuditCheckpoint audit_checkpoint() const;
    /// Entries with seq >= from_seq, at most `limit`, in order (for export).
    std::vector<AuditEntry> audit_entries(std::uint64_t from_seq, std::size_t limit) const;

    /// The underlying connection (for tests and the integrator's shared transactions).
    /// A SQLite connection is not safe for concurrent use: hold `lock()` while using it.
    sqlite3* connection() const noexcept { return db_; }

    /// The lock that serialises every call of this store; hold it around your own
    /// statements on connection() (it is recursive, so store calls inside are fine).
    std::unique_lock<std::recursive_mutex> lock() const {
        return std::unique_lock<std::recursive_mutex>(mutex_);
    }

  private:
    friend class CheckinScheduler;
    PolicyStore(sqlite3* db, bool owned);
    std::optional<Survivor> load_survivor_locked(const CaseCode& code) const;
    std::vector<ConsentRecord> consent_history_locked(const CaseCode& code) const;
    OrgPolicy org_policy_locked() const;
    void write_survivor_locked(const Survivor& s, bool insert, Instant at);
    AuditEntry append_audit_locked(const std::string& actor, const std::string& action,
                                   const std::string& case_code, const std::string& decision,
                                   const std::string& reason, Instant at);
    Decision decide_locked(const CaseCode& code, const ChannelRef& channel,
                           const std::string& address_ref, Purpose purpose, Instant now,
                           const std::optional<LocalWindow>& window) const;

    sqlite3* db_;
    bool owned_;
    std::optional<AuditKey> audit_key_;
    mutable std::recursive_mutex mutex_;
};

}  // namespace ariadne::policies
