// The PostgreSQL engine behind the SQL wrapper's Connection and Statement (sqlite.h): a
// libpq connection with its prepared statements (PgLink) and one statement's parameters and
// result (PgQuery). Internal to the wrapper: sqlite.cpp forwards to it when a Connection was
// opened with a postgresql:// URI.
//
// Thread safety: as the wrapper's — a PgLink and its queries belong to one thread at a time.
// Errors: sqlite::Error, its kind taken from the SQLSTATE (class 23 constraint; 40001, 40P01,
// 55P03 busy; 53 full; 25006 read_only; a lost connection busy), its reason libpq's sentence.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ariadne/sqlite/sqlite.h"

namespace ariadne::sqlite {

struct PgPrepared {
    std::string name;
    std::string sql;  // translated
    int parameters = 0;
    bool ready = false;  // prepared on the current server connection
};

struct PgLink {
    PGconn* conn = nullptr;
    std::string uri;  // for reconnecting; never shown (redact_uri)
    ConnectionOptions options;
    std::unordered_map<const char*, PgPrepared> prepared;  // by the literal's address
    std::uint64_t next_name = 0;
    int changes = 0;
    std::int64_t last_attempt_ms = 0;  // of a reconnection, to space them out
    // Pipeline mode (the group-committing writer): commands without results are sent
    // without waiting (`deferred` of them so far) and their outcome is read with the next
    // command that waits, in one round trip.
    bool pipelined = false;
    int deferred = 0;

    ~PgLink();
};

struct PgQuery {
    PgLink* link = nullptr;
    const char* key = nullptr;  // cached: the literal it is prepared from; null: unnamed
    std::string sql;            // unnamed: translated ($N parameters)
    int parameters = 0;
    std::vector<std::string> values;
    std::vector<char> is_null;
    std::vector<int> formats;  // 0 text, 1 binary (bytea)
    // The server infers a parameter's type from its context, which for `? + 1` or `0 * ?` is
    // a 32-bit integer: integers are declared int8 and blobs bytea; text and NULL are left
    // to the context (0). A cached statement is prepared with the types of its first run.
    std::vector<unsigned> types;
    PGresult* result = nullptr;
    int row = -1;  // the current row; -1 before the first step
    bool executed = false;

    ~PgQuery();
    void bind(int index, std::string value, int format, unsigned type);
    void bind_null(int index);
    bool step();
    void reset();
    bool is_null_at(int column) const;
    std::int64_t integer(int column) const;
    std::string text(int column) const;
    std::vector<std::uint8_t> blob(int column) const;

  private:
    void execute();
};

namespace pg {

/// Connects (throws Error(open) with libpq's reason and the redacted URI).
PgLink* connect(const std::string& uri, const ConnectionOptions& options);
void exec(PgLink& link, std::string_view sql);
void exec_noexcept(PgLink& link, const char* sql) noexcept;
PgQueryPtr prepare(PgLink& link, std::string_view sql);
PgQueryPtr cached(PgLink& link, const char* sql);
bool in_transaction(const PgLink& link) noexcept;
/// Pipeline mode on or off (only between commands). Throws Error if libpq refuses.
void set_pipelined(PgLink& link, bool on);
/// Sends one command without results; pipelined: read with the next waiting command.
void defer(PgLink& link, const char* sql);
/// `sql` with `?`/`?N` parameters as `$N` (outside quotes); `parameters` gets the highest N.
std::string translate(std::string_view sql, int& parameters);

}  // namespace pg

}  // namespace ariadne::sqlite
