// `ariadne admin ...`: the organisation's administration working directly on a data
// directory's database (safe while `ariadne serve` runs on it: writes go through SQLite's
// locking). Every command, its output line and its errors are in admin_commands.h, the
// table `--help` prints; the commands run the same use cases as the admin HTTP API
// (operations.h). Logs and errors never contain passwords, TOTP secrets or recovery codes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "ariadne/crypto/recovery.h"

namespace ariadne::storage {
class Store;
}

namespace ariadne::gateway {

using storage::Store;

/// Creates `dir` (mode 0700) if missing. Throws GatewayError(io) if it cannot, or if it
/// exists and is not a directory.
void ensure_data_dir(const std::filesystem::path& dir);

/// The database of a data directory: the PostgreSQL URI in DATA_DIR/database when the node
/// uses a shared PostgreSQL database (`serve --database` records it there, so every `admin`
/// command on that data directory uses it too), else the SQLite file DATA_DIR/ariadne.db.
/// Throws GatewayError(io) if DATA_DIR/database exists but cannot be read.
std::filesystem::path database_path(const std::filesystem::path& data_dir);

/// True when database_path(data_dir) is a PostgreSQL URI.
bool uses_postgresql(const std::filesystem::path& data_dir);

/// Records `uri` (a postgresql:// URI) as the data directory's database in DATA_DIR/database
/// (mode 0600). Throws GatewayError(config) if the data directory already holds an SQLite
/// database (ariadne.db): a data directory has one database, and switching would hide its
/// data. Throws GatewayError(io) if the file cannot be written.
void record_database(const std::filesystem::path& data_dir, const std::string& uri);

/// The deployment's recovery parameters, created on first use with `m_kib` memory (and a
/// fresh salt) and stored in the database, so `serve` and `admin` share them.
/// Throws GatewayError(config) if the stored parameters are weaker than 64 MiB and
/// `insecure_test_params` is false, GatewayError(storage) if they cannot be read back,
/// storage::Error if the database fails.
crypto::RecoveryParams load_or_create_recovery_params(Store& store, std::uint32_t m_kib,
                                                      bool insecure_test_params);

/// The usage text: one synopsis per admin_commands.h entry.
std::string admin_usage();

/// Runs one admin command (`args` = what follows "admin"): reads `in` where the command
/// says, prints its line on `out`, its error on `err`. Returns the exit status: 0 success,
/// 1 failure, 2 usage error or refused input (admin_commands.h). Never throws.
int run_admin(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
              std::ostream& err);

}  // namespace ariadne::gateway
