#include "ariadne/storage/checkin_history.h"

#include "advisory_locks.h"

namespace ariadne::storage {

CheckinHistory::CheckinHistory(const policies::PolicyStore& store) : db_(store) {}

std::optional<std::string> CheckinHistory::latest_state(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT state FROM policies_checkin_occurrences WHERE case_code = ? "
        "ORDER BY window_start_at DESC LIMIT 1");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

std::optional<std::string> CheckinHistory::latest_reason(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT reason FROM policies_checkin_occurrences WHERE case_code = ? "
        "ORDER BY window_start_at DESC LIMIT 1");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

std::optional<FirstCheckinPending> CheckinHistory::first_checkin_pending(
    const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT p.plan_id, p.next_due_at FROM policies_checkin_plans p WHERE p.case_code = ? "
        "AND p.status = 'active' AND NOT EXISTS (SELECT 1 FROM policies_checkin_occurrences o "
        "WHERE o.plan_id = p.plan_id) ORDER BY p.plan_id DESC LIMIT 1");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    FirstCheckinPending out;
    out.plan_id = s.integer(0);
    if (!s.is_null(1)) out.next_due = policies::from_micros(s.integer(1));
    return out;
}

std::int64_t CheckinHistory::purge_closed_before(policies::Instant cutoff) {
    auto db = db_.lock();
    Transaction tx(*db);
    // One node purges at a time; another that finds the lock taken skips this round, which
    // loses nothing: the purge is idempotent, and the next round (on any node) deletes what
    // is still older than its cutoff.
    if (!detail::try_lock_for_transaction(*db, detail::ClusterLock::checkin_purge)) return 0;
    db->cached(
          "DELETE FROM policies_checkin_occurrences WHERE window_end_at < ? AND "
          "state NOT IN ('claimed', 'sent')")
        .bind(1, policies::to_micros(cutoff))
        .run();
    const std::int64_t purged = db->changes();
    tx.commit();
    return purged;
}

bool CheckinHistory::alerts_caseworkers(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT 1 FROM policies_checkin_plans WHERE case_code = ? AND alert_target = "
        "'caseworker' AND status <> 'stopped' LIMIT 1");
    s.bind(1, code.str());
    return s.step();
}

}  // namespace ariadne::storage
