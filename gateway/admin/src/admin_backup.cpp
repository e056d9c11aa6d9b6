#include "admin_backup.h"

#include <string>
#include <vector>

#include "ariadne/admin/admin.h"
#include "ariadne/core/server_key.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/storage/backup.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

namespace fs = std::filesystem;

namespace {

nlohmann::json members_json(const storage::BackupManifest& m) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& member : m.members) {
        members.push_back({{"name", member.name}, {"size", member.size}});
    }
    return members;
}

struct AuditSummary {
    std::uint64_t entries = 0;
    std::uint64_t checkpoints_checked = 0;
    std::uint64_t checkpoints_after_backup = 0;
};

/// audit-verify's code path on the staged ariadne.db: keyed under the data directory's server
/// key without appending, checked against the backup's checkpoints and the data directory's.
/// A checkpoint newer than the backup's chain is what the restore rolls back: counted, not
/// held against it.
AuditSummary verify_staged_audit_chain(const fs::path& data_dir, const fs::path& staged) {
    if (!fs::exists(data_dir / "server.key")) {
        throw GatewayError(GatewayErrorCode::io,
                           "there is no server.key in " + data_dir.string() +
                               ": copy the server key of the gateway that made the backup there "
                               "first (a new one would open none of the sealed values).");
    }
    ServerKey key = ServerKey::load_or_create(data_dir);
    auto store = policies::PolicyStore::open((staged / "ariadne.db").string());
    key_audit_chain(*store, key, staged, false);
    const std::string wrong_key = " Is " + (data_dir / "server.key").string() +
                                  " the server key of the gateway that made the backup?";
    auto whole = store->verify_audit_chain();
    if (!whole.ok) {
        throw GatewayError(GatewayErrorCode::storage, "the backup's audit chain does not verify: " +
                                                          whole.problem + wrong_key);
    }
    std::vector<policies::AuditCheckpoint> within;
    AuditSummary summary;
    summary.entries = whole.entries;
    for (const auto& file : {audit_checkpoint_file(staged), audit_checkpoint_file(data_dir)}) {
        for (const auto& c : read_audit_checkpoints(file)) {
            if (c.seq <= whole.entries) {
                within.push_back(c);
            } else {
                ++summary.checkpoints_after_backup;
            }
        }
    }
    auto checked = store->verify_audit_chain(within);
    if (!checked.ok) {
        throw GatewayError(GatewayErrorCode::storage,
                           "the backup's audit chain does not match the checkpoints: " +
                               checked.problem + wrong_key);
    }
    summary.checkpoints_checked = checked.checkpoints;
    return summary;
}

}  // namespace

namespace {

/// `admin backup` and `restore` copy SQLite files; a PostgreSQL database is backed up with
/// PostgreSQL's own tools, which see the whole cluster consistently.
void refuse_postgresql(const fs::path& data_dir, std::string_view command) {
    if (!uses_postgresql(data_dir)) return;
    throw GatewayError(GatewayErrorCode::config,
                       "This data directory's database is PostgreSQL (" +
                           (data_dir / "database").string() + "): `admin " + std::string(command) +
                           "` copies SQLite databases only. Use pg_dump or pg_basebackup as "
                           "docs/scale-out.md describes, and keep a copy of server.key.");
}

nlohmann::json or_null(const std::string& text) {
    return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

nlohmann::json backup_data_dir(const fs::path& data_dir, const fs::path& to, bool force) {
    refuse_postgresql(data_dir, "backup");
    storage::BackupOptions options;
    options.force = force;
    auto result = storage::create_backup(data_dir, to, options);
    return {{"backup", to.string()},
            {"size", result.size},
            {"schema_version", result.manifest.schema_version},
            {"created_at", result.manifest.created_at},
            {"ariadne_version", result.manifest.ariadne_version},
            {"ariadne_commit", result.manifest.ariadne_commit},
            {"members", members_json(result.manifest)}};
}

nlohmann::json restore_data_dir(const fs::path& data_dir, const fs::path& from) {
    refuse_postgresql(data_dir, "restore");
    AuditSummary audit;
    storage::RestoreOptions options;
    options.verify_step = "verify the audit chain";
    options.verify = [&](const fs::path& staged) {
        audit = verify_staged_audit_chain(data_dir, staged);
    };
    auto result = storage::restore_backup(data_dir, from, options);
    return {{"restored", from.string()},
            {"data_dir", data_dir.string()},
            {"schema_version", result.manifest.schema_version},
            {"created_at", result.manifest.created_at},
            // Which ariadne made the backup (null: one that did not record it).
            {"ariadne_version", or_null(result.manifest.ariadne_version)},
            {"ariadne_commit", or_null(result.manifest.ariadne_commit)},
            {"previous", result.previous.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(result.previous.string())},
            {"audit_entries", audit.entries},
            {"checkpoints_checked", audit.checkpoints_checked},
            {"checkpoints_after_backup", audit.checkpoints_after_backup},
            {"members", members_json(result.manifest)}};
}

}  // namespace ariadne::gateway
