// Internal: a thin RAII layer over the SQLite C API for ariadne::policies. Every failure
// throws Error{storage} with a sentence naming the operation (never the bound values).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/policies/error.h"

namespace ariadne::policies::detail {

[[noreturn]] inline void fail(sqlite3* db, const std::string& what) {
    throw Error(ErrorCode::storage, "",
                "storage: " + what + " failed: " + (db ? sqlite3_errmsg(db) : "no database"));
}

inline void exec(sqlite3* db, const char* sql, const char* what) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(ErrorCode::storage, "", std::string("storage: ") + what + " failed: " + msg);
    }
}

class Stmt {
  public:
    Stmt(sqlite3* db, std::string_view sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
            SQLITE_OK) {
            fail(db, "preparing a statement");
        }
    }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(stmt_, i, v));
        return *this;
    }
    Stmt& bind(int i, std::string_view v) {
        check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind_blob(int i, const void* p, std::size_t n) {
        check(sqlite3_bind_blob(stmt_, i, p, static_cast<int>(n), SQLITE_TRANSIENT));
        return *this;
    }
    Stmt& bind_null(int i) {
        check(sqlite3_bind_null(stmt_, i));
        return *this;
    }
    /// True when a row is available; false when done.
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(db_, "a database statement");
    }
    void run() {
        while (step()) {
        }
    }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    std::int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
    std::string text(int c) const {
        auto p = sqlite3_column_text(stmt_, c);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
                 : std::string();
    }
    std::vector<unsigned char> blob(int c) const {
        auto p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, c));
        return p ? std::vector<unsigned char>(p, p + sqlite3_column_bytes(stmt_, c))
                 : std::vector<unsigned char>();
    }

  private:
    void check(int rc) {
        if (rc != SQLITE_OK) fail(db_, "binding a value");
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// A write transaction: BEGIN IMMEDIATE when the connection is idle, a SAVEPOINT when the
// caller already has one open (a shared connection). Rolls back unless committed.
class WriteTx {
  public:
    explicit WriteTx(sqlite3* db) : db_(db), nested_(sqlite3_get_autocommit(db) == 0) {
        exec(db_, nested_ ? "SAVEPOINT policies_tx" : "BEGIN IMMEDIATE", "starting a transaction");
    }
    ~WriteTx() {
        if (!done_) {
            sqlite3_exec(db_, nested_ ? "ROLLBACK TO policies_tx; RELEASE policies_tx" : "ROLLBACK",
                         nullptr, nullptr, nullptr);
        }
    }
    void commit() {
        exec(db_, nested_ ? "RELEASE policies_tx" : "COMMIT", "committing a transaction");
        done_ = true;
    }

  private:
    sqlite3* db_;
    bool nested_;
    bool done_ = false;
};

}  // namespace ariadne::policies::detail
