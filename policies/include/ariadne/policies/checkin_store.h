// What the check-in scheduler needs from storage: her case (record, consent, the
// organisation policy, texts, the audited decision) and the scheduler's own state (plans,
// slots, her last inbound message). The scheduler's rules live in checkin.cpp; the storage
// layer implements this interface (storage::PolicyStore), so policies/ holds no SQL.
//
// Every method that writes is one transaction, with its audit entry: it commits entirely
// or throws and changes nothing.
// Errors: Error{storage} when the database fails or a stored row cannot be read back;
// the other codes as stated per method. Values in, values out.
// Thread safety: an implementation serialises its calls; lock() returns the (recursive)
// lock it uses, so the scheduler can keep a check and the write that follows it together.
// That lock is one process's: where several processes share the database, the writes that
// settle a race (claim_checkin, mark_checkin_missed) check again inside their transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/policies/audit.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/policies/decision.h"
#include "ariadne/policies/model.h"

namespace ariadne::policies {

/// A plan whose next slot is due: the plan, her local date of the slot, when its window
/// opens.
struct DueCheckin {
    CheckinPlan plan;
    ScheduledSlot slot;
};

/// A slot being taken by the scheduler: claimed for sending, or recorded as skipped.
struct CheckinClaim {
    std::string idempotency_key;  // "<plan_id>:<YYYY-MM-DD>"
    std::int64_t plan_id = 0;
    CaseCode case_code;
    std::chrono::local_days slot_day{};
    Instant window_start{}, window_end{}, deadline{};
    /// Empty: claim the slot for sending. Otherwise the slot is recorded `skipped` with this
    /// reason and a "checkin.skipped" audit entry.
    std::string skipped_reason;
};

/// A check-in that was sent and is waiting for her answer.
struct OpenCheckin {
    std::int64_t plan_id = 0;
    CaseCode case_code;
    Instant deadline{};
};

class CheckinStore {
  public:
    virtual ~CheckinStore() = default;

    /// The lock serialising every call of this store (recursive: calls made while holding
    /// it are fine).
    virtual std::unique_lock<std::recursive_mutex> lock() const = 0;

    // ---- her case ----
    virtual std::optional<Survivor> find_survivor(const CaseCode& code) const = 0;
    virtual std::vector<ConsentRecord> consent_history(const CaseCode& code) const = 0;
    virtual OrgPolicy org_policy() const = 0;
    /// Error{not_found} when no text exists for the id in her language or English.
    virtual std::string template_text(const std::string& template_id,
                                      const LanguageTag& language) const = 0;
    /// decide_outbound on what is stored, audited as "decision.<purpose>".
    virtual Decision decide_and_record(const CaseCode& code, const ChannelRef& channel,
                                       const std::string& address_ref, Purpose purpose, Instant now,
                                       const std::string& actor,
                                       std::optional<LocalWindow> window) = 0;
    virtual AuditEntry append_audit(const std::string& actor, const std::string& action,
                                    const std::string& case_code, const std::string& decision,
                                    const std::string& reason, Instant at) = 0;
    /// Sets her duress lock, audited as "duress.raised". Error{not_found}.
    virtual void raise_duress(const CaseCode& code, const std::string& actor, Instant now) = 0;

    // ---- plans ----
    /// Inserts (plan_id == 0) or replaces the plan with its next slot, audited as
    /// "checkin.plan_set" by `actor`. Returns its id. Error{not_found, "plan.plan_id"} when
    /// replacing a plan that does not exist.
    virtual std::int64_t save_checkin_plan(const CheckinPlan& plan,
                                           const std::optional<ScheduledSlot>& next,
                                           const std::string& actor, Instant now) = 0;
    virtual std::optional<CheckinPlan> find_checkin_plan(std::int64_t plan_id) const = 0;
    /// Sets the plan's status and next slot, audited as "checkin.plan_<status>".
    virtual void set_checkin_plan_status(std::int64_t plan_id, PlanStatus status,
                                         const std::optional<ScheduledSlot>& next,
                                         const std::string& actor, Instant now) = 0;
    /// Stops scheduling the plan (no next slot), audited as "checkin.halted" with `reason`.
    virtual void halt_checkin_plan(std::int64_t plan_id, const CaseCode& code,
                                   const std::string& reason, Instant now) = 0;
    /// Moves the plan's next slot to `next` without recording a slot (a first slot held
    /// while she cannot be reached).
    virtual void move_checkin_plan(std::int64_t plan_id, const std::optional<ScheduledSlot>& next,
                                   Instant now) = 0;

    // ---- slots ----
    /// Ids of plans whose next slot is due at or before `now`, earliest first.
    virtual std::vector<std::int64_t> due_checkin_plans(Instant now, std::size_t limit) const = 0;
    /// The plan with its next slot, if that slot is due at or before `now`.
    virtual std::optional<DueCheckin> due_checkin(std::int64_t plan_id, Instant now) const = 0;
    /// Keys of sent check-ins whose deadline is at or before `now`, earliest first.
    virtual std::vector<std::string> overdue_checkins(Instant now, std::size_t limit) const = 0;
    /// The earliest next slot or open deadline, if any.
    virtual std::optional<Instant> next_checkin_due() const = 0;
    /// Records the slot (unless its key exists) and moves the plan on to `next`, if the plan
    /// still stands at that slot (its next slot is claim.slot_day and it is not halted).
    /// Returns true when the slot was new. False, with nothing written, when the plan moved
    /// since the caller read it due: another scheduler on the same database took the slot, or
    /// the plan was paused, stopped, halted or replaced; the caller must not send.
    virtual bool claim_checkin(const CheckinClaim& claim, const std::optional<ScheduledSlot>& next,
                               Instant now) = 0;
    /// Records what became of a claimed slot (`state`: sent, responded, denied,
    /// send_failed), audited as "checkin.<state>" with `reason`.
    virtual void settle_checkin(const std::string& key, const CaseCode& code,
                                const std::string& state, const std::string& reason,
                                const std::string& channel, Instant now) = 0;
    /// The sent check-in under `key`, if it is still waiting for her answer.
    virtual std::optional<OpenCheckin> open_checkin(const std::string& key) const = 0;
    /// Marks a sent check-in missed, audited as "checkin.missed" with `reason`. Returns false,
    /// changing nothing, when it is no longer open (she answered, or another scheduler on the
    /// same database marked it): only the caller that got true may alert.
    virtual bool mark_checkin_missed(const std::string& key, const CaseCode& code,
                                     const std::string& reason, Instant now) = 0;
    /// Slots left claimed by a process that stopped become `interrupted` (never re-sent).
    virtual void interrupt_claimed_checkins() = 0;
    /// Every recorded slot of the plan, by date.
    virtual std::vector<Occurrence> checkin_occurrences(std::int64_t plan_id) const = 0;

    // ---- her messages ----
    /// The latest inbound message from her, if any was recorded.
    virtual std::optional<Instant> last_inbound(const CaseCode& code) const = 0;
    /// Records an inbound message at `at`: it answers every sent check-in whose window
    /// started at or before `at` and whose deadline is later ("checkin.responded").
    virtual void record_inbound(const CaseCode& code, Instant at) = 0;
};

}  // namespace ariadne::policies
