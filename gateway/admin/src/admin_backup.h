// `ariadne admin backup` and `ariadne admin restore` (private to gateway/admin): the storage
// layer's backup and restore (ariadne/storage/backup.h) plus the one check it cannot make on
// its own, the audit chain under the data directory's server key. Each returns the JSON line
// the command prints; failures throw storage::Error or GatewayError with the step named.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace ariadne::gateway {

/// Backs up the databases of `data_dir` to `to` (refusing an existing file unless `force`).
/// → {"backup":FILE,"size":N,"schema_version":V,"created_at":UTC,"members":[{name,size}]}
nlohmann::json backup_data_dir(const std::filesystem::path& data_dir,
                               const std::filesystem::path& to, bool force);

/// Restores `from` into `data_dir` after checking it, including that its audit chain
/// verifies under `data_dir`/server.key (never created here) against every checkpoint that
/// lies within it. → {"restored":FILE,"schema_version":V,"previous":DIR|null,
/// "audit_entries":N,"checkpoints_checked":K,"checkpoints_after_backup":L,"members":[...]}
nlohmann::json restore_data_dir(const std::filesystem::path& data_dir,
                                const std::filesystem::path& from);

}  // namespace ariadne::gateway
