#include "ariadne/gateway/alerts.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

#include "ariadne/gateway/consent_policy.h"
#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void storage_failure(sqlite3* db, const char* what) {
    throw policies::Error(
        policies::ErrorCode::storage, "",
        std::string("The alerts table cannot be used (") + what + ": " + sqlite3_errmsg(db) + ").");
}

class Stmt {
  public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
            storage_failure(db, "prepare");
    }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Stmt& bind_null(int i) {
        sqlite3_bind_null(stmt_, i);
        return *this;
    }
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        storage_failure(db_, "step");
    }
    bool is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
    std::string text(int i) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
                 : std::string();
    }
    std::int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// One write transaction on the store's connection; nests as a savepoint when the caller
// (e.g. a scheduler callback) is already inside one. Rolls back unless committed.
class Transaction {
  public:
    explicit Transaction(sqlite3* db) : db_(db), nested_(sqlite3_get_autocommit(db) == 0) {
        exec(nested_ ? "SAVEPOINT gateway_alerts" : "BEGIN IMMEDIATE");
    }
    ~Transaction() {
        if (!done_) {
            sqlite3_exec(
                db_, nested_ ? "ROLLBACK TO gateway_alerts; RELEASE gateway_alerts" : "ROLLBACK",
                nullptr, nullptr, nullptr);
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        exec(nested_ ? "RELEASE gateway_alerts" : "COMMIT");
        done_ = true;
    }

  private:
    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            storage_failure(db_, "transaction");
    }
    sqlite3* db_;
    bool nested_;
    bool done_ = false;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS gateway_alerts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_code TEXT,
  kind TEXT NOT NULL,
  urgent INTEGER NOT NULL,
  raised_at_ms INTEGER NOT NULL,
  cleared_at_ms INTEGER,
  cleared_by TEXT
);
CREATE INDEX IF NOT EXISTS gateway_alerts_open ON gateway_alerts(cleared_at_ms, case_code);
)sql";

constexpr const char* kColumns =
    "SELECT id, case_code, kind, urgent, raised_at_ms, cleared_at_ms, cleared_by FROM "
    "gateway_alerts ";

std::int64_t to_ms(policies::Instant t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

AlertRecord read_row(const Stmt& s) {
    AlertRecord r;
    r.id = s.integer(0);
    if (!s.is_null(1)) r.case_code = policies::CaseCode(s.text(1));
    // An unreadable kind is shown as the most serious one (fail closed).
    r.kind = parse_alert_kind(s.text(2)).value_or(AlertKind::duress);
    r.urgent = s.integer(3) != 0;
    r.raised_at_ms = s.integer(4);
    if (!s.is_null(5)) r.cleared_at_ms = s.integer(5);
    r.cleared_by = s.text(6);
    return r;
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
    }
    return "duress";
}

std::optional<AlertKind> parse_alert_kind(std::string_view s) noexcept {
    for (auto k :
         {AlertKind::duress, AlertKind::missed_checkin, AlertKind::identity_changed,
          AlertKind::new_device, AlertKind::unverified_channel, AlertKind::checkin_undeliverable}) {
        if (s == to_string(k)) return k;
    }
    return std::nullopt;
}

bool is_urgent(AlertKind k) noexcept { return k == AlertKind::duress; }

AlertBoard::AlertBoard(policies::PolicyStore& store) : store_(store) {
    auto guard = store_.lock();
    char* err = nullptr;
    if (sqlite3_exec(store_.connection(), kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw policies::Error(policies::ErrorCode::storage, "",
                              "The alerts table cannot be created (" + msg + ").");
    }
    ensure_survivor_case_table(store_);
}

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
    {
        auto guard = store_.lock();
        sqlite3* db = store_.connection();
        Transaction tx(db);
        Stmt open(db,
                  "SELECT id FROM gateway_alerts WHERE cleared_at_ms IS NULL AND kind = ? AND "
                  "case_code IS ?");
        open.bind(1, std::string(to_string(kind)));
        if (case_code) {
            open.bind(2, case_code->str());
        } else {
            open.bind_null(2);
        }
        if (open.step()) return open.integer(0);  // already open: one alert, not a flood
        Stmt insert(db,
                    "INSERT INTO gateway_alerts(case_code, kind, urgent, raised_at_ms) "
                    "VALUES(?,?,?,?)");
        if (case_code) {
            insert.bind(1, case_code->str());
        } else {
            insert.bind_null(1);
        }
        insert.bind(2, std::string(to_string(kind)))
            .bind(3, std::int64_t{is_urgent(kind) ? 1 : 0})
            .bind(4, to_ms(at));
        insert.step();
        record.id = sqlite3_last_insert_rowid(db);
        record.case_code = case_code;
        record.kind = kind;
        record.urgent = is_urgent(kind);
        record.raised_at_ms = to_ms(at);
        store_.append_audit("system", "alert.raised", case_code ? case_code->str() : "", "",
                            to_string(kind), at);
        tx.commit();
        if (case_code) recipients = caseworkers_of(*case_code);
    }
    if (listener_) listener_(record, recipients);
    return record.id;
}

std::vector<AlertRecord> AlertBoard::open_for(const std::string& caseworker_account) const {
    auto guard = store_.lock();
    Stmt q(store_.connection(),
           (std::string(kColumns) + "WHERE cleared_at_ms IS NULL ORDER BY urgent DESC, id ASC")
               .c_str());
    std::vector<AlertRecord> out;
    while (q.step()) {
        AlertRecord r = read_row(q);
        if (r.case_code) {
            auto cws = caseworkers_of(*r.case_code);
            if (std::find(cws.begin(), cws.end(), caseworker_account) == cws.end()) continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<AlertRecord> AlertBoard::find(std::int64_t id) const {
    auto guard = store_.lock();
    Stmt q(store_.connection(), (std::string(kColumns) + "WHERE id = ?").c_str());
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return read_row(q);
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
    sqlite3* db = store_.connection();
    Transaction tx(db);
    Stmt u(db,
           "UPDATE gateway_alerts SET cleared_at_ms = ?, cleared_by = ? WHERE id = ? AND "
           "cleared_at_ms IS NULL");
    u.bind(1, to_ms(at)).bind(2, caseworker_account).bind(3, id);
    u.step();
    const std::string code = record->case_code ? record->case_code->str() : "";
    if (record->kind == AlertKind::duress && record->case_code) {
        // Her caseworker has checked on her: automated outreach may resume.
        store_.clear_duress(
            *record->case_code,
            {policies::AccountId(caseworker_account, "by"), policies::Role::caseworker}, at);
    }
    store_.append_audit(caseworker_account, "alert.cleared", code, "", to_string(record->kind), at);
    tx.commit();
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
    sqlite3* db = store_.connection();
    Transaction tx(db);
    Stmt u(db,
           "UPDATE gateway_alerts SET cleared_at_ms = ?, cleared_by = ? WHERE case_code = ? AND "
           "kind = 'duress' AND cleared_at_ms IS NULL");
    u.bind(1, to_ms(at)).bind(2, caseworker_account).bind(3, code.str());
    u.step();
    auto cleared = static_cast<std::size_t>(sqlite3_changes(db));
    store_.clear_duress(
        code, {policies::AccountId(caseworker_account, "by"), policies::Role::caseworker}, at);
    if (cleared > 0) {
        store_.append_audit(caseworker_account, "alert.cleared", code.str(), "", "duress", at);
    }
    tx.commit();
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

}  // namespace ariadne::gateway
