// The gateway's keying of the audit chain and its checkpoints outside the database.
//
// The audit key is derived from the server key (server_key.h), which lives in its own file,
// not in the database: someone who can write the database but not read the key file cannot
// edit an entry and re-hash the chain. Checkpoints (seq, head, MAC) are appended to
// `<data dir>/audit-checkpoints` and written to the log (the journal under systemd), so an
// administrator can ship them elsewhere; a chain checked against them detects the removal of
// its newest entries, which no hash chain can detect on its own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ariadne/core/server_key.h"
#include "ariadne/policies/audit.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// The audit key of this gateway (HMAC of a fixed label under the server key).
/// Throws GatewayError(internal) if OpenSSL fails.
policies::AuditKey audit_key(const ServerKey& key);

/// Keys `store`'s audit chain (PolicyStore::set_audit_key). Every PolicyStore the gateway or
/// its admin commands append to must be keyed this way. When that appended the `audit.keyed`
/// marker (a chain written by an older version), a checkpoint is published in `data_dir` at
/// once, so the unkeyed prefix cannot later be rewritten unnoticed. `mark` = false only
/// verifies (nothing is appended). Throws policies::Error{storage}, GatewayError(io).
void key_audit_chain(policies::PolicyStore& store, const ServerKey& key,
                     const std::filesystem::path& data_dir, bool mark = true);

/// `<data dir>/audit-checkpoints`: one JSON object per line.
std::filesystem::path audit_checkpoint_file(const std::filesystem::path& data_dir);

/// {"seq":N,"head":HEX,"mac":HEX} (and "at" as Unix ms when given).
nlohmann::json to_json(const policies::AuditCheckpoint& c);

/// Takes a checkpoint of `store` (which must be keyed) and appends it to the checkpoint file
/// of `data_dir` (created 0600; the line is fsync'd). Returns it (serve also logs it).
/// Throws GatewayError(io) if the file cannot be written, policies::Error otherwise.
policies::AuditCheckpoint publish_audit_checkpoint(policies::PolicyStore& store,
                                                   const std::filesystem::path& data_dir);

/// The checkpoints in `file` (none if it does not exist). Throws GatewayError(config) naming
/// the line for a line that is not a checkpoint.
std::vector<policies::AuditCheckpoint> read_audit_checkpoints(const std::filesystem::path& file);

/// Parses "SEQ:HEAD:MAC" (as printed by `ariadne admin audit-checkpoint`, or the JSON
/// object of one line). Throws GatewayError(config) with a sentence naming what is wrong.
policies::AuditCheckpoint parse_audit_checkpoint(const std::string& text);

}  // namespace ariadne::gateway
