// `ariadne admin` commands for staff and survivor accounts: caseworker-add, -disable,
// -enable, -reset, survivor-enrol, assign, survivor-update, survivor-show, new-device-notice,
// survivor-recode (admin_commands.h). Each calls the use case the admin API calls.
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/admin.h"
#include "ariadne/admin/arguments.h"
#include "ariadne/admin/operations.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/clock.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/handover.h"
#include "cli.h"
#include "totp_qr.h"

namespace ariadne::gateway::cli {

namespace {

constexpr std::size_t kMinTerminalPasswordChars = 12;

/// One line typed on the terminal on standard input, not echoed; echo is restored before
/// returning, also when reading fails.
std::string read_hidden_line(const char* prompt) {
    // Echo goes off before the prompt appears, so nothing typed after it is ever shown.
    termios saved{};
    bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::cerr << prompt << std::flush;
    std::string line;
    std::getline(std::cin, line);
    if (restore) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

/// The new password: asked twice without echo when standard input is a terminal (at least
/// 12 characters, both the same), otherwise the first line of `in` (scripts pipe it in).
/// Refusals are AdminError{invalid_field, "password"} (exit 2).
std::string read_new_password(std::istream& in) {
    if (&in == &std::cin && ::isatty(STDIN_FILENO) == 1) {
        std::string first = read_hidden_line("New password (at least 12 characters): ");
        std::string second = read_hidden_line("The same password again: ");
        bool same = first == second;
        std::size_t chars = 0;
        for (unsigned char c : first) chars += (c & 0xC0) != 0x80;  // UTF-8 characters
        crypto::wipe(second.data(), second.size());
        if (!same || chars < kMinTerminalPasswordChars) {
            crypto::wipe(first.data(), first.size());
            throw AdminError(AdminErrorCode::invalid_field, "password",
                             !same ? "password: the two passwords typed differ; nothing changed."
                                   : "password: must be at least 12 characters long; nothing "
                                     "changed.");
        }
        return first;
    }
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
}

/// The authenticator's QR code on the terminal (standard error, so standard output keeps its
/// one JSON line): when standard error is a terminal, or asked for with --qr.
void show_totp_qr(const nlohmann::json& line, bool asked) {
    if (!asked && ::isatty(STDERR_FILENO) != 1) return;
    std::cerr << "Scan this with her authenticator app (shown once):\n"
              << qr_terminal(encode_qr(line.at("otpauth_uri").get<std::string>())) << std::flush;
}

}  // namespace

int caseworker_add(const Args& args, std::istream& in, std::ostream& out) {
    std::string data_dir, username, role = "caseworker", initials;
    bool qr = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "username", po::value<std::string>(&username)->required(), "")(
        "role", po::value<std::string>(&role), "")("initials", po::value<std::string>(&initials),
                                                   "")("qr", po::bool_switch(&qr), "");
    parse(args, options);
    std::string password = read_new_password(in);
    ensure_data_dir(data_dir);
    ServerKey key = ServerKey::load_or_create(data_dir);
    Store store(admin_store_options(data_dir));
    auto policy_store = open_policies(data_dir);
    auto line = create_caseworker_account(store, key, *policy_store,
                                          {username, std::move(password), role, initials},
                                          cli_admin().account.str());
    out << line.dump() << std::endl;
    show_totp_qr(line, qr);
    return 0;
}

/// Disables (or enables again) a caseworker account in the name of an admin account. The
/// running server refuses her logins at once and ends her live sessions at their next request.
int caseworker_disable(const Args& args, std::ostream& out, bool disabled) {
    std::string data_dir, id, by;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    require_admin(store, *policy_store, by);
    if (disabled && id == by) {
        throw AdminError(AdminErrorCode::refused, "id",
                         "--id: an admin cannot disable her own account.");
    }
    auto line = set_caseworker_disabled(store, *policy_store, id, disabled, by, "--id");
    out << line.dump() << std::endl;
    return 0;
}

/// A forgotten password or a lost authenticator: a new password (stdin) and a new TOTP
/// secret, shown once; the old ones stop working at once.
int caseworker_reset(const Args& args, std::istream& in, std::ostream& out) {
    std::string data_dir, id, by;
    bool qr = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "")("qr", po::bool_switch(&qr), "");
    parse(args, options);
    std::string password = read_new_password(in);
    if (password.empty() || password.size() > kMaxPasswordBytes) {
        crypto::wipe(password.data(), password.size());
        usage_error("The password (first line of standard input) must be 1 to 1024 bytes long.");
    }
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    try {
        require_admin(store, *policy_store, by);
    } catch (...) {
        crypto::wipe(password.data(), password.size());
        throw;
    }
    ServerKey key = ServerKey::load_or_create(data_dir);
    auto line = reset_caseworker(store, key, *policy_store, id, std::move(password), by, "--id");
    out << line.dump() << std::endl;
    show_totp_qr(line, qr);
    return 0;
}

int survivor_enrol(const Args& args, std::ostream& out) {
    std::string data_dir, initials, language, time_zone;
    std::vector<std::string> caseworkers;
    std::uint32_t m_kib = 65536;
    bool insecure = false, with_duress = false;
    po::variables_map vm;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "caseworker", po::value<std::vector<std::string>>(&caseworkers)->required(), "")(
        "initials", po::value<std::string>(&initials)->required(), "")(
        "language", po::value<std::string>(&language)->required(), "")(
        "time-zone", po::value<std::string>(&time_zone)->required(), "")(
        "with-duress-code", po::bool_switch(&with_duress), "")(
        "recovery-m-kib", po::value<std::uint32_t>(&m_kib), "")("insecure-test-params",
                                                                po::bool_switch(&insecure), "");
    vm = parse(args, options);
    check_recovery_m_kib(m_kib, insecure);
    ensure_data_dir(data_dir);
    Store store(admin_store_options(data_dir));
    auto policy_store = open_policies(data_dir);
    // The deployment has one parameter set (the gateway publishes it; every code is derived
    // with it), fixed by the first enrolment: a different --recovery-m-kib later is refused
    // rather than silently ignored.
    auto params = [&] {
        auto p = load_or_create_recovery_params(store, m_kib, insecure);
        if (vm.count("recovery-m-kib") && p.m_kib != m_kib) {
            usage_error("--recovery-m-kib: this deployment's recovery parameters already exist (" +
                        std::to_string(p.m_kib) +
                        " KiB) and every code is derived with them; leave the option out, or "
                        "give " +
                        std::to_string(p.m_kib) + ".");
        }
        return p;
    };
    ServerKey key = ServerKey::load_or_create(data_dir);
    auto line = enrol_survivor_account(store, key, *policy_store,
                                       {.caseworkers = caseworkers,
                                        .initials = initials,
                                        .language = language,
                                        .time_zone = time_zone,
                                        .with_duress_code = with_duress},
                                       params, cli_admin());
    out << line.dump() << std::endl;
    return 0;
}

int assign(const Args& args, std::ostream& out) {
    std::string data_dir, survivor, caseworker;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "survivor", po::value<std::string>(&survivor)->required(), "")(
        "caseworker", po::value<std::string>(&caseworker)->required(), "")(
        "handover-note", po::value<std::string>(), "");
    auto vm = parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    // The same use case as POST /v1/admin/assign. This process is not the server: it can
    // neither push nor send SMS, so a notice waits for her next login.
    NoticeCarriers carriers{
        [&store](NewNotice n) { return store_notice_sync(store, std::move(n)); }, {}};
    auto line = translating_errors([&] {
        return assign_caseworker(store, *policy_store, survivor, caseworker, cli_admin(), carriers,
                                 policies::now_utc());
    });
    if (vm.count("handover-note") && line.contains("case_code")) {
        ServerKey key = ServerKey::load_or_create(data_dir);
        set_handover_note(*policy_store, key,
                          policies::CaseCode(line["case_code"].get<std::string>()),
                          vm["handover-note"].as<std::string>());
    }
    out << line.dump() << std::endl;
    return 0;
}

/// Corrects or changes her record as the organisation's administrator (the API lets her
/// assigned caseworker change most fields in her own name).
int survivor_update(const Args& args, std::ostream& out) {
    std::string data_dir, never;
    SurvivorUpdateArgs update;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&update.case_code)->required(), "")(
        "initials", po::value<std::string>(), "")("language", po::value<std::string>(), "")(
        "time-zone", po::value<std::string>(), "")("quiet-hours", po::value<std::string>(), "")(
        "status", po::value<std::string>(), "")("pause-until", po::value<std::string>(), "")(
        "team", po::value<std::string>(), "")("never-confirm-client",
                                              po::value<std::string>(&never), "");
    auto vm = parse(args, options);
    const std::pair<const char*, std::optional<std::string>*> fields[] = {
        {"initials", &update.initials},
        {"language", &update.language},
        {"time-zone", &update.time_zone},
        {"quiet-hours", &update.quiet_hours},
        {"status", &update.status},
        {"pause-until", &update.pause_until},
        {"team", &update.team}};
    for (const auto& [name, value] : fields) {
        if (vm.count(name)) *value = vm[name].as<std::string>();
    }
    if (vm.count("never-confirm-client")) {
        if (never != "on" && never != "off") {
            throw AdminError(AdminErrorCode::invalid_field, "never_confirm_client",
                             "never_confirm_client: --never-confirm-client takes on or "
                             "off.");
        }
        update.never_confirm_client = never == "on";
    }
    auto store = open_policies(data_dir);
    out << update_survivor_record(*store, update, cli_admin(), "case", policies::now_utc()).dump()
        << std::endl;
    return 0;
}

int survivor_show(const Args& args, std::ostream& out) {
    std::string data_dir, case_code;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&case_code)->required(), "");
    parse(args, options);
    policies::CaseCode code(case_code, "case");
    auto store = open_policies(data_dir);
    auto s = store->find_survivor(code);
    if (!s) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--case: no survivor has the case code " + code.str() + ".");
    }
    out << survivor_record_json(*s, policies::now_utc()).dump() << std::endl;
    return 0;
}

/// Whether she is told, in neutral words on her own channel, when her code signs in on a new
/// phone (her choice, recorded by the administrator; audited).
int new_device_notice_set(const Args& args, std::ostream& out) {
    std::string data_dir, case_code, notify;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&case_code)->required(), "")(
        "notify", po::value<std::string>(&notify)->required(), "");
    parse(args, options);
    if (notify != "on" && notify != "off") usage_error("--notify: must be on or off.");
    policies::CaseCode code(case_code, "case");
    auto store = open_policies(data_dir);
    set_new_device_notice(*store, code, notify == "on", cli_admin().account.str(),
                          policies::now_utc());
    out << nlohmann::json({{"case_code", code.str()}, {"new_device_notice", notify == "on"}}).dump()
        << std::endl;
    return 0;
}

/// She lost her recovery code: a new code for her account (a new Signal identity on her next
/// login) and an identity_changed alert, so her caseworkers compare the new safety number
/// with her before anything is shared.
int survivor_recode(const Args& args, std::ostream& out) {
    std::string data_dir, survivor;
    bool insecure = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "survivor", po::value<std::string>(&survivor)->required(), "")(
        "insecure-test-params", po::bool_switch(&insecure), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir);
    auto c = find_survivor_case(*policy_store, survivor);
    if (!c || c->duress_account) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--survivor: no survivor account has the id " + survivor + ".");
    }
    Store store(admin_store_options(data_dir));
    auto params = load_or_create_recovery_params(store, 65536, insecure);
    std::string code = crypto::generate_recovery_code();
    auto verifier = crypto::make_recovery_verifier(code, params);
    store.replace_survivor_code(survivor, verifier.locator, verifier.auth_public_key);
    AlertBoard(*policy_store).raise(c->case_code, AlertKind::identity_changed, policies::now_utc());
    nlohmann::json line = {
        {"account", survivor}, {"case_code", c->case_code.str()}, {"recovery_code", code}};
    crypto::wipe(code.data(), code.size());
    out << line.dump() << std::endl;
    return 0;
}
}  // namespace ariadne::gateway::cli
