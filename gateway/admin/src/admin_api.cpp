#include "ariadne/admin/admin_api.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/admin/admin.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/checkin_reach.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/services/org_settings.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/policies/decision.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/storage/shared_transaction.h"
#include "ariadne/storage/sqlite.h"
#include "ariadne/storage/staff_roles.h"
#include "policy_text.h"

namespace ariadne::gateway {

namespace {

using nlohmann::json;
constexpr auto kTokenLifetime = std::chrono::minutes(15);

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// "2026-05-03T10:15:00Z" (UTC, seconds).
std::string format_utc(policies::Instant t) {
    std::time_t secs =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

HttpResponse error(int status, const std::string& code, const std::string& message,
                   const std::string& field = "", json extra = json::object()) {
    json body = {{"error", code}, {"message", message}};
    if (!field.empty()) body["field"] = field;
    for (auto& [k, v] : extra.items()) body[k] = v;
    return HttpResponse::json(status, body.dump());
}

HttpResponse from_policy_error(const policies::Error& e) {
    int status = 400;
    switch (e.code()) {
        case policies::ErrorCode::refused:
            status = 422;
            break;
        case policies::ErrorCode::not_found:
            status = 404;
            break;
        case policies::ErrorCode::conflict:
            status = 409;
            break;
        case policies::ErrorCode::storage:
            status = 500;
            break;
        default:
            break;
    }
    return error(status, policies::to_string(e.code()), e.what(), e.field());
}

std::string role_of(const policies::PolicyStore& store, const std::string& account) {
    // An unreadable role is the lesser one: a caseworker.
    try {
        return storage::StaffRoles(store).role(account).value_or("caseworker");
    } catch (const storage::Error&) {
        return "caseworker";
    }
}

class AdminApi {
  public:
    AdminApi(Store& store, const ServerKey& key, policies::PolicyStore& policies,
             AssignHandler assign)
        : store_(store),
          key_(key),
          policies_(policies),
          assign_(std::move(assign)),
          dummy_hash_(crypto::hash_password(crypto::base64_encode(crypto::random_bytes(18)))) {}

    HttpResponse handle(const HttpRequest& r) {
        try {
            if (r.path == "/v1/admin/session") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                return login(r);
            }
            auto who = authenticate(r);
            if (!who) {
                return error(401, "not_authenticated",
                             "Log in first: POST /v1/admin/session, then send "
                             "'Authorization: Bearer <token>'.");
            }
            if (r.path == "/v1/admin/policy") {
                if (r.method == "GET") return HttpResponse::json(200, policy_with_replies().dump());
                if (r.method != "PUT") return error(405, "method_not_allowed", "Use GET or PUT.");
                if (who->role != policies::Role::admin) return forbidden();
                return set_policy(r, *who);
            }
            if (r.path == "/v1/admin/consent") {
                if (r.method == "GET") return consent_list(r, *who);
                if (r.method != "POST") return error(405, "method_not_allowed", "Use GET or POST.");
                return consent(r, *who);
            }
            if (r.path == "/v1/admin/assign" && assign_) {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                if (who->role != policies::Role::admin) return forbidden();
                return assign(r, *who);
            }
            if (r.path == "/v1/admin/caseworker/disable" ||
                r.path == "/v1/admin/caseworker/enable") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                if (who->role != policies::Role::admin) return forbidden();
                return caseworker_disable(r, *who, r.path == "/v1/admin/caseworker/disable");
            }
            if (r.path == "/v1/admin/caseworker/reset") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                if (who->role != policies::Role::admin) return forbidden();
                return caseworker_reset(r, *who);
            }
            if (r.path == "/v1/admin/caseworker" || r.path == "/v1/admin/survivor") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                if (who->role != policies::Role::admin) return forbidden();
                return r.path == "/v1/admin/caseworker" ? caseworker_create(r)
                                                        : survivor_enrol(r, *who);
            }
            if (r.path == "/v1/admin/survivor/update") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                return survivor_update(r, *who);
            }
            if (r.path == "/v1/admin/survivor/record") {
                if (r.method != "GET") return error(405, "method_not_allowed", "Use GET.");
                return survivor_record(r, *who);
            }
            if (r.path == "/v1/admin/checkin-plan" || r.path == "/v1/admin/checkin-plan/status") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                return r.path == "/v1/admin/checkin-plan" ? checkin_plan(r, *who)
                                                          : checkin_plan_status(r, *who);
            }
            if (r.path == "/v1/admin/duress-clear") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                return duress_clear(r, *who);
            }
            if (r.path == "/v1/admin/duress-words") {
                if (r.method != "GET" && r.method != "PUT") {
                    return error(405, "method_not_allowed", "Use GET or PUT.");
                }
                if (who->role != policies::Role::admin) return forbidden();
                return r.method == "GET" ? duress_words_count() : set_duress_words(r, *who);
            }
            if (r.path == "/v1/admin/new-device-notice") {
                if (r.method != "POST") return error(405, "method_not_allowed", "Use POST.");
                return new_device_notice_set(r, *who);
            }
            if (r.path == "/v1/admin/audit/verify" || r.path == "/v1/admin/audit") {
                if (r.method != "GET") return error(405, "method_not_allowed", "Use GET.");
                if (who->role != policies::Role::admin) return forbidden();
                return r.path == "/v1/admin/audit" ? audit(r) : verify();
            }
            return error(404, "not_found", "There is no such admin endpoint.");
        } catch (const policies::Error& e) {
            return from_policy_error(e);
        } catch (const json::exception&) {
            return error(400, "invalid_field",
                         "body: must be a JSON object with the documented "
                         "fields and types.",
                         "body");
        }
    }

  private:
    /// POST /v1/admin/assign {"survivor", "caseworker"} (admin): adds the caseworker to her
    /// team; a handover notice is decided and queued when she already had one.
    HttpResponse assign(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (auto& [k, v] : body.items()) {
            if (k != "survivor" && k != "caseworker") {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        std::string ids[2];
        const char* fields[2] = {"survivor", "caseworker"};
        for (int i = 0; i < 2; ++i) {
            auto it = body.find(fields[i]);
            if (it == body.end() || !it->is_string() || !is_account_id(it->get<std::string>())) {
                return error(400, "invalid_field",
                             std::string(fields[i]) +
                                 ": must be an account id (a_ + 22 "
                                 "characters).",
                             fields[i]);
            }
            ids[i] = it->get<std::string>();
        }
        auto survivor = store_.find_account(ids[0]);
        if (!survivor || survivor->role != Role::survivor) {
            return error(404, "not_found", "survivor: no survivor account has this id.",
                         "survivor");
        }
        auto caseworker = store_.find_account(ids[1]);
        if (!caseworker || caseworker->role != Role::caseworker) {
            return error(404, "not_found", "caseworker: no caseworker account has this id.",
                         "caseworker");
        }
        return HttpResponse::json(200, assign_(ids[0], ids[1], who.account.str()).dump());
    }

    /// POST /v1/admin/caseworker/disable|enable {"caseworker"} (admin).
    HttpResponse caseworker_disable(const HttpRequest& r, const policies::Actor& who,
                                    bool disabled) {
        json body = json::parse(r.body);
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (auto& [k, v] : body.items()) {
            if (k != "caseworker") {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        auto it = body.find("caseworker");
        if (it == body.end() || !it->is_string()) {
            return error(400, "invalid_field",
                         "caseworker: must be an account id (a_ + 22 characters).", "caseworker");
        }
        std::string id = it->get<std::string>();
        if (disabled && id == who.account.str()) {
            return error(422, "refused", "caseworker: an admin cannot disable her own account.",
                         "caseworker");
        }
        return HttpResponse::json(200, set_caseworker_disabled(store_, policies_, id, disabled,
                                                               who.account.str(), "caseworker")
                                           .dump());
    }

    /// POST /v1/admin/caseworker/reset {"caseworker","password"} (admin): the new TOTP
    /// secret is in the answer once; her admin-API tokens end now.
    HttpResponse caseworker_reset(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(body, {"caseworker", "password"})) return *bad;
        auto id = body.find("caseworker");
        if (id == body.end() || !id->is_string()) {
            return error(400, "invalid_field",
                         "caseworker: must be an account id (a_ + 22 characters).", "caseworker");
        }
        auto pw = body.find("password");
        if (pw == body.end() || !pw->is_string()) {
            return error(400, "invalid_field", "password: must be 1 to 1024 bytes long.",
                         "password");
        }
        std::string account = id->get<std::string>();
        auto out = reset_caseworker(store_, key_, policies_, account, pw->get<std::string>(),
                                    who.account.str(), "caseworker");
        std::lock_guard lock(mutex_);
        for (auto it = tokens_.begin(); it != tokens_.end();) {
            it = it->second.account == account ? tokens_.erase(it) : std::next(it);
        }
        return HttpResponse::json(200, out.dump());
    }

    /// POST /v1/admin/caseworker {"username","password","role","initials"} (admin): the TOTP
    /// secret is in the answer once.
    HttpResponse caseworker_create(const HttpRequest& r) {
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
                return error(400, "invalid_field", std::string(name) + ": must be a string.", name);
            }
            *out = it->get<std::string>();
        }
        return HttpResponse::json(
            200, create_caseworker_account(store_, key_, policies_, std::move(args)).dump());
    }

    /// POST /v1/admin/survivor {"caseworker","initials","language","time_zone",
    /// "with_duress_code"} (admin): her recovery (and duress) code is in the answer once.
    HttpResponse survivor_enrol(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(
                body, {"caseworker", "initials", "language", "time_zone", "with_duress_code"})) {
            return *bad;
        }
        SurvivorEnrolArgs args;
        auto cw = body.find("caseworker");
        if (cw != body.end() && cw->is_string()) {
            args.caseworkers.push_back(cw->get<std::string>());
        } else if (cw != body.end() && cw->is_array() && !cw->empty() &&
                   std::all_of(cw->begin(), cw->end(),
                               [](const json& v) { return v.is_string(); })) {
            args.caseworkers = cw->get<std::vector<std::string>>();
        } else {
            return error(
                400, "invalid_field",
                "caseworker: must be an account id (a_ + 22 characters) or a list of them.",
                "caseworker");
        }
        const std::pair<const char*, std::string*> fields[] = {{"initials", &args.initials},
                                                               {"language", &args.language},
                                                               {"time_zone", &args.time_zone}};
        for (const auto& [name, out] : fields) {
            auto it = body.find(name);
            if (it == body.end() || !it->is_string()) {
                return error(400, "invalid_field", std::string(name) + ": must be a string.", name);
            }
            *out = it->get<std::string>();
        }
        if (auto d = body.find("with_duress_code"); d != body.end()) {
            if (!d->is_boolean()) {
                return error(400, "invalid_field", "with_duress_code: must be true or false.",
                             "with_duress_code");
            }
            args.with_duress_code = d->get<bool>();
        }
        // The server checked the deployment's recovery parameters when it started (test
        // parameters only with --insecure-test-params), so they are taken as stored here.
        auto params = [this] { return load_or_create_recovery_params(store_, 65536, true); };
        auto out = enrol_survivor_account(store_, policies_, args, params, who);
        return HttpResponse::json(200, out.dump());
    }

    /// The body as an object with only `allowed` fields, or the error naming the first other.
    static std::optional<HttpResponse> check_fields(const json& body,
                                                    std::initializer_list<const char*> allowed) {
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (const auto& item : body.items()) {
            // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
            const std::string& k = item.key();
            if (std::none_of(allowed.begin(), allowed.end(),
                             [&](const char* a) { return k == a; })) {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        return std::nullopt;
    }

    /// "by": the caseworker in whose name a plan is changed. A caseworker's own token may
    /// omit it (herself) and may name only herself; an admin must name one.
    std::variant<policies::Actor, HttpResponse> plan_actor(const json& body,
                                                           const policies::Actor& who) {
        auto it = body.find("by");
        if (it != body.end() && !it->is_string()) {
            return error(400, "invalid_field", "by: must be a caseworker account id.", "by");
        }
        std::string by = it != body.end()                         ? it->get<std::string>()
                         : who.role == policies::Role::caseworker ? who.account.str()
                                                                  : std::string();
        if (by.empty()) {
            return error(400, "invalid_field", "by: name the caseworker responsible for the plan.",
                         "by");
        }
        if (who.role == policies::Role::caseworker && by != who.account.str()) {
            return error(403, "forbidden", "by: a caseworker may act only in her own name.", "by");
        }
        auto account = is_account_id(by) ? store_.find_account(by) : std::nullopt;
        if (!account || account->role != Role::caseworker) {
            return error(404, "not_found", "by: no caseworker account has this id.", "by");
        }
        return policies::Actor{policies::AccountId(by, "by"), policies::Role::caseworker};
    }

    /// POST /v1/admin/checkin-plan {"case_code","by","every_days","window","channels",
    /// "grace_minutes","alert"}: like `ariadne admin checkin-plan-set`.
    HttpResponse checkin_plan(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(body, {"case_code", "by", "every_days", "window", "channels",
                                           "grace_minutes", "alert"})) {
            return *bad;
        }
        auto actor = plan_actor(body, who);
        if (auto* bad = std::get_if<HttpResponse>(&actor)) return *bad;
        CheckinPlanArgs args;
        auto field = [&](const char* name, auto& out) -> std::optional<HttpResponse> {
            if (!body.contains(name)) return std::nullopt;
            using T = std::decay_t<decltype(out)>;
            try {
                if constexpr (std::is_same_v<T, std::optional<int>>) {
                    out = body[name].template get<int>();
                } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
                    out = body[name].template get<std::string>();
                } else {
                    out = body[name].template get<T>();
                }
            } catch (const json::exception&) {
                return error(400, "invalid_field",
                             std::string(name) + ": has the wrong type (see the admin guide).",
                             name);
            }
            return std::nullopt;
        };
        if (!body.contains("case_code")) {
            return error(400, "invalid_field", "case_code: is required.", "case_code");
        }
        for (auto bad : {field("case_code", args.case_code), field("every_days", args.every_days),
                         field("window", args.window), field("channels", args.channels),
                         field("grace_minutes", args.grace_minutes), field("alert", args.alert)}) {
            if (bad) return *bad;
        }
        return HttpResponse::json(
            200,
            set_checkin_plan(store_, policies_, args, std::get<policies::Actor>(actor), "case_code")
                .dump());
    }

    /// POST /v1/admin/checkin-plan/status {"plan_id","status","by"}: pause (paused), resume
    /// (active) or stop (stopped); like `ariadne admin checkin-plan-status`.
    HttpResponse checkin_plan_status(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(body, {"plan_id", "status", "by"})) return *bad;
        auto actor = plan_actor(body, who);
        if (auto* bad = std::get_if<HttpResponse>(&actor)) return *bad;
        auto id = body.find("plan_id");
        if (id == body.end() || !id->is_number_integer() || id->get<std::int64_t>() <= 0) {
            return error(400, "invalid_field", "plan_id: must be a positive integer.", "plan_id");
        }
        auto st = body.find("status");
        if (st == body.end() || !st->is_string()) {
            return error(400, "invalid_field", "status: must be active, paused or stopped.",
                         "status");
        }
        return HttpResponse::json(
            200, set_checkin_plan_status(policies_, id->get<std::int64_t>(), st->get<std::string>(),
                                         std::get<policies::Actor>(actor))
                     .dump());
    }

    /// POST /v1/admin/duress-clear {"case_code"[, "by"]}: a caseworker assigned to her, with
    /// her own token, lifts her duress lock and clears her open duress alerts after checking
    /// on her safety. "by" may be omitted or must name herself; an administrator's token is
    /// refused (an administrator alone never lifts the lock, nor in anyone's name).
    HttpResponse duress_clear(const HttpRequest& r, const policies::Actor& who) {
        if (who.role != policies::Role::caseworker) {
            return error(403, "forbidden",
                         "Only a caseworker assigned to her case, logged in as herself, may "
                         "lift a duress lock; an administrator cannot, not even in a "
                         "caseworker's name.");
        }
        json body = json::parse(r.body);
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (auto& [k, v] : body.items()) {
            if (k != "case_code" && k != "by") {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        policies::CaseCode code(body.at("case_code").get<std::string>(), "case_code");
        const std::string by = body.value("by", who.account.str());
        if (by != who.account.str()) {
            return error(403, "forbidden", "by: a caseworker may clear only in her own name.",
                         "by");
        }
        AlertBoard board(policies_);
        auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        std::size_t cleared = board.clear_duress(code, by, now);
        return HttpResponse::json(200, json({{"case_code", code.str()},
                                             {"duress", false},
                                             {"alerts_cleared", cleared},
                                             {"by", by}})
                                           .dump());
    }

    /// POST /v1/admin/survivor/update {"case_code", "initials", "language", "time_zone",
    /// "quiet_hours", "status", "pause_until", "team", "never_confirm_client"}: like
    /// `ariadne admin survivor-update`; a caseworker only for a survivor assigned to her.
    HttpResponse survivor_update(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad =
                check_fields(body, {"case_code", "initials", "language", "time_zone", "quiet_hours",
                                    "status", "pause_until", "team", "never_confirm_client"})) {
            return *bad;
        }
        SurvivorUpdateArgs args;
        auto cc = body.find("case_code");
        if (cc == body.end() || !cc->is_string()) {
            return error(400, "invalid_field", "case_code: is required (e.g. \"K7Q-2F9\").",
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
                return error(400, "invalid_field", std::string(name) + ": must be a string.", name);
            }
            *out = it->get<std::string>();
        }
        if (auto n = body.find("never_confirm_client"); n != body.end()) {
            if (!n->is_boolean()) {
                return error(400, "invalid_field", "never_confirm_client: must be true or false.",
                             "never_confirm_client");
            }
            args.never_confirm_client = n->get<bool>();
        }
        auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        return HttpResponse::json(
            200, update_survivor_record(policies_, args, who, "case_code", now).dump());
    }

    /// GET /v1/admin/survivor/record?case_code=K7Q-2F9: her record (admin, or a caseworker
    /// assigned to her).
    HttpResponse survivor_record(const HttpRequest& r, const policies::Actor& who) {
        std::string code_text;
        if (r.query.rfind("case_code=", 0) == 0) code_text = r.query.substr(10);
        if (code_text.empty() || code_text.find('&') != std::string::npos) {
            return error(400, "invalid_field", "case_code: give ?case_code=K7Q-2F9.", "case_code");
        }
        policies::CaseCode code(code_text, "case_code");
        auto s = policies_.find_survivor(code);
        if (!s)
            return error(404, "not_found", "case_code: no survivor has this case code.",
                         "case_code");
        if (who.role != policies::Role::admin &&
            std::find(s->caseworkers.begin(), s->caseworkers.end(), who.account) ==
                s->caseworkers.end()) {
            return error(403, "forbidden",
                         "case_code: a caseworker may read only the record of a survivor "
                         "assigned to her.",
                         "case_code");
        }
        auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        return HttpResponse::json(200, survivor_record_json(*s, now).dump());
    }

    /// POST /v1/admin/new-device-notice {"case_code", "notify": bool}: whether she is told on
    /// her own channel when her code signs in on a new phone (admin, or her assigned
    /// caseworker with her own token; audited in the caller's name).
    HttpResponse new_device_notice_set(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (auto& [k, v] : body.items()) {
            if (k != "case_code" && k != "notify") {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        auto notify = body.find("notify");
        if (notify == body.end() || !notify->is_boolean()) {
            return error(400, "invalid_field", "notify: must be true or false.", "notify");
        }
        policies::CaseCode code(body.at("case_code").get<std::string>(), "case_code");
        auto record = policies_.find_survivor(code);
        if (!record)
            return error(404, "not_found", "case_code: no survivor has this case code.",
                         "case_code");
        if (who.role != policies::Role::admin &&
            std::find(record->caseworkers.begin(), record->caseworkers.end(), who.account) ==
                record->caseworkers.end()) {
            return error(403, "forbidden",
                         "Only an administrator or a caseworker assigned to her may set this.");
        }
        auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        set_new_device_notice(policies_, code, notify->get<bool>(), who.account.str(), now);
        return HttpResponse::json(
            200,
            json({{"case_code", code.str()}, {"new_device_notice", notify->get<bool>()}}).dump());
    }

    /// GET /v1/admin/duress-words (admin): how many duress words are set (they cannot be
    /// read back: only their digests are stored).
    HttpResponse duress_words_count() {
        return HttpResponse::json(200,
                                  json({{"duress_words", duress_word_count(policies_)}}).dump());
    }

    /// PUT /v1/admin/duress-words {"words": ["phrase", ...]} (admin): replaces the
    /// organisation's duress words ([] removes them all).
    HttpResponse set_duress_words(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (!body.is_object()) {
            return error(400, "invalid_field", "body: must be a JSON object.", "body");
        }
        for (auto& [k, v] : body.items()) {
            if (k != "words") {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                             k.size() <= 32 ? k : "body");
            }
        }
        auto list = body.find("words");
        if (list == body.end() || !list->is_array()) {
            return error(400, "invalid_field", "words: must be a list of texts.", "words");
        }
        std::vector<std::string> phrases;
        for (std::size_t i = 0; i < list->size(); ++i) {
            if (!(*list)[i].is_string()) {
                std::string field = "duress_words[" + std::to_string(i) + "]";
                return error(400, "invalid_field", field + ": must be a text.", field);
            }
            phrases.push_back((*list)[i].get<std::string>());
        }
        auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        std::size_t n = gateway::set_duress_words(policies_, key_, phrases, who, now);
        return HttpResponse::json(200, json({{"duress_words", n}}).dump());
    }

    static HttpResponse forbidden() {
        return error(403, "forbidden", "This needs the admin role.");
    }

    HttpResponse login(const HttpRequest& r) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(body, {"username", "password", "totp"})) return *bad;
        std::string username = body.at("username").get<std::string>();
        std::string password = body.at("password").get<std::string>();
        std::string totp = body.at("totp").get<std::string>();
        if (username.empty() || username.size() > 64 || password.size() > 1024) {
            return error(400, "invalid_field", "username: must be 1 to 64 bytes.", "username");
        }
        std::int64_t now = now_ms();
        const std::string ukey = "admin-u:" + username, pkey = "admin-ip:" + r.peer_address;
        std::int64_t wait =
            std::max(throttle_.remaining(ukey, now), throttle_.remaining(pkey, now));
        if (wait > 0) {
            return error(429, "rate_limited", "Too many failed attempts; wait before trying again.",
                         "", {{"retry_after_ms", wait}});
        }
        auto creds = store_.find_caseworker(username);
        bool ok = crypto::verify_password(password, creds ? creds->password_hash : dummy_hash_);
        std::optional<std::uint64_t> step;
        if (creds) {
            try {
                auto secret = key_.open(creds->account.id, creds->sealed_totp_secret);
                step = crypto::verify_totp(secret.view(), totp,
                                           static_cast<std::uint64_t>(now / 1000));
            } catch (const std::exception&) {
            }
        }
        // Said only to someone holding her password and a valid code (no account oracle).
        if (ok && creds && step && store_.is_disabled(creds->account.key)) {
            return error(403, "account_disabled",
                         "This account is disabled; ask your organisation's administrator.");
        }
        std::lock_guard lock(mutex_);
        if (ok && creds && step) {
            auto& last = last_step_[creds->account.id];
            if (*step <= last)
                step.reset();
            else
                last = *step;
        }
        if (!ok || !creds || !step) {
            std::int64_t delay = throttle_.fail(ukey, now);
            throttle_.fail(pkey, now);
            return error(401, "auth_failed", "The credentials are not valid.", "",
                         {{"retry_after_ms", delay}});
        }
        throttle_.reset(ukey);
        throttle_.reset(pkey);
        auto raw = crypto::random_bytes(32);
        std::string token = crypto::base64_encode(raw);
        for (char& c : token) {
            if (c == '+') c = '-';
            if (c == '/') c = '_';
        }
        while (!token.empty() && token.back() == '=') token.pop_back();
        std::string role = role_of(policies_, creds->account.id);
        Token t{creds->account.id, creds->account.key,
                role == "admin" ? policies::Role::admin : policies::Role::caseworker,
                std::chrono::steady_clock::now() + kTokenLifetime};
        // Drop expired tokens (the map stays small: staff sessions).
        for (auto it = tokens_.begin(); it != tokens_.end();) {
            it = it->second.expires < std::chrono::steady_clock::now() ? tokens_.erase(it)
                                                                       : std::next(it);
        }
        tokens_[token] = t;
        return HttpResponse::json(
            200,
            json({{"token", token}, {"expires_in", 900}, {"role", role}, {"account", t.account}})
                .dump());
    }

    struct Token {
        std::string account;
        AccountKey key = 0;
        policies::Role role;
        std::chrono::steady_clock::time_point expires;
    };

    std::optional<policies::Actor> authenticate(const HttpRequest& r) {
        std::string h = r.header("authorization");
        if (h.rfind("Bearer ", 0) != 0) return std::nullopt;
        std::lock_guard lock(mutex_);
        auto it = tokens_.find(h.substr(7));
        if (it == tokens_.end() || it->second.expires < std::chrono::steady_clock::now()) {
            return std::nullopt;
        }
        // A token of an account disabled since (here or by the CLI) ends now (fail closed).
        bool disabled = true;
        try {
            disabled = store_.is_disabled(it->second.key);
        } catch (const std::exception&) {
        }
        if (disabled) {
            tokens_.erase(it);
            return std::nullopt;
        }
        return policies::Actor{policies::AccountId(it->second.account), it->second.role};
    }

    HttpResponse set_policy(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        // A misspelt field would otherwise answer 200 and change nothing.
        if (auto bad = check_fields(
                body, {"quiet_hours", "retention_days", "ban", "unban", "consent_recorders",
                       "canned_replies", "organisation_names", "templates", "checkin_defaults",
                       "accept_messenger", "drop_messenger"})) {
            return *bad;
        }
        policies::OrgPolicy p = policies_.org_policy();
        PolicyChanges changes;
        if (body.contains("quiet_hours"))
            changes.quiet_hours = body["quiet_hours"].get<std::string>();
        if (body.contains("retention_days"))
            changes.retention_days = body["retention_days"].get<int>();
        if (body.contains("ban")) changes.ban = body["ban"].get<std::vector<std::string>>();
        if (body.contains("unban")) changes.unban = body["unban"].get<std::vector<std::string>>();
        if (body.contains("consent_recorders"))
            changes.consent_recorders = body["consent_recorders"].get<std::string>();
        if (body.contains("organisation_names")) {
            const json& names = body["organisation_names"];
            if (!names.is_array() || !std::all_of(names.begin(), names.end(),
                                                  [](const json& n) { return n.is_string(); })) {
                return error(400, "invalid_field", "organisation_names: must be a list of strings.",
                             "organisation_names");
            }
            changes.organisation_names = names.get<std::vector<std::string>>();
        }
        std::vector<TemplateChange> templates;
        if (body.contains("templates")) {
            const json& list = body["templates"];
            if (!list.is_array()) {
                return error(400, "invalid_field",
                             "templates: must be a list of {\"template\",\"language\",\"text\"}.",
                             "templates");
            }
            for (std::size_t i = 0; i < list.size(); ++i) {
                const std::string at = "templates[" + std::to_string(i) + "]";
                const json& t = list[i];
                for (const char* name : {"template", "language", "text"}) {
                    if (!t.is_object() || !t.contains(name) || !t[name].is_string()) {
                        return error(400, "invalid_field", at + "." + name + ": must be a string.",
                                     at + "." + name);
                    }
                }
                if (t.size() != 3) {
                    return error(400, "invalid_field",
                                 at + ": only template, language and text are allowed.", at);
                }
                templates.push_back(
                    {template_id_of(t["template"].get<std::string>()),
                     policies::LanguageTag(t["language"].get<std::string>(), at + ".language"),
                     t["text"].get<std::string>()});
            }
        }
        if (body.contains("checkin_defaults")) {
            const json& d = body["checkin_defaults"];
            if (auto bad = check_fields(d, {"window", "every_days", "grace_minutes"})) {
                return error(400, "invalid_field",
                             "checkin_defaults: an object with window, every_days and/or "
                             "grace_minutes.",
                             "checkin_defaults");
            }
            if (d.contains("window")) changes.checkin_window = d["window"].get<std::string>();
            if (d.contains("every_days")) changes.checkin_every_days = d["every_days"].get<int>();
            if (d.contains("grace_minutes"))
                changes.checkin_grace_minutes = d["grace_minutes"].get<int>();
        }
        if (body.contains("accept_messenger")) {
            const json& m = body["accept_messenger"];
            if (auto bad = check_fields(m, {"provider", "evidence"});
                bad || !m.contains("provider")) {
                return error(400, "invalid_field",
                             "accept_messenger: an object {\"provider\", \"evidence\"}.",
                             "accept_messenger");
            }
            changes.accept_messenger = m["provider"].get<std::string>();
            changes.messenger_evidence = m.value("evidence", "");
        }
        if (body.contains("drop_messenger"))
            changes.drop_messenger = body["drop_messenger"].get<std::string>();
        std::optional<std::vector<CannedReply>> replies;
        if (body.contains("canned_replies")) replies = parse_canned_replies(body["canned_replies"]);
        apply_policy_changes(p, changes);
        auto now = policies::Instant(
            std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now()));
        policies_.set_org_policy(p, who, now);
        if (replies) set_canned_replies(policies_, *replies, who, now);
        apply_template_changes(policies_, templates, who, now, "templates");
        return HttpResponse::json(200, policy_with_replies().dump());
    }

    json policy_with_replies() {
        json out = policy_json(policies_.org_policy());
        auto replies = canned_replies(policies_);
        out["canned_replies"] = canned_replies_json(replies);
        out["canned_replies_by_language"] = canned_replies_by_language_json(replies);
        out["templates"] = templates_json(policies_);
        return out;
    }

    /// GET /v1/admin/consent?case=CODE: her consent records (admin, or a caseworker assigned
    /// to her).
    HttpResponse consent_list(const HttpRequest& r, const policies::Actor& who) {
        std::string case_text;
        for (std::size_t pos = 0; pos < r.query.size();) {
            auto amp = r.query.find('&', pos);
            std::string kv =
                r.query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            if (kv.rfind("case=", 0) == 0) case_text = kv.substr(5);
            if (amp == std::string::npos) break;
            pos = amp + 1;
        }
        if (case_text.empty()) {
            return error(400, "invalid_field", "case: name her case code, e.g. ?case=K7Q-2F9.",
                         "case");
        }
        policies::CaseCode code(case_text, "case");
        if (who.role != policies::Role::admin) {
            auto survivor = policies_.find_survivor(code);
            if (survivor && std::find(survivor->caseworkers.begin(), survivor->caseworkers.end(),
                                      who.account) == survivor->caseworkers.end()) {
                return error(403, "forbidden",
                             "case: only her assigned caseworkers and administrators may read "
                             "her consent records.",
                             "case");
            }
        }
        return HttpResponse::json(200, consent_records_json(policies_, code, "case").dump());
    }

    HttpResponse consent(const HttpRequest& r, const policies::Actor& who) {
        json body = json::parse(r.body);
        if (auto bad = check_fields(body, {"case_code", "channel", "purpose", "action", "evidence",
                                           "language", "address"})) {
            return *bad;
        }
        std::string action = body.value("action", "given");
        policies::ConsentAction a;
        if (action == "given")
            a = policies::ConsentAction::given;
        else if (action == "withdrawn")
            a = policies::ConsentAction::withdrawn;
        else
            return error(400, "invalid_field", "action: must be given or withdrawn.", "action");
        if (body.contains("address")) {
            return error(400, "invalid_field",
                         "address: addresses are recorded with the CLI (--address-stdin) only.",
                         "address");
        }
        policies::ConsentRecord rec{
            .case_code = policies::CaseCode(body.at("case_code").get<std::string>(), "case_code"),
            .channel = parse_channel_arg(body.at("channel").get<std::string>(), "channel"),
            .recorded_by = who.account};
        auto p = policies::parse_purpose(body.at("purpose").get<std::string>());
        if (!p)
            return error(400, "invalid_field",
                         "purpose: must be replies, check_ins or case_updates.", "purpose");
        rec.purpose = *p;
        rec.action = a;
        rec.evidence_ref = body.value("evidence", "");
        if (body.contains("language"))
            rec.form_language =
                policies::LanguageTag(body["language"].get<std::string>(), "language");
        rec.recorded_at =
            std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        auto stored = policies_.record_consent(rec, who);
        return HttpResponse::json(200, json({{"case_code", stored.case_code.str()},
                                             {"channel", stored.channel.str()},
                                             {"purpose", policies::to_string(stored.purpose)},
                                             {"action", policies::to_string(stored.action)},
                                             {"version", stored.version}})
                                           .dump());
    }

    HttpResponse verify() {
        auto v = policies_.verify_audit_chain();
        json out = {{"ok", v.ok},
                    {"entries", v.entries},
                    {"keyed_entries", v.keyed_entries},
                    {"head", policies::to_hex(v.head)}};
        if (!v.ok) {
            out["first_bad_entry"] = v.first_bad_seq ? *v.first_bad_seq : 0;
            out["problem"] = v.problem;
        }
        return HttpResponse::json(200, out.dump());
    }

    HttpResponse audit(const HttpRequest& r) {
        std::uint64_t from = 1;
        std::size_t limit = 1000;
        std::string q = r.query;
        // Decimal digits only, within [min, max]: "-1" or "1e9" must not be read as a number.
        auto number = [](const std::string& v, std::uint64_t min,
                         std::uint64_t max) -> std::optional<std::uint64_t> {
            if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != v.npos)
                return std::nullopt;
            std::uint64_t n = std::stoull(v);
            if (n < min || n > max) return std::nullopt;
            return n;
        };
        for (std::size_t pos = 0; pos < q.size();) {
            auto amp = q.find('&', pos);
            std::string kv =
                q.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            auto eq = kv.find('=');
            std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
            if (k == "from") {
                auto n = number(v, 1, 9223372036854775807ULL);
                if (!n) {
                    return error(400, "invalid_field",
                                 "from: must be an audit sequence number, 1 or more.", "from");
                }
                from = *n;
            } else if (k == "limit") {
                auto n = number(v, 1, 10000);
                if (!n) {
                    return error(400, "invalid_field", "limit: must be from 1 to 10000.", "limit");
                }
                limit = static_cast<std::size_t>(*n);
            } else if (!kv.empty()) {
                return error(400, "invalid_field",
                             k.size() <= 32 ? k + ": unknown query parameter; use from and limit."
                                            : "query: unknown query parameter; use from and limit.",
                             k.size() <= 32 ? k : "query");
            }
            if (amp == std::string::npos) break;
            pos = amp + 1;
        }
        std::string out;
        for (const auto& e : policies_.audit_entries(from, limit)) {
            out += json({{"seq", e.seq},
                         {"at_us", policies::to_micros(e.at)},
                         {"actor", e.actor},
                         {"action", e.action},
                         {"case_code", e.case_code},
                         {"decision", e.decision},
                         {"reason", e.reason},
                         {"hash", policies::to_hex(e.hash)}})
                       .dump() +
                   "\n";
        }
        HttpResponse res = HttpResponse::text(200, std::move(out));
        res.content_type = "application/x-ndjson";
        return res;
    }

    Store& store_;
    const ServerKey& key_;
    policies::PolicyStore& policies_;
    AssignHandler assign_;
    std::string dummy_hash_;
    AuthThrottle throttle_;
    std::mutex mutex_;
    std::map<std::string, Token> tokens_;
    std::map<std::string, std::uint64_t> last_step_;
};

}  // namespace

void set_account_role(policies::PolicyStore& store, const std::string& account,
                      const std::string& role) {
    if (role != "admin" && role != "caseworker") {
        throw policies::Error(policies::ErrorCode::invalid_field, "role",
                              "role: must be admin or caseworker.");
    }
    try {
        storage::StaffRoles(store).set_role(account, role);
    } catch (const storage::Error&) {
        throw policies::Error(policies::ErrorCode::storage, "role", "role: cannot be stored.");
    }
}

nlohmann::json reset_caseworker(Store& store, const ServerKey& key, policies::PolicyStore& policies,
                                const std::string& id, std::string password,
                                const std::string& actor, const std::string& field) {
    if (!is_account_id(id)) {
        throw policies::Error(policies::ErrorCode::invalid_field, field,
                              field + ": must be an account id (a_ + 22 characters).");
    }
    if (password.empty() || password.size() > 1024) {
        crypto::wipe(password.data(), password.size());
        throw policies::Error(policies::ErrorCode::invalid_field, "password",
                              "password: must be 1 to 1024 bytes long.");
    }
    auto account = store.find_account(id);
    if (!account || account->role != Role::caseworker) {
        crypto::wipe(password.data(), password.size());
        throw policies::Error(policies::ErrorCode::not_found, field,
                              field + ": no caseworker account has this id.");
    }
    std::string hash = crypto::hash_password(password);
    crypto::wipe(password.data(), password.size());
    auto secret = crypto::generate_totp_secret();
    store.replace_caseworker_credentials(id, hash, key.seal(id, secret.view()));
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    policies.append_audit(actor, "caseworker.reset", "", "done", id, now);
    return json({{"account", id},
                 {"totp_secret", crypto::base32_encode(secret.view())},
                 {"otpauth_uri", crypto::otpauth_uri("Ariadne", id, secret.view())}});
}

nlohmann::json create_caseworker_account(Store& store, const ServerKey& key,
                                         policies::PolicyStore& policies, CaseworkerArgs args) {
    auto fail = [&](const char* field, const std::string& message) {
        crypto::wipe(args.password.data(), args.password.size());
        throw policies::Error(policies::ErrorCode::invalid_field, field, message);
    };
    if (args.role != "admin" && args.role != "caseworker") {
        fail("role", "role: must be admin or caseworker.");
    }
    // Initials name her in handover notices to survivors: validated before anything exists.
    if (!args.initials.empty()) {
        try {
            policies::Initials(args.initials, "initials");
        } catch (const policies::Error&) {
            crypto::wipe(args.password.data(), args.password.size());
            throw;
        }
    }
    if (args.username.empty() || args.username.size() > kMaxUsernameBytes) {
        fail("username", "username: must be 1 to 64 bytes long.");
    }
    if (args.password.empty() || args.password.size() > 1024) {
        fail("password", "password: must be 1 to 1024 bytes long.");
    }
    std::string hash = crypto::hash_password(args.password);
    crypto::wipe(args.password.data(), args.password.size());
    auto secret = crypto::generate_totp_secret();
    std::string account_id = new_account_id();
    try {
        store.create_caseworker(account_id, args.username, hash,
                                key.seal(account_id, secret.view()));
    } catch (const storage::Error& e) {
        if (e.kind() != storage::ErrorKind::constraint) throw;
        throw policies::Error(policies::ErrorCode::conflict, "username",
                              "username: is already taken.");
    }
    set_account_role(policies, account_id, args.role);
    if (!args.initials.empty()) {
        set_caseworker_initials(policies, account_id, args.initials);
    }
    return json({{"account", account_id},
                 {"role", args.role},
                 {"totp_secret", crypto::base32_encode(secret.view())},
                 {"otpauth_uri", crypto::otpauth_uri("Ariadne", account_id, secret.view())}});
}

nlohmann::json enrol_survivor_account(Store& store, policies::PolicyStore& policies,
                                      const SurvivorEnrolArgs& args,
                                      const std::function<crypto::RecoveryParams()>& params,
                                      const policies::Actor& by) {
    // Validate her record before anything is created (initials only, a real time zone).
    if (args.caseworkers.empty()) {
        throw policies::Error(policies::ErrorCode::invalid_field, "caseworker",
                              "caseworker: at least one caseworker account id is required.");
    }
    policies::Survivor record{policies::CaseCode::generate(),
                              policies::Initials(args.initials, "initials"),
                              policies::LanguageTag(args.language, "language"), args.time_zone};
    for (const auto& id : args.caseworkers) record.caseworkers.emplace_back(id, "caseworker");
    policies::TimeZone::load(args.time_zone, "time_zone");  // names the field as given
    record.validate();
    for (const auto& id : args.caseworkers) {
        auto account = is_account_id(id) ? store.find_account(id) : std::nullopt;
        if (!account || account->role != Role::caseworker) {
            throw policies::Error(policies::ErrorCode::not_found, "caseworker",
                                  "caseworker: no caseworker account has the id " + id + ".");
        }
    }
    auto recovery = params();
    std::string code = crypto::generate_recovery_code();
    auto stored = crypto::make_recovery_verifier(code, recovery);
    Account account = store.create_survivor(stored.locator, stored.auth_public_key);
    for (const auto& id : args.caseworkers) store.assign(account.id, id);
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    auto enrolled = policies.enrol_survivor(record, by, now);
    link_survivor_case(policies, account.id, enrolled.case_code, false);
    json line = {
        {"account", account.id}, {"case_code", enrolled.case_code.str()}, {"recovery_code", code}};
    crypto::wipe(code.data(), code.size());
    if (args.with_duress_code) {
        // Her duress login: a second account without caseworkers (an empty-looking view)
        // whose login raises the duress alert on her case.
        std::string duress = crypto::generate_recovery_code();
        auto dv = crypto::make_recovery_verifier(duress, recovery);
        Account decoy = store.create_survivor(dv.locator, dv.auth_public_key);
        link_survivor_case(policies, decoy.id, enrolled.case_code, true);
        line["duress_code"] = duress;
        crypto::wipe(duress.data(), duress.size());
    }
    return line;
}

nlohmann::json set_checkin_plan(const Store& store, policies::PolicyStore& policies,
                                const CheckinPlanArgs& args, const policies::Actor& by,
                                const std::string& case_field) {
    policies::CaseCode code(args.case_code, case_field);
    auto survivor = policies.find_survivor(code);
    if (!survivor) {
        throw policies::Error(policies::ErrorCode::not_found, case_field,
                              case_field + ": no survivor has this case code.");
    }
    const policies::CheckinDefaults defaults = policies.org_policy().checkin_defaults;
    std::vector<std::string> channels = args.channels;
    if (channels.empty()) channels.push_back("app");
    policies::CheckinPlan plan{.case_code = code};
    plan.every_days = args.every_days.value_or(defaults.every_days);
    plan.window = args.window ? parse_window(*args.window, "plan.window", false) : defaults.window;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        plan.channels.push_back(
            parse_channel_arg(channels[i], "plan.channels[" + std::to_string(i) + "]"));
    }
    plan.grace_minutes = args.grace_minutes.value_or(defaults.grace_minutes);
    if (args.alert == "nobody") {
        plan.alert = policies::AlertTarget::nobody;
    } else if (args.alert == "caseworker") {
        plan.alert = policies::AlertTarget::caseworker;
    } else if (args.alert == "partner") {
        throw policies::Error(policies::ErrorCode::invalid_field, "plan.alert",
                              "plan.alert: Ariadne cannot alert a partner organisation (it has "
                              "no way to reach one); use caseworker, and her caseworkers "
                              "contact the partner she chose.");
    } else {
        throw policies::Error(policies::ErrorCode::invalid_field, "plan.alert",
                              "plan.alert: must be nobody or caseworker.");
    }
    plan.validate();
    // A channel with no sender would end every slot unsent: refuse it, naming why.
    auto account = find_case_account(policies, code);
    std::vector<policies::ChannelRef> canonical;
    for (const auto& c : plan.channels)
        canonical.push_back(policies::ChannelRef::make(c.kind, c.provider));
    auto reach = checkin_reach(store, policies, account.value_or(""), code, canonical);
    require_reachable(reach);
    // The first cadence day is her local today.
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    plan.first_day = policies::TimeZone::load(survivor->time_zone)->to_local(now).date;
    policies::SystemClock clock;
    policies::CheckinScheduler scheduler(policies, clock, {});
    auto id = scheduler.set_plan(plan, by);
    json out_channels = json::array();
    for (const auto& r : reach) {
        json c = {{"channel", r.channel.str()}, {"reaches_her", r.reaches_her}};
        if (!r.reaches_her) c["why"] = r.why;
        out_channels.push_back(std::move(c));
    }
    json answer = {{"plan_id", id}, {"case_code", code.str()}, {"channels", out_channels}};
    // No channel reaches her yet: the first check-in waits for the first window after one does.
    if (std::none_of(reach.begin(), reach.end(), [](const auto& r) { return r.reaches_her; }))
        answer["waiting_for_her"] = true;
    return answer;
}

nlohmann::json consent_records_json(policies::PolicyStore& policies, const policies::CaseCode& code,
                                    const std::string& case_field) {
    if (!policies.find_survivor(code)) {
        throw policies::Error(policies::ErrorCode::not_found, case_field,
                              case_field + ": no survivor has this case code.");
    }
    auto history = policies.consent_history(code);
    json records = json::array();
    for (const auto& r : history) {
        json e = {{"version", r.version},
                  {"channel", r.channel.str()},
                  {"purpose", policies::to_string(r.purpose)},
                  {"action", policies::to_string(r.action)},
                  {"evidence_ref", r.evidence_ref},
                  {"form_language", r.form_language ? json(r.form_language->str()) : json(nullptr)},
                  {"recorded_by", r.recorded_by.str()},
                  {"recorded_at", format_utc(r.recorded_at)}};
        if (!r.address_ref.empty()) e["address_on_file"] = true;
        auto effective = policies::effective_channel(r.channel);
        if (effective != r.channel) e["treated_as"] = effective.str();
        records.push_back(std::move(e));
    }
    // The record in effect now for each (channel, purpose) she has records for.
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    json in_effect = json::array();
    std::vector<std::pair<policies::ChannelRef, policies::Purpose>> seen;
    for (const auto& r : history) {
        auto channel = policies::effective_channel(r.channel);
        bool known = std::any_of(seen.begin(), seen.end(), [&](const auto& s) {
            return s.first == channel && s.second == r.purpose;
        });
        if (known) continue;
        seen.emplace_back(channel, r.purpose);
        const auto* latest = policies::latest_consent(history, code, channel, r.purpose, now);
        if (!latest) continue;
        in_effect.push_back({{"channel", channel.str()},
                             {"purpose", policies::to_string(r.purpose)},
                             {"action", policies::to_string(latest->action)},
                             {"version", latest->version}});
    }
    return json({{"case_code", code.str()}, {"records", records}, {"in_effect", in_effect}});
}

nlohmann::json set_checkin_plan_status(policies::PolicyStore& policies, std::int64_t plan_id,
                                       const std::string& status, const policies::Actor& by) {
    policies::PlanStatus s;
    if (status == "active") {
        s = policies::PlanStatus::active;
    } else if (status == "paused") {
        s = policies::PlanStatus::paused;
    } else if (status == "stopped") {
        s = policies::PlanStatus::stopped;
    } else {
        throw policies::Error(policies::ErrorCode::invalid_field, "status",
                              "status: must be active, paused or stopped.");
    }
    policies::SystemClock clock;
    policies::CheckinScheduler scheduler(policies, clock, {});
    scheduler.set_plan_status(plan_id, s, by);
    return json({{"plan_id", plan_id}, {"status", status}});
}

bool is_admin_account(const policies::PolicyStore& store, const std::string& account) {
    return role_of(store, account) == "admin";
}

nlohmann::json set_caseworker_disabled(Store& store, policies::PolicyStore& policies,
                                       const std::string& id, bool disabled,
                                       const std::string& actor, const std::string& field) {
    if (!is_account_id(id)) {
        throw policies::Error(policies::ErrorCode::invalid_field, field,
                              field + ": must be an account id (a_ + 22 characters).");
    }
    auto account = store.find_account(id);
    if (!account || account->role != Role::caseworker) {
        throw policies::Error(policies::ErrorCode::not_found, field,
                              field + ": no caseworker account has this id.");
    }
    bool changed = store.set_caseworker_disabled(id, disabled);
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    // Metadata only: who, which account (as the reason token), what.
    policies.append_audit(actor, disabled ? "caseworker.disabled" : "caseworker.enabled", "",
                          changed ? "done" : "unchanged", id, now);
    return json({{"account", id}, {"disabled", disabled}, {"changed", changed}});
}

nlohmann::json survivor_record_json(const policies::Survivor& s, policies::Instant now) {
    json caseworkers = json::array();
    for (const auto& c : s.caseworkers) caseworkers.push_back(c.str());
    json out = {{"case_code", s.case_code.str()},
                {"initials", s.initials.str()},
                {"language", s.language.str()},
                {"time_zone", s.time_zone},
                {"status", policies::to_string(s.status)},
                {"paused", s.is_paused(now)},
                {"quiet_hours", s.quiet_hours ? json(window_text(*s.quiet_hours)) : json()},
                {"team", s.team ? json(s.team->str()) : json()},
                {"never_confirm_client", s.flags.never_confirm_client},
                {"duress", s.flags.duress_lock},
                {"caseworkers", caseworkers}};
    if (s.flags.paused && s.paused_until) out["paused_until"] = instant_text(*s.paused_until);
    return out;
}

nlohmann::json update_survivor_record(policies::PolicyStore& policies,
                                      const SurvivorUpdateArgs& args, const policies::Actor& by,
                                      const std::string& case_field, policies::Instant now) {
    using policies::Error;
    using policies::ErrorCode;
    policies::CaseCode code(args.case_code, case_field);
    // Read and write in one transaction: an assignment made meanwhile (by the server or
    // another CLI) is not overwritten with the caseworker list read here.
    std::optional<storage::SharedTransaction> tx;
    try {
        tx.emplace(policies);
    } catch (const storage::Error& e) {
        throw Error(ErrorCode::storage, "",
                    "The survivor record cannot be changed now (" + std::string(e.what()) + ")");
    }
    auto record = policies.find_survivor(code);
    if (!record) {
        throw Error(ErrorCode::not_found, case_field,
                    case_field + ": no survivor has this case code.");
    }
    if (by.role != policies::Role::admin) {
        if (std::find(record->caseworkers.begin(), record->caseworkers.end(), by.account) ==
            record->caseworkers.end()) {
            throw Error(ErrorCode::refused, case_field,
                        case_field +
                            ": a caseworker may change only the record of a survivor assigned "
                            "to her.");
        }
        // Opening, closing and moving a case between teams are the organisation's decisions.
        for (const auto& [given, name] : {std::pair{args.status.has_value(), "status"},
                                          std::pair{args.team.has_value(), "team"}}) {
            if (given) {
                throw Error(ErrorCode::refused, name,
                            std::string(name) + ": only an administrator may change it.");
            }
        }
    }
    // Every field is validated before the record changes.
    policies::Survivor s = *record;
    if (args.initials) s.initials = policies::Initials(*args.initials, "initials");
    if (args.language) s.language = policies::LanguageTag(*args.language, "language");
    if (args.time_zone) {
        policies::TimeZone::load(*args.time_zone, "time_zone");
        s.time_zone = *args.time_zone;
    }
    if (args.quiet_hours) {
        if (*args.quiet_hours == "none") {
            s.quiet_hours.reset();
        } else {
            s.quiet_hours = parse_window(*args.quiet_hours, "quiet_hours", true);
        }
    }
    if (args.status) {
        auto st = policies::parse_survivor_status(*args.status);
        if (!st) {
            throw Error(ErrorCode::invalid_field, "status",
                        "status: must be active, dormant or closed.");
        }
        s.status = *st;
    }
    if (args.pause_until) {
        if (*args.pause_until == "none") {
            s.flags.paused = false;
            s.paused_until.reset();
        } else if (*args.pause_until == "indefinite") {
            s.flags.paused = true;
            s.paused_until.reset();
        } else {
            auto until = parse_instant(*args.pause_until, "pause_until");
            if (until <= now) {
                throw Error(ErrorCode::invalid_field, "pause_until",
                            "pause_until: must be in the future (use none to lift a pause).");
            }
            s.flags.paused = true;
            s.paused_until = until;
        }
    }
    if (args.team) {
        if (*args.team == "none") {
            s.team.reset();
        } else {
            s.team = policies::AccountId(*args.team, "team");
        }
    }
    if (args.never_confirm_client) s.flags.never_confirm_client = *args.never_confirm_client;
    policies.update_survivor(s, by, now);
    auto stored = policies.find_survivor(code);
    try {
        tx->commit();
    } catch (const storage::Error& e) {
        throw Error(ErrorCode::storage, "",
                    "The survivor record could not be saved (" + std::string(e.what()) + ")");
    }
    return survivor_record_json(*stored, now);
}

void add_admin_api(HttpRoutes& routes, Store& store, const ServerKey& key,
                   policies::PolicyStore& policies, AssignHandler assign) {
    auto api = std::make_shared<AdminApi>(store, key, policies, std::move(assign));
    routes.add(
        "/v1/admin/", [api](const HttpRequest& r) { return api->handle(r); },
        HttpRouteClass::admin);
}

}  // namespace ariadne::gateway
