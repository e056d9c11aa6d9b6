// The SQL wrapper's PostgreSQL engine: libpq connections (re-established after a loss,
// outside a transaction), statements prepared once per connection, parameters rewritten
// from SQLite's `?`/`?N` to `$N`, results read in text form, and SQLSTATEs translated into
// the wrapper's ErrorKind. Only the server's primary message becomes an error's reason: its
// DETAIL may quote a key's value.
#include "postgres.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace ariadne::sqlite {

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string trimmed(const char* text) {
    std::string s = text != nullptr ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

ErrorKind kind_of_state(std::string_view state) {
    if (state.starts_with("23")) return ErrorKind::constraint;
    if (state == "40001" || state == "40P01" || state == "55P03") return ErrorKind::busy;
    if (state.starts_with("53")) return ErrorKind::full;
    if (state == "25006") return ErrorKind::read_only;
    if (state.starts_with("08") || state.starts_with("57P")) return ErrorKind::busy;
    if (state.starts_with("XX")) return ErrorKind::corrupt;
    return ErrorKind::other;
}

/// The SQLite primary code of the same kind: callers tell an engine's failure from a refusal
/// of their own (code 0) by it, whichever engine ran the statement.
int sqlite_equivalent(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::constraint:
            return 19;  // SQLITE_CONSTRAINT
        case ErrorKind::busy:
            return 5;  // SQLITE_BUSY
        case ErrorKind::full:
            return 13;  // SQLITE_FULL
        case ErrorKind::read_only:
            return 8;  // SQLITE_READONLY
        case ErrorKind::corrupt:
            return 11;  // SQLITE_CORRUPT
        default:
            return 1;  // SQLITE_ERROR
    }
}

std::string what_of(Operation operation) {
    switch (operation) {
        case Operation::prepare:
            return "prepare a statement";
        case Operation::exec:
            return "execute a command";
        default:
            return "run a statement";
    }
}

/// Throws for a failed result (or a missing one: the connection is gone).
[[noreturn]] void fail_result(PgLink& link, PGresult* result, Operation operation) {
    std::string reason, state;
    if (result != nullptr) {
        reason = trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
        state = trimmed(PQresultErrorField(result, PG_DIAG_SQLSTATE));
        PQclear(result);
    }
    if (reason.empty()) reason = trimmed(PQerrorMessage(link.conn));
    if (state.empty() && PQstatus(link.conn) == CONNECTION_BAD) state = "08006";
    const ErrorKind kind = kind_of_state(state);
    throw Error(kind, sqlite_equivalent(kind),
                "The database failed to " + what_of(operation) + ": " +
                    (reason.empty() ? "no answer from the server" : reason) + ".",
                operation, reason);
}

void configure(PgLink& link) {
    PQsetNoticeProcessor(
        link.conn, [](void*, const char*) {}, nullptr);
    std::string setup = "SET client_min_messages = warning; SET synchronous_commit = ";
    setup += link.options.synchronous_full ? "on" : "off";
    if (link.options.mode == OpenMode::read_only) {
        setup += "; SET default_transaction_read_only = on";
    }
    pg::exec(link, setup);
}

void open(PgLink& link) {
    const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
    const char* values[] = {"ariadne", "10", link.uri.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        std::string reason = conn != nullptr ? trimmed(PQerrorMessage(conn)) : "out of memory";
        PQfinish(conn);
        throw Error(ErrorKind::busy, 5,
                    "The database at " + redact_uri(link.uri) + " cannot be reached: " + reason,
                    Operation::open, reason);
    }
    link.conn = conn;
    link.deferred = 0;
    for (auto& [key, prepared] : link.prepared) prepared.ready = false;
    configure(link);
    if (link.pipelined && PQenterPipelineMode(conn) != 1) {
        throw Error(ErrorKind::other, 1, "The database connection cannot enter pipeline mode.",
                    Operation::open, "pipeline mode refused");
    }
}

bool in_pipeline(const PgLink& link) {
    return link.conn != nullptr && PQpipelineStatus(link.conn) != PQ_PIPELINE_OFF;
}

/// Pipeline mode: after the waiting command was sent (or none, `want_result` false), sends
/// the sync and reads, in order, the results of the deferred commands and of the waiting one.
/// The first failure among them is thrown (later commands were skipped by the server).
PGresult* collect(PgLink& link, bool want_result, Operation operation) {
    if (PQpipelineSync(link.conn) != 1) fail_result(link, nullptr, operation);
    const int commands = link.deferred + (want_result ? 1 : 0);
    link.deferred = 0;
    PGresult* error = nullptr;
    PGresult* ours = nullptr;
    bool broken = false;
    for (int i = 0; i < commands && !broken; ++i) {
        PGresult* first = nullptr;
        while (PGresult* r = PQgetResult(link.conn)) {
            if (first == nullptr) {
                first = r;
            } else {
                PQclear(r);
            }
        }
        if (first == nullptr) {
            broken = true;  // the connection is gone
            break;
        }
        const auto status = PQresultStatus(first);
        if (status == PGRES_FATAL_ERROR && error == nullptr) {
            error = first;
        } else if (want_result && i == commands - 1 && status != PGRES_PIPELINE_ABORTED) {
            ours = first;
        } else {
            PQclear(first);
        }
    }
    if (!broken) {
        PGresult* sync = PQgetResult(link.conn);
        if (sync == nullptr || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) broken = true;
        PQclear(sync);
    }
    if (error != nullptr || broken) {
        PQclear(ours);
        fail_result(link, error, operation);
    }
    return ours;
}

/// A connection lost earlier is re-established here, outside a transaction (inside one,
/// the transaction is gone anyway and its owner's rollback comes first). Attempts are
/// spaced 250 ms apart so a down server is not hammered by every request.
void ensure_connected(PgLink& link) {
    if (link.conn != nullptr && PQstatus(link.conn) == CONNECTION_OK) return;
    const std::int64_t now = steady_ms();
    if (now - link.last_attempt_ms < 250) {
        throw Error(ErrorKind::busy, 5,
                    "The database failed to run a statement: the connection to the server was "
                    "lost; reconnecting.",
                    Operation::open, "connection lost");
    }
    link.last_attempt_ms = now;
    if (link.conn != nullptr) {
        PQfinish(link.conn);
        link.conn = nullptr;
    }
    open(link);
}

bool succeeded(PGresult* result) {
    const auto status = PQresultStatus(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool is_postgres_uri(std::string_view target) noexcept {
    return target.starts_with("postgresql://") || target.starts_with("postgres://");
}

std::string redact_uri(std::string_view uri) {
    std::string out(uri);
    // user:password@ in the authority part.
    if (auto scheme = out.find("://"); scheme != std::string::npos) {
        const auto start = scheme + 3;
        const auto end = out.find_first_of("/?", start);
        const auto authority_end = end == std::string::npos ? out.size() : end;
        const auto at = out.rfind('@', authority_end);
        if (at != std::string::npos && at > start) {
            const auto colon = out.find(':', start);
            if (colon != std::string::npos && colon < at) {
                out.replace(colon + 1, at - colon - 1, "***");
            }
        }
    }
    // password=… among the query parameters.
    for (std::size_t at = out.find("password="); at != std::string::npos;
         at = out.find("password=", at + 1)) {
        if (at > 0 && out[at - 1] != '?' && out[at - 1] != '&') continue;
        const auto value = at + 9;
        const auto end = out.find('&', value);
        out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    return out;
}

PgLink::~PgLink() {
    if (conn != nullptr) PQfinish(conn);
}

void PgQueryDeleter::operator()(PgQuery* query) const noexcept { delete query; }

PgQuery::~PgQuery() {
    if (result != nullptr) PQclear(result);
}

void PgQuery::bind(int index, std::string value, int format, unsigned type) {
    if (index < 1 || index > parameters) {
        throw Error(ErrorKind::other, 0,
                    "The database failed to bind a value: no parameter " + std::to_string(index) +
                        " in the statement.",
                    Operation::bind, "bind index out of range");
    }
    const auto i = static_cast<std::size_t>(index - 1);
    values[i] = std::move(value);
    is_null[i] = 0;
    formats[i] = format;
    types[i] = type;
}

void PgQuery::bind_null(int index) {
    bind(index, {}, 0, 0);
    is_null[static_cast<std::size_t>(index - 1)] = 1;
}

void PgQuery::execute() {
    ensure_connected(*link);
    std::vector<const char*> pointers(values.size());
    std::vector<int> lengths(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        pointers[i] = is_null[i] ? nullptr : values[i].data();
        lengths[i] = static_cast<int>(values[i].size());
    }
    std::vector<Oid> oids(types.begin(), types.end());
    PGresult* r = nullptr;
    if (in_pipeline(*link)) {
        // One round trip for the deferred commands, a first prepare and this statement.
        bool sent = false;
        if (key == nullptr) {
            sent = PQsendQueryParams(link->conn, sql.c_str(), parameters, oids.data(),
                                     pointers.data(), lengths.data(), formats.data(), 0) == 1;
        } else {
            PgPrepared& prepared = link->prepared.at(key);
            if (!prepared.ready) {
                if (PQsendPrepare(link->conn, prepared.name.c_str(), prepared.sql.c_str(),
                                  parameters, oids.data()) != 1) {
                    fail_result(*link, nullptr, Operation::prepare);
                }
                ++link->deferred;
                prepared.ready = true;  // a failure throws below, and reconnecting resets it
            }
            sent = PQsendQueryPrepared(link->conn, prepared.name.c_str(), parameters,
                                       pointers.data(), lengths.data(), formats.data(), 0) == 1;
        }
        if (!sent) fail_result(*link, nullptr, Operation::step);
        r = collect(*link, true, Operation::step);
    } else if (key == nullptr) {
        r = PQexecParams(link->conn, sql.c_str(), parameters, oids.data(), pointers.data(),
                         lengths.data(), formats.data(), 0);
    } else {
        PgPrepared& prepared = link->prepared.at(key);
        if (!prepared.ready) {
            PGresult* p = PQprepare(link->conn, prepared.name.c_str(), prepared.sql.c_str(),
                                    parameters, oids.data());
            if (p == nullptr || !succeeded(p)) fail_result(*link, p, Operation::prepare);
            PQclear(p);
            prepared.ready = true;
        }
        r = PQexecPrepared(link->conn, prepared.name.c_str(), parameters, pointers.data(),
                           lengths.data(), formats.data(), 0);
    }
    if (r == nullptr || !succeeded(r)) fail_result(*link, r, Operation::step);
    link->changes = std::atoi(PQcmdTuples(r));
    result = r;
}

bool PgQuery::step() {
    if (!executed) {
        execute();
        executed = true;
        row = -1;
    }
    if (result == nullptr) return false;
    ++row;
    return row < PQntuples(result);
}

void PgQuery::reset() {
    if (result != nullptr) PQclear(result);
    result = nullptr;
    row = -1;
    executed = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
        values[i].clear();
        is_null[i] = 1;
        formats[i] = 0;
        types[i] = 0;
    }
}

bool PgQuery::is_null_at(int column) const {
    return result == nullptr || row < 0 || PQgetisnull(result, row, column) != 0;
}

std::int64_t PgQuery::integer(int column) const {
    if (is_null_at(column)) return 0;
    const char* v = PQgetvalue(result, row, column);
    if (PQftype(result, column) == 16) return v[0] == 't' ? 1 : 0;  // boolean
    return std::strtoll(v, nullptr, 10);
}

std::string PgQuery::text(int column) const {
    if (is_null_at(column)) return {};
    if (PQftype(result, column) == 17) {
        auto bytes = blob(column);
        return std::string(bytes.begin(), bytes.end());
    }
    return std::string(PQgetvalue(result, row, column),
                       static_cast<std::size_t>(PQgetlength(result, row, column)));
}

std::vector<std::uint8_t> PgQuery::blob(int column) const {
    if (is_null_at(column)) return {};
    const char* v = PQgetvalue(result, row, column);
    const auto n = static_cast<std::size_t>(PQgetlength(result, row, column));
    if (PQftype(result, column) != 17) return std::vector<std::uint8_t>(v, v + n);
    // bytea in text form is hex ("\x0a1b…"), the server's default bytea_output.
    std::vector<std::uint8_t> out;
    if (n < 2 || v[0] != '\\' || v[1] != 'x') {
        throw Error(ErrorKind::other, 0,
                    "The database failed to read a value: bytea_output is not 'hex'.",
                    Operation::step, "unexpected bytea format");
    }
    out.reserve((n - 2) / 2);
    for (std::size_t i = 2; i + 1 < n; i += 2) {
        out.push_back(static_cast<std::uint8_t>(hex_value(v[i]) * 16 + hex_value(v[i + 1])));
    }
    return out;
}

namespace pg {

PgLink* connect(const std::string& uri, const ConnectionOptions& options) {
    auto link = std::make_unique<PgLink>();
    link->uri = uri;
    link->options = options;
    open(*link);
    return link.release();
}

namespace {

/// Pipeline mode runs one statement per command: `sql`'s statements (the wrapper's own, no
/// ';' inside literals) are sent one by one and read together.
PGresult* exec_pipelined(PgLink& link, std::string_view sql) {
    std::vector<std::string> statements;
    for (std::size_t start = 0; start < sql.size();) {
        auto end = sql.find(';', start);
        if (end == std::string_view::npos) end = sql.size();
        std::string one(sql.substr(start, end - start));
        if (one.find_first_not_of(" \n\t") != std::string::npos) statements.push_back(one);
        start = end + 1;
    }
    if (statements.empty()) return nullptr;
    for (std::size_t i = 0; i < statements.size(); ++i) {
        if (PQsendQueryParams(link.conn, statements[i].c_str(), 0, nullptr, nullptr, nullptr,
                              nullptr, 0) != 1) {
            fail_result(link, nullptr, Operation::exec);
        }
        if (i + 1 < statements.size()) ++link.deferred;
    }
    return collect(link, true, Operation::exec);
}

}  // namespace

void exec(PgLink& link, std::string_view sql) {
    ensure_connected(link);
    if (in_pipeline(link)) {
        PGresult* r = exec_pipelined(link, sql);
        link.changes = r != nullptr ? std::atoi(PQcmdTuples(r)) : 0;
        PQclear(r);
        return;
    }
    const std::string text(sql);
    PGresult* r = PQexec(link.conn, text.c_str());
    if (r == nullptr || !succeeded(r)) fail_result(link, r, Operation::exec);
    link.changes = std::atoi(PQcmdTuples(r));
    PQclear(r);
}

void exec_noexcept(PgLink& link, const char* sql) noexcept {
    if (link.conn == nullptr || PQstatus(link.conn) != CONNECTION_OK) return;
    if (in_pipeline(link)) {
        try {
            PQclear(exec_pipelined(link, sql));
        } catch (...) {
            // Best effort (rollbacks in destructors).
        }
        return;
    }
    PQclear(PQexec(link.conn, sql));
}

void set_pipelined(PgLink& link, bool on) {
    ensure_connected(link);
    link.pipelined = on;
    const bool now = in_pipeline(link);
    if (on && !now && PQenterPipelineMode(link.conn) != 1) {
        throw Error(ErrorKind::other, 1, "The database connection cannot enter pipeline mode.",
                    Operation::other, "pipeline mode refused");
    }
    if (!on && now) {
        if (link.deferred > 0) PQclear(collect(link, false, Operation::other));
        if (PQexitPipelineMode(link.conn) != 1) {
            throw Error(ErrorKind::other, 1, "The database connection cannot leave pipeline mode.",
                        Operation::other, "pipeline mode busy");
        }
    }
}

void defer(PgLink& link, const char* sql) {
    ensure_connected(link);
    if (!in_pipeline(link)) {
        exec(link, sql);
        return;
    }
    if (PQsendQueryParams(link.conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
        fail_result(link, nullptr, Operation::exec);
    }
    ++link.deferred;
}

namespace {

PgQueryPtr make_query(PgLink& link, int parameters) {
    auto q = PgQueryPtr(new PgQuery());
    q->link = &link;
    q->parameters = parameters;
    const auto n = static_cast<std::size_t>(parameters);
    q->values.assign(n, {});
    q->is_null.assign(n, 1);
    q->formats.assign(n, 0);
    q->types.assign(n, 0);
    return q;
}

}  // namespace

PgQueryPtr prepare(PgLink& link, std::string_view sql) {
    int parameters = 0;
    std::string translated = translate(sql, parameters);
    auto q = make_query(link, parameters);
    q->sql = std::move(translated);
    return q;
}

PgQueryPtr cached(PgLink& link, const char* sql) {
    auto it = link.prepared.find(sql);
    if (it == link.prepared.end()) {
        PgPrepared prepared;
        prepared.sql = translate(sql, prepared.parameters);
        prepared.name = "ariadne_" + std::to_string(++link.next_name);
        it = link.prepared.emplace(sql, std::move(prepared)).first;
    }
    auto q = make_query(link, it->second.parameters);
    q->key = sql;
    return q;
}

bool in_transaction(const PgLink& link) noexcept {
    if (link.conn == nullptr) return false;
    const auto status = PQtransactionStatus(link.conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

std::string translate(std::string_view sql, int& parameters) {
    std::string out;
    out.reserve(sql.size() + 8);
    parameters = 0;
    int automatic = 0;
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote != 0) {
            out.push_back(c);
            if (c == quote) quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out.push_back(c);
            continue;
        }
        if (c != '?') {
            out.push_back(c);
            continue;
        }
        int number = 0;
        std::size_t j = i + 1;
        while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') {
            number = number * 10 + (sql[j] - '0');
            ++j;
        }
        if (j == i + 1) number = ++automatic;
        i = j - 1;
        out += '$';
        out += std::to_string(number);
        if (number > parameters) parameters = number;
    }
    return out;
}

}  // namespace pg

}  // namespace ariadne::sqlite
