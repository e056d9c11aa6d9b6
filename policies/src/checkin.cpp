#include "ariadne/policies/checkin.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "ariadne/policies/checkin_store.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/templates.h"
#include "ariadne/policies/time_zone.h"

namespace ariadne::policies {

using namespace std::chrono;

const char* to_string(AlertTarget t) noexcept {
    switch (t) {
        case AlertTarget::nobody:
            return "nobody";
        case AlertTarget::caseworker:
            return "caseworker";
    }
    return "unknown";
}

const char* to_string(PlanStatus s) noexcept {
    switch (s) {
        case PlanStatus::active:
            return "active";
        case PlanStatus::paused:
            return "paused";
        case PlanStatus::stopped:
            return "stopped";
    }
    return "unknown";
}

const char* to_string(AlertKind k) noexcept {
    switch (k) {
        case AlertKind::missed_checkin:
            return "missed_checkin";
        case AlertKind::duress:
            return "duress";
        case AlertKind::checkin_undeliverable:
            return "checkin_undeliverable";
    }
    return "duress";
}

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& what) {
    throw Error(ErrorCode::invalid_field, field, field + ": " + what);
}

std::string iso(local_days d) {
    year_month_day ymd{d};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

bool weekday_allowed(const LocalWindow& w, local_days d) {
    return ((w.weekdays >> weekday{d}.c_encoding()) & 1U) != 0;
}

// The first slot day >= from, or nullopt when the plan has no more slots.
std::optional<local_days> next_slot(const CheckinPlan& p, local_days from) {
    if (p.every_days == 0) {
        std::optional<local_days> best;
        for (local_days d : p.dates) {
            if (d >= from && (!best || d < *best)) best = d;
        }
        return best;
    }
    const std::int64_t n = p.every_days;
    std::int64_t k = 0;
    if (from > p.first_day) k = ((from - p.first_day).count() + n - 1) / n;
    // Start one period early: that period's date may have moved forward onto `from`.
    for (std::int64_t kk = std::max<std::int64_t>(0, k - 1); kk < k + 800; ++kk) {
        local_days cadence = p.first_day + days{kk * n};
        for (std::int64_t j = 0; j < std::min<std::int64_t>(n, 7); ++j) {
            local_days d = cadence + days{j};
            if (!weekday_allowed(p.window, d)) continue;
            if (d >= from) return d;
            break;
        }
    }
    return std::nullopt;
}

struct SlotWindow {
    Instant start, end;
};

SlotWindow window_of(const CheckinPlan& p, const TimeZone& tz, local_days d) {
    return SlotWindow{Instant{tz.from_local(d + minutes{p.window.start_minute})},
                      Instant{tz.from_local(d + minutes{p.window.end_minute})}};
}

}  // namespace

void CheckinPlan::validate() const {
    if (every_days < 0 || every_days > 366)
        invalid("plan.every_days", "must be 0 (listed dates) to 366");
    if (every_days == 0) {
        if (dates.empty() || dates.size() > 1000)
            invalid("plan.dates", "list 1 to 1000 dates, or set every_days");
        for (std::size_t i = 0; i < dates.size(); ++i) {
            if (!weekday_allowed(window, dates[i])) {
                invalid("plan.dates[" + std::to_string(i) + "]",
                        iso(dates[i]) + " falls on a weekday the window does not allow");
            }
        }
    }
    window.validate("plan.window", false);
    if (channels.empty() || channels.size() > 8)
        invalid("plan.channels", "list 1 to 8 channels in order of preference");
    for (std::size_t i = 0; i < channels.size(); ++i) {
        std::string field = "plan.channels[" + std::to_string(i) + "]";
        ChannelRef c = ChannelRef::make(channels[i].kind, channels[i].provider, field);
        if (c.kind == ChannelKind::social_media) {
            throw Error(ErrorCode::refused, field,
                        field + ": social media (" + c.str() + ") can never be used for check-ins");
        }
    }
    if (!builtin_template(template_id, "en")) {
        invalid("plan.template_id", "must be the id of a text Ariadne sends (neutral_checkin)");
    }
    if (grace_minutes < 0 || grace_minutes > 14 * 24 * 60) {
        invalid("plan.grace_minutes", "must be between 0 and 20160 (14 days)");
    }
    if (alert != AlertTarget::nobody && alert != AlertTarget::caseworker) {
        invalid("plan.alert", "must be nobody or caseworker");
    }
}

std::optional<ScheduledSlot> next_checkin_slot(const CheckinPlan& plan,
                                               const std::optional<Survivor>& survivor, Instant now,
                                               std::optional<local_days> from) {
    if (plan.status != PlanStatus::active) return std::nullopt;
    if (!survivor)
        throw Error(ErrorCode::not_found, "plan.case_code", "plan.case_code: no such survivor");
    auto tz = TimeZone::load(survivor->time_zone, "survivor.time_zone");
    local_days start = from ? *from : tz->to_local(now).date;
    std::optional<local_days> slot = next_slot(plan, start);
    // When scheduling from now, a slot whose window already ended is not a missed slot.
    while (!from && slot && window_of(plan, *tz, *slot).end <= now)
        slot = next_slot(plan, *slot + days{1});
    if (!slot) return std::nullopt;
    return ScheduledSlot{*slot, window_of(plan, *tz, *slot).start};
}

CheckinScheduler::CheckinScheduler(CheckinStore& store, const Clock& clock,
                                   CheckinCallbacks callbacks)
    : store_(store), clock_(clock), callbacks_(std::move(callbacks)) {
    store_.interrupt_claimed_checkins();
}

std::optional<ScheduledSlot> CheckinScheduler::schedule(const CheckinPlan& plan,
                                                        Instant now) const {
    if (plan.status != PlanStatus::active) return std::nullopt;
    return next_checkin_slot(plan, store_.find_survivor(plan.case_code), now, std::nullopt);
}

std::int64_t CheckinScheduler::set_plan(CheckinPlan plan, const Actor& actor) {
    plan.validate();
    for (auto& c : plan.channels) c = ChannelRef::make(c.kind, c.provider);
    Instant now = clock_.now();
    auto lock = store_.lock();
    auto survivor = store_.find_survivor(plan.case_code);
    if (!survivor) {
        throw Error(ErrorCode::not_found, "plan.case_code",
                    "plan.case_code: there is no survivor " + plan.case_code.str());
    }
    auto history = store_.consent_history(plan.case_code);
    const OrgPolicy policy = store_.org_policy();
    for (std::size_t i = 0; i < plan.channels.size(); ++i) {
        if (plan.channels[i].kind == ChannelKind::messenger &&
            !policy.accepts_messenger(plan.channels[i].provider)) {
            std::string field = "plan.channels[" + std::to_string(i) + "]";
            throw Error(ErrorCode::refused, field,
                        field + ": '" + plan.channels[i].provider +
                            "' is not an accepted messenger (accepted: " + policy.messenger_list() +
                            ")");
        }
        const ConsentRecord* r =
            latest_consent(history, plan.case_code, plan.channels[i], Purpose::check_ins, now);
        if (r == nullptr || r->action != ConsentAction::given) {
            std::string field = "plan.channels[" + std::to_string(i) + "]";
            throw Error(ErrorCode::refused, field,
                        field + ": she has not consented to check-ins on " +
                            plan.channels[i].str() + "; record her consent first");
        }
    }
    const auto next = next_checkin_slot(plan, survivor, now, std::nullopt);
    return store_.save_checkin_plan(plan, next, actor.account.str(), now);
}

std::optional<CheckinPlan> CheckinScheduler::plan(std::int64_t plan_id) const {
    return store_.find_checkin_plan(plan_id);
}

void CheckinScheduler::set_plan_status(std::int64_t plan_id, PlanStatus status,
                                       const Actor& actor) {
    Instant now = clock_.now();
    auto lock = store_.lock();
    auto p = plan(plan_id);
    if (!p) throw Error(ErrorCode::not_found, "plan.plan_id", "plan.plan_id: no such plan");
    if (p->status == PlanStatus::stopped && status != PlanStatus::stopped) {
        throw Error(ErrorCode::refused, "plan.status",
                    "plan.status: a stopped plan cannot be restarted; create a new plan");
    }
    p->status = status;
    store_.set_checkin_plan_status(plan_id, status, schedule(*p, now), actor.account.str(), now);
}

std::optional<Instant> CheckinScheduler::next_due() const { return store_.next_checkin_due(); }

std::size_t CheckinScheduler::run_due() {
    Instant now = clock_.now();
    std::size_t done = 0;
    auto lock = store_.lock();
    // Plans whose first slot waits for her stay due: they are looked at again next run.
    std::vector<std::int64_t> held;
    for (;;) {
        std::vector<std::int64_t> plans = store_.due_checkin_plans(now, 256 + held.size());
        std::erase_if(plans, [&](std::int64_t id) {
            return std::find(held.begin(), held.end(), id) != held.end();
        });
        const std::vector<std::string> missed = store_.overdue_checkins(now, 256);
        if (plans.empty() && missed.empty()) return done;
        for (std::int64_t id : plans) {
            const PlanStep step = process_plan(id, now);
            if (step == PlanStep::held) held.push_back(id);
            done += step == PlanStep::done ? 1 : 0;
        }
        for (const auto& key : missed) done += process_missed(key, now) ? 1 : 0;
    }
}

CheckinScheduler::PlanStep CheckinScheduler::process_plan(std::int64_t plan_id, Instant now) {
    std::optional<DueCheckin> due = store_.due_checkin(plan_id, now);
    if (!due) return PlanStep::idle;
    const CheckinPlan& plan = due->plan;
    const local_days slot = due->slot.day;
    const std::string key = std::to_string(plan_id) + ":" + iso(slot);

    auto survivor = store_.find_survivor(plan.case_code);
    std::shared_ptr<const TimeZone> tz;
    try {
        if (survivor) tz = TimeZone::load(survivor->time_zone);
    } catch (const Error&) {
    }
    if (!survivor || !tz) {
        // Without her record or zone no window can be computed: halt the plan, fail closed.
        store_.halt_checkin_plan(plan_id, plan.case_code,
                                 survivor ? "unknown_time_zone" : "unknown_survivor", now);
        return PlanStep::done;
    }
    const SlotWindow win = window_of(plan, *tz, slot);
    const Instant deadline = win.end + minutes{plan.grace_minutes};

    // 0. A first slot no channel could reach her for (no device, no verified number yet) is
    // not lost: it waits, unrecorded, for the first window after she can be reached.
    if (callbacks_.reachable && store_.checkin_occurrences(plan_id).empty() &&
        !callbacks_.reachable(plan)) {
        if (now >= win.end) {
            // Every day's window counts as "the next window" for a cadence; listed dates keep
            // to the list.
            std::optional<ScheduledSlot> next;
            for (local_days d = slot + days{1}; plan.every_days != 0 && d < slot + days{800};
                 d += days{1}) {
                if (!weekday_allowed(plan.window, d)) continue;
                const SlotWindow w = window_of(plan, *tz, d);
                if (w.end <= now || w.start >= w.end) continue;
                next = ScheduledSlot{d, w.start};
                break;
            }
            if (!next) next = next_checkin_slot(plan, survivor, now, std::nullopt);
            store_.move_checkin_plan(plan_id, next, now);
        }
        return PlanStep::held;
    }

    // 1. Claim the slot and move the plan on, in one transaction.
    const bool passed = now >= win.end || win.start >= win.end;
    CheckinClaim claim{.idempotency_key = key,
                       .plan_id = plan_id,
                       .case_code = plan.case_code,
                       .slot_day = slot,
                       .window_start = win.start,
                       .window_end = win.end,
                       .deadline = deadline,
                       .skipped_reason = !passed                ? std::string()
                                         : win.start >= win.end ? "window_does_not_exist"
                                                                : "window_passed"};
    const bool recorded =
        store_.claim_checkin(claim, next_checkin_slot(plan, survivor, now, slot + days{1}), now);
    if (passed || !recorded) return PlanStep::done;

    // 2. Re-check the decision right before each send attempt, then send.
    std::string state, reason, used_channel;
    // Set when a channel failed for a reason that is not her own choice or state: then the
    // plan itself cannot reach her and her caseworkers must know (checkin_undeliverable).
    bool undeliverable = false;
    const std::optional<Instant> last_inbound = store_.last_inbound(plan.case_code);
    if (last_inbound && *last_inbound >= win.start && *last_inbound <= now) {
        state = "responded";
        reason = "she_wrote_first";
    } else {
        std::vector<ConsentRecord> history;
        try {
            history = store_.consent_history(plan.case_code);
        } catch (const Error&) {
        }
        for (const ChannelRef& channel : plan.channels) {
            Decision d = store_.decide_and_record(plan.case_code, channel, "", Purpose::check_ins,
                                                  now, "system", plan.window);
            if (!d.allowed) {
                reason = to_string(d.reason);
                undeliverable = undeliverable || (d.reason != ReasonCode::consent_withdrawn &&
                                                  d.reason != ReasonCode::duress_lock &&
                                                  d.reason != ReasonCode::survivor_paused &&
                                                  d.reason != ReasonCode::case_closed);
                continue;
            }
            std::string text;
            try {
                text = store_.template_text(plan.template_id, survivor->language);
            } catch (const Error&) {
                reason = "no_template";
                undeliverable = true;
                break;
            }
            const ConsentRecord* consent =
                latest_consent(history, plan.case_code, channel, Purpose::check_ins, now);
            CheckinSend send{.case_code = plan.case_code,
                             .plan_id = plan_id,
                             .idempotency_key = key,
                             .channel = channel,
                             .address_ref = consent ? consent->address_ref : std::string(),
                             .language = survivor->language,
                             .template_id = plan.template_id,
                             .text = std::move(text)};
            try {
                if (!callbacks_.send) throw std::runtime_error("no send callback");
                if (callbacks_.send(send) == SendOutcome::sent) {
                    state = "sent";
                    used_channel = channel.str();
                    reason.clear();
                    break;
                }
                reason = "not_sent";
                undeliverable = true;
            } catch (...) {
                state = "send_failed";
                reason = "send_outcome_unknown";
                used_channel = channel.str();
                break;
            }
        }
        if (state.empty()) state = "denied";
    }

    // 3. Record the outcome.
    store_.settle_checkin(key, plan.case_code, state, reason, used_channel, now);
    if (state == "denied" && undeliverable && callbacks_.alert) {
        callbacks_.alert(Alert{.kind = AlertKind::checkin_undeliverable,
                               .case_code = plan.case_code,
                               .urgent = false,
                               .target = AlertTarget::caseworker,
                               .caseworkers = survivor->caseworkers,
                               .team = survivor->team,
                               .plan_id = plan_id,
                               .occurrence_key = key,
                               .at = now});
    }
    return PlanStep::done;
}

bool CheckinScheduler::process_missed(const std::string& key, Instant now) {
    const std::optional<OpenCheckin> open = store_.open_checkin(key);
    if (!open || open->deadline > now) return false;
    const CaseCode& code = open->case_code;
    auto p = plan(open->plan_id);
    auto survivor = store_.find_survivor(code);
    AlertTarget target = p ? p->alert : AlertTarget::nobody;
    std::string reason = target == AlertTarget::nobody ? "no_alert_by_her_choice"
                                                       : std::string("alert_") + to_string(target);
    // Another scheduler on the same database may have marked it (and alerted) meanwhile, or
    // her answer arrived: then nothing is left to do here.
    if (!store_.mark_checkin_missed(key, code, reason, now)) return false;
    if (target != AlertTarget::nobody && callbacks_.alert) {
        Alert a{.kind = AlertKind::missed_checkin,
                .case_code = code,
                .urgent = false,
                .target = target,
                .caseworkers = survivor ? survivor->caseworkers : std::vector<AccountId>{},
                .team = survivor ? survivor->team : std::nullopt,
                .plan_id = open->plan_id,
                .occurrence_key = key,
                .at = now};
        callbacks_.alert(a);
    }
    return true;
}

void CheckinScheduler::record_inbound(const CaseCode& code, Instant at) {
    store_.record_inbound(code, at);
}

void CheckinScheduler::raise_duress(const CaseCode& code, Instant at) {
    auto lock = store_.lock();
    store_.raise_duress(code, "system", at);
    auto survivor = store_.find_survivor(code);
    store_.append_audit("system", "alert.duress", code.str(), "", "urgent", at);
    if (callbacks_.alert) {
        callbacks_.alert(
            Alert{.kind = AlertKind::duress,
                  .case_code = code,
                  .urgent = true,
                  .target = AlertTarget::caseworker,
                  .caseworkers = survivor ? survivor->caseworkers : std::vector<AccountId>{},
                  .team = survivor ? survivor->team : std::nullopt,
                  .plan_id = 0,
                  .occurrence_key = "",
                  .at = at});
    }
}

std::vector<Occurrence> CheckinScheduler::occurrences(std::int64_t plan_id) const {
    return store_.checkin_occurrences(plan_id);
}

}  // namespace ariadne::policies
