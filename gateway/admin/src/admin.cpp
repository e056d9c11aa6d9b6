#include "ariadne/admin/admin.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "admin_backup.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/admin/admin_api.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/admin/arguments.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/org_settings.h"
#include "ariadne/core/server_key.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/core/store.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/storage/address_book.h"
#include "ariadne/storage/policy_store.h"
#include "policy_text.h"

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
    "Usage (every command takes --data-dir DIR and prints one JSON line):\n"
    "  ariadne admin caseworker-add --username NAME [--role admin|caseworker] [--initials I]\n"
    "                 (password on stdin)\n"
    "  ariadne admin caseworker-disable|caseworker-enable --id ACCOUNT --by ADMIN_ID\n"
    "  ariadne admin caseworker-reset --id ACCOUNT --by ADMIN_ID  (new password on stdin)\n"
    "  ariadne admin survivor-enrol --caseworker ID [--caseworker ID ...] --initials I\n"
    "                 --language L --time-zone ZONE [--with-duress-code]\n"
    "                 [--recovery-m-kib N [--insecure-test-params]]\n"
    "  ariadne admin assign --survivor ID --caseworker ID [--handover-note TEXT]\n"
    "  ariadne admin consent-record|consent-withdraw --case CODE --channel KIND[:PROVIDER]\n"
    "                 --purpose replies|check_ins|case_updates --by CASEWORKER_ID\n"
    "                 [--evidence REF] [--language L] [--address-stdin]\n"
    "  ariadne admin consent-list --case CODE\n"
    "  ariadne admin policy-show\n"
    "  ariadne admin policy-set [--quiet-hours HH:MM-HH:MM] [--retention-days N]\n"
    "                 [--ban CLASS ...] [--unban CLASS ...] [--consent-recorders WHO]\n"
    "                 [--canned-replies-file FILE] [--organisation-name NAME ...]\n"
    "                 [--clear-organisation-names] [--template KIND:LANG=TEXT ...]\n"
    "                 [--checkin-window HH:MM-HH:MM] [--checkin-every-days N]\n"
    "                 [--checkin-grace-minutes N]\n"
    "                 [--accept-messenger NAME --messenger-evidence REF]\n"
    "                 [--drop-messenger NAME]\n"
    "  ariadne admin survivor-update --case CODE [--initials I] [--language L]\n"
    "                 [--time-zone ZONE] [--quiet-hours HH:MM-HH:MM|none]\n"
    "                 [--status active|dormant|closed] [--pause-until ISO|indefinite|none]\n"
    "                 [--team ID|none] [--never-confirm-client on|off]\n"
    "  ariadne admin survivor-show --case CODE\n"
    "  ariadne admin checkin-plan-set --case CODE --by CASEWORKER_ID [--every-days N]\n"
    "                 [--window HH:MM-HH:MM] [--channel KIND ...] [--grace-minutes N]\n"
    "                 [--alert nobody|caseworker]\n"
    "  ariadne admin checkin-plan-status --plan ID --status active|paused|stopped --by ID\n"
    "  ariadne admin duress-words-set --file FILE|-  (one word or phrase a line)\n"
    "  ariadne admin duress-words-show\n"
    "  ariadne admin survivor-recode --survivor ID [--insecure-test-params]\n"
    "  ariadne admin new-device-notice --case CODE --notify on|off\n"
    "  ariadne admin audit-verify [--checkpoint SEQ:HEAD:MAC ...]\n"
    "  ariadne admin audit-checkpoint\n"
    "  ariadne admin audit-export [--from SEQ] [--limit N]\n"
    "  ariadne admin backup --to FILE [--force]\n"
    "  ariadne admin restore --from FILE  (refused while a gateway serves the data directory)\n";

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

/// The policy tables of a data directory (own connection; safe while `serve` runs).
/// Its audit chain is keyed (audit_checkpoints.h); `mark` = false for commands that only read
/// it, so verifying never appends.
std::unique_ptr<policies::PolicyStore> open_policies(const std::string& data_dir,
                                                     bool mark = true) {
    if (!std::filesystem::exists(database_path(data_dir))) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "There is no Ariadne database in " + data_dir + ".");
    }
    auto store = policies::PolicyStore::open(database_path(data_dir).string());
    key_audit_chain(*store, ServerKey::load_or_create(data_dir), data_dir, mark);
    return store;
}

/// The CLI acts as the organisation's administrator.
policies::Actor cli_admin() { return {policies::AccountId("admin-cli"), policies::Role::admin}; }

/// A caseworker account named by --by, as a policy actor.
policies::Actor caseworker_actor(Store& store, const std::string& id) {
    auto account = is_account_id(id) ? store.find_account(id) : std::nullopt;
    if (!account || account->role != Role::caseworker) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--by: no caseworker account has the id " + id + ".");
    }
    return {policies::AccountId(id, "by"), policies::Role::caseworker};
}

po::variables_map parse(const std::vector<std::string>& args,
                        const po::options_description& options) {
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

int caseworker_add(const std::vector<std::string>& args, std::istream& in, std::ostream& out) {
    std::string data_dir, username, role = "caseworker", initials;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "username", po::value<std::string>(&username)->required(), "")(
        "role", po::value<std::string>(&role), "")("initials", po::value<std::string>(&initials),
                                                   "");
    parse(args, options);
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    ensure_data_dir(data_dir);
    ServerKey key = ServerKey::load_or_create(data_dir);
    Store store(admin_store_options(data_dir));
    auto policy_store = open_policies(data_dir);
    auto line = create_caseworker_account(store, key, *policy_store,
                                          {username, std::move(password), role, initials});
    out << line.dump() << std::endl;
    return 0;
}

/// Disables (or enables again) a caseworker account in the name of an admin account. The
/// running server refuses her logins at once and ends her live sessions at their next request.
int caseworker_disable(const std::vector<std::string>& args, std::ostream& out, bool disabled) {
    std::string data_dir, id, by;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    auto admin = is_account_id(by) ? store.find_account(by) : std::nullopt;
    if (!admin || admin->role != Role::caseworker || !is_admin_account(*policy_store, by)) {
        throw GatewayError(GatewayErrorCode::not_found,
                           "--by: no admin account has the id " + by + ".");
    }
    if (disabled && id == by) {
        throw policies::Error(policies::ErrorCode::refused, "id",
                              "--id: an admin cannot disable her own account.");
    }
    auto line = set_caseworker_disabled(store, *policy_store, id, disabled, by, "--id");
    out << line.dump() << std::endl;
    return 0;
}

/// A forgotten password or a lost authenticator: a new password (stdin) and a new TOTP
/// secret, shown once; the old ones stop working at once.
int caseworker_reset(const std::vector<std::string>& args, std::istream& in, std::ostream& out) {
    std::string data_dir, id, by;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty() || password.size() > kMaxPasswordBytes) {
        crypto::wipe(password.data(), password.size());
        usage_error("The password (first line of standard input) must be 1 to 1024 bytes long.");
    }
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    auto admin = is_account_id(by) ? store.find_account(by) : std::nullopt;
    if (!admin || admin->role != Role::caseworker || !is_admin_account(*policy_store, by)) {
        crypto::wipe(password.data(), password.size());
        throw GatewayError(GatewayErrorCode::not_found,
                           "--by: no admin account has the id " + by + ".");
    }
    ServerKey key = ServerKey::load_or_create(data_dir);
    auto line = reset_caseworker(store, key, *policy_store, id, std::move(password), by, "--id");
    out << line.dump() << std::endl;
    return 0;
}

int survivor_enrol(const std::vector<std::string>& args, std::ostream& out) {
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
    auto line = enrol_survivor_account(store, *policy_store,
                                       {caseworkers, initials, language, time_zone, with_duress},
                                       params, cli_admin());
    out << line.dump() << std::endl;
    return 0;
}

int assign(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, survivor, caseworker;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "survivor", po::value<std::string>(&survivor)->required(), "")(
        "caseworker", po::value<std::string>(&caseworker)->required(), "")(
        "handover-note", po::value<std::string>(), "");
    auto vm = parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    store.assign(survivor, caseworker);
    nlohmann::json line = {{"survivor", survivor}, {"caseworker", caseworker}};
    if (auto c = find_survivor_case(*policy_store, survivor)) {
        bool new_caseworker = false;
        if (auto record = policy_store->find_survivor(c->case_code)) {
            policies::AccountId cw(caseworker, "caseworker");
            if (std::find(record->caseworkers.begin(), record->caseworkers.end(), cw) ==
                record->caseworkers.end()) {
                new_caseworker = !record->caseworkers.empty();
                record->caseworkers.push_back(cw);
                policy_store->update_survivor(*record, cli_admin(), now_utc());
            }
        }
        if (new_caseworker) {
            // Decided and audited like any outbound message; delivered at her next login
            // (this process is not the server: it can neither push nor send SMS).
            auto outcome = queue_handover_notice(
                *policy_store, store, survivor, caseworker, "admin-cli",
                [&store](NewNotice n) { return store_notice_sync(store, std::move(n)); }, {},
                now_utc());
            line["handover_notice"] = handover_notice_json(outcome);
        }
        if (vm.count("handover-note")) {
            ServerKey key = ServerKey::load_or_create(data_dir);
            set_handover_note(*policy_store, key, c->case_code,
                              vm["handover-note"].as<std::string>());
        }
        line["case_code"] = c->case_code.str();
    }
    out << line.dump() << std::endl;
    return 0;
}

int consent(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            policies::ConsentAction action) {
    std::string data_dir, case_code, channel, purpose, by, evidence, language;
    bool address_stdin = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&case_code)->required(), "")(
        "channel", po::value<std::string>(&channel)->required(), "")(
        "purpose", po::value<std::string>(&purpose)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "")("evidence",
                                                           po::value<std::string>(&evidence), "")(
        "language", po::value<std::string>(&language), "")("address-stdin",
                                                           po::bool_switch(&address_stdin), "");
    parse(args, options);
    policies::ConsentRecord r{.case_code = policies::CaseCode(case_code, "case"),
                              .channel = parse_channel_arg(channel, "channel"),
                              .recorded_by = policies::AccountId(by, "by")};
    auto p = policies::parse_purpose(purpose);
    if (!p) {
        throw policies::Error(policies::ErrorCode::invalid_field, "purpose",
                              "purpose: must be replies, check_ins or case_updates.");
    }
    r.purpose = *p;
    r.action = action;
    r.evidence_ref = evidence;
    if (!language.empty()) r.form_language = policies::LanguageTag(language, "language");
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    auto actor = caseworker_actor(store, by);
    r.recorded_by = actor.account;
    r.recorded_at = now_utc();
    std::optional<crypto::Bytes> sealed;
    std::string sms_number;  // set when this consent links (or re-links) an SMS number
    if (address_stdin) {
        // The address (phone number, handle) is sealed under the server key; the policy
        // tables only see a keyed reference to it.
        std::string address;
        std::getline(in, address);
        if (!address.empty() && address.back() == '\r') address.pop_back();
        if (address.empty() || address.size() > 256) {
            throw policies::Error(policies::ErrorCode::invalid_field, "address",
                                  "address: the first line of standard input must hold 1 to "
                                  "256 bytes.");
        }
        ServerKey key = ServerKey::load_or_create(data_dir);
        if (r.channel.kind == policies::ChannelKind::sms) {
            // One normal form, so Kannel's sender number finds the same reference.
            auto normal = normalize_phone_number(address);
            crypto::wipe(address.data(), address.size());
            if (!normal) {
                throw policies::Error(policies::ErrorCode::invalid_field, "address",
                                      "address: not a phone number (an optional '+' and 3 to "
                                      "20 digits; spaces and dashes are ignored).");
            }
            address = std::move(*normal);
        }
        r.address_ref = address_ref_of(key, address);
        sealed = key.seal("address:" + r.address_ref, crypto::as_bytes(address));
        if (r.channel.kind == policies::ChannelKind::sms &&
            action == policies::ConsentAction::given) {
            sms_number = address;
        }
        crypto::wipe(address.data(), address.size());
    }
    auto stored = policy_store->record_consent(r, actor);
    if (sealed) {
        try {
            storage::AddressBook(*policy_store).keep_address({r.address_ref, std::move(*sealed)});
        } catch (const storage::Error&) {
            throw GatewayError(GatewayErrorCode::storage, "The sealed address cannot be stored.");
        }
    }
    if (!sms_number.empty()) {
        // Recording her SMS consent with her number verifies it: the number is linked to her
        // case (an unverified thread's number moves here), and replies may go out to it.
        ServerKey key = ServerKey::load_or_create(data_dir);
        link_sms_number(*policy_store, key, sms_number, stored.case_code, true);
        crypto::wipe(sms_number.data(), sms_number.size());
    }
    nlohmann::json line = {{"case_code", stored.case_code.str()},
                           {"channel", stored.channel.str()},
                           {"purpose", policies::to_string(stored.purpose)},
                           {"action", policies::to_string(stored.action)},
                           {"version", stored.version}};
    if (!stored.address_ref.empty()) line["address_ref"] = stored.address_ref;
    out << line.dump() << std::endl;
    return 0;
}

/// Her consent records with their evidence, form language and who recorded them.
int consent_list(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, case_code;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&case_code)->required(), "");
    parse(args, options);
    policies::CaseCode code(case_code, "case");
    auto store = open_policies(data_dir);
    out << consent_records_json(*store, code, "case").dump() << std::endl;
    return 0;
}

int policy_show(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    auto store = open_policies(data_dir);
    auto line = policy_json(store->org_policy());
    line["canned_replies"] = canned_replies_json(canned_replies(*store));
    line["canned_replies_by_language"] = canned_replies_by_language_json(canned_replies(*store));
    line["templates"] = templates_json(*store);
    out << line.dump() << std::endl;
    return 0;
}

/// --canned-replies-file: a JSON list of {"label", "text"} (English), or an object of
/// language tag -> such a list (org_settings.h); [] or {} = defaults.
std::vector<CannedReply> read_canned_replies_file(const po::variables_map& vm) {
    std::string path = vm["canned-replies-file"].as<std::string>();
    std::ifstream in(path);
    if (!in) usage_error("--canned-replies-file: " + path + " cannot be read.");
    auto list = nlohmann::json::parse(in, nullptr, false);
    if (list.is_discarded()) usage_error("--canned-replies-file: " + path + " is not JSON.");
    return parse_canned_replies(list);
}

int policy_set(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    std::vector<std::string> ban, unban, names, template_args;
    bool clear_names = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "quiet-hours", po::value<std::string>(), "")("retention-days", po::value<int>(), "")(
        "ban", po::value<std::vector<std::string>>(&ban), "")(
        "unban", po::value<std::vector<std::string>>(&unban), "")(
        "consent-recorders", po::value<std::string>(), "")("canned-replies-file",
                                                           po::value<std::string>(), "")(
        "organisation-name", po::value<std::vector<std::string>>(&names), "")(
        "clear-organisation-names", po::bool_switch(&clear_names), "")(
        "template", po::value<std::vector<std::string>>(&template_args), "")(
        "checkin-window", po::value<std::string>(), "")("checkin-every-days", po::value<int>(), "")(
        "checkin-grace-minutes", po::value<int>(), "")("accept-messenger", po::value<std::string>(),
                                                       "")(
        "messenger-evidence", po::value<std::string>(), "")("drop-messenger",
                                                            po::value<std::string>(), "");
    auto vm = parse(args, options);
    // Every template is parsed before anything is stored.
    std::vector<TemplateChange> templates;
    for (std::size_t i = 0; i < template_args.size(); ++i) {
        templates.push_back(
            parse_template_arg(template_args[i], "--template[" + std::to_string(i) + "]"));
    }
    if (clear_names && !names.empty()) {
        usage_error("--clear-organisation-names and --organisation-name exclude each other.");
    }
    auto store = open_policies(data_dir);
    policies::OrgPolicy p = store->org_policy();
    PolicyChanges changes;
    if (vm.count("quiet-hours")) changes.quiet_hours = vm["quiet-hours"].as<std::string>();
    if (vm.count("retention-days")) changes.retention_days = vm["retention-days"].as<int>();
    changes.ban = ban;
    changes.unban = unban;
    if (vm.count("consent-recorders"))
        changes.consent_recorders = vm["consent-recorders"].as<std::string>();
    if (!names.empty() || clear_names) changes.organisation_names = names;
    if (vm.count("checkin-window")) changes.checkin_window = vm["checkin-window"].as<std::string>();
    if (vm.count("checkin-every-days"))
        changes.checkin_every_days = vm["checkin-every-days"].as<int>();
    if (vm.count("checkin-grace-minutes"))
        changes.checkin_grace_minutes = vm["checkin-grace-minutes"].as<int>();
    if (vm.count("accept-messenger"))
        changes.accept_messenger = vm["accept-messenger"].as<std::string>();
    if (vm.count("messenger-evidence"))
        changes.messenger_evidence = vm["messenger-evidence"].as<std::string>();
    if (vm.count("drop-messenger")) changes.drop_messenger = vm["drop-messenger"].as<std::string>();
    apply_policy_changes(p, changes);
    std::optional<std::vector<CannedReply>> replies;
    if (vm.count("canned-replies-file")) replies = read_canned_replies_file(vm);
    store->set_org_policy(p, cli_admin(), now_utc());
    if (replies) set_canned_replies(*store, *replies, cli_admin(), now_utc());
    apply_template_changes(*store, templates, cli_admin(), now_utc(), "--template");
    auto line = policy_json(store->org_policy());
    line["canned_replies"] = canned_replies_json(canned_replies(*store));
    line["canned_replies_by_language"] = canned_replies_by_language_json(canned_replies(*store));
    line["templates"] = templates_json(*store);
    out << line.dump() << std::endl;
    return 0;
}

int checkin_plan_set(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, by;
    CheckinPlanArgs plan;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&plan.case_code)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "")("every-days", po::value<int>(), "")(
        "window", po::value<std::string>(), "")(
        "channel", po::value<std::vector<std::string>>(&plan.channels), "")(
        "grace-minutes", po::value<int>(), "")("alert", po::value<std::string>(&plan.alert), "");
    auto vm = parse(args, options);
    // Not given: the organisation's checkin_defaults.
    if (vm.count("every-days")) plan.every_days = vm["every-days"].as<int>();
    if (vm.count("window")) plan.window = vm["window"].as<std::string>();
    if (vm.count("grace-minutes")) plan.grace_minutes = vm["grace-minutes"].as<int>();
    auto store = open_policies(data_dir);
    Store gw(admin_store_options(data_dir));
    auto actor = caseworker_actor(gw, by);
    out << set_checkin_plan(gw, *store, plan, actor, "case").dump() << std::endl;
    return 0;
}

int checkin_plan_status(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, status, by;
    std::int64_t plan_id = 0;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "plan", po::value<std::int64_t>(&plan_id)->required(), "")(
        "status", po::value<std::string>(&status)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    if (status != "active" && status != "paused" && status != "stopped") {
        throw policies::Error(policies::ErrorCode::invalid_field, "status",
                              "status: must be active, paused or stopped.");
    }
    auto store = open_policies(data_dir);
    Store gw(admin_store_options(data_dir));
    auto actor = caseworker_actor(gw, by);
    out << set_checkin_plan_status(*store, plan_id, status, actor).dump() << std::endl;
    return 0;
}

/// Corrects or changes her record as the organisation's administrator (the API lets her
/// assigned caseworker change most fields in her own name).
int survivor_update(const std::vector<std::string>& args, std::ostream& out) {
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
            throw policies::Error(policies::ErrorCode::invalid_field, "never_confirm_client",
                                  "never_confirm_client: --never-confirm-client takes on or "
                                  "off.");
        }
        update.never_confirm_client = never == "on";
    }
    auto store = open_policies(data_dir);
    out << update_survivor_record(*store, update, cli_admin(), "case", now_utc()).dump()
        << std::endl;
    return 0;
}

int survivor_show(const std::vector<std::string>& args, std::ostream& out) {
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
    out << survivor_record_json(*s, now_utc()).dump() << std::endl;
    return 0;
}

/// An administrator cannot lift a duress lock: only a caseworker assigned to her, logged in
/// as herself, can (console, or the API with her own token). The command remains so that a
/// script calling it learns where the lock is lifted instead of "unknown subcommand".
int duress_clear(const std::vector<std::string>&, std::ostream&) {
    throw policies::Error(
        policies::ErrorCode::refused, "duress-clear",
        "duress-clear: an administrator cannot lift a duress lock. A caseworker assigned to "
        "her case checks on her safety and clears the duress alert in her console, or calls "
        "POST /v1/admin/duress-clear with her own token.");
}

/// Replaces the organisation's duress words with the phrases of --file (one per line; "-"
/// reads stdin, so no word appears in a process list or shell history).
int duress_words_set(const std::vector<std::string>& args, std::istream& in, std::ostream& out) {
    std::string data_dir, file;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "file", po::value<std::string>(&file)->required(), "");
    parse(args, options);
    std::ifstream from_file;
    if (file != "-") {
        from_file.open(file);
        if (!from_file) usage_error("--file: cannot read " + file + ".");
    }
    std::istream& source = file == "-" ? in : from_file;
    std::vector<std::string> phrases;
    for (std::string line; std::getline(source, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
        phrases.push_back(line);
        crypto::wipe(line.data(), line.size());
    }
    auto store = open_policies(data_dir);
    auto key = ServerKey::load_or_create(data_dir);
    std::size_t n = set_duress_words(*store, key, phrases, cli_admin(), now_utc());
    for (auto& p : phrases) crypto::wipe(p.data(), p.size());
    out << nlohmann::json({{"duress_words", n}}).dump() << std::endl;
    return 0;
}

/// How many duress words are set (they cannot be shown: only digests are stored).
int duress_words_show(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    auto store = open_policies(data_dir);
    out << nlohmann::json({{"duress_words", duress_word_count(*store)}}).dump() << std::endl;
    return 0;
}

/// Whether she is told, in neutral words on her own channel, when her code signs in on a new
/// phone (her choice, recorded by the administrator; audited).
int new_device_notice_set(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, case_code, notify;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "case", po::value<std::string>(&case_code)->required(), "")(
        "notify", po::value<std::string>(&notify)->required(), "");
    parse(args, options);
    if (notify != "on" && notify != "off") usage_error("--notify: must be on or off.");
    policies::CaseCode code(case_code, "case");
    auto store = open_policies(data_dir);
    set_new_device_notice(*store, code, notify == "on", cli_admin().account.str(), now_utc());
    out << nlohmann::json({{"case_code", code.str()}, {"new_device_notice", notify == "on"}}).dump()
        << std::endl;
    return 0;
}

/// She lost her recovery code: a new code for her account (a new Signal identity on her next
/// login) and an identity_changed alert, so her caseworkers compare the new safety number
/// with her before anything is shared.
int survivor_recode(const std::vector<std::string>& args, std::ostream& out) {
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
    AlertBoard(*policy_store).raise(c->case_code, AlertKind::identity_changed, now_utc());
    nlohmann::json line = {
        {"account", survivor}, {"case_code", c->case_code.str()}, {"recovery_code", code}};
    crypto::wipe(code.data(), code.size());
    out << line.dump() << std::endl;
    return 0;
}

int audit_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::string data_dir;
    std::vector<std::string> given;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "checkpoint", po::value<std::vector<std::string>>(&given), "");
    parse(args, options);
    auto store = open_policies(data_dir, false);
    // Every checkpoint this gateway published, plus any the administrator kept elsewhere.
    auto checkpoints = read_audit_checkpoints(audit_checkpoint_file(data_dir));
    for (const auto& text : given) checkpoints.push_back(parse_audit_checkpoint(text));
    auto v = store->verify_audit_chain(checkpoints);
    nlohmann::json line = {{"ok", v.ok},
                           {"entries", v.entries},
                           {"keyed_entries", v.keyed_entries},
                           {"checkpoints", v.checkpoints},
                           {"head", policies::to_hex(v.head)}};
    if (!v.ok) {
        line["first_bad_entry"] = v.first_bad_seq ? *v.first_bad_seq : 0;
        line["problem"] = v.problem;
        out << line.dump() << std::endl;
        err << "ariadne admin: the audit chain is broken: " << v.problem << "\n";
        return 1;
    }
    out << line.dump() << std::endl;
    return 0;
}

int audit_checkpoint(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    auto c = publish_audit_checkpoint(*open_policies(data_dir), data_dir);
    out << to_json(c).dump() << std::endl;
    return 0;
}

int audit_export(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir;
    std::uint64_t from = 1;
    std::size_t limit = 100000;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "from", po::value<std::uint64_t>(&from), "")("limit", po::value<std::size_t>(&limit), "");
    parse(args, options);
    for (const auto& e : open_policies(data_dir)->audit_entries(from, limit)) {
        out << nlohmann::json({{"seq", e.seq},
                               {"at_us", policies::to_micros(e.at)},
                               {"actor", e.actor},
                               {"action", e.action},
                               {"case_code", e.case_code},
                               {"decision", e.decision},
                               {"reason", e.reason},
                               {"hash", policies::to_hex(e.hash)}})
                   .dump()
            << "\n";
    }
    out.flush();
    return 0;
}

/// A consistent copy of the databases while the gateway serves (docs/admin-guide.md).
int backup(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, to;
    bool force = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "to", po::value<std::string>(&to)->required(), "")("force", po::bool_switch(&force), "");
    parse(args, options);
    out << backup_data_dir(data_dir, to, force).dump() << std::endl;
    return 0;
}

int restore(const std::vector<std::string>& args, std::ostream& out) {
    std::string data_dir, from;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "from", po::value<std::string>(&from)->required(), "");
    parse(args, options);
    out << restore_data_dir(data_dir, from).dump() << std::endl;
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
        if (args[0] == "caseworker-disable") return caseworker_disable(rest, out, true);
        if (args[0] == "caseworker-enable") return caseworker_disable(rest, out, false);
        if (args[0] == "caseworker-reset") return caseworker_reset(rest, in, out);
        if (args[0] == "survivor-enrol") return survivor_enrol(rest, out);
        if (args[0] == "assign") return assign(rest, out);
        if (args[0] == "consent-record")
            return consent(rest, in, out, policies::ConsentAction::given);
        if (args[0] == "consent-withdraw")
            return consent(rest, in, out, policies::ConsentAction::withdrawn);
        if (args[0] == "consent-list") return consent_list(rest, out);
        if (args[0] == "policy-show") return policy_show(rest, out);
        if (args[0] == "policy-set") return policy_set(rest, out);
        if (args[0] == "checkin-plan-set") return checkin_plan_set(rest, out);
        if (args[0] == "checkin-plan-status") return checkin_plan_status(rest, out);
        if (args[0] == "duress-clear") return duress_clear(rest, out);
        if (args[0] == "survivor-update") return survivor_update(rest, out);
        if (args[0] == "survivor-show") return survivor_show(rest, out);
        if (args[0] == "duress-words-set") return duress_words_set(rest, in, out);
        if (args[0] == "duress-words-show") return duress_words_show(rest, out);
        if (args[0] == "survivor-recode") return survivor_recode(rest, out);
        if (args[0] == "new-device-notice") return new_device_notice_set(rest, out);
        if (args[0] == "audit-verify") return audit_verify(rest, out, err);
        if (args[0] == "audit-checkpoint") return audit_checkpoint(rest, out);
        if (args[0] == "audit-export") return audit_export(rest, out);
        if (args[0] == "backup") return backup(rest, out);
        if (args[0] == "restore") return restore(rest, out);
        err << "ariadne admin: unknown subcommand '" << args[0] << "'.\n" << kUsage;
        return 2;
    } catch (const GatewayError& e) {
        err << "ariadne admin: " << e.what() << "\n";
        if (e.code() == GatewayErrorCode::config) {
            err << kUsage;
            return 2;
        }
        return 1;
    } catch (const policies::Error& e) {
        // The sentence starts with the field it is about.
        err << "ariadne admin: " << e.what() << "\n";
        // An unknown time zone and a taken username are bad input like any other field (2).
        return e.code() == policies::ErrorCode::invalid_field ||
                       e.code() == policies::ErrorCode::refused ||
                       e.code() == policies::ErrorCode::time_zone ||
                       e.code() == policies::ErrorCode::conflict
                   ? 2
                   : 1;
    } catch (const std::exception& e) {
        err << "ariadne admin: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace ariadne::gateway
