// The check-in scheduler's state: plans (policies_checkin_plans), one row per slot
// (policies_checkin_occurrences) and her latest inbound message (policies_last_inbound).
// What is due, claimed or missed is decided in policies/checkin.cpp; this file stores it.
#include <nlohmann/json.hpp>

#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"
#include "policy_store_detail.h"

namespace ariadne::storage {

using namespace policies;
using std::chrono::days;
using std::chrono::local_days;

namespace {

std::int64_t day_num(local_days d) { return d.time_since_epoch().count(); }
local_days from_day_num(std::int64_t n) { return local_days{days{n}}; }

std::string channels_json(const std::vector<ChannelRef>& channels) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : channels)
        j.push_back({{"kind", to_string(c.kind)}, {"provider", c.provider}});
    return j.dump();
}

CheckinPlan read_plan(const Statement& q) {
    // Columns: plan_id, case_code, every_days, first_day, dates_json, window_start, window_end,
    // weekdays, channels_json, template_id, grace_minutes, alert_target, alert_partner, status
    try {
        CheckinPlan p{.case_code = CaseCode(q.text(1))};
        p.plan_id = q.integer(0);
        p.every_days = static_cast<int>(q.integer(2));
        p.first_day = from_day_num(q.integer(3));
        for (const auto& d : nlohmann::json::parse(q.text(4)))
            p.dates.push_back(from_day_num(d.get<std::int64_t>()));
        p.window = LocalWindow{static_cast<int>(q.integer(5)), static_cast<int>(q.integer(6)),
                               static_cast<std::uint8_t>(q.integer(7))};
        for (const auto& c : nlohmann::json::parse(q.text(8))) {
            auto kind = parse_channel_kind(c.at("kind").get<std::string>());
            if (!kind) throw std::runtime_error("kind");
            p.channels.push_back(ChannelRef{*kind, c.at("provider").get<std::string>()});
        }
        p.template_id = q.text(9);
        p.grace_minutes = static_cast<int>(q.integer(10));
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
        throw policies::Error(ErrorCode::storage, "plan",
                              "plan: a stored check-in plan cannot be read");
    }
}

constexpr const char* kPlanColumns =
    "SELECT plan_id, case_code, every_days, first_day, dates_json, window_start, window_end, "
    "weekdays, channels_json, template_id, grace_minutes, alert_target, alert_partner, status, "
    "next_slot_day, next_due_at FROM policies_checkin_plans ";

void bind_slot(Statement& s, int index, const std::optional<ScheduledSlot>& next) {
    if (next) {
        s.bind(index, day_num(next->day)).bind(index + 1, to_micros(next->due));
    } else {
        s.bind_null(index).bind_null(index + 1);
    }
}

}  // namespace

void PolicyStore::write_next_slot_locked(std::int64_t plan_id,
                                         const std::optional<ScheduledSlot>& next, Instant now) {
    Statement u = db_->cached(
        "UPDATE policies_checkin_plans SET next_slot_day = ?, next_due_at = ?, "
        "updated_at = ? WHERE plan_id = ?");
    bind_slot(u, 1, next);
    u.bind(3, to_micros(now)).bind(4, plan_id).run();
}

void PolicyStore::reschedule_case_locked(const CaseCode& code, Instant now,
                                         const std::string& previous_time_zone) {
    std::vector<CheckinPlan> plans;
    {
        Statement q = db_->prepare(std::string(kPlanColumns) + "WHERE case_code = ?");
        q.bind(1, code.str());
        while (q.step()) plans.push_back(read_plan(q));
    }
    const std::optional<Survivor> survivor = load_survivor_locked(code);
    // A plan that starts "today" started on the wrong clock's today: on her corrected clock
    // it starts on her real today (which may be a day earlier), not a day late.
    if (survivor && !previous_time_zone.empty()) {
        std::shared_ptr<const TimeZone> before, after;
        try {
            before = TimeZone::load(previous_time_zone);
            after = TimeZone::load(survivor->time_zone);
        } catch (const policies::Error&) {
            // The old zone may have left the system's tzdata: keep the plan's first day.
        }
        if (before && after) {
            const local_days old_today = before->to_local(now).date;
            const local_days new_today = after->to_local(now).date;
            for (CheckinPlan& p : plans) {
                if (p.every_days == 0 || p.first_day != old_today || new_today == old_today) {
                    continue;
                }
                p.first_day = new_today;
                Statement u = db_->prepare(
                    "UPDATE policies_checkin_plans SET first_day = ? WHERE plan_id = ?");
                u.bind(1, day_num(new_today)).bind(2, p.plan_id).run();
            }
        }
    }
    for (const CheckinPlan& p : plans) {
        write_next_slot_locked(p.plan_id, next_checkin_slot(p, survivor, now, std::nullopt), now);
    }
}

std::int64_t PolicyStore::save_checkin_plan(const CheckinPlan& plan,
                                            const std::optional<ScheduledSlot>& next,
                                            const std::string& actor, Instant now) {
    return locked([&] {
        nlohmann::json dates = nlohmann::json::array();
        for (local_days d : plan.dates) dates.push_back(day_num(d));
        Transaction tx(*db_);
        lock_audit_chain_locked();
        const bool insert = plan.plan_id == 0;
        Statement w = db_->prepare(
            insert ? "INSERT INTO policies_checkin_plans(case_code, every_days, first_day, "
                     "dates_json, window_start, window_end, weekdays, channels_json, template_id, "
                     "grace_minutes, alert_target, alert_partner, status, created_at, updated_at) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING plan_id"
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
        std::int64_t plan_id = plan.plan_id;
        if (insert && w.step()) plan_id = w.integer(0);
        w.run();
        if (insert) {
        } else if (db_->changes() != 1) {
            throw policies::Error(ErrorCode::not_found, "plan.plan_id",
                                  "plan.plan_id: no such plan");
        }
        write_next_slot_locked(plan_id, next, now);
        append_audit_locked(actor, "checkin.plan_set", plan.case_code.str(), "",
                            "plan:" + std::to_string(plan_id), now);
        tx.commit();
        return plan_id;
    });
}

std::optional<CheckinPlan> PolicyStore::find_checkin_plan(std::int64_t plan_id) const {
    return locked([&]() -> std::optional<CheckinPlan> {
        Statement q = db_->prepare(std::string(kPlanColumns) + "WHERE plan_id = ?");
        q.bind(1, plan_id);
        if (!q.step()) return std::nullopt;
        return read_plan(q);
    });
}

void PolicyStore::set_checkin_plan_status(std::int64_t plan_id, PlanStatus status,
                                          const std::optional<ScheduledSlot>& next,
                                          const std::string& actor, Instant now) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        std::string case_code;
        {
            Statement q =
                db_->prepare("SELECT case_code FROM policies_checkin_plans WHERE plan_id = ?");
            q.bind(1, plan_id);
            if (!q.step()) {
                throw policies::Error(ErrorCode::not_found, "plan.plan_id",
                                      "plan.plan_id: no such plan");
            }
            case_code = q.text(0);
        }
        Statement u =
            db_->prepare("UPDATE policies_checkin_plans SET status = ? WHERE plan_id = ?");
        u.bind(1, to_string(status)).bind(2, plan_id).run();
        write_next_slot_locked(plan_id, next, now);
        append_audit_locked(actor, std::string("checkin.plan_") + to_string(status), case_code, "",
                            "plan:" + std::to_string(plan_id), now);
        tx.commit();
    });
}

void PolicyStore::halt_checkin_plan(std::int64_t plan_id, const CaseCode& code,
                                    const std::string& reason, Instant now) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement u =
            db_->prepare("UPDATE policies_checkin_plans SET next_due_at = NULL WHERE plan_id = ?");
        u.bind(1, plan_id).run();
        append_audit_locked("system", "checkin.halted", code.str(), "deny", reason, now);
        tx.commit();
    });
}

void PolicyStore::move_checkin_plan(std::int64_t plan_id, const std::optional<ScheduledSlot>& next,
                                    Instant now) {
    locked([&] { write_next_slot_locked(plan_id, next, now); });
}

std::vector<std::int64_t> PolicyStore::due_checkin_plans(Instant now, std::size_t limit) const {
    return locked([&] {
        Statement q = db_->prepare(
            "SELECT plan_id FROM policies_checkin_plans WHERE next_due_at IS "
            "NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?");
        q.bind(1, to_micros(now)).bind(2, static_cast<std::int64_t>(limit));
        std::vector<std::int64_t> out;
        while (q.step()) out.push_back(q.integer(0));
        return out;
    });
}

std::optional<DueCheckin> PolicyStore::due_checkin(std::int64_t plan_id, Instant now) const {
    return locked([&]() -> std::optional<DueCheckin> {
        // Finalised before the caller goes on: an open statement would pin this connection's
        // read snapshot, and the outcome's write transaction would then fail (SQLITE_BUSY_
        // SNAPSHOT) once the send callback committed through another connection (the mailbox).
        Statement q = db_->prepare(std::string(kPlanColumns) + "WHERE plan_id = ?");
        q.bind(1, plan_id);
        if (!q.step() || q.is_null(14) || q.is_null(15) || q.integer(15) > to_micros(now)) {
            return std::nullopt;
        }
        return DueCheckin{read_plan(q),
                          ScheduledSlot{from_day_num(q.integer(14)), from_micros(q.integer(15))}};
    });
}

std::vector<std::string> PolicyStore::overdue_checkins(Instant now, std::size_t limit) const {
    return locked([&] {
        Statement q = db_->prepare(
            "SELECT idempotency_key FROM policies_checkin_occurrences WHERE "
            "state = 'sent' AND deadline_at <= ? ORDER BY deadline_at LIMIT ?");
        q.bind(1, to_micros(now)).bind(2, static_cast<std::int64_t>(limit));
        std::vector<std::string> out;
        while (q.step()) out.push_back(q.text(0));
        return out;
    });
}

std::optional<Instant> PolicyStore::next_checkin_due() const {
    return locked([&] {
        std::optional<Instant> best;
        for (const char* sql :
             {"SELECT MIN(next_due_at) FROM policies_checkin_plans WHERE next_due_at IS NOT NULL",
              "SELECT MIN(deadline_at) FROM policies_checkin_occurrences WHERE state = 'sent'"}) {
            Statement q = db_->prepare(sql);
            if (q.step() && !q.is_null(0)) {
                Instant t = from_micros(q.integer(0));
                if (!best || t < *best) best = t;
            }
        }
        return best;
    });
}

bool PolicyStore::claim_checkin(const CheckinClaim& claim, const std::optional<ScheduledSlot>& next,
                                Instant now) {
    return locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        // The caller read the slot due before this transaction: since then another node may
        // have taken it and moved the plan on, or an administrator paused, stopped or replaced
        // the plan. The slot is taken only while the plan still stands at it, so a node that
        // lost the race neither sends nor moves the plan back to a stale slot.
        Statement move = db_->prepare(
            "UPDATE policies_checkin_plans SET next_slot_day = ?, next_due_at = ?, "
            "updated_at = ? WHERE plan_id = ? AND next_slot_day = ? AND next_due_at IS NOT NULL");
        bind_slot(move, 1, next);
        move.bind(3, to_micros(now)).bind(4, claim.plan_id).bind(5, day_num(claim.slot_day)).run();
        if (db_->changes() != 1) return false;
        const bool skipped = !claim.skipped_reason.empty();
        Statement ins = db_->prepare(
            "INSERT INTO policies_checkin_occurrences(idempotency_key, plan_id, "
            "case_code, slot_day, window_start_at, window_end_at, deadline_at, state, "
            "reason, claimed_at, settled_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO "
            "NOTHING");
        ins.bind(1, claim.idempotency_key)
            .bind(2, claim.plan_id)
            .bind(3, claim.case_code.str())
            .bind(4, day_num(claim.slot_day))
            .bind(5, to_micros(claim.window_start))
            .bind(6, to_micros(claim.window_end))
            .bind(7, to_micros(claim.deadline))
            .bind(8, skipped ? "skipped" : "claimed")
            .bind(9, claim.skipped_reason)
            .bind(10, to_micros(now));
        if (skipped) {
            ins.bind(11, to_micros(now));
        } else {
            ins.bind_null(11);
        }
        ins.run();
        const bool recorded = db_->changes() == 1;
        if (skipped && recorded) {
            append_audit_locked("system", "checkin.skipped", claim.case_code.str(), "",
                                claim.skipped_reason, now);
        }
        tx.commit();
        return recorded;
    });
}

void PolicyStore::settle_checkin(const std::string& key, const CaseCode& code,
                                 const std::string& state, const std::string& reason,
                                 const std::string& channel, Instant now) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement u = db_->prepare(
            "UPDATE policies_checkin_occurrences SET state = ?, reason = ?, channel = ?, "
            "sent_at = ?, settled_at = ? WHERE idempotency_key = ?");
        u.bind(1, state).bind(2, reason).bind(3, channel);
        if (state == "sent") {
            u.bind(4, to_micros(now)).bind_null(5);
        } else {
            u.bind_null(4).bind(5, to_micros(now));
        }
        u.bind(6, key).run();
        append_audit_locked("system", "checkin." + state, code.str(), "", reason, now);
        tx.commit();
    });
}

std::optional<OpenCheckin> PolicyStore::open_checkin(const std::string& key) const {
    return locked([&]() -> std::optional<OpenCheckin> {
        // Finalised before the caller writes (see due_checkin: a pinned snapshot).
        Statement q = db_->prepare(
            "SELECT plan_id, case_code, deadline_at FROM policies_checkin_occurrences "
            "WHERE idempotency_key = ? AND state = 'sent'");
        q.bind(1, key);
        if (!q.step()) return std::nullopt;
        return OpenCheckin{q.integer(0), CaseCode(q.text(1)), from_micros(q.integer(2))};
    });
}

bool PolicyStore::mark_checkin_missed(const std::string& key, const CaseCode& code,
                                      const std::string& reason, Instant now) {
    return locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        // Only a check-in still open: another node may have marked it missed (and alerted)
        // since the caller read it, or her answer may have settled it.
        Statement u = db_->prepare(
            "UPDATE policies_checkin_occurrences SET state = 'missed', reason = ?, "
            "settled_at = ? WHERE idempotency_key = ? AND state = 'sent'");
        u.bind(1, reason).bind(2, to_micros(now)).bind(3, key).run();
        if (db_->changes() != 1) return false;
        append_audit_locked("system", "checkin.missed", code.str(), "", reason, now);
        tx.commit();
        return true;
    });
}

void PolicyStore::interrupt_claimed_checkins() {
    locked([&] {
        Transaction tx(*db_);
        db_->exec(
            "UPDATE policies_checkin_occurrences SET state = 'interrupted', "
            "reason = 'process_stopped_during_send' WHERE state = 'claimed'");
        tx.commit();
    });
}

std::vector<Occurrence> PolicyStore::checkin_occurrences(std::int64_t plan_id) const {
    return locked([&] {
        Statement q = db_->prepare(
            "SELECT idempotency_key, plan_id, slot_day, window_start_at, window_end_at, "
            "deadline_at, state, reason, channel FROM policies_checkin_occurrences "
            "WHERE plan_id = ? ORDER BY slot_day");
        q.bind(1, plan_id);
        std::vector<Occurrence> out;
        while (q.step()) {
            out.push_back(Occurrence{q.text(0), q.integer(1), from_day_num(q.integer(2)),
                                     from_micros(q.integer(3)), from_micros(q.integer(4)),
                                     from_micros(q.integer(5)), q.text(6), q.text(7), q.text(8)});
        }
        return out;
    });
}

std::optional<Instant> PolicyStore::last_inbound(const CaseCode& code) const {
    return locked([&]() -> std::optional<Instant> {
        Statement q = db_->prepare("SELECT at_us FROM policies_last_inbound WHERE case_code = ?");
        q.bind(1, code.str());
        if (!q.step()) return std::nullopt;
        return from_micros(q.integer(0));
    });
}

void PolicyStore::record_inbound(const CaseCode& code, Instant at) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement li = db_->prepare(
            "INSERT INTO policies_last_inbound(case_code, at_us) VALUES (?, ?) "
            "ON CONFLICT(case_code) DO UPDATE SET at_us = CASE WHEN excluded.at_us > "
            "policies_last_inbound.at_us THEN excluded.at_us ELSE policies_last_inbound.at_us END");
        li.bind(1, code.str()).bind(2, to_micros(at)).run();
        Statement u = db_->prepare(
            "UPDATE policies_checkin_occurrences SET state = 'responded', settled_at = ? "
            "WHERE case_code = ? AND state = 'sent' AND window_start_at <= ? AND ? < deadline_at");
        u.bind(1, to_micros(at))
            .bind(2, code.str())
            .bind(3, to_micros(at))
            .bind(4, to_micros(at))
            .run();
        if (db_->changes() > 0) {
            append_audit_locked("system", "checkin.responded", code.str(), "", "", at);
        }
        tx.commit();
    });
}

}  // namespace ariadne::storage
