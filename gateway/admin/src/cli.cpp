// `ariadne admin`: dispatches a command named in admin_commands.h to its function
// (cli_accounts.cpp, cli_organisation.cpp, cli_audit.cpp), prints the usage from the same
// table, and turns what a command throws into its message and exit status. Also the data
// directory functions `serve` shares (admin.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string_view>

#include "admin_errors.h"
#include "ariadne/admin/admin.h"
#include "ariadne/admin/admin_commands.h"
#include "ariadne/admin/arguments.h"
#include "ariadne/admin/operations.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/error.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/storage/sqlite.h"
#include "cli.h"

namespace ariadne::gateway {

namespace cli {

StoreOptions admin_store_options(const std::filesystem::path& data_dir) {
    StoreOptions options;
    options.path = database_path(data_dir);
    options.max_delay = std::chrono::microseconds(0);
    options.read_connections = 1;
    return options;
}

[[noreturn]] void usage_error(const std::string& message) {
    throw GatewayError(GatewayErrorCode::config, message);
}

std::unique_ptr<policies::PolicyStore> open_policies(const std::string& data_dir, bool mark) {
    if (!uses_postgresql(data_dir) && !std::filesystem::exists(database_path(data_dir))) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "There is no Ariadne database in " + data_dir + ".");
    }
    auto store = policies::PolicyStore::open(database_path(data_dir).string());
    key_audit_chain(*store, ServerKey::load_or_create(data_dir), data_dir, mark);
    return store;
}

policies::Actor cli_admin() { return {policies::AccountId("admin-cli"), policies::Role::admin}; }

policies::Actor caseworker_actor(Store& store, const std::string& id) {
    auto account = is_account_id(id) ? store.find_account(id) : std::nullopt;
    if (!account || account->role != Role::caseworker) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--by: no caseworker account has the id " + id + ".");
    }
    return {policies::AccountId(id, "by"), policies::Role::caseworker};
}

po::variables_map parse(const Args& args, const po::options_description& options) {
    po::variables_map vm;
    for (const auto& arg : args) {
        if (auto token = program_options_placeholder(arg); !token.empty()) {
            usage_error("An argument holds '" + token +
                        "': '%' followed by a word and '%' is not allowed.");
        }
    }
    try {
        po::store(po::command_line_parser(args).options(options).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        usage_error(std::string(e.what()) + ".");
    }
    return vm;
}

void require_admin(Store& store, const policies::PolicyStore& policies, const std::string& id) {
    auto admin = is_account_id(id) ? store.find_account(id) : std::nullopt;
    if (!admin || admin->role != Role::caseworker || !is_admin_account(policies, id)) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--by: no admin account has the id " + id + ".");
    }
}

}  // namespace cli

namespace {

constexpr const char* kRecoveryParamsSetting = "recovery_params";

struct Io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
};
using Command = std::function<int(const cli::Args&, const Io&)>;

/// Each name of admin_commands.h and its function; a name missing here answers "not
/// available" (a test runs every documented name, so none is missing).
const std::map<std::string_view, Command>& commands() {
    using namespace cli;
    static const std::map<std::string_view, Command> table = {
        {"caseworker-add",
         [](const Args& a, const Io& io) { return caseworker_add(a, io.in, io.out); }},
        {"caseworker-disable",
         [](const Args& a, const Io& io) { return caseworker_disable(a, io.out, true); }},
        {"caseworker-enable",
         [](const Args& a, const Io& io) { return caseworker_disable(a, io.out, false); }},
        {"caseworker-reset",
         [](const Args& a, const Io& io) { return caseworker_reset(a, io.in, io.out); }},
        {"survivor-enrol", [](const Args& a, const Io& io) { return survivor_enrol(a, io.out); }},
        {"assign", [](const Args& a, const Io& io) { return assign(a, io.out); }},
        {"consent-record",
         [](const Args& a, const Io& io) {
             return consent(a, io.in, io.out, policies::ConsentAction::given);
         }},
        {"consent-withdraw",
         [](const Args& a, const Io& io) {
             return consent(a, io.in, io.out, policies::ConsentAction::withdrawn);
         }},
        {"consent-list", [](const Args& a, const Io& io) { return consent_list(a, io.out); }},
        {"policy-show", [](const Args& a, const Io& io) { return policy_show(a, io.out); }},
        {"policy-set", [](const Args& a, const Io& io) { return policy_set(a, io.out); }},
        {"checkin-plan-set",
         [](const Args& a, const Io& io) { return checkin_plan_set(a, io.out); }},
        {"checkin-plan-status",
         [](const Args& a, const Io& io) { return checkin_plan_status(a, io.out); }},
        {"duress-clear", [](const Args& a, const Io& io) { return duress_clear(a, io.out); }},
        {"survivor-update", [](const Args& a, const Io& io) { return survivor_update(a, io.out); }},
        {"survivor-show", [](const Args& a, const Io& io) { return survivor_show(a, io.out); }},
        {"duress-words-set",
         [](const Args& a, const Io& io) { return duress_words_set(a, io.in, io.out); }},
        {"duress-words-show",
         [](const Args& a, const Io& io) { return duress_words_show(a, io.out); }},
        {"survivor-recode", [](const Args& a, const Io& io) { return survivor_recode(a, io.out); }},
        {"new-device-notice",
         [](const Args& a, const Io& io) { return new_device_notice_set(a, io.out); }},
        {"caseworker-list", [](const Args& a, const Io& io) { return caseworker_list(a, io.out); }},
        {"survivor-list", [](const Args& a, const Io& io) { return survivor_list(a, io.out); }},
        {"plan-list", [](const Args& a, const Io& io) { return plan_list(a, io.out); }},
        {"device-list", [](const Args& a, const Io& io) { return device_list(a, io.out); }},
        {"device-revoke", [](const Args& a, const Io& io) { return device_revoke(a, io.out); }},
        {"unassign", [](const Args& a, const Io& io) { return unassign(a, io.out); }},
        {"audit-verify",
         [](const Args& a, const Io& io) { return audit_verify(a, io.out, io.err); }},
        {"audit-checkpoint",
         [](const Args& a, const Io& io) { return audit_checkpoint(a, io.out); }},
        {"audit-export", [](const Args& a, const Io& io) { return audit_export(a, io.out); }},
        {"backup", [](const Args& a, const Io& io) { return backup(a, io.out); }},
        {"restore", [](const Args& a, const Io& io) { return restore(a, io.out); }},
    };
    return table;
}

/// Whether `name` is one of the names of an admin_commands.h entry.
bool documented(std::string_view name) {
    for (const auto& c : kAdminCommands) {
        for (std::string_view names = c.names; !names.empty();) {
            auto bar = names.find('|');
            if (names.substr(0, bar) == name) return true;
            names = bar == std::string_view::npos ? std::string_view() : names.substr(bar + 1);
        }
    }
    return false;
}

}  // namespace

std::string admin_usage() {
    std::string usage = "Usage (every command takes --data-dir DIR and prints one JSON line):\n";
    for (const auto& c : kAdminCommands) {
        usage += "  ariadne admin ";
        usage += c.synopsis;
        usage += "\n";
    }
    return usage;
}

void ensure_data_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
        if (!std::filesystem::is_directory(dir, ec)) {
            throw GatewayError(GatewayErrorCode::io,
                               dir.string() + " exists and is not a directory.");
        }
        return;
    }
    if (!std::filesystem::create_directories(dir, ec) || ::chmod(dir.c_str(), 0700) != 0) {
        throw GatewayError(GatewayErrorCode::io,
                           "The data directory " + dir.string() + " cannot be created.");
    }
}

std::filesystem::path database_path(const std::filesystem::path& data_dir) {
    const auto pointer = data_dir / "database";
    if (!std::filesystem::exists(pointer)) return data_dir / "ariadne.db";
    std::ifstream in(pointer);
    std::string uri;
    std::getline(in, uri);
    while (!uri.empty() && (uri.back() == '\r' || uri.back() == ' ')) uri.pop_back();
    if (!in.good() && !in.eof()) {
        throw GatewayError(GatewayErrorCode::io, pointer.string() + " cannot be read.");
    }
    if (!storage::is_postgres_uri(uri)) {
        throw GatewayError(GatewayErrorCode::config,
                           pointer.string() +
                               " does not hold a postgresql:// URI. It names the data "
                               "directory's PostgreSQL database; remove it to use SQLite.");
    }
    return uri;
}

bool uses_postgresql(const std::filesystem::path& data_dir) {
    return storage::is_postgres_uri(database_path(data_dir).native());
}

void record_database(const std::filesystem::path& data_dir, const std::string& uri) {
    if (std::filesystem::exists(data_dir / "ariadne.db")) {
        throw GatewayError(GatewayErrorCode::config,
                           "--database: " + data_dir.string() +
                               " already holds an SQLite database (ariadne.db). A data "
                               "directory has one database: give this node a new --data-dir "
                               "(with a copy of server.key, see docs/scale-out.md).");
    }
    const auto pointer = data_dir / "database";
    const auto temporary = data_dir / "database.tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    const std::string line = uri + "\n";
    ok = ok && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ok && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    ok = ok && ::rename(temporary.c_str(), pointer.c_str()) == 0;
    if (!ok) {
        throw GatewayError(GatewayErrorCode::io, pointer.string() + " cannot be written.");
    }
}

crypto::RecoveryParams load_or_create_recovery_params(Store& store, std::uint32_t m_kib,
                                                      bool insecure_test_params) {
    std::string text;
    if (auto existing = store.setting(kRecoveryParamsSetting)) {
        text = *existing;
    } else {
        auto fresh = crypto::new_recovery_params();
        fresh.m_kib = m_kib;
        text = store.setting_or_insert(kRecoveryParamsSetting,
                                       crypto::serialize_recovery_params(fresh));
    }
    crypto::RecoveryParams params;
    try {
        params = crypto::parse_recovery_params(text);
    } catch (const crypto::Error&) {
        throw GatewayError(GatewayErrorCode::storage,
                           "The stored recovery parameters cannot be read.");
    }
    if (params.m_kib < 65536 && !insecure_test_params) {
        throw GatewayError(GatewayErrorCode::config,
                           "Configuration refused: this deployment's recovery parameters use " +
                               std::to_string(params.m_kib) +
                               " KiB (test parameters); start with --insecure-test-params or use "
                               "a new data directory.");
    }
    return params;
}

int run_admin(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
              std::ostream& err) {
    if (args.empty() || args[0] == "--help" || args[0] == "help") {
        (args.empty() ? err : out) << admin_usage();
        return args.empty() ? 2 : 0;
    }
    const cli::Args rest(args.begin() + 1, args.end());
    try {
        auto command = commands().find(args[0]);
        if (!documented(args[0]) || command == commands().end()) {
            err << "ariadne admin: unknown subcommand '" << args[0] << "'.\n" << admin_usage();
            return 2;
        }
        return command->second(rest, Io{in, out, err});
    } catch (const GatewayError& e) {
        err << "ariadne admin: " << e.what() << "\n";
        if (e.code() == GatewayErrorCode::config) {
            err << admin_usage();
            return 2;
        }
        return 1;
    } catch (const AdminError& e) {
        // The sentence starts with the field it is about.
        err << "ariadne admin: " << e.what() << "\n";
        return e.exit_status();
    } catch (const policies::Error& e) {
        // A value a command parses itself (a case code, a channel): the same as a use case's.
        err << "ariadne admin: " << e.what() << "\n";
        return to_admin_error(e).exit_status();
    } catch (const std::exception& e) {
        err << "ariadne admin: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace ariadne::gateway
