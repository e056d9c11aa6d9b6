// The admin HTTP API's handlers for staff and survivor accounts: assign, caseworker
// create/reset/disable/enable, survivor enrol/update/record, new-device notice, duress clear.
// Each parses its body, calls the use case (operations.h, services) and renders the answer.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "ariadne/admin/admin.h"
#include "ariadne/admin/operations.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/consent_policy.h"
#include "http_api.h"

namespace ariadne::gateway {

using nlohmann::json;

/// POST /v1/admin/assign {"survivor", "caseworker"} (admin): adds the caseworker to her
/// team; a handover notice is decided and queued when she already had one.
HttpResponse AdminApi::assign(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"survivor", "caseworker"})) return *bad;
    std::string ids[2];
    const char* fields[2] = {"survivor", "caseworker"};
    for (int i = 0; i < 2; ++i) {
        auto it = body.find(fields[i]);
        if (it == body.end() || !it->is_string()) {
            return error_response(400, "invalid_field",
                                  std::string(fields[i]) +
                                      ": must be an account id (a_ + 22 "
                                      "characters).",
                                  fields[i]);
        }
        ids[i] = it->get<std::string>();
    }
    // The use case checks the accounts (PolicyService::assign: handover.h).
    return HttpResponse::json(200, assign_(ids[0], ids[1], who.account.str()).dump());
}

/// POST /v1/admin/caseworker/disable|enable {"caseworker"} (admin).
HttpResponse AdminApi::caseworker_disable(const HttpRequest& r, const policies::Actor& who,
                                          bool disabled) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"caseworker"})) return *bad;
    auto it = body.find("caseworker");
    if (it == body.end() || !it->is_string()) {
        return error_response(400, "invalid_field",
                              "caseworker: must be an account id (a_ + 22 characters).",
                              "caseworker");
    }
    std::string id = it->get<std::string>();
    if (disabled && id == who.account.str()) {
        return error_response(422, "refused",
                              "caseworker: an admin cannot disable her own account.", "caseworker");
    }
    return HttpResponse::json(200, set_caseworker_disabled(store_, policies_, id, disabled,
                                                           who.account.str(), "caseworker")
                                       .dump());
}

/// POST /v1/admin/caseworker/reset {"caseworker","password"} (admin): the new TOTP
/// secret is in the answer once; her admin-API tokens end now.
HttpResponse AdminApi::caseworker_reset(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"caseworker", "password"})) return *bad;
    auto id = body.find("caseworker");
    if (id == body.end() || !id->is_string()) {
        return error_response(400, "invalid_field",
                              "caseworker: must be an account id (a_ + 22 characters).",
                              "caseworker");
    }
    auto pw = body.find("password");
    if (pw == body.end() || !pw->is_string()) {
        return error_response(400, "invalid_field", "password: must be 1 to 1024 bytes long.",
                              "password");
    }
    std::string account = id->get<std::string>();
    auto out = reset_caseworker(store_, key_, policies_, account, pw->get<std::string>(),
                                who.account.str(), "caseworker");
    sessions_.end_sessions_of(account);
    return HttpResponse::json(200, out.dump());
}

/// POST /v1/admin/caseworker {"username","password","role","initials"} (admin): the TOTP
/// secret is in the answer once.
HttpResponse AdminApi::caseworker_create(const HttpRequest& r, const std::string& actor) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"username", "password", "role", "initials"})) {
        return *bad;
    }
    CaseworkerArgs args;
    const std::pair<const char*, std::string*> fields[] = {{"username", &args.username},
                                                           {"password", &args.password},
                                                           {"role", &args.role},
                                                           {"initials", &args.initials}};
    for (const auto& [name, out] : fields) {
        auto it = body.find(name);
        bool required =
            std::string_view(name) == "username" || std::string_view(name) == "password";
        if (it == body.end() && !required) continue;
        if (it == body.end() || !it->is_string()) {
            crypto::wipe(args.password.data(), args.password.size());
            return error_response(400, "invalid_field", std::string(name) + ": must be a string.",
                                  name);
        }
        *out = it->get<std::string>();
    }
    return HttpResponse::json(
        200, create_caseworker_account(store_, key_, policies_, std::move(args), actor).dump());
}

/// GET /v1/admin/devices?account=ID (admin).
HttpResponse AdminApi::device_list(const HttpRequest& r) {
    if (r.query.rfind("account=", 0) != 0 || r.query.find('&') != std::string::npos) {
        return error_response(400, "invalid_field", "account: give ?account=ID.", "account");
    }
    return HttpResponse::json(200,
                              list_devices(store_, policies_, r.query.substr(8), "account").dump());
}

/// POST /v1/admin/device/revoke {"account","device_id"} (admin).
HttpResponse AdminApi::device_revoke(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"account", "device_id"})) return *bad;
    auto account = body.find("account");
    if (account == body.end() || !account->is_string()) {
        return error_response(400, "invalid_field",
                              "account: must be an account id (a_ + 22 characters).", "account");
    }
    auto device = body.find("device_id");
    if (device == body.end() || !device->is_number_integer()) {
        return error_response(400, "invalid_field", "device_id: must be a device id, 1 or more.",
                              "device_id");
    }
    auto id = account->get<std::string>();
    auto answer = revoke_caseworker_device(store_, policies_, id, device->get<std::int64_t>(),
                                           who.account.str(), "account", "device_id");
    // Its rows are gone: its open connections end now rather than at their next request.
    if (revoked_) revoked_(id, static_cast<std::uint32_t>(device->get<std::int64_t>()));
    return HttpResponse::json(200, answer.dump());
}

/// POST /v1/admin/unassign {"survivor","caseworker"} (admin).
HttpResponse AdminApi::unassign(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"survivor", "caseworker"})) return *bad;
    for (const char* name : {"survivor", "caseworker"}) {
        auto it = body.find(name);
        if (it == body.end() || !it->is_string()) {
            return error_response(
                400, "invalid_field",
                std::string(name) + ": must be an account id (a_ + 22 characters).", name);
        }
    }
    return HttpResponse::json(
        200, unassign_caseworker(store_, policies_, body["survivor"].get<std::string>(),
                                 body["caseworker"].get<std::string>(), who)
                 .dump());
}

/// POST /v1/admin/survivor {"caseworker","initials","language","time_zone",
/// "with_duress_code"} (admin): her recovery (and duress) code is in the answer once.
HttpResponse AdminApi::survivor_enrol(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(
            body, {"caseworker", "initials", "language", "time_zone", "with_duress_code"})) {
        return *bad;
    }
    SurvivorEnrolment args;
    auto cw = body.find("caseworker");
    if (cw != body.end() && cw->is_string()) {
        args.caseworkers.push_back(cw->get<std::string>());
    } else if (cw != body.end() && cw->is_array() && !cw->empty() &&
               std::all_of(cw->begin(), cw->end(), [](const json& v) { return v.is_string(); })) {
        args.caseworkers = cw->get<std::vector<std::string>>();
    } else {
        return error_response(
            400, "invalid_field",
            "caseworker: must be an account id (a_ + 22 characters) or a list of them.",
            "caseworker");
    }
    const std::pair<const char*, std::string*> fields[] = {
        {"initials", &args.initials}, {"language", &args.language}, {"time_zone", &args.time_zone}};
    for (const auto& [name, out] : fields) {
        auto it = body.find(name);
        if (it == body.end() || !it->is_string()) {
            return error_response(400, "invalid_field", std::string(name) + ": must be a string.",
                                  name);
        }
        *out = it->get<std::string>();
    }
    if (auto d = body.find("with_duress_code"); d != body.end()) {
        if (!d->is_boolean()) {
            return error_response(400, "invalid_field", "with_duress_code: must be true or false.",
                                  "with_duress_code");
        }
        args.with_duress_code = d->get<bool>();
    }
    // The server checked the deployment's recovery parameters when it started (test
    // parameters only with --insecure-test-params), so they are taken as stored here.
    auto params = [this] { return load_or_create_recovery_params(store_, 65536, true); };
    auto out = enrol_survivor_account(store_, key_, policies_, args, params, who);
    return HttpResponse::json(200, out.dump());
}

/// POST /v1/admin/survivor/update {"case_code", "initials", "language", "time_zone",
/// "quiet_hours", "status", "pause_until", "team", "never_confirm_client"}: like
/// `ariadne admin survivor-update`; a caseworker only for a survivor assigned to her.
HttpResponse AdminApi::survivor_update(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad =
            check_fields(body, {"case_code", "initials", "language", "time_zone", "quiet_hours",
                                "status", "pause_until", "team", "never_confirm_client"})) {
        return *bad;
    }
    SurvivorUpdateArgs args;
    auto cc = body.find("case_code");
    if (cc == body.end() || !cc->is_string()) {
        return error_response(400, "invalid_field", "case_code: is required (e.g. \"K7Q-2F9\").",
                              "case_code");
    }
    args.case_code = cc->get<std::string>();
    const std::pair<const char*, std::optional<std::string>*> texts[] = {
        {"initials", &args.initials},
        {"language", &args.language},
        {"time_zone", &args.time_zone},
        {"quiet_hours", &args.quiet_hours},
        {"status", &args.status},
        {"pause_until", &args.pause_until},
        {"team", &args.team}};
    for (const auto& [name, out] : texts) {
        auto it = body.find(name);
        if (it == body.end()) continue;
        if (!it->is_string()) {
            return error_response(400, "invalid_field", std::string(name) + ": must be a string.",
                                  name);
        }
        *out = it->get<std::string>();
    }
    if (auto n = body.find("never_confirm_client"); n != body.end()) {
        if (!n->is_boolean()) {
            return error_response(400, "invalid_field",
                                  "never_confirm_client: must be true or false.",
                                  "never_confirm_client");
        }
        args.never_confirm_client = n->get<bool>();
    }
    auto now = clock_.now();
    return HttpResponse::json(
        200, update_survivor_record(policies_, args, who, "case_code", now).dump());
}

/// GET /v1/admin/survivor/record?case_code=K7Q-2F9: her record (admin, or a caseworker
/// assigned to her).
HttpResponse AdminApi::survivor_record(const HttpRequest& r, const policies::Actor& who) {
    std::string code_text;
    if (r.query.rfind("case_code=", 0) == 0) code_text = r.query.substr(10);
    if (code_text.empty() || code_text.find('&') != std::string::npos) {
        return error_response(400, "invalid_field", "case_code: give ?case_code=K7Q-2F9.",
                              "case_code");
    }
    policies::CaseCode code(code_text, "case_code");
    auto s = policies_.find_survivor(code);
    if (!s)
        return error_response(404, "not_found", "case_code: no survivor has this case code.",
                              "case_code");
    if (who.role != policies::Role::admin && std::find(s->caseworkers.begin(), s->caseworkers.end(),
                                                       who.account) == s->caseworkers.end()) {
        return error_response(403, "forbidden",
                              "case_code: a caseworker may read only the record of a survivor "
                              "assigned to her.",
                              "case_code");
    }
    auto now = clock_.now();
    return HttpResponse::json(200, survivor_record_json(*s, now).dump());
}

/// POST /v1/admin/new-device-notice {"case_code", "notify": bool}: whether she is told on
/// her own channel when her code signs in on a new phone (admin, or her assigned
/// caseworker with her own token; audited in the caller's name).
HttpResponse AdminApi::new_device_notice_set(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"case_code", "notify"})) return *bad;
    auto notify = body.find("notify");
    if (notify == body.end() || !notify->is_boolean()) {
        return error_response(400, "invalid_field", "notify: must be true or false.", "notify");
    }
    policies::CaseCode code(body.at("case_code").get<std::string>(), "case_code");
    auto record = policies_.find_survivor(code);
    if (!record)
        return error_response(404, "not_found", "case_code: no survivor has this case code.",
                              "case_code");
    if (who.role != policies::Role::admin &&
        std::find(record->caseworkers.begin(), record->caseworkers.end(), who.account) ==
            record->caseworkers.end()) {
        return error_response(
            403, "forbidden",
            "Only an administrator or a caseworker assigned to her may set this.");
    }
    auto now = clock_.now();
    set_new_device_notice(policies_, code, notify->get<bool>(), who.account.str(), now);
    return HttpResponse::json(
        200, json({{"case_code", code.str()}, {"new_device_notice", notify->get<bool>()}}).dump());
}

/// POST /v1/admin/duress-clear {"case_code"[, "by"]}: a caseworker assigned to her, with
/// her own token, lifts her duress lock and clears her open duress alerts after checking
/// on her safety. "by" may be omitted or must name herself; an administrator's token is
/// refused (an administrator alone never lifts the lock, nor in anyone's name).
HttpResponse AdminApi::duress_clear(const HttpRequest& r, const policies::Actor& who) {
    if (who.role != policies::Role::caseworker) {
        return error_response(403, "forbidden",
                              "Only a caseworker assigned to her case, logged in as herself, may "
                              "lift a duress lock; an administrator cannot, not even in a "
                              "caseworker's name.");
    }
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"case_code", "by"})) return *bad;
    policies::CaseCode code(body.at("case_code").get<std::string>(), "case_code");
    const std::string by = body.value("by", who.account.str());
    if (by != who.account.str()) {
        return error_response(403, "forbidden", "by: a caseworker may clear only in her own name.",
                              "by");
    }
    AlertBoard board(policies_);
    auto now = clock_.now();
    std::size_t cleared = board.clear_duress(code, by, now);
    return HttpResponse::json(
        200,
        json(
            {{"case_code", code.str()}, {"duress", false}, {"alerts_cleared", cleared}, {"by", by}})
            .dump());
}

}  // namespace ariadne::gateway
