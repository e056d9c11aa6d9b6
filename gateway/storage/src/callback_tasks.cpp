#include "ariadne/storage/callback_tasks.h"

#include <charconv>

#include "advisory_locks.h"

namespace ariadne::storage {

namespace {

#define ARIADNE_CALLBACK_COLUMNS                                                              \
    "SELECT id, case_code, source, channel, requested_at_ms, windows, next_allowed_from_ms, " \
    "state, reason, updated_at_ms FROM gateway_callback_tasks "

std::string encode_windows(const std::vector<CallbackWindow>& windows) {
    std::string out;
    for (const auto& w : windows) {
        if (!out.empty()) out += ',';
        out += std::to_string(w.from_ms) + "-" + std::to_string(w.to_ms);
    }
    return out;
}

std::int64_t parse_number(std::string_view text) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        throw Error(ErrorKind::corrupt, 0, "a stored call-back window cannot be read");
    }
    return value;
}

std::vector<CallbackWindow> decode_windows(std::string_view text) {
    std::vector<CallbackWindow> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view pair = text.substr(0, comma);
        auto dash = pair.find('-');
        if (dash == std::string_view::npos)
            throw Error(ErrorKind::corrupt, 0, "a stored call-back window cannot be read");
        out.push_back({parse_number(pair.substr(0, dash)), parse_number(pair.substr(dash + 1))});
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    return out;
}

CallbackTaskRow read_row(const Statement& s) {
    CallbackTaskRow r;
    r.id = s.integer(0);
    r.case_code = s.text(1);
    r.source = s.text(2);
    r.channel = s.text(3);
    r.requested_at_ms = s.integer(4);
    r.windows = decode_windows(s.text(5));
    if (!s.is_null(6)) r.next_allowed_from_ms = s.integer(6);
    r.state = s.text(7);
    r.reason = s.text(8);
    r.updated_at_ms = s.integer(9);
    return r;
}

void bind_next(Statement& s, int index, const std::optional<std::int64_t>& next) {
    if (next) {
        s.bind(index, *next);
    } else {
        s.bind_null(index);
    }
}

void load_attempts(Connection& db, CallbackTaskRow& task) {
    auto s = db.cached(
        "SELECT at_ms, by_account, outcome FROM gateway_callback_attempts WHERE task_id = ? "
        "ORDER BY id");
    s.bind(1, task.id);
    while (s.step()) task.attempts.push_back({s.integer(0), s.text(1), s.text(2)});
}

}  // namespace

CallbackTasks::CallbackTasks(const policies::PolicyStore& store) : db_(store) {}

bool CallbackTasks::is_open_state(const std::string& state) noexcept {
    return state == "open" || state == "not_reached" || state == "rescheduled";
}

std::int64_t CallbackTasks::insert(const CallbackTaskRow& task) {
    auto db = db_.lock();
    auto s = db->cached(
        "INSERT INTO gateway_callback_tasks(case_code, source, channel, requested_at_ms, "
        "windows, next_allowed_from_ms, state, reason, updated_at_ms) "
        "VALUES(?,?,?,?,?,?,?,?,?) RETURNING id");
    s.bind(1, task.case_code)
        .bind(2, task.source)
        .bind(3, task.channel)
        .bind(4, task.requested_at_ms)
        .bind(5, encode_windows(task.windows));
    bind_next(s, 6, task.next_allowed_from_ms);
    s.bind(7, task.state).bind(8, task.reason).bind(9, task.updated_at_ms);
    const std::int64_t id = s.step() ? s.integer(0) : 0;
    s.run();
    return id;
}

std::optional<CallbackTaskRow> CallbackTasks::find_open(const std::string& case_code) const {
    auto db = db_.lock();
    auto s = db->cached(ARIADNE_CALLBACK_COLUMNS
                        "WHERE case_code = ? AND state IN ('open', 'not_reached', "
                        "'rescheduled') ORDER BY id LIMIT 1");
    s.bind(1, case_code);
    if (!s.step()) return std::nullopt;
    auto row = read_row(s);
    s.reset();
    load_attempts(*db, row);
    return row;
}

std::optional<CallbackTaskRow> CallbackTasks::find(std::int64_t id) const {
    auto db = db_.lock();
    auto s = db->cached(ARIADNE_CALLBACK_COLUMNS "WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    auto row = read_row(s);
    s.reset();
    load_attempts(*db, row);
    return row;
}

std::vector<CallbackTaskRow> CallbackTasks::open_tasks() const {
    auto db = db_.lock();
    std::vector<CallbackTaskRow> out;
    {
        auto s = db->cached(ARIADNE_CALLBACK_COLUMNS
                            "WHERE state IN ('open', 'not_reached', 'rescheduled') ORDER BY id");
        while (s.step()) out.push_back(read_row(s));
        s.reset();
    }
    for (auto& row : out) load_attempts(*db, row);
    return out;
}

bool CallbackTasks::update(const CallbackTaskRow& task) {
    auto db = db_.lock();
    auto s = db->cached(
        "UPDATE gateway_callback_tasks SET source = ?, channel = ?, requested_at_ms = ?, "
        "windows = ?, next_allowed_from_ms = ?, state = ?, reason = ?, updated_at_ms = ? "
        "WHERE id = ?");
    s.bind(1, task.source)
        .bind(2, task.channel)
        .bind(3, task.requested_at_ms)
        .bind(4, encode_windows(task.windows));
    bind_next(s, 5, task.next_allowed_from_ms);
    s.bind(6, task.state).bind(7, task.reason).bind(8, task.updated_at_ms).bind(9, task.id);
    s.run();
    return db->changes() > 0;
}

void CallbackTasks::add_attempt(std::int64_t task_id, const CallbackAttempt& attempt) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_callback_attempts(task_id, at_ms, by_account, outcome) "
          "VALUES(?,?,?,?)")
        .bind(1, task_id)
        .bind(2, attempt.at_ms)
        .bind(3, attempt.by)
        .bind(4, attempt.outcome)
        .run();
}

std::int64_t CallbackTasks::purge_closed_before(std::int64_t cutoff_ms) {
    auto db = db_.lock();
    Transaction tx(*db);
    if (!detail::try_lock_for_transaction(*db, detail::ClusterLock::callback_purge)) return 0;
    db->cached(
          "DELETE FROM gateway_callback_attempts WHERE task_id IN (SELECT id FROM "
          "gateway_callback_tasks WHERE updated_at_ms < ? AND state NOT IN ('open', "
          "'not_reached', 'rescheduled'))")
        .bind(1, cutoff_ms)
        .run();
    db->cached(
          "DELETE FROM gateway_callback_tasks WHERE updated_at_ms < ? AND state NOT IN ('open', "
          "'not_reached', 'rescheduled')")
        .bind(1, cutoff_ms)
        .run();
    const std::int64_t purged = db->changes();
    tx.commit();
    return purged;
}

#undef ARIADNE_CALLBACK_COLUMNS

}  // namespace ariadne::storage
