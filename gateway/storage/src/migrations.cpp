#include "ariadne/storage/migrations.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <memory>
#include <vector>

#include "advisory_locks.h"

namespace ariadne::storage {

namespace {

// Databases created before a survivor's pause could have an end lack the column.
constexpr std::array<LegacyColumn, 1> kMainLegacyColumns = {
    LegacyColumn{"policies_survivors", "paused_until", "paused_until INTEGER"}};

[[noreturn]] void refuse(const std::string& message) { throw Error(ErrorKind::schema, 0, message); }

/// The file as the admin knows it: its path when SQLite has one, else the set's name.
std::string file_name(const Connection& connection, const MigrationSet& set) {
    return connection.path().empty() ? std::string(set.database) : connection.path().string();
}

bool table_exists(Connection& connection, std::string_view table) {
    auto q = connection.prepare(
        connection.is_postgres()
            ? "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
              "AND table_name = ?1"
            : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    q.bind(1, table);
    return q.step();
}

bool has_tables(Connection& connection) {
    if (connection.is_postgres()) {
        return connection
            .prepare(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name <> 'schema_migrations' LIMIT 1")
            .step();
    }
    auto q = connection.prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' AND name <> 'schema_migrations' LIMIT 1");
    return q.step();
}

struct Column {
    std::string name;
    std::string type;
    bool not_null;
    int primary_key;  // position in the primary key, 0 when not part of it
    bool operator==(const Column&) const = default;
    std::string declaration() const {
        return name + (type.empty() ? "" : " " + type) + (not_null ? " NOT NULL" : "");
    }
};

std::vector<Column> columns_of(Connection& connection, std::string_view table) {
    auto q = connection.prepare(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid");
    q.bind(1, table);
    std::vector<Column> out;
    while (q.step()) {
        out.push_back({q.text(0), q.text(1), q.integer(2) != 0, static_cast<int>(q.integer(3))});
    }
    return out;
}

std::string utc_now_iso8601() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

void check_numbering(const MigrationSet& set) {
    for (std::size_t i = 0; i < set.migrations.size(); ++i) {
        if (set.migrations[i].version != static_cast<int>(i) + 1) {
            throw Error(ErrorKind::other, 0,
                        "The migrations of " + std::string(set.database) +
                            " are not numbered 1, 2, 3, … without gaps.");
        }
    }
}

/// Refuses a database this binary must not touch; returns its version.
int check_applied(Connection& connection, const MigrationSet& set) {
    if (!table_exists(connection, "schema_migrations")) return 0;
    const int latest = latest_schema_version(set);
    if (const int version = schema_version(connection); version > latest) {
        refuse(file_name(connection, set) + ": This database is at schema version " +
               std::to_string(version) + "; this ariadne knows versions up to " +
               std::to_string(latest) +
               ". Install the newer release or restore a backup made by this one.");
    }
    auto q = connection.prepare(
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    int expected = 1;
    while (q.step()) {
        const int version = static_cast<int>(q.integer(0));
        if (version != expected) {
            refuse(file_name(connection, set) + ": its schema_migrations table lists version " +
                   std::to_string(version) + " without version " + std::to_string(expected) +
                   "; it was not written by Ariadne. Restore a backup made by this release.");
        }
        const Migration& m = set.migrations[static_cast<std::size_t>(version - 1)];
        const std::string ours = migration_checksum(m.sql);
        if (q.text(2) != ours || q.text(1) != m.name) {
            refuse(file_name(connection, set) + ": migration " + std::to_string(version) + " (" +
                   q.text(1) + ") was applied with checksum " + q.text(2) +
                   ", but this ariadne's " + std::string(m.name) + " has checksum " + ours +
                   ": a migration was edited after it was applied. Install the release that "
                   "applied it or restore a backup made by this one.");
        }
        ++expected;
    }
    return expected - 1;
}

struct CloseSqlite {
    void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};

/// A database written before migrations existed: its tables must be the ones migration 1
/// creates (legacy columns added first), or migration 1's IF NOT EXISTS would hide a
/// difference that later migrations and the code trip over.
void adopt(Connection& connection, const MigrationSet& set, const Migration& first) {
    for (const LegacyColumn& legacy : set.legacy_columns) {
        if (!table_exists(connection, legacy.table)) continue;
        auto columns = columns_of(connection, legacy.table);
        bool present = std::any_of(columns.begin(), columns.end(),
                                   [&](const Column& c) { return c.name == legacy.column; });
        if (!present) {
            connection.exec("ALTER TABLE " + std::string(legacy.table) + " ADD COLUMN " +
                            std::string(legacy.declaration));
        }
    }
    sqlite3* raw = nullptr;
    if (int rc = sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE, nullptr);
        rc != SQLITE_OK) {
        sqlite3_close(raw);
        fail(rc, "open a scratch database");
    }
    std::unique_ptr<sqlite3, CloseSqlite> owner(raw);
    Connection scratch(raw);
    scratch.exec(first.sql);
    auto tables = scratch.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY name");
    while (tables.step()) {
        const std::string table = tables.text(0);
        if (!table_exists(connection, table)) continue;
        const auto want = columns_of(scratch, table);
        const auto have = columns_of(connection, table);
        std::string missing, different, unexpected;
        auto add = [](std::string& list, const std::string& item) {
            list += (list.empty() ? "" : ", ") + item;
        };
        for (const Column& w : want) {
            auto it = std::find_if(have.begin(), have.end(),
                                   [&](const Column& h) { return h.name == w.name; });
            if (it == have.end()) {
                add(missing, w.declaration());
            } else if (!(*it == w)) {
                add(different, it->declaration() + " instead of " + w.declaration());
            }
        }
        for (const Column& h : have) {
            if (std::none_of(want.begin(), want.end(),
                             [&](const Column& w) { return w.name == h.name; })) {
                add(unexpected, h.name);
            }
        }
        if (missing.empty() && different.empty() && unexpected.empty()) continue;
        std::string detail;
        if (!missing.empty()) detail += "missing " + missing;
        if (!different.empty()) detail += (detail.empty() ? "" : "; ") + different;
        if (!unexpected.empty())
            detail += (detail.empty() ? "" : "; ") + ("unexpected " + unexpected);
        refuse(file_name(connection, set) + ": the table " + table +
               " does not have the columns this ariadne expects (" + detail +
               "), so the database cannot be adopted. It was not written by an Ariadne release; "
               "nothing was changed. Restore a backup made by a release.");
    }
}

/// A migration's statements must stay inside the runner's transaction, or a failure could
/// no longer be rolled back: BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE are refused.
int refuse_transaction_control(void* flag, int action, const char*, const char*, const char*,
                               const char*) {
    if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT) {
        *static_cast<bool*>(flag) = true;
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

/// PostgreSQL: nodes starting together take turns (a transaction-scoped advisory lock), and
/// a database with tables but no migrations was not written by Ariadne (there is no
/// PostgreSQL release before migrations to adopt).
void apply_postgres(Connection& connection, const MigrationSet& set, const Migration& m) {
    Transaction tx(connection, TransactionKind::immediate);
    detail::lock_for_transaction(connection, detail::ClusterLock::migrations);
    const int version = check_applied(connection, set);
    if (version >= m.version) return;
    if (version == 0 && has_tables(connection)) {
        refuse("The PostgreSQL database has tables but no schema_migrations table: it was not "
               "written by Ariadne. Nothing was changed; give ariadne an empty database.");
    }
    connection.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    try {
        connection.exec(m.sql);
    } catch (const Error& e) {
        throw Error(ErrorKind::schema, 0,
                    file_name(connection, set) + ": migration " + std::string(m.name) +
                        " (version " + std::to_string(m.version) + ") failed: " + e.reason() +
                        ". The database was left as it was before it.");
    }
    if (!connection.in_transaction()) {
        throw Error(ErrorKind::schema, 0,
                    file_name(connection, set) + ": migration " + std::string(m.name) +
                        " ends the runner's transaction (each migration runs in the one the "
                        "runner opens).");
    }
    connection
        .prepare(
            "INSERT INTO schema_migrations(version, name, checksum, applied_at) "
            "VALUES (?1, ?2, ?3, ?4)")
        .bind(1, m.version)
        .bind(2, m.name)
        .bind(3, migration_checksum(m.sql))
        .bind(4, utc_now_iso8601())
        .run();
    tx.commit();
}

void apply(Connection& connection, const MigrationSet& set, const Migration& m) {
    if (connection.is_postgres()) {
        apply_postgres(connection, set, m);
        return;
    }
    Transaction tx(connection, TransactionKind::immediate);
    // Another process may have migrated while this one waited for the write lock.
    const int version = check_applied(connection, set);
    if (version >= m.version) return;
    if (version == 0 && has_tables(connection)) adopt(connection, set, m);
    connection.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const std::string text(m.sql);
    char* message = nullptr;
    bool ends_transaction = false;
    sqlite3_set_authorizer(connection.handle(), refuse_transaction_control, &ends_transaction);
    const int rc = sqlite3_exec(connection.handle(), text.c_str(), nullptr, nullptr, &message);
    sqlite3_set_authorizer(connection.handle(), nullptr, nullptr);
    if (rc != SQLITE_OK) {
        std::string reason = ends_transaction
                                 ? "it begins, commits or rolls back a transaction (each "
                                   "migration runs in the one the runner opens)"
                                 : (message ? message : sqlite3_errstr(rc));
        sqlite3_free(message);
        throw Error(ErrorKind::schema, rc & 0xff,
                    file_name(connection, set) + ": migration " + std::string(m.name) +
                        " (version " + std::to_string(m.version) + ") failed: " + reason +
                        ". The database was left as it was before it.");
    }
    connection
        .prepare(
            "INSERT INTO schema_migrations(version, name, checksum, applied_at) "
            "VALUES (?1, ?2, ?3, ?4)")
        .bind(1, m.version)
        .bind(2, m.name)
        .bind(3, migration_checksum(m.sql))
        .bind(4, utc_now_iso8601())
        .run();
    tx.commit();
}

}  // namespace

const MigrationSet& main_migrations() noexcept {
    static const MigrationSet set{"ariadne.db", detail::embedded_migrations("main"),
                                  kMainLegacyColumns};
    return set;
}

const MigrationSet& main_postgresql_migrations() noexcept {
    static const MigrationSet set{"the PostgreSQL database",
                                  detail::embedded_migrations("main_postgresql"), {}};
    return set;
}

const MigrationSet& edge_history_migrations() noexcept {
    static const MigrationSet set{
        "edge/history.db", detail::embedded_migrations("edge_history"), {}};
    return set;
}

void migrate(Connection& connection, const MigrationSet& sqlite_set) {
    if (connection.is_postgres() && &sqlite_set != &main_migrations()) {
        throw Error(ErrorKind::other, 0,
                    std::string(sqlite_set.database) + " is kept in SQLite only.");
    }
    const MigrationSet& set =
        connection.is_postgres() ? main_postgresql_migrations() : sqlite_set;
    if (connection.in_transaction()) {
        throw Error(ErrorKind::other, 0,
                    "Migrations run in their own transactions, not inside a caller's.");
    }
    check_numbering(set);
    const int version = check_applied(connection, set);
    for (const Migration& m : set.migrations) {
        if (m.version > version) apply(connection, set, m);
    }
}

int schema_version(Connection& connection) {
    if (!table_exists(connection, "schema_migrations")) return 0;
    auto q = connection.prepare("SELECT MAX(version) FROM schema_migrations");
    return q.step() ? static_cast<int>(q.integer(0)) : 0;
}

int latest_schema_version(const MigrationSet& set) noexcept {
    return set.migrations.empty() ? 0 : set.migrations.back().version;
}

std::string migration_checksum(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw Error(ErrorKind::other, 0, "SHA-256 is not available to check the migrations.");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xf]);
    }
    return out;
}

}  // namespace ariadne::storage
