// The one SQL wrapper of Ariadne: connections (file created 0600, pragmas chosen by the
// owner), prepared and cached statements, transactions that nest as savepoints, and one
// error type. Used by the gateway's storage layer and by the client-side sealed stores
// (crypto's SealedStore, the console history); it includes nothing else of Ariadne.
//
// Two engines behind one interface: SQLite (a file path; the default and the client stores'
// only engine) and PostgreSQL through libpq (a `postgresql://` or `postgres://` connection
// URI in place of the path: the gateway's shared database for several nodes). Statements are
// written once, in the SQL both engines accept: `?` or `?N` parameters (rewritten to `$N` for
// PostgreSQL), `INSERT … ON CONFLICT`, `RETURNING` instead of last_insert_rowid(). On
// PostgreSQL: integers are bound as text and inferred by the server from their context, blobs
// as bytea, results are read in text form (bytea decoded, booleans as 1/0); changes() is the
// row count of the last command; a lost connection is re-established on the next use outside
// a transaction (multi-host URIs with target_session_attrs=read-write follow a failover).
//
// Thread safety: a Connection and its Statements belong to one thread at a time; the caller
// serialises (the Store's writer thread, a read pool slot, a repository's or store's mutex).
// Connections are opened without SQLite's own mutex (SQLITE_OPEN_NOMUTEX).
// Errors: every failure throws sqlite::Error with a sentence naming the operation and
// SQLite's reason. Bound values never appear in an error (they may be ciphertext or codes).
// Layers above translate it into their own error type where they answer (crypto::Error in
// the client stores); the gateway's storage layer uses it as storage::Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace ariadne::sqlite {

struct PgLink;   // a libpq connection and its prepared statements (postgres.cpp)
struct PgQuery;  // one statement's parameters and result on a PgLink
struct PgQueryDeleter {
    void operator()(PgQuery* query) const noexcept;
};
using PgQueryPtr = std::unique_ptr<PgQuery, PgQueryDeleter>;

/// True when `target` is a PostgreSQL connection URI (postgresql:// or postgres://), which
/// Connection opens with libpq instead of a file.
bool is_postgres_uri(std::string_view target) noexcept;
/// `uri` with its password (user:PASSWORD@, or password=… in the query) replaced by "***":
/// the only form of a connection string that may reach a log or an error.
std::string redact_uri(std::string_view uri);

/// What went wrong, for callers that react differently (a constraint is a conflict; a full
/// disk or read-only file means "try later"; the rest is a broken database). `not_found`: a
/// repository was asked to change a row that does not exist (an unknown account id).
enum class ErrorKind { constraint, busy, full, read_only, corrupt, schema, other, not_found };

/// Which call of this wrapper failed, so an owner can say it in its own words
/// ("the key store could not be opened").
enum class Operation {
    create_file,  // creating the database file (reason: the system's, e.g. "Permission denied")
    open,         // sqlite3_open_v2
    prepare,      // preparing a statement
    bind,         // binding a parameter
    step,         // running a prepared statement
    exec,         // Connection::exec (pragmas, BEGIN/COMMIT, schema scripts)
    other,        // fail() and errors raised by callers
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, int sqlite_code, const std::string& message,
          Operation operation = Operation::other, std::string reason = {})
        : std::runtime_error(message),
          kind_(kind),
          sqlite_code_(sqlite_code),
          operation_(operation),
          reason_(std::move(reason)) {}
    ErrorKind kind() const noexcept { return kind_; }
    /// The primary SQLite result code (0 when the error is not the engine's: a refusal raised by
    /// a caller). A PostgreSQL failure carries the SQLite code of the same kind.
    int sqlite_code() const noexcept { return sqlite_code_; }
    Operation operation() const noexcept { return operation_; }
    /// SQLite's own sentence for this failure (sqlite3_errmsg: "no such table: meta"), or the
    /// system's for create_file; may be empty. Never holds a bound value.
    const std::string& reason() const noexcept { return reason_; }

  private:
    ErrorKind kind_;
    int sqlite_code_;
    Operation operation_;
    std::string reason_;
};

/// Process-wide SQLite settings for a server: call once, before any connection is opened.
/// (Turns off allocation statistics, which take a global mutex on every allocation.)
void configure_process() noexcept;

/// Throws Error (operation other): "The database failed to <what>: <SQLite's reason>."
[[noreturn]] void fail(int sqlite_code, std::string_view what);

class Statement {
  public:
    /// Cached statements are reset on destruction; owned ones are finalized.
    Statement(sqlite3_stmt* stmt, bool owned) noexcept : stmt_(stmt), owned_(owned) {}
    /// A PostgreSQL statement (Connection::prepare/cached on a PostgreSQL connection).
    explicit Statement(PgQueryPtr query) noexcept;
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters are 1-based, as in SQLite. Text and blobs are copied.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
    Statement& bind(int index, std::uint32_t value) { return bind(index, std::int64_t{value}); }
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    /// A zero-length blob is stored as an empty blob, never NULL.
    Statement& bind_blob(int index, std::span<const std::uint8_t> value);
    Statement& bind_null(int index);

    /// True when a row is available, false when the statement is done.
    bool step();
    /// Steps to the end, discarding rows.
    void run();
    /// Makes the statement runnable again with new bindings.
    void reset();

    // Columns are 0-based. A NULL reads as 0, "" or an empty blob.
    bool is_null(int column) const;
    std::int64_t integer(int column) const;
    std::string text(int column) const;
    std::vector<std::uint8_t> blob(int column) const;

  private:
    void check_bind(int rc);
    sqlite3_stmt* stmt_ = nullptr;
    bool owned_ = true;
    PgQueryPtr pg_;
};

enum class OpenMode {
    create,      // read-write; the file is created 0600 when missing
    read_write,  // the file must exist
    read_only,   // the file must exist; writes fail (query_only)
};

/// The defaults are the gateway's settings; a client store turns off what it does not use
/// (the sealed stores: wal = false until the key is checked, foreign_keys = false).
struct ConnectionOptions {
    OpenMode mode = OpenMode::create;
    bool synchronous_full = true;  // false: synchronous=NORMAL (docs/architecture.md)
    bool wal = true;
    bool secure_delete = true;  // deleted rows are overwritten, not left in free pages
    bool foreign_keys = true;
    int busy_timeout_ms = 5000;
};

class Connection {
  public:
    /// What a borrowing Connection shares with its owner (one of the two is set).
    struct Borrowed {
        sqlite3* sqlite = nullptr;
        PgLink* postgres = nullptr;
    };

    /// Opens `path` with the options' pragmas, or, when `path` is a PostgreSQL URI, connects
    /// (synchronous_commit on when synchronous_full, read-only sessions for read_only; wal,
    /// secure_delete and busy_timeout_ms are SQLite's). Throws Error if the file cannot be
    /// created (create_file), opened or the server reached (open: the reason is libpq's,
    /// which never holds the password) or set up (exec); nothing is left open then.
    Connection(const std::filesystem::path& path, const ConnectionOptions& options);
    /// Wraps a handle opened and closed elsewhere (a store shared by several repositories);
    /// its owner's lock must be held while this is used.
    explicit Connection(sqlite3* borrowed) noexcept;
    explicit Connection(Borrowed borrowed) noexcept;
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one or more statements without results.
    void exec(std::string_view sql);
    /// A statement prepared now and finalized when the returned object dies.
    Statement prepare(std::string_view sql);
    /// A statement cached by the address of its literal text (prepared once per
    /// connection): for hot paths. Pass string literals only.
    Statement cached(const char* sql);

    /// SQLite only (0 on PostgreSQL): write `INSERT … RETURNING` where both engines run.
    std::int64_t last_insert_rowid() const noexcept;
    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    int changes() const noexcept;
    bool in_transaction() const noexcept;
    /// SQLite only: the whole database as the bytes of a database file (sqlite3_serialize;
    /// committed content, the WAL included). Throws Error on PostgreSQL or out of memory.
    std::vector<std::uint8_t> serialize();
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The handle, for SQLite APIs this layer does not wrap (online backup); null on
    /// PostgreSQL.
    sqlite3* handle() const noexcept { return db_; }
    /// What another Connection needs to share this one's handle (and lock).
    Borrowed borrow() const noexcept { return {db_, pg_}; }
    bool is_postgres() const noexcept { return pg_ != nullptr; }
    /// Runs `sql` and ignores a failure (rollbacks in destructors).
    void exec_noexcept(const char* sql) noexcept;
    /// One statement without results (a SAVEPOINT, a RELEASE). SQLite and plain PostgreSQL:
    /// runs it now. A pipelined PostgreSQL connection sends it and reads its outcome with the
    /// next statement that waits for an answer — in the same round trip; a failure of it
    /// then fails that statement. Throws Error.
    void defer(const char* sql);
    /// PostgreSQL: libpq's pipeline mode for this connection (the group-committing writer),
    /// so defer() saves round trips. Only between statements. No effect on SQLite.
    void set_pipelined(bool on);

  private:
    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    PgLink* pg_ = nullptr;
    bool owned_ = true;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

enum class TransactionKind { deferred, immediate };

/// A transaction that rolls back unless committed. Inside an open transaction it becomes a
/// savepoint, so a repository call composes with a caller's batch. commit() throws Error
/// (exec) if SQLite refuses; the destructor then rolls back. The connection must outlive it.
class Transaction {
  public:
    explicit Transaction(Connection& connection, TransactionKind kind = TransactionKind::immediate);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

  private:
    Connection& connection_;
    bool nested_;
    bool done_ = false;
};

}  // namespace ariadne::sqlite
