// The SQLite wrapper's implementation: opening files, statements, transactions, and the
// translation of SQLite's result codes into Error.
#include "ariadne/sqlite/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "postgres.h"

namespace ariadne::sqlite {

namespace {

ErrorKind kind_of(int rc) {
    switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
            return ErrorKind::constraint;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return ErrorKind::busy;
        case SQLITE_FULL:
            return ErrorKind::full;
        case SQLITE_READONLY:
            return ErrorKind::read_only;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return ErrorKind::corrupt;
        case SQLITE_SCHEMA:
            return ErrorKind::schema;
        default:
            return ErrorKind::other;
    }
}

std::string message_for(int sqlite_code, std::string_view what) {
    return "The database failed to " + std::string(what) + ": " + sqlite3_errstr(sqlite_code) + ".";
}

// A failure on `db`: SQLite's sentence for it (sqlite3_errmsg) becomes the reason.
[[noreturn]] void fail_on(sqlite3* db, int sqlite_code, Operation operation,
                          std::string_view what) {
    const char* reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_code);
    throw Error(kind_of(sqlite_code), sqlite_code & 0xff, message_for(sqlite_code, what), operation,
                reason != nullptr ? reason : "");
}

}  // namespace

void configure_process() noexcept { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

void fail(int sqlite_code, std::string_view what) {
    throw Error(kind_of(sqlite_code), sqlite_code & 0xff, message_for(sqlite_code, what),
                Operation::other, sqlite3_errstr(sqlite_code));
}

// ---- Statement ----

Statement::Statement(PgQueryPtr query) noexcept : pg_(std::move(query)) {}

Statement::~Statement() {
    if (stmt_ == nullptr) return;
    if (owned_) {
        sqlite3_finalize(stmt_);
    } else {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), owned_(other.owned_), pg_(std::move(other.pg_)) {}

void Statement::check_bind(int rc) {
    if (rc != SQLITE_OK) fail_on(sqlite3_db_handle(stmt_), rc, Operation::bind, "bind a value");
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (pg_) {
        pg_->bind(index, std::to_string(value), 0, 20);  // int8
        return *this;
    }
    check_bind(sqlite3_bind_int64(stmt_, index, value));
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    if (pg_) {
        pg_->bind(index, std::string(value), 0, 0);  // from context
        return *this;
    }
    check_bind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                 SQLITE_TRANSIENT));
    return *this;
}

Statement& Statement::bind_blob(int index, std::span<const std::uint8_t> value) {
    if (pg_) {
        pg_->bind(index, std::string(value.begin(), value.end()), 1, 17);  // bytea
        return *this;
    }
    static const std::uint8_t empty = 0;
    check_bind(sqlite3_bind_blob(stmt_, index, value.empty() ? &empty : value.data(),
                                 static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (pg_) {
        pg_->bind_null(index);
        return *this;
    }
    check_bind(sqlite3_bind_null(stmt_, index));
    return *this;
}

bool Statement::step() {
    if (pg_) return pg_->step();
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // sqlite3_step's own code is generic after a failed step; the extended one is on the db.
    sqlite3* db = sqlite3_db_handle(stmt_);
    fail_on(db, sqlite3_extended_errcode(db), Operation::step, "run a statement");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    if (pg_) {
        pg_->reset();
        return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
    if (pg_) return pg_->is_null_at(column);
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::integer(int column) const {
    return pg_ ? pg_->integer(column) : sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
    if (pg_) return pg_->text(column);
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}

std::vector<std::uint8_t> Statement::blob(int column) const {
    if (pg_) return pg_->blob(column);
    auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    return p ? std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(stmt_, column))
             : std::vector<std::uint8_t>();
}

// ---- Connection ----

Connection::Connection(const std::filesystem::path& path, const ConnectionOptions& options)
    : path_(path) {
    if (is_postgres_uri(path.native())) {
        path_.clear();  // the URI holds a password: never kept where it could be printed
        pg_ = pg::connect(path.native(), options);
        return;
    }
    if (options.mode == OpenMode::create) {
        // Create the file 0600 ourselves: SQLite gives -wal and -shm the same mode. Only a
        // missing file (O_EXCL): closing any descriptor of a file drops every POSIX lock this
        // process holds on it, so opening an existing one here would silently release the
        // SQLite locks of this process's other connections (and another process could then
        // checkpoint and delete the WAL under them).
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::close(fd);
        } else if (errno != EEXIST) {
            throw Error(ErrorKind::other, 0,
                        "The database file " + path.string() + " cannot be created.",
                        Operation::create_file, std::strerror(errno));
        }
    }
    int flags = SQLITE_OPEN_NOMUTEX | (options.mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                                                                           : SQLITE_OPEN_READWRITE);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(kind_of(rc), rc & 0xff, message_for(rc, "open " + path.filename().string()),
                    Operation::open, reason);
    }
    sqlite3_extended_result_codes(db_, 1);
    try {
        sqlite3_busy_timeout(db_, options.busy_timeout_ms);
        if (options.wal && options.mode != OpenMode::read_only) exec("PRAGMA journal_mode=WAL");
        exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        if (options.secure_delete) exec("PRAGMA secure_delete=ON");
        if (options.foreign_keys) exec("PRAGMA foreign_keys=ON");
        if (options.mode == OpenMode::read_only) exec("PRAGMA query_only=ON");
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

Connection::Connection(sqlite3* borrowed) noexcept : db_(borrowed), owned_(false) {
    if (const char* file = sqlite3_db_filename(borrowed, "main")) path_ = file;
}

Connection::Connection(Borrowed borrowed) noexcept
    : db_(borrowed.sqlite), pg_(borrowed.postgres), owned_(false) {
    if (db_ != nullptr) {
        if (const char* file = sqlite3_db_filename(db_, "main")) path_ = file;
    }
}

Connection::~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (!owned_) return;
    if (pg_ != nullptr) {
        delete pg_;
    } else {
        sqlite3_close(db_);
    }
}

void Connection::exec_noexcept(const char* sql) noexcept {
    if (pg_ != nullptr) {
        pg::exec_noexcept(*pg_, sql);
    } else {
        sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    }
}

void Connection::defer(const char* sql) {
    if (pg_ != nullptr) {
        pg::defer(*pg_, sql);
    } else {
        cached(sql).run();
    }
}

void Connection::set_pipelined(bool on) {
    if (pg_ != nullptr) pg::set_pipelined(*pg_, on);
}

void Connection::exec(std::string_view sql) {
    if (pg_ != nullptr) {
        pg::exec(*pg_, sql);
        return;
    }
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        fail_on(db_, sqlite3_extended_errcode(db_), Operation::exec, "execute a command");
}

Statement Connection::prepare(std::string_view sql) {
    if (pg_ != nullptr) return Statement(pg::prepare(*pg_, sql));
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) fail_on(db_, rc, Operation::prepare, "prepare a statement");
    return Statement(stmt, true);
}

Statement Connection::cached(const char* sql) {
    if (pg_ != nullptr) return Statement(pg::cached(*pg_, sql));
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) fail_on(db_, rc, Operation::prepare, "prepare a statement");
        it = cache_.emplace(sql, stmt).first;
    }
    return Statement(it->second, false);
}

std::int64_t Connection::last_insert_rowid() const noexcept {
    return pg_ != nullptr ? 0 : sqlite3_last_insert_rowid(db_);
}

int Connection::changes() const noexcept {
    return pg_ != nullptr ? pg_->changes : sqlite3_changes(db_);
}

std::vector<std::uint8_t> Connection::serialize() {
    if (pg_ != nullptr) fail(SQLITE_MISUSE, "serialize a database: not a SQLite connection");
    sqlite3_int64 size = 0;
    unsigned char* image = sqlite3_serialize(db_, "main", &size, 0);
    if (image == nullptr) fail(SQLITE_NOMEM, "serialize the database");
    std::vector<std::uint8_t> out(image, image + size);
    sqlite3_free(image);
    return out;
}

bool Connection::in_transaction() const noexcept {
    return pg_ != nullptr ? pg::in_transaction(*pg_) : sqlite3_get_autocommit(db_) == 0;
}

// ---- Transaction ----

Transaction::Transaction(Connection& connection, TransactionKind kind)
    : connection_(connection), nested_(connection.in_transaction()) {
    if (nested_) {
        connection_.exec("SAVEPOINT storage_tx");
    } else {
        // PostgreSQL takes row locks as it writes: its BEGIN is SQLite's IMMEDIATE.
        connection_.exec(kind == TransactionKind::immediate && !connection_.is_postgres()
                             ? "BEGIN IMMEDIATE"
                             : "BEGIN");
    }
}

Transaction::~Transaction() {
    if (done_) return;
    // Never throws from a destructor: a failed rollback leaves SQLite to roll back on close.
    connection_.exec_noexcept(nested_ ? "ROLLBACK TO storage_tx; RELEASE storage_tx" : "ROLLBACK");
}

void Transaction::commit() {
    connection_.exec(nested_ ? "RELEASE storage_tx" : "COMMIT");
    done_ = true;
}

}  // namespace ariadne::sqlite
