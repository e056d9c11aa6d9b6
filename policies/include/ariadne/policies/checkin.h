// Check-in plans and their durable scheduler. A plan is opt-in and belongs to one survivor:
// a cadence (every N days, or listed dates), a local-time window and weekdays, channels in
// order of preference, a neutral template in her language, a grace period and whom to alert
// if she does not answer (her choice). The scheduler keeps its state through a CheckinStore
// (checkin_store.h; the storage layer implements it) and guarantees, for each slot (plan +
// local date):
//   * at most one send: the slot is claimed in a transaction (idempotency key
//     "<plan_id>:<YYYY-MM-DD>") before the send callback runs, and marked sent after;
//   * never outside the window: a slot whose window passed while the scheduler was not
//     running is recorded as `skipped`, not sent late;
//   * the decision is re-checked (decide_outbound, audited) right before the send callback,
//     so a withdrawal, a pause or a duress lock stops it immediately;
//   * any inbound message from her between the window start and the end of the grace period
//     counts as a response; a missed check-in alerts only if she chose an alert target.
// Time comes from an injectable Clock. Not thread-safe by itself: drive one scheduler per
// process from one thread (the store it uses is thread-safe). Processes sharing one database
// (gateway nodes on PostgreSQL) may each run one: a slot is sent by the one whose claim wins,
// and a missed check-in alerts once. Callbacks run with the store's lock held: keep them
// short; they may call the store from the same thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/policies/clock.h"
#include "ariadne/policies/model.h"

namespace ariadne::policies {

class CheckinStore;

/// Whom a missed check-in alerts, as she chose: nobody, or her caseworkers (the alert goes to
/// every caseworker assigned to her case). There is no partner-organisation target: Ariadne
/// has no way to deliver an alert outside the organisation.
enum class AlertTarget { nobody, caseworker };
enum class PlanStatus { active, paused, stopped };
const char* to_string(AlertTarget) noexcept;
const char* to_string(PlanStatus) noexcept;

struct CheckinPlan {
    std::int64_t plan_id = 0;  // 0 = new; assigned by set_plan
    CaseCode case_code;
    /// Cadence: every `every_days` days starting on `first_day` (her local date), or, when
    /// every_days == 0, exactly the listed `dates`.
    int every_days = 7;
    std::chrono::local_days first_day{};
    std::vector<std::chrono::local_days> dates{};
    /// Allowed local-time window (start < end, same day) and weekdays. With every_days, a
    /// cadence date on a disallowed weekday moves to the next allowed day before the
    /// following cadence date; listed dates must fall on allowed weekdays.
    LocalWindow window{10 * 60, 18 * 60, 0x7F};
    std::vector<ChannelRef> channels{};  // order of preference; consent is checked at send
    std::string template_id = "neutral_checkin";
    int grace_minutes = 24 * 60;
    AlertTarget alert = AlertTarget::nobody;
    PlanStatus status = PlanStatus::active;

    /// Throws Error{invalid_field | refused} naming the field ("plan.channels[0]", …).
    void validate() const;
};

/// What the send callback receives. The text is the neutral template in her language.
struct CheckinSend {
    CaseCode case_code;
    std::int64_t plan_id = 0;
    std::string idempotency_key;  // "<plan_id>:<YYYY-MM-DD>"; pass it on to dedupe downstream
    ChannelRef channel;
    std::string address_ref;  // from her latest consent on that channel
    LanguageTag language;
    std::string template_id;
    std::string text;
};

enum class SendOutcome {
    sent,      // durably handed over: the slot is done
    not_sent,  // definitely not sent (e.g. channel down): the next channel in order is tried
};

enum class AlertKind {
    missed_checkin,         // unanswered past the grace period, and she chose an alert
    duress,                 // urgent
    checkin_undeliverable,  // no channel of the plan could carry the slot (see run_due)
};
const char* to_string(AlertKind) noexcept;

struct Alert {
    AlertKind kind = AlertKind::missed_checkin;
    CaseCode case_code;
    bool urgent = false;  // duress alerts are urgent
    AlertTarget target = AlertTarget::caseworker;
    std::vector<AccountId> caseworkers;  // her assigned caseworkers
    std::optional<AccountId> team;
    std::int64_t plan_id = 0;    // 0 for duress
    std::string occurrence_key;  // "" for duress
    Instant at{};
};

struct CheckinCallbacks {
    /// Sends one check-in. Throwing means "unknown whether it went out": the slot is marked
    /// send_failed and never retried (at most once).
    std::function<SendOutcome(const CheckinSend&)> send{};
    std::function<void(const Alert&)> alert{};
    /// Whether she has what any channel of the plan needs to reach her (a device, a verified
    /// number), whatever the senders. While it answers false, the plan's first slot is not
    /// claimed: it waits for the first window after she can be reached. Unset: always true.
    std::function<bool(const CheckinPlan&)> reachable{};
};

/// One slot's record. States: claimed, sent, responded, missed, skipped, denied,
/// send_failed, interrupted (claimed when the process stopped: never re-sent).
struct Occurrence {
    std::string idempotency_key;
    std::int64_t plan_id = 0;
    std::chrono::local_days slot_day{};
    Instant window_start{}, window_end{}, deadline{};
    std::string state;
    std::string reason;   // reason code or token for skipped/denied/missed
    std::string channel;  // channel used when sent
};

/// A slot of a plan: her local date and the instant its window opens.
struct ScheduledSlot {
    std::chrono::local_days day{};
    Instant due{};
};

/// The next slot of `plan` for her (`survivor`, whose zone places the window), on or after
/// her local date `from`, or, without `from`, the first whose window has not ended at `now`.
/// Nullopt when the plan is not active or has no slot left. Throws Error{not_found,
/// "plan.case_code"} for an active plan without a survivor; Error{time_zone} if her zone
/// cannot be loaded.
std::optional<ScheduledSlot> next_checkin_slot(const CheckinPlan& plan,
                                               const std::optional<Survivor>& survivor, Instant now,
                                               std::optional<std::chrono::local_days> from);

class CheckinScheduler {
  public:
    /// `store`, `clock` must outlive the scheduler. Marks slots left `claimed` by a previous
    /// process as `interrupted` (they may or may not have gone out, so they are not re-sent).
    CheckinScheduler(CheckinStore& store, const Clock& clock, CheckinCallbacks callbacks);

    /// Creates (plan_id == 0) or replaces a plan and schedules its next slot from now.
    /// Refuses social media, messengers the organisation policy does not accept, channels
    /// she has not consented to for check-ins (Error{refused, "plan.channels[i]"}), unknown
    /// survivors (Error{not_found}). Whether a channel can reach her is the caller's to check
    /// (the gateway knows which senders and devices exist).
    std::int64_t set_plan(CheckinPlan plan, const Actor& actor);
    std::optional<CheckinPlan> plan(std::int64_t plan_id) const;
    /// Pause (no slots, none recorded), resume (next slot from now) or stop a plan.
    void set_plan_status(std::int64_t plan_id, PlanStatus status, const Actor& actor);

    /// Does all work due at clock.now(): sends slots whose window is open, records slots
    /// whose window passed as skipped, marks unanswered check-ins missed (alerting if she
    /// chose so). A slot that no channel could carry for a reason other than her own choice
    /// or state (consent withdrawn, paused, closed, duress) raises a checkin_undeliverable
    /// alert to her caseworkers, whatever alert target she chose: the plan needs fixing.
    /// A plan's first slot is held (nothing recorded, nothing sent) while `reachable` says no
    /// channel of the plan can reach her; once one can, it goes out in the first window that
    /// has not ended. Returns the number of slots acted on.
    std::size_t run_due();
    /// The earliest instant at which run_due has work, from indexes only (no scans).
    std::optional<Instant> next_due() const;

    /// An inbound message from her at `at`: counts as the response to any open check-in.
    void record_inbound(const CaseCode& code, Instant at);
    /// A duress signal (her duress code, or one of the organisation's duress words found by
    /// the gateway's edge or a console): lock + urgent alert.
    void raise_duress(const CaseCode& code, Instant at);

    std::vector<Occurrence> occurrences(std::int64_t plan_id) const;

  private:
    enum class PlanStep { idle, done, held };
    PlanStep process_plan(std::int64_t plan_id, Instant now);
    bool process_missed(const std::string& key, Instant now);
    std::optional<ScheduledSlot> schedule(const CheckinPlan& plan, Instant now) const;

    CheckinStore& store_;
    const Clock& clock_;
    CheckinCallbacks callbacks_;
};

}  // namespace ariadne::policies
