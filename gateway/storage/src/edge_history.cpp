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
    // The tables come from the edge history's migrations (migrations/edge_history/); on
    // PostgreSQL from the main database's, which the Store applied.
    if (!db_.is_postgres()) migrate(db_, edge_history_migrations());
}

EdgeHistory::~EdgeHistory() {
    if (db_.is_postgres()) return;
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
    db_.cached(
           "INSERT INTO edge_pending(tag, server_id, sealed) VALUES (?1, ?2, ?3) "
           "ON CONFLICT(tag, server_id) DO UPDATE SET sealed = excluded.sealed")
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

// ---- shared only ----

namespace {

/// The advisory lock of one edge device: the two-key form, so it never meets the cluster's
/// one-key locks (advisory_locks.h); the second key is taken from the tag (a keyed hash).
constexpr std::int64_t kEdgeDeviceLockClass = 7274;

std::int64_t device_lock_key(const std::string& tag) {
    return static_cast<std::int32_t>(std::stoul(tag.substr(0, 8), nullptr, 16));
}

}  // namespace

void EdgeHistory::with_device(const std::string& tag, const std::function<void()>& work) {
    std::lock_guard lock(mutex_);
    if (!db_.is_postgres()) {
        work();
        return;
    }
    if (tag.size() < 8) throw Error(ErrorKind::other, 0, "The database was given a malformed tag.");
    Transaction tx(db_);
    db_.cached("SELECT pg_advisory_xact_lock(?1::integer, ?2::integer)")
        .bind(1, kEdgeDeviceLockClass)
        .bind(2, device_lock_key(tag))
        .run();
    work();
    tx.commit();
}

std::int64_t EdgeHistory::store_version(const std::string& tag) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT version FROM edge_stores WHERE tag = ?1");
    s.bind(1, tag);
    return s.step() ? s.integer(0) : 0;
}

std::optional<EdgeStoreImage> EdgeHistory::load_store(const std::string& tag) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT version, image FROM edge_stores WHERE tag = ?1");
    s.bind(1, tag);
    if (!s.step()) return std::nullopt;
    return EdgeStoreImage{s.integer(0), s.blob(1)};
}

void EdgeHistory::save_store(const std::string& tag, std::int64_t expected,
                             const std::vector<std::uint8_t>& image) {
    std::lock_guard lock(mutex_);
    if (expected == 0) {
        db_.cached(
               "INSERT INTO edge_stores(tag, version, image) VALUES (?1, 1, ?2) "
               "ON CONFLICT DO NOTHING")
            .bind(1, tag)
            .bind_blob(2, image)
            .run();
    } else {
        db_.cached(
               "UPDATE edge_stores SET version = version + 1, image = ?3 "
               "WHERE tag = ?1 AND version = ?2")
            .bind(1, tag)
            .bind(2, expected)
            .bind_blob(3, image)
            .run();
    }
    if (db_.changes() != 1) {
        throw Error(ErrorKind::constraint, 0,
                    "The database refused an edge store image: another node changed it first.");
    }
}

bool EdgeHistory::claim_receiver(const std::string& tag, std::int64_t account_key,
                                 const std::string& node, std::int64_t now_ms,
                                 std::int64_t until_ms) {
    std::lock_guard lock(mutex_);
    db_.cached(
           "INSERT INTO edge_receivers(tag, account, node, until_ms) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT(tag) DO UPDATE SET account = excluded.account, node = excluded.node, "
           "until_ms = excluded.until_ms WHERE edge_receivers.node = excluded.node "
           "OR edge_receivers.until_ms < ?5")
        .bind(1, tag)
        .bind(2, account_key)
        .bind(3, node)
        .bind(4, until_ms)
        .bind(5, now_ms)
        .run();
    return db_.changes() == 1;
}

bool EdgeHistory::is_receiver(const std::string& tag, const std::string& node) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached("SELECT 1 FROM edge_receivers WHERE tag = ?1 AND node = ?2");
    s.bind(1, tag).bind(2, node);
    return s.step();
}

void EdgeHistory::renew_receivers(const std::string& node, std::int64_t until_ms) {
    std::lock_guard lock(mutex_);
    db_.cached("UPDATE edge_receivers SET until_ms = ?2 WHERE node = ?1")
        .bind(1, node)
        .bind(2, until_ms)
        .run();
}

std::vector<std::string> EdgeHistory::lapsed_with_mail(std::int64_t now_ms, std::uint32_t device) {
    std::lock_guard lock(mutex_);
    // kind 3: a reply kept for her page, already taken into her history (not mail waiting).
    auto s = db_.cached(
        "SELECT a.id FROM edge_receivers r JOIN accounts a ON a.key = r.account "
        "WHERE r.until_ms < ?1 AND EXISTS (SELECT 1 FROM mailbox m WHERE m.account = r.account "
        "AND m.device = ?2 AND m.kind <> 3)");
    s.bind(1, now_ms).bind(2, device);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::vector<std::vector<std::uint8_t>> EdgeHistory::accounts_without_receiver(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto s = db_.cached(
        "SELECT e.sealed FROM edge_accounts e WHERE NOT EXISTS (SELECT 1 FROM edge_receivers r "
        "WHERE r.tag = e.tag AND r.until_ms >= ?1)");
    s.bind(1, now_ms);
    std::vector<std::vector<std::uint8_t>> out;
    while (s.step()) out.push_back(s.blob(0));
    return out;
}

}  // namespace ariadne::storage
