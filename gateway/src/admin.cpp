#include "ariadne/gateway/admin.h"

#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/gateway/codec.h"
#include "ariadne/gateway/config.h"
#include "ariadne/gateway/error.h"
#include "ariadne/gateway/server_key.h"
#include "ariadne/gateway/store.h"

namespace ariadne::gateway {

namespace po = boost::program_options;

namespace {

constexpr const char* kRecoveryParamsSetting = "recovery_params";

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

const char* kUsage =
    "Usage:\n"
    "  ariadne admin caseworker-add --data-dir DIR --username NAME   (password on stdin)\n"
    "  ariadne admin survivor-enrol --data-dir DIR --caseworker ID [--caseworker ID ...]\n"
    "                               [--recovery-m-kib N [--insecure-test-params]]\n"
    "  ariadne admin assign --data-dir DIR --survivor ID --caseworker ID\n";

po::variables_map parse(const std::vector<std::string>& args,
                        const po::options_description& options) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(options).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        usage_error(std::string(e.what()) + ".");
    }
    return vm;
}

int caseworker_add(const std::vector<std::string>& args, std::istream& in, std::ostream& out) {
    std::string data_dir, username;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "username", po::value<std::string>(&username)->required(), "");
    parse(args, options);
    if (username.empty() || username.size() > kMaxUsernameBytes) {
        usage_error("--username must be 1 to 64 bytes long.");
    }
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty() || password.size() > kMaxPasswordBytes) {
        usage_error("The password (first line of standard input) must be 1 to 1024 bytes long.");
    }
    ensure_data_dir(data_dir);
    ServerKey key = ServerKey::load_or_create(data_dir);
    Store store(admin_store_options(data_dir));
    std::string hash = crypto::hash_password(password);
    crypto::wipe(password.data(), password.size());
    auto secret = crypto::generate_totp_secret();
    std::string account_id = new_account_id();
    Account account =
        store.create_caseworker(account_id, username, hash, key.seal(account_id, secret.view()));
    nlohmann::json line = {
        {"account", account.id},
        {"totp_secret", crypto::base32_encode(secret.view())},
        {"otpauth_uri", crypto::otpauth_uri("Ariadne", account.id, secret.view())}};
    out << line.dump() << std::endl;
    return 0;
}

int survivor_enrol(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    std::vector<std::string> caseworkers;
    std::uint32_t m_kib = 65536;
    bool insecure = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "caseworker", po::value<std::vector<std::string>>(&caseworkers)->required(), "")(
        "recovery-m-kib", po::value<std::uint32_t>(&m_kib), "")("insecure-test-params",
                                                                po::bool_switch(&insecure), "");
    parse(args, options);
    check_recovery_m_kib(m_kib, insecure);
    ensure_data_dir(data_dir);
    Store store(admin_store_options(data_dir));
    for (const auto& id : caseworkers) {
        auto account = is_account_id(id) ? store.find_account(id) : std::nullopt;
        if (!account || account->role != Role::caseworker) {
            throw GatewayError(GatewayErrorCode::not_found,
                               "No caseworker account has the id " + id + ".");
        }
    }
    auto params = load_or_create_recovery_params(store, m_kib, insecure);
    std::string code = crypto::generate_recovery_code();
    auto stored = crypto::make_recovery_verifier(code, params);
    Account account = store.create_survivor(stored.locator, stored.auth_public_key);
    for (const auto& id : caseworkers) store.assign(account.id, id);
    nlohmann::json line = {{"account", account.id}, {"recovery_code", code}};
    out << line.dump() << std::endl;
    crypto::wipe(code.data(), code.size());
    return 0;
}

int assign(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, survivor, caseworker;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "survivor", po::value<std::string>(&survivor)->required(), "")(
        "caseworker", po::value<std::string>(&caseworker)->required(), "");
    parse(args, options);
    if (!std::filesystem::exists(database_path(data_dir))) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "There is no Ariadne database in " + data_dir + ".");
    }
    Store store(admin_store_options(data_dir));
    store.assign(survivor, caseworker);
    out << nlohmann::json({{"survivor", survivor}, {"caseworker", caseworker}}).dump() << std::endl;
    return 0;
}

}  // namespace

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
    return data_dir / "ariadne.db";
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
        (args.empty() ? err : out) << kUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
        if (args[0] == "caseworker-add") return caseworker_add(rest, in, out);
        if (args[0] == "survivor-enrol") return survivor_enrol(rest, out);
        if (args[0] == "assign") return assign(rest, out);
        err << "ariadne admin: unknown subcommand '" << args[0] << "'.\n" << kUsage;
        return 2;
    } catch (const GatewayError& e) {
        err << "ariadne admin: " << e.what() << "\n";
        if (e.code() == GatewayErrorCode::config) {
            err << kUsage;
            return 2;
        }
        return 1;
    } catch (const std::exception& e) {
        err << "ariadne admin: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace ariadne::gateway
