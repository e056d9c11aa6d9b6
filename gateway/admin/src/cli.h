// The `ariadne admin` commands (private to gateway/admin; the contract is admin_commands.h)
// and what they share: option parsing, opening a data directory's stores, the CLI's actor.
// Each command parses its options, opens the stores, calls a use case (operations.h,
// services) and prints its line; it throws (AdminError, GatewayError, policies::Error from a
// value it parses) and run_admin turns that into the message and exit status.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "ariadne/core/store.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway::cli {

namespace po = boost::program_options;
using Args = std::vector<std::string>;

/// The accounts database of a data directory, opened for one command (no batching delay).
StoreOptions admin_store_options(const std::filesystem::path& data_dir);
/// Throws GatewayError(config): run_admin prints `message`, then the usage, and exits 2.
[[noreturn]] void usage_error(const std::string& message);
/// Parses `args` against `options` (usage_error for anything else).
po::variables_map parse(const Args& args, const po::options_description& options);
/// The policy tables of a data directory (own connection; safe while `serve` runs). Its audit
/// chain is keyed (audit_checkpoints.h); `mark` = false for commands that only read it, so
/// verifying never appends. Throws GatewayError(not_found) without a database.
std::unique_ptr<policies::PolicyStore> open_policies(const std::string& data_dir, bool mark = true);
/// The CLI acts as the organisation's administrator.
policies::Actor cli_admin();
/// A caseworker account named by --by, as a policy actor; GatewayError(not_found) otherwise.
policies::Actor caseworker_actor(Store& store, const std::string& id);
/// An admin account named by --by; GatewayError(not_found) otherwise.
void require_admin(Store& store, const policies::PolicyStore& policies, const std::string& id);

// cli_accounts.cpp
int caseworker_add(const Args& args, std::istream& in, std::ostream& out);
int caseworker_disable(const Args& args, std::ostream& out, bool disabled);
int caseworker_reset(const Args& args, std::istream& in, std::ostream& out);
int survivor_enrol(const Args& args, std::ostream& out);
int assign(const Args& args, std::ostream& out);
int survivor_update(const Args& args, std::ostream& out);
int survivor_show(const Args& args, std::ostream& out);
int new_device_notice_set(const Args& args, std::ostream& out);
int survivor_recode(const Args& args, std::ostream& out);

// cli_organisation.cpp
int consent(const Args& args, std::istream& in, std::ostream& out, policies::ConsentAction action);
int consent_list(const Args& args, std::ostream& out);
int policy_show(const Args& args, std::ostream& out);
int policy_set(const Args& args, std::ostream& out);
int checkin_plan_set(const Args& args, std::ostream& out);
int checkin_plan_status(const Args& args, std::ostream& out);
int duress_clear(const Args& args, std::ostream& out);
int duress_words_set(const Args& args, std::istream& in, std::ostream& out);
int duress_words_show(const Args& args, std::ostream& out);

// cli_directory.cpp
int caseworker_list(const Args& args, std::ostream& out);
int survivor_list(const Args& args, std::ostream& out);
int plan_list(const Args& args, std::ostream& out);
int device_list(const Args& args, std::ostream& out);
int device_revoke(const Args& args, std::ostream& out);
int unassign(const Args& args, std::ostream& out);

// cli_audit.cpp
int audit_verify(const Args& args, std::ostream& out, std::ostream& err);
int audit_checkpoint(const Args& args, std::ostream& out);
int audit_export(const Args& args, std::ostream& out);
int backup(const Args& args, std::ostream& out);
int restore(const Args& args, std::ostream& out);

}  // namespace ariadne::gateway::cli
