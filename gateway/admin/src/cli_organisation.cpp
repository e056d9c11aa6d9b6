// `ariadne admin` commands for the organisation: consent-record, -withdraw, -list,
// policy-show, policy-set, checkin-plan-set, -status, duress-clear, duress-words-set, -show
// (admin_commands.h). Each calls the use case the admin API calls where one exists.
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/clock.h"
#include "ariadne/policies/decision.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/services/org_settings.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/address_book.h"
#include "cli.h"
#include "policy_text.h"

namespace ariadne::gateway::cli {

int consent(const Args& args, std::istream& in, std::ostream& out, policies::ConsentAction action) {
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
        throw AdminError(AdminErrorCode::invalid_field, "purpose",
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
    r.recorded_at = policies::now_utc();
    std::optional<crypto::Bytes> sealed;
    std::string sms_number;  // set when this consent links (or re-links) an SMS number
    if (address_stdin) {
        // The address (phone number, handle) is sealed under the server key; the policy
        // tables only see a keyed reference to it.
        std::string address;
        std::getline(in, address);
        if (!address.empty() && address.back() == '\r') address.pop_back();
        if (address.empty() || address.size() > 256) {
            throw AdminError(AdminErrorCode::invalid_field, "address",
                             "address: the first line of standard input must hold 1 to "
                             "256 bytes.");
        }
        ServerKey key = ServerKey::load_or_create(data_dir);
        if (r.channel.kind == policies::ChannelKind::sms ||
            r.channel.kind == policies::ChannelKind::voice_callback) {
            // One normal form, so Kannel's sender number finds the same reference (and a
            // caseworker dials exactly what was checked to be a number).
            auto normal = normalize_phone_number(address);
            crypto::wipe(address.data(), address.size());
            if (!normal) {
                throw AdminError(AdminErrorCode::invalid_field, "address",
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
int consent_list(const Args& args, std::ostream& out) {
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

int policy_show(const Args& args, std::ostream& out) {
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

int policy_set(const Args& args, std::ostream& out) {
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
    store->set_org_policy(p, cli_admin(), policies::now_utc());
    if (replies) set_canned_replies(*store, *replies, cli_admin(), policies::now_utc());
    apply_template_changes(*store, templates, cli_admin(), policies::now_utc(), "--template");
    auto line = policy_json(store->org_policy());
    line["canned_replies"] = canned_replies_json(canned_replies(*store));
    line["canned_replies_by_language"] = canned_replies_by_language_json(canned_replies(*store));
    line["templates"] = templates_json(*store);
    out << line.dump() << std::endl;
    return 0;
}

int checkin_plan_set(const Args& args, std::ostream& out) {
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

int checkin_plan_status(const Args& args, std::ostream& out) {
    std::string data_dir, status, by;
    std::int64_t plan_id = 0;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "plan", po::value<std::int64_t>(&plan_id)->required(), "")(
        "status", po::value<std::string>(&status)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    if (status != "active" && status != "paused" && status != "stopped") {
        throw AdminError(AdminErrorCode::invalid_field, "status",
                         "status: must be active, paused or stopped.");
    }
    auto store = open_policies(data_dir);
    Store gw(admin_store_options(data_dir));
    auto actor = caseworker_actor(gw, by);
    out << set_checkin_plan_status(*store, plan_id, status, actor).dump() << std::endl;
    return 0;
}

/// An administrator cannot lift a duress lock: only a caseworker assigned to her, logged in
/// as herself, can (console, or the API with her own token). The command remains so that a
/// script calling it learns where the lock is lifted instead of "unknown subcommand".
int duress_clear(const Args&, std::ostream&) {
    throw policies::Error(
        policies::ErrorCode::refused, "duress-clear",
        "duress-clear: an administrator cannot lift a duress lock. A caseworker assigned to "
        "her case checks on her safety and clears the duress alert in her console, or calls "
        "POST /v1/admin/duress-clear with her own token.");
}

/// Replaces the organisation's duress words with the phrases of --file (one per line; "-"
/// reads stdin, so no word appears in a process list or shell history).
int duress_words_set(const Args& args, std::istream& in, std::ostream& out) {
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
    std::size_t n = set_duress_words(*store, key, phrases, cli_admin(), policies::now_utc());
    for (auto& p : phrases) crypto::wipe(p.data(), p.size());
    out << nlohmann::json({{"duress_words", n}}).dump() << std::endl;
    return 0;
}

/// How many duress words are set (they cannot be shown: only digests are stored).
int duress_words_show(const Args& args, std::ostream& out) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    auto store = open_policies(data_dir);
    out << nlohmann::json({{"duress_words", duress_word_count(*store)}}).dump() << std::endl;
    return 0;
}

}  // namespace ariadne::gateway::cli
