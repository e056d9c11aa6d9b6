#include "ariadne/storage/alerts.h"

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

namespace {

constexpr const char* kColumns =
    "SELECT id, case_code, kind, urgent, raised_at_ms, cleared_at_ms, cleared_by FROM "
    "gateway_alerts ";

AlertRow read_row(const Statement& s) {
    AlertRow r;
    r.id = s.integer(0);
    if (!s.is_null(1)) r.case_code = s.text(1);
    r.kind = s.text(2);
    r.urgent = s.integer(3) != 0;
    r.raised_at_ms = s.integer(4);
    if (!s.is_null(5)) r.cleared_at_ms = s.integer(5);
    r.cleared_by = s.text(6);
    return r;
}

void bind_case(Statement& s, int index, const std::optional<std::string>& case_code) {
    if (case_code) {
        s.bind(index, *case_code);
    } else {
        s.bind_null(index);
    }
}

}  // namespace

AlertTable::AlertTable(const policies::PolicyStore& store) : store_(store) {}

std::optional<std::int64_t> AlertTable::find_open(
    const std::string& kind, const std::optional<std::string>& case_code) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto s = db.prepare(
        "SELECT id FROM gateway_alerts WHERE cleared_at_ms IS NULL AND kind = ? AND "
        "case_code IS NOT DISTINCT FROM ?");
    s.bind(1, kind);
    bind_case(s, 2, case_code);
    if (!s.step()) return std::nullopt;
    return s.integer(0);
}

std::int64_t AlertTable::insert(const std::optional<std::string>& case_code,
                                const std::string& kind, bool urgent, std::int64_t raised_at_ms) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto s = db.prepare(
        "INSERT INTO gateway_alerts(case_code, kind, urgent, raised_at_ms) VALUES(?,?,?,?) "
        "RETURNING id");
    bind_case(s, 1, case_code);
    s.bind(2, kind).bind(3, urgent ? 1 : 0).bind(4, raised_at_ms);
    const std::int64_t id = s.step() ? s.integer(0) : 0;
    s.run();
    return id;
}

std::vector<AlertRow> AlertTable::open_alerts() const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto s = db.prepare(std::string(kColumns) +
                        "WHERE cleared_at_ms IS NULL ORDER BY urgent DESC, id ASC");
    std::vector<AlertRow> out;
    while (s.step()) out.push_back(read_row(s));
    return out;
}

std::optional<AlertRow> AlertTable::find(std::int64_t id) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto s = db.prepare(std::string(kColumns) + "WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_row(s);
}

bool AlertTable::clear(std::int64_t id, std::int64_t at_ms, const std::string& by) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "UPDATE gateway_alerts SET cleared_at_ms = ?, cleared_by = ? WHERE id = ? AND "
          "cleared_at_ms IS NULL")
        .bind(1, at_ms)
        .bind(2, by)
        .bind(3, id)
        .run();
    return db.changes() > 0;
}

std::size_t AlertTable::clear_all(const std::string& case_code, const std::string& kind,
                                  std::int64_t at_ms, const std::string& by) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "UPDATE gateway_alerts SET cleared_at_ms = ?, cleared_by = ? WHERE case_code = ? AND "
          "kind = ? AND cleared_at_ms IS NULL")
        .bind(1, at_ms)
        .bind(2, by)
        .bind(3, case_code)
        .bind(4, kind)
        .run();
    return static_cast<std::size_t>(db.changes());
}

}  // namespace ariadne::storage
