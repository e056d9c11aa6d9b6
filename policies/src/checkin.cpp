#include "ariadne/policies/checkin.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "sqlite.h"
#include "templates.h"

namespace ariadne::policies {

using namespace std::chrono;
using detail::exec;
using detail::Stmt;
using detail::WriteTx;

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

std::int64_t day_num(local_days d) { return d.time_since_epoch().count(); }
local_days from_day_num(std::int64_t n) { return local_days{days{n}}; }

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

std::string channels_json(const std::vector<ChannelRef>& channels) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : channels)
        j.push_back({{"kind", to_string(c.kind)}, {"provider", c.provider}});
    return j.dump();
}

CheckinPlan read_plan(const Stmt& q) {
    // Columns: plan_id, case_code, every_days, first_day, dates_json, window_start, window_end,
    // weekdays, channels_json, template_id, grace_minutes, alert_target, alert_partner, status
    try {
        CheckinPlan p{.case_code = CaseCode(q.text(1))};
        p.plan_id = q.i64(0);
        p.every_days = static_cast<int>(q.i64(2));
        p.first_day = from_day_num(q.i64(3));
        for (const auto& d : nlohmann::json::parse(q.text(4)))
            p.dates.push_back(from_day_num(d.get<std::int64_t>()));
        p.window = LocalWindow{static_cast<int>(q.i64(5)), static_cast<int>(q.i64(6)),
                               static_cast<std::uint8_t>(q.i64(7))};
        for (const auto& c : nlohmann::json::parse(q.text(8))) {
            auto kind = parse_channel_kind(c.at("kind").get<std::string>());
            if (!kind) throw std::runtime_error("kind");
            p.channels.push_back(ChannelRef{*kind, c.at("provider").get<std::string>()});
        }
        p.template_id = q.text(9);
        p.grace_minutes = static_cast<int>(q.i64(10));
        // A plan stored with the former "partner" target asked for someone to be alerted: her
        // caseworkers are the only ones Ariadne can reach.
        std::string alert = q.text(11);
        p.alert = alert == "nobody" ? AlertTarget::nobody : AlertTarget::caseworker;
        std::string status = q.text(13);
        p.status = status == "active"   ? PlanStatus::active
                   : status == "paused" ? PlanStatus::paused
                                        : PlanStatus::stopped;
        return p;
    } catch (const std::exception&) {
        throw Error(ErrorCode::storage, "plan", "plan: a stored check-in plan cannot be read");
    }
}

constexpr const char* kPlanColumns =
    "SELECT plan_id, case_code, every_days, first_day, dates_json, window_start, window_end, "
    "weekdays, channels_json, template_id, grace_minutes, alert_target, alert_partner, status, "
    "next_slot_day, next_due_at FROM policies_checkin_plans";

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
    if (!detail::builtin_template(template_id, "en")) {
        invalid("plan.template_id", "must be the id of a text Ariadne sends (neutral_checkin)");
    }
    if (grace_minutes < 0 || grace_minutes > 14 * 24 * 60) {
        invalid("plan.grace_minutes", "must be between 0 and 20160 (14 days)");
    }
    if (alert != AlertTarget::nobody && alert != AlertTarget::caseworker) {
        invalid("plan.alert", "must be nobody or caseworker");
    }
}

CheckinScheduler::CheckinScheduler(PolicyStore& store, const Clock& clock,
                                   CheckinCallbacks callbacks)
    : store_(store), clock_(clock), callbacks_(std::move(callbacks)) {
    std::lock_guard lock(store_.mutex_);
    WriteTx tx(store_.db_);
    Stmt s(store_.db_,
           "UPDATE policies_checkin_occurrences SET state = 'interrupted', "
           "reason = 'process_stopped_during_send' WHERE state = 'claimed'");
    s.run();
    tx.commit();
}

void CheckinScheduler::schedule_locked(CheckinPlan& plan, Instant now,
                                       std::optional<local_days> from) {
    schedule_in(store_, plan, now, from);
}

void CheckinScheduler::schedule_in(PolicyStore& store, CheckinPlan& plan, Instant now,
                                   std::optional<local_days> from) {
    std::optional<local_days> slot;
    std::optional<Instant> due;
    if (plan.status == PlanStatus::active) {
        auto survivor = store.load_survivor_locked(plan.case_code);
        if (!survivor)
            throw Error(ErrorCode::not_found, "plan.case_code", "plan.case_code: no such survivor");
        auto tz = TimeZone::load(survivor->time_zone, "survivor.time_zone");
        local_days start = from ? *from : tz->to_local(now).date;
        slot = next_slot(plan, start);
        // When scheduling from now, a slot whose window already ended is not a missed slot.
        while (!from && slot && window_of(plan, *tz, *slot).end <= now)
            slot = next_slot(plan, *slot + days{1});
        if (slot) due = window_of(plan, *tz, *slot).start;
    }
    Stmt u(store.db_,
           "UPDATE policies_checkin_plans SET next_slot_day = ?, next_due_at = ?, "
           "updated_at = ? WHERE plan_id = ?");
    if (slot) {
        u.bind(1, day_num(*slot));
    } else {
        u.bind_null(1);
    }
    if (due) {
        u.bind(2, to_micros(*due));
    } else {
        u.bind_null(2);
    }
    u.bind(3, to_micros(now)).bind(4, plan.plan_id).run();
}

void CheckinScheduler::reschedule_case_locked(PolicyStore& store, const CaseCode& code,
                                              Instant now) {
    std::vector<CheckinPlan> plans;
    {
        Stmt q(store.db_, std::string(kPlanColumns) + " WHERE case_code = ?");
        q.bind(1, code.str());
        while (q.step()) plans.push_back(read_plan(q));
    }
    for (CheckinPlan& p : plans) schedule_in(store, p, now, std::nullopt);
}

std::int64_t CheckinScheduler::set_plan(CheckinPlan plan, const Actor& actor) {
    plan.validate();
    for (auto& c : plan.channels) c = ChannelRef::make(c.kind, c.provider);
    Instant now = clock_.now();
    std::lock_guard lock(store_.mutex_);
    auto survivor = store_.load_survivor_locked(plan.case_code);
    if (!survivor) {
        throw Error(ErrorCode::not_found, "plan.case_code",
                    "plan.case_code: there is no survivor " + plan.case_code.str());
    }
    auto history = store_.consent_history_locked(plan.case_code);
    const OrgPolicy policy = store_.org_policy_locked();
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
    nlohmann::json dates = nlohmann::json::array();
    for (local_days d : plan.dates) dates.push_back(day_num(d));
    WriteTx tx(store_.db_);
    const bool insert = plan.plan_id == 0;
    Stmt w(store_.db_,
           insert
               ? "INSERT INTO policies_checkin_plans(case_code, every_days, first_day, dates_json, "
                 "window_start, window_end, weekdays, channels_json, template_id, grace_minutes, "
                 "alert_target, alert_partner, status, created_at, updated_at) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
               : "UPDATE policies_checkin_plans SET case_code=?, every_days=?, first_day=?, "
                 "dates_json=?, window_start=?, window_end=?, weekdays=?, channels_json=?, "
                 "template_id=?, grace_minutes=?, alert_target=?, alert_partner=?, status=?, "
                 "created_at=created_at+0*?, updated_at=? WHERE plan_id=?");
    w.bind(1, plan.case_code.str())
        .bind(2, std::int64_t{plan.every_days})
        .bind(3, day_num(plan.first_day))
        .bind(4, dates.dump())
        .bind(5, std::int64_t{plan.window.start_minute})
        .bind(6, std::int64_t{plan.window.end_minute})
        .bind(7, std::int64_t{plan.window.weekdays})
        .bind(8, channels_json(plan.channels))
        .bind(9, plan.template_id)
        .bind(10, std::int64_t{plan.grace_minutes})
        .bind(11, to_string(plan.alert));
    w.bind_null(12);  // alert_partner: no longer used
    w.bind(13, to_string(plan.status)).bind(14, to_micros(now)).bind(15, to_micros(now));
    if (!insert) w.bind(16, plan.plan_id);
    w.run();
    if (insert) {
        plan.plan_id = sqlite3_last_insert_rowid(store_.db_);
    } else if (sqlite3_changes(store_.db_) != 1) {
        throw Error(ErrorCode::not_found, "plan.plan_id", "plan.plan_id: no such plan");
    }
    schedule_locked(plan, now, std::nullopt);
    store_.append_audit_locked(actor.account.str(), "checkin.plan_set", plan.case_code.str(), "",
                               "plan:" + std::to_string(plan.plan_id), now);
    tx.commit();
    return plan.plan_id;
}

std::optional<CheckinPlan> CheckinScheduler::plan(std::int64_t plan_id) const {
    std::lock_guard lock(store_.mutex_);
    Stmt q(store_.db_, std::string(kPlanColumns) + " WHERE plan_id = ?");
    q.bind(1, plan_id);
    if (!q.step()) return std::nullopt;
    return read_plan(q);
}

void CheckinScheduler::set_plan_status(std::int64_t plan_id, PlanStatus status,
                                       const Actor& actor) {
    Instant now = clock_.now();
    std::lock_guard lock(store_.mutex_);
    auto p = plan(plan_id);
    if (!p) throw Error(ErrorCode::not_found, "plan.plan_id", "plan.plan_id: no such plan");
    if (p->status == PlanStatus::stopped && status != PlanStatus::stopped) {
        throw Error(ErrorCode::refused, "plan.status",
                    "plan.status: a stopped plan cannot be restarted; create a new plan");
    }
    WriteTx tx(store_.db_);
    Stmt u(store_.db_, "UPDATE policies_checkin_plans SET status = ? WHERE plan_id = ?");
    u.bind(1, to_string(status)).bind(2, plan_id).run();
    p->status = status;
    schedule_locked(*p, now, std::nullopt);
    store_.append_audit_locked(actor.account.str(),
                               std::string("checkin.plan_") + to_string(status), p->case_code.str(),
                               "", "plan:" + std::to_string(plan_id), now);
    tx.commit();
}

std::optional<Instant> CheckinScheduler::next_due() const {
    std::lock_guard lock(store_.mutex_);
    std::optional<Instant> best;
    for (const char* sql :
         {"SELECT MIN(next_due_at) FROM policies_checkin_plans WHERE next_due_at IS NOT NULL",
          "SELECT MIN(deadline_at) FROM policies_checkin_occurrences WHERE state = 'sent'"}) {
        Stmt q(store_.db_, sql);
        if (q.step() && !q.is_null(0)) {
            Instant t = from_micros(q.i64(0));
            if (!best || t < *best) best = t;
        }
    }
    return best;
}

std::size_t CheckinScheduler::run_due() {
    Instant now = clock_.now();
    std::size_t done = 0;
    std::lock_guard lock(store_.mutex_);
    for (;;) {
        std::vector<std::int64_t> plans;
        {
            Stmt q(store_.db_,
                   "SELECT plan_id FROM policies_checkin_plans WHERE next_due_at IS "
                   "NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT 256");
            q.bind(1, to_micros(now));
            while (q.step()) plans.push_back(q.i64(0));
        }
        std::vector<std::string> missed;
        {
            Stmt q(store_.db_,
                   "SELECT idempotency_key FROM policies_checkin_occurrences WHERE "
                   "state = 'sent' AND deadline_at <= ? ORDER BY deadline_at LIMIT 256");
            q.bind(1, to_micros(now));
            while (q.step()) missed.push_back(q.text(0));
        }
        if (plans.empty() && missed.empty()) return done;
        for (std::int64_t id : plans) done += process_plan(id, now) ? 1 : 0;
        for (const auto& key : missed) done += process_missed(key, now) ? 1 : 0;
    }
}

bool CheckinScheduler::process_plan(std::int64_t plan_id, Instant now) {
    sqlite3* db = store_.db_;
    std::optional<CheckinPlan> loaded;
    local_days slot{};
    {
        // Finalised before anything else runs: an open statement would pin this connection's
        // read snapshot, and the outcome's write transaction would then fail (SQLITE_BUSY_
        // SNAPSHOT) once the send callback committed through another connection (the mailbox).
        Stmt q(db, std::string(kPlanColumns) + " WHERE plan_id = ?");
        q.bind(1, plan_id);
        if (!q.step() || q.is_null(14) || q.is_null(15) || q.i64(15) > to_micros(now)) {
            return false;
        }
        loaded = read_plan(q);
        slot = from_day_num(q.i64(14));
    }
    CheckinPlan plan = std::move(*loaded);
    const std::string key = std::to_string(plan_id) + ":" + iso(slot);

    auto survivor = store_.load_survivor_locked(plan.case_code);
    std::shared_ptr<const TimeZone> tz;
    try {
        if (survivor) tz = TimeZone::load(survivor->time_zone);
    } catch (const Error&) {
    }
    if (!survivor || !tz) {
        // Without her record or zone no window can be computed: halt the plan, fail closed.
        WriteTx tx(db);
        Stmt u(db, "UPDATE policies_checkin_plans SET next_due_at = NULL WHERE plan_id = ?");
        u.bind(1, plan_id).run();
        store_.append_audit_locked("system", "checkin.halted", plan.case_code.str(), "deny",
                                   survivor ? "unknown_time_zone" : "unknown_survivor", now);
        tx.commit();
        return true;
    }
    const SlotWindow win = window_of(plan, *tz, slot);
    const Instant deadline = win.end + minutes{plan.grace_minutes};

    // 1. Claim the slot and move the plan on, in one transaction.
    bool claimed = false;
    {
        WriteTx tx(db);
        const bool passed = now >= win.end || win.start >= win.end;
        Stmt ins(db,
                 "INSERT OR IGNORE INTO policies_checkin_occurrences(idempotency_key, plan_id, "
                 "case_code, slot_day, window_start_at, window_end_at, deadline_at, state, "
                 "reason, claimed_at, settled_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
        std::string reason = win.start >= win.end ? "window_does_not_exist" : "window_passed";
        ins.bind(1, key)
            .bind(2, plan_id)
            .bind(3, plan.case_code.str())
            .bind(4, day_num(slot))
            .bind(5, to_micros(win.start))
            .bind(6, to_micros(win.end))
            .bind(7, to_micros(deadline))
            .bind(8, passed ? "skipped" : "claimed")
            .bind(9, passed ? reason : std::string())
            .bind(10, to_micros(now));
        if (passed) {
            ins.bind(11, to_micros(now));
        } else {
            ins.bind_null(11);
        }
        ins.run();
        claimed = !passed && sqlite3_changes(db) == 1;
        if (passed && sqlite3_changes(db) == 1) {
            store_.append_audit_locked("system", "checkin.skipped", plan.case_code.str(), "",
                                       reason, now);
        }
        schedule_locked(plan, now, slot + days{1});
        tx.commit();
    }
    if (!claimed) return true;

    // 2. Re-check the decision right before each send attempt, then send.
    std::string state, reason, used_channel;
    // Set when a channel failed for a reason that is not her own choice or state: then the
    // plan itself cannot reach her and her caseworkers must know (checkin_undeliverable).
    bool undeliverable = false;
    std::optional<Instant> last_inbound;
    {
        Stmt li(db, "SELECT at_us FROM policies_last_inbound WHERE case_code = ?");
        li.bind(1, plan.case_code.str());
        if (li.step()) last_inbound = from_micros(li.i64(0));
    }
    if (last_inbound && *last_inbound >= win.start && *last_inbound <= now) {
        state = "responded";
        reason = "she_wrote_first";
    } else {
        std::vector<ConsentRecord> history;
        try {
            history = store_.consent_history_locked(plan.case_code);
        } catch (const Error&) {
        }
        for (const ChannelRef& channel : plan.channels) {
            Decision d = store_.decide_locked(plan.case_code, channel, "", Purpose::check_ins, now,
                                              plan.window);
            store_.append_audit("system", "decision.check_ins", plan.case_code.str(),
                                d.allowed ? "allow" : "deny",
                                std::string(to_string(d.reason)) + ":" + channel.str(), now);
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
    WriteTx tx(db);
    Stmt u(db,
           "UPDATE policies_checkin_occurrences SET state = ?, reason = ?, channel = ?, "
           "sent_at = ?, settled_at = ? WHERE idempotency_key = ?");
    u.bind(1, state).bind(2, reason).bind(3, used_channel);
    if (state == "sent") {
        u.bind(4, to_micros(now)).bind_null(5);
    } else {
        u.bind_null(4).bind(5, to_micros(now));
    }
    u.bind(6, key).run();
    store_.append_audit_locked("system", "checkin." + state, plan.case_code.str(), "", reason, now);
    tx.commit();
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
    return true;
}

bool CheckinScheduler::process_missed(const std::string& key, Instant now) {
    sqlite3* db = store_.db_;
    std::int64_t plan_id = 0;
    std::string case_code;
    {
        // Finalised before the write transaction (see process_plan: a pinned snapshot).
        Stmt q(db,
               "SELECT plan_id, case_code, window_start_at, deadline_at FROM "
               "policies_checkin_occurrences WHERE idempotency_key = ? AND state = 'sent'");
        q.bind(1, key);
        if (!q.step() || q.i64(3) > to_micros(now)) return false;
        plan_id = q.i64(0);
        case_code = q.text(1);
    }
    const CaseCode code(case_code);
    auto p = plan(plan_id);
    auto survivor = store_.load_survivor_locked(code);
    AlertTarget target = p ? p->alert : AlertTarget::nobody;
    WriteTx tx(db);
    Stmt u(db,
           "UPDATE policies_checkin_occurrences SET state = 'missed', reason = ?, "
           "settled_at = ? WHERE idempotency_key = ?");
    std::string reason = target == AlertTarget::nobody ? "no_alert_by_her_choice"
                                                       : std::string("alert_") + to_string(target);
    u.bind(1, reason).bind(2, to_micros(now)).bind(3, key).run();
    store_.append_audit_locked("system", "checkin.missed", code.str(), "", reason, now);
    tx.commit();
    if (target != AlertTarget::nobody && callbacks_.alert) {
        Alert a{.kind = AlertKind::missed_checkin,
                .case_code = code,
                .urgent = false,
                .target = target,
                .caseworkers = survivor ? survivor->caseworkers : std::vector<AccountId>{},
                .team = survivor ? survivor->team : std::nullopt,
                .plan_id = plan_id,
                .occurrence_key = key,
                .at = now};
        callbacks_.alert(a);
    }
    return true;
}

void CheckinScheduler::record_inbound(const CaseCode& code, Instant at) {
    std::lock_guard lock(store_.mutex_);
    sqlite3* db = store_.db_;
    {
        WriteTx tx(db);
        Stmt li(db,
                "INSERT INTO policies_last_inbound(case_code, at_us) VALUES (?, ?) "
                "ON CONFLICT(case_code) DO UPDATE SET at_us = max(at_us, excluded.at_us)");
        li.bind(1, code.str()).bind(2, to_micros(at)).run();
        Stmt u(
            db,
            "UPDATE policies_checkin_occurrences SET state = 'responded', settled_at = ? "
            "WHERE case_code = ? AND state = 'sent' AND window_start_at <= ? AND ? < deadline_at");
        u.bind(1, to_micros(at))
            .bind(2, code.str())
            .bind(3, to_micros(at))
            .bind(4, to_micros(at))
            .run();
        if (sqlite3_changes(db) > 0) {
            store_.append_audit_locked("system", "checkin.responded", code.str(), "", "", at);
        }
        tx.commit();
    }
}

void CheckinScheduler::raise_duress(const CaseCode& code, Instant at) {
    std::lock_guard lock(store_.mutex_);
    store_.raise_duress(code, "system", at);
    auto survivor = store_.load_survivor_locked(code);
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
    std::lock_guard lock(store_.mutex_);
    Stmt q(store_.db_,
           "SELECT idempotency_key, plan_id, slot_day, window_start_at, window_end_at, "
           "deadline_at, state, reason, channel FROM policies_checkin_occurrences "
           "WHERE plan_id = ? ORDER BY slot_day");
    q.bind(1, plan_id);
    std::vector<Occurrence> out;
    while (q.step()) {
        out.push_back(Occurrence{q.text(0), q.i64(1), from_day_num(q.i64(2)), from_micros(q.i64(3)),
                                 from_micros(q.i64(4)), from_micros(q.i64(5)), q.text(6), q.text(7),
                                 q.text(8)});
    }
    return out;
}

}  // namespace ariadne::policies
