// Versioned schema migrations: numbered SQL files checked in under
// gateway/storage/migrations/<database>/NNNN_name.sql and compiled into the binary.
//
// migrate() brings a database to the newest version this binary knows, one migration per
// transaction, and records each in
//   schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL,
//                     checksum TEXT NOT NULL /* sha256 hex of the file text */,
//                     applied_at TEXT NOT NULL /* UTC ISO-8601 */).
// It refuses, changing nothing, a database that is newer than the binary or whose applied
// migrations differ from the binary's copies. Adding a migration: docs/architecture.md.
//
// Thread safety: these functions use the Connection they are given and nothing else; the
// caller serialises its use (sqlite.h). Several processes may migrate the same file at once:
// each migration re-reads the version inside its BEGIN IMMEDIATE transaction.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

/// One migration file. `sql` is its whole text (what the checksum covers).
struct Migration {
    int version;            // NNNN: 1, 2, 3, … without gaps
    std::string_view name;  // the file name, e.g. "0001_initial.sql"
    std::string_view sql;
};

/// A column added to a table before migrations existed, missing from databases created
/// before it: added (ALTER TABLE … ADD COLUMN) when such a database is adopted.
struct LegacyColumn {
    std::string_view table;
    std::string_view column;
    std::string_view declaration;  // e.g. "paused_until INTEGER"
};

/// The migrations of one database file.
struct MigrationSet {
    std::string_view database;  // how errors name the file, e.g. "ariadne.db"
    std::span<const Migration> migrations;
    std::span<const LegacyColumn> legacy_columns;
};

/// The main database, `<data dir>/ariadne.db`.
const MigrationSet& main_migrations() noexcept;
/// The edge adapter's history, `<data dir>/edge/history.db`.
/// The main database's migrations for PostgreSQL (migrations/main_postgresql/): the same
/// versions as main_migrations(), in PostgreSQL's SQL. migrate() picks them by itself when
/// given main_migrations() and a PostgreSQL connection.
const MigrationSet& main_postgresql_migrations() noexcept;
const MigrationSet& edge_history_migrations() noexcept;

/// Applies every migration of `set` newer than the database's version, each in its own
/// transaction with its schema_migrations row. A database at version 0 that already holds
/// tables (written before migrations existed) is adopted: its legacy columns are added, then
/// each existing table must have exactly the columns migration 1 declares.
/// Idempotent; on an up-to-date database it only reads schema_migrations.
/// Throws Error(ErrorKind::schema) with a sentence for the admin when the database is newer
/// than `set`, an applied migration's checksum or name differs from the binary's copy, a
/// table cannot be adopted, or a migration fails (naming the file and SQLite's reason; that
/// migration's changes are rolled back, earlier ones stay). Other SQLite failures: Error.
/// Must not be called inside an open transaction.
void migrate(Connection& connection, const MigrationSet& set);

/// The highest version recorded in schema_migrations; 0 when the table does not exist.
/// Throws Error if the database cannot be read.
int schema_version(Connection& connection);

/// The newest version `set` knows (0 for an empty set).
int latest_schema_version(const MigrationSet& set) noexcept;

/// The lowercase hex SHA-256 of `text`: the checksum recorded for a migration.
std::string migration_checksum(std::string_view text);

namespace detail {
/// The migrations compiled in from migrations/<database>/ (empty if there is no such folder).
std::span<const Migration> embedded_migrations(std::string_view database);
}  // namespace detail

}  // namespace ariadne::storage
