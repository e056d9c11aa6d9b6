#include "ariadne/storage/edge_history.h"

#include "ariadne/storage/migrations.h"

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
    // The tables come from the edge history's migrations (migrations/edge_history/).
    migrate(db_, edge_history_migrations());
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

void EdgeHistory::add_unread(const std::string& tag, std::int64_t server_id, std::int64_t at_ms) {
    std::lock_guard lock(mutex_);
    db_.cached(
           "INSERT INTO edge_unread(tag, server_id, at_ms) VALUES (?1, ?2, ?3) "
           "ON CONFLICT DO NOTHING")
        .bind(1, tag)
        .bind(2, server_id)
        .bind(3, at_ms)
        .run();
}

std::vector<std::int64_t> EdgeHistory::unread_since(const std::string& tag, std::int64_t from_ms) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached(
        "SELECT server_id FROM edge_unread WHERE tag = ?1 AND at_ms >= ?2 ORDER BY server_id");
    s.bind(1, tag).bind(2, from_ms);
    std::vector<std::int64_t> out;
    while (s.step()) out.push_back(s.integer(0));
    return out;
}

void EdgeHistory::forget_unread(const std::string& tag, std::int64_t server_id) {
    std::lock_guard lock(mutex_);
    db_.cached("DELETE FROM edge_unread WHERE tag = ?1 AND server_id = ?2")
        .bind(1, tag)
        .bind(2, server_id)
        .run();
}

void EdgeHistory::remember_account(const std::string& tag,
                                   const std::vector<std::uint8_t>& sealed) {
    std::lock_guard lock(mutex_);
    db_.cached("INSERT INTO edge_accounts(tag, sealed) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
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
