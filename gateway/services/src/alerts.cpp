#include "ariadne/services/alerts.h"

#include <algorithm>
#include <chrono>

#include "ariadne/policies/error.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/shared_transaction.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void storage_failure(const storage::Error& e) {
    throw policies::Error(policies::ErrorCode::storage, "",
                          std::string("The alerts table cannot be used (") + e.what() + ")");
}

std::int64_t to_ms(policies::Instant t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

AlertRecord from_row(const storage::AlertRow& row) {
    AlertRecord r;
    r.id = row.id;
    if (row.case_code) r.case_code = policies::CaseCode(*row.case_code);
    // An unreadable kind is shown as the most serious one (fail closed).
    r.kind = parse_alert_kind(row.kind).value_or(AlertKind::duress);
    r.urgent = row.urgent;
    r.raised_at_ms = row.raised_at_ms;
    r.cleared_at_ms = row.cleared_at_ms;
    r.cleared_by = row.cleared_by;
    return r;
}

std::optional<std::string> case_text(const std::optional<policies::CaseCode>& code) {
    if (!code) return std::nullopt;
    return code->str();
}

// The table is created before the board exists; a failure says which table.
storage::AlertTable open_table(const policies::PolicyStore& store) {
    try {
        return storage::AlertTable(store);
    } catch (const storage::Error& e) {
        throw policies::Error(policies::ErrorCode::storage, "",
                              std::string("The alerts table cannot be created (") + e.what() + ")");
    }
}

}  // namespace

const char* to_string(AlertKind k) noexcept {
    switch (k) {
        case AlertKind::duress:
            return "duress";
        case AlertKind::missed_checkin:
            return "missed_checkin";
        case AlertKind::identity_changed:
            return "identity_changed";
        case AlertKind::new_device:
            return "new_device";
        case AlertKind::unverified_channel:
            return "unverified_channel";
        case AlertKind::checkin_undeliverable:
            return "checkin_undeliverable";
        case AlertKind::device_revoked:
            return "device_revoked";
        case AlertKind::callback_not_reached:
            return "callback_not_reached";
    }
    return "duress";
}

std::optional<AlertKind> parse_alert_kind(std::string_view s) noexcept {
    for (auto k :
         {AlertKind::duress, AlertKind::missed_checkin, AlertKind::identity_changed,
          AlertKind::new_device, AlertKind::unverified_channel, AlertKind::checkin_undeliverable,
          AlertKind::device_revoked, AlertKind::callback_not_reached}) {
        if (s == to_string(k)) return k;
    }
    return std::nullopt;
}

bool is_urgent(AlertKind k) noexcept { return k == AlertKind::duress; }

AlertBoard::AlertBoard(policies::PolicyStore& store) : store_(store), table_(open_table(store)) {}

void AlertBoard::set_listener(Listener listener) { listener_ = std::move(listener); }

std::vector<std::string> AlertBoard::caseworkers_of(const policies::CaseCode& code) const {
    std::vector<std::string> out;
    if (auto s = store_.find_survivor(code)) {
        for (const auto& c : s->caseworkers) out.push_back(c.str());
    }
    return out;
}

std::int64_t AlertBoard::raise(const std::optional<policies::CaseCode>& case_code, AlertKind kind) {
    return raise(case_code, kind, now_utc());
}

std::int64_t AlertBoard::raise(const std::optional<policies::CaseCode>& case_code, AlertKind kind,
                               policies::Instant at) {
    AlertRecord record;
    std::vector<std::string> recipients;
    try {
        storage::SharedTransaction tx(store_);
        // Nodes sharing one database raise the same alert at once (a missed check-in seen by
        // two): the look-up and the insert run under the audit chain's lock, one node at a time.
        store_.lock_audit_chain();
        const std::optional<std::string> code = case_text(case_code);
        // Already open: one alert, not a flood.
        if (auto open = table_.find_open(to_string(kind), code)) return *open;
        record.id = table_.insert(code, to_string(kind), is_urgent(kind), to_ms(at));
        record.case_code = case_code;
        record.kind = kind;
        record.urgent = is_urgent(kind);
        record.raised_at_ms = to_ms(at);
        store_.append_audit("system", "alert.raised", case_code ? case_code->str() : "", "",
                            to_string(kind), at);
        tx.commit();
        if (case_code) recipients = caseworkers_of(*case_code);
    } catch (const storage::Error& e) {
        storage_failure(e);
    }
    if (listener_) listener_(record, recipients);
    return record.id;
}

std::vector<AlertRecord> AlertBoard::open_for(const std::string& caseworker_account) const {
    auto guard = store_.lock();
    std::vector<storage::AlertRow> rows;
    try {
        rows = table_.open_alerts();
    } catch (const storage::Error& e) {
        storage_failure(e);
    }
    std::vector<AlertRecord> out;
    for (const auto& row : rows) {
        AlertRecord r = from_row(row);
        if (r.case_code) {
            auto cws = caseworkers_of(*r.case_code);
            if (std::find(cws.begin(), cws.end(), caseworker_account) == cws.end()) continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<AlertRecord> AlertBoard::find(std::int64_t id) const {
    try {
        auto row = table_.find(id);
        if (!row) return std::nullopt;
        return from_row(*row);
    } catch (const storage::Error& e) {
        storage_failure(e);
    }
}

ClearOutcome AlertBoard::clear(std::int64_t id, const std::string& caseworker_account,
                               policies::Instant at) {
    auto guard = store_.lock();
    auto record = find(id);
    if (!record) return ClearOutcome::not_found;
    if (record->case_code) {
        auto cws = caseworkers_of(*record->case_code);
        if (std::find(cws.begin(), cws.end(), caseworker_account) == cws.end()) {
            return ClearOutcome::forbidden;
        }
    }
    if (record->cleared_at_ms) return ClearOutcome::already_cleared;
    const std::string code = record->case_code ? record->case_code->str() : "";
    try {
        storage::SharedTransaction tx(store_);
        store_.lock_audit_chain();
        // Read open above; a caseworker on another node may have cleared it since.
        if (!table_.clear(id, to_ms(at), caseworker_account)) return ClearOutcome::already_cleared;
        if (record->kind == AlertKind::duress && record->case_code) {
            // Her caseworker has checked on her: automated outreach may resume.
            store_.clear_duress(
                *record->case_code,
                {policies::AccountId(caseworker_account, "by"), policies::Role::caseworker}, at);
        }
        store_.append_audit(caseworker_account, "alert.cleared", code, "", to_string(record->kind),
                            at);
        tx.commit();
    } catch (const storage::Error& e) {
        storage_failure(e);
    }
    return ClearOutcome::cleared;
}

std::size_t AlertBoard::clear_duress(const policies::CaseCode& code,
                                     const std::string& caseworker_account, policies::Instant at) {
    auto guard = store_.lock();
    if (!store_.find_survivor(code)) {
        throw policies::Error(policies::ErrorCode::not_found, "case",
                              "case: no survivor has this case code.");
    }
    auto cws = caseworkers_of(code);
    if (std::find(cws.begin(), cws.end(), caseworker_account) == cws.end()) {
        throw policies::Error(
            policies::ErrorCode::refused, "by",
            "by: only a caseworker assigned to this case may clear its duress lock.");
    }
    std::size_t cleared = 0;
    try {
        storage::SharedTransaction tx(store_);
        store_.lock_audit_chain();
        cleared = table_.clear_all(code.str(), to_string(AlertKind::duress), to_ms(at),
                                   caseworker_account);
        store_.clear_duress(
            code, {policies::AccountId(caseworker_account, "by"), policies::Role::caseworker}, at);
        if (cleared > 0) {
            store_.append_audit(caseworker_account, "alert.cleared", code.str(), "", "duress", at);
        }
        tx.commit();
    } catch (const storage::Error& e) {
        storage_failure(e);
    }
    return cleared;
}

nlohmann::json AlertBoard::describe(const AlertRecord& alert) const {
    nlohmann::json out = {{"alert_id", alert.id},
                          {"kind", to_string(alert.kind)},
                          {"urgent", alert.urgent},
                          {"raised_at", alert.raised_at_ms}};
    if (alert.case_code) {
        out["case_code"] = alert.case_code->str();
        if (auto s = store_.find_survivor(*alert.case_code)) out["initials"] = s->initials.str();
        if (auto account = find_case_account(store_, *alert.case_code)) out["account"] = *account;
    }
    if (alert.cleared_at_ms) {
        out["cleared_at"] = *alert.cleared_at_ms;
        out["cleared_by"] = alert.cleared_by;
    }
    return out;
}

std::vector<nlohmann::json> AlertBoard::open_alerts_for(const std::string& caseworker) const {
    std::vector<nlohmann::json> out;
    for (const auto& a : open_for(caseworker)) out.push_back(describe(a));
    return out;
}

AlertDesk::Cleared AlertBoard::clear_alert(std::int64_t id, const std::string& caseworker,
                                           policies::Instant at) {
    Cleared result;
    result.outcome = clear(id, caseworker, at);
    if (result.outcome == ClearOutcome::cleared ||
        result.outcome == ClearOutcome::already_cleared) {
        auto record = find(id);
        if (!record) {
            result.outcome = ClearOutcome::not_found;
        } else {
            result.alert = describe(*record);
        }
    }
    return result;
}

}  // namespace ariadne::gateway
