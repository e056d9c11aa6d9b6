// Online backup and verified restore of a data directory's databases.
//
// A backup is ONE file: a POSIX ustar archive (readable with `tar tvf`) whose first member
// `manifest.json` names the format, when it was made (UTC), the release and commit of the
// ariadne that made it, the schema version of ariadne.db, and each following member's name,
// size and SHA-256. The members are
// `audit-checkpoints` (when present), `ariadne.db`, `edge/history.db` and each edge account's
// Signal store `edge/<tag>.db`. server.key and the TLS files are never included: without
// server.key the sealed values in the databases stay sealed (docs/admin-guide.md).
//
// Each database is copied with `VACUUM INTO` inside one read transaction, so each member is
// a consistent snapshot taken while the gateway keeps serving (never a raw copy of a WAL
// database); it also leaves out free pages, where deleted rows could linger. ariadne.db is
// taken first: every message acknowledged before the backup began is in it.
//
// Thread safety: the functions are reentrant; they share no state. Errors: every failure
// throws storage::Error whose message names the step that failed and why; a failed backup
// leaves no file behind, a failed restore changes nothing in the data directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

/// The version of the container format this code writes and reads.
inline constexpr int kBackupFormatVersion = 1;

struct BackupMember {
    std::string name;  // path inside the data directory, '/'-separated: "edge/history.db"
    std::uint64_t size = 0;
    std::string sha256;  // lower-case hex
};

struct BackupManifest {
    int format_version = 0;
    std::string created_at;  // UTC, "2026-12-07T10:15:00Z"
    std::int64_t schema_version = 0;
    // The release and commit of the ariadne that made it (build_info.h); empty for a backup
    // made before they were recorded.
    std::string ariadne_version;
    std::string ariadne_commit;
    std::vector<BackupMember> members;  // in archive order
};

/// The schema version recorded in a gateway database: the highest version in
/// `schema_migrations`, 0 when that table does not exist. Throws Error if unreadable.
std::int64_t stored_schema_version(Connection& db);

/// The newest schema version this binary can open.
std::int64_t newest_known_schema_version();

struct BackupOptions {
    bool force = false;  // replace an existing `to`
};

struct BackupResult {
    std::uint64_t size = 0;  // bytes of the backup file
    BackupManifest manifest;
};

/// Writes a backup of the databases in `data_dir` to `to` (mode 0600). Members are staged in
/// a 0700 temporary directory beside `to`, assembled, fsync'd and renamed into place.
/// Throws Error if `to` exists and !options.force, if `data_dir` holds no ariadne.db, or if
/// any step fails (nothing is left at `to`, nor in the staging directory).
BackupResult create_backup(const std::filesystem::path& data_dir, const std::filesystem::path& to,
                           const BackupOptions& options = {});

/// Unpacks `from` into the existing empty directory `into`, checking the manifest and each
/// member's size and SHA-256 as it goes. Returns the manifest. Throws Error naming the member
/// that does not match, or what is wrong with the container; `into` may then hold partial
/// files (the caller removes it).
BackupManifest unpack_backup(const std::filesystem::path& from, const std::filesystem::path& into);

struct RestoreOptions {
    /// Refuse a backup whose schema is newer than this.
    std::int64_t newest_schema_version = newest_known_schema_version();
    /// Called with the staging directory (the backup unpacked, laid out as a data directory)
    /// after the storage checks passed and before anything in the data directory changes:
    /// the caller's own checks (the audit chain under the server key). Throw to refuse; the
    /// exception's message is reported and nothing is changed.
    std::function<void(const std::filesystem::path& staged)> verify;
    /// How a failure of `verify` names its step ("verify the audit chain").
    std::string verify_step = "verify";
};

struct RestoreResult {
    BackupManifest manifest;
    /// Where the databases that were replaced now are (`<data dir>/before-restore-<UTC>`);
    /// empty when the data directory held none.
    std::filesystem::path previous;
};

/// Restores `from` into `data_dir` (which must exist). Holds the data directory's lock
/// (data_dir_lock.h) throughout, so it refuses while a gateway serves there. Unpacks into
/// a temporary directory in `data_dir`, checks every member's SHA-256, `integrity_check` and
/// `foreign_key_check` of every database, the schema version, then options.verify; only then
/// moves the current databases (with their -wal and -shm files) and audit-checkpoints aside
/// into `before-restore-<UTC>/` and renames the restored ones into place.
/// Throws Error naming the step and the member; nothing is changed unless the final renames
/// fail, in which case the previous files are put back (the message says if that failed).
RestoreResult restore_backup(const std::filesystem::path& data_dir,
                             const std::filesystem::path& from, const RestoreOptions& options);

}  // namespace ariadne::storage
