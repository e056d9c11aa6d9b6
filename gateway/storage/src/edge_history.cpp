#include "ariadne/storage/edge_history.h"

namespace ariadne::storage {

namespace {

ConnectionOptions history_options() {
    ConnectionOptions o;
    o.mode = OpenMode::create;
    o.wal = true;
    o.synchronous_full = true;
    o.secure_delete = true;
    o.foreign_keys = false;  // no foreign keys in this file
    return o;
}

}  // namespace

EdgeHistory::EdgeHistory(const std::filesystem::path& path) : db_(path, history_options()) {
    db_.exec(
        "CREATE TABLE IF NOT EXISTS edge_history(id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " tag TEXT NOT NULL, at_ms INTEGER NOT NULL, sealed BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS edge_history_tag ON edge_history(tag, id);"
        // A reply decrypted but not yet acknowledged (the SMS adapter waits for the
        // delivery report): its text, sealed, so that after a restart the redelivered
        // entry (whose Signal message key is used up) is handed on again, not lost.
        "CREATE TABLE IF NOT EXISTS edge_pending(tag TEXT NOT NULL, server_id INTEGER NOT "
        "NULL, sealed BLOB NOT NULL, PRIMARY KEY(tag, server_id)) WITHOUT ROWID;"
        // Every account with an edge device (sealed id), attached again at start-up so
        // that replies queued for her are delivered without waiting for her next text.
        "CREATE TABLE IF NOT EXISTS edge_accounts(tag TEXT PRIMARY KEY, sealed BLOB NOT "
        "NULL) WITHOUT ROWID;"
        // The old page-only duress records: one duress mechanism now (the enrolment
        // duress code, a second account), so any left are removed.
        "DROP TABLE IF EXISTS edge_duress;");
}

EdgeHistory::~EdgeHistory() {
    try {
        db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const Error&) {
        // Closing checkpoints what it can; the WAL is replayed on the next open.
    }
}

void EdgeHistory::append_locked(const std::string& tag, std::int64_t at_ms,
                                const std::vector<std::uint8_t>& sealed, std::size_t limit) {
    db_.cached("INSERT INTO edge_history(tag, at_ms, sealed) VALUES (?1, ?2, ?3)")
        .bind(1, tag)
        .bind(2, at_ms)
        .bind_blob(3, sealed)
        .run();
    db_.cached(
           "DELETE FROM edge_history WHERE tag = ?1 AND id NOT IN (SELECT id FROM "
           "edge_history WHERE tag = ?1 ORDER BY id DESC LIMIT ?2)")
        .bind(1, tag)
        .bind(2, static_cast<std::int64_t>(limit))
        .run();
}

void EdgeHistory::append(const std::string& tag, std::int64_t at_ms,
                         const std::vector<std::uint8_t>& sealed, std::size_t limit) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    append_locked(tag, at_ms, sealed, limit);
    tx.commit();
}

void EdgeHistory::append_with_pending(const std::string& tag, std::int64_t at_ms,
                                      const std::vector<std::uint8_t>& sealed_row,
                                      std::int64_t server_id,
                                      const std::vector<std::uint8_t>& sealed_pending,
                                      std::size_t limit) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    append_locked(tag, at_ms, sealed_row, limit);
    db_.cached("INSERT OR REPLACE INTO edge_pending(tag, server_id, sealed) VALUES (?1, ?2, ?3)")
        .bind(1, tag)
        .bind(2, server_id)
        .bind_blob(3, sealed_pending)
        .run();
    tx.commit();
}

std::vector<EdgeHistoryRow> EdgeHistory::rows(const std::string& tag) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT at_ms, sealed FROM edge_history WHERE tag = ?1 ORDER BY id");
    s.bind(1, tag);
    std::vector<EdgeHistoryRow> out;
    while (s.step()) out.push_back({s.integer(0), s.blob(1)});
    return out;
}

std::optional<std::vector<std::uint8_t>> EdgeHistory::pending(const std::string& tag,
                                                              std::int64_t server_id) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT sealed FROM edge_pending WHERE tag = ?1 AND server_id = ?2");
    s.bind(1, tag).bind(2, server_id);
    if (!s.step()) return std::nullopt;
    return s.blob(0);
}

void EdgeHistory::forget_pending(const std::string& tag, std::int64_t server_id) {
    std::lock_guard lock(mutex_);
    db_.cached("DELETE FROM edge_pending WHERE tag = ?1 AND server_id = ?2")
        .bind(1, tag)
        .bind(2, server_id)
        .run();
}

void EdgeHistory::remember_account(const std::string& tag,
                                   const std::vector<std::uint8_t>& sealed) {
    std::lock_guard lock(mutex_);
    db_.cached("INSERT OR IGNORE INTO edge_accounts(tag, sealed) VALUES (?1, ?2)")
        .bind(1, tag)
        .bind_blob(2, sealed)
        .run();
}

std::vector<std::vector<std::uint8_t>> EdgeHistory::accounts() {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT sealed FROM edge_accounts");
    std::vector<std::vector<std::uint8_t>> out;
    while (s.step()) out.push_back(s.blob(0));
    return out;
}

}  // namespace ariadne::storage
