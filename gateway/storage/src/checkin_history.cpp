#include "ariadne/storage/checkin_history.h"

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

std::int64_t CheckinHistory::purge_closed_before(policies::Instant cutoff) {
    auto db = db_.lock();
    db->cached(
          "DELETE FROM policies_checkin_occurrences WHERE window_end_at < ? AND "
          "state NOT IN ('claimed', 'sent')")
        .bind(1, policies::to_micros(cutoff))
        .run();
    return db->changes();
}

}  // namespace ariadne::storage
