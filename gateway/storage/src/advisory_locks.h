// Work that several gateway nodes on one PostgreSQL database must not do at the same time,
// serialised with transaction-scoped advisory locks. The keys are listed here, in one place,
// so that two jobs never share one by accident. On SQLite both calls do nothing: a write
// transaction there (BEGIN IMMEDIATE) already holds the one writer lock of the file.
//
// Both need the caller's transaction: the lock is released when it commits or rolls back.
// Errors: storage::Error (outside a transaction: not a database failure, a caller's bug).
#pragma once

#include <cstdint>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage::detail {

enum class ClusterLock : std::int64_t {
    migrations = 7273849501,      // schema migrations at start (migrations.cpp)
    audit_chain = 7273849502,     // reading the chain's head and appending after it
    mailbox_purge = 7273849503,   // the mailbox's expiry purge
    checkin_purge = 7273849504,   // the retention purge of closed check-in slots
    callback_purge = 7273849505,  // the retention purge of closed call-back tasks
};

inline void require_transaction(const Connection& db) {
    if (!db.in_transaction()) {
        throw Error(ErrorKind::other, 0,
                    "The database failed to take a cluster lock: it needs a transaction.");
    }
}

/// Waits for the lock (PostgreSQL's deadlock detector breaks a cycle with a busy error).
inline void lock_for_transaction(Connection& db, ClusterLock lock) {
    if (!db.is_postgres()) return;
    require_transaction(db);
    db.cached("SELECT pg_advisory_xact_lock(?1)").bind(1, static_cast<std::int64_t>(lock)).run();
}

/// True when this transaction holds the lock now; false when another node's transaction
/// holds it (the caller skips its round).
inline bool try_lock_for_transaction(Connection& db, ClusterLock lock) {
    if (!db.is_postgres()) return true;
    require_transaction(db);
    auto q = db.cached("SELECT pg_try_advisory_xact_lock(?1)");
    q.bind(1, static_cast<std::int64_t>(lock));
    return q.step() && q.integer(0) != 0;
}

}  // namespace ariadne::storage::detail
