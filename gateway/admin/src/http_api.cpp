// The admin HTTP API's router (admin_api.h): authenticates the staff member, checks the
// role an endpoint needs, calls its handler (http_accounts.cpp, http_organisation.cpp) and
// turns a refused use case into its JSON error. Staff logins are staff_sessions.cpp's.
#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/protocol/codec.h"
#include "http_api.h"

namespace ariadne::gateway {

using nlohmann::json;

namespace {

/// The staff member of the request's bearer token, or nullopt.
std::optional<policies::Actor> authenticate(const HttpRequest& r, StaffSessions& sessions) {
    std::string h = r.header("authorization");
    if (h.rfind("Bearer ", 0) != 0) return std::nullopt;
    return sessions.authenticate(h.substr(7));
}

}  // namespace

HttpResponse error_response(int status, const std::string& code, const std::string& message,
                            const std::string& field, json extra) {
    json body = {{"error", code}, {"message", message}};
    if (!field.empty()) body["field"] = field;
    for (auto& [k, v] : extra.items()) body[k] = v;
    return HttpResponse::json(status, body.dump());
}

HttpResponse error_response(const AdminError& e) {
    return error_response(e.http_status(), to_string(e.code()), e.what(), e.field());
}

HttpResponse forbidden() { return error_response(403, "forbidden", "This needs the admin role."); }

/// The body as an object with only `allowed` fields, or the error naming the first other.
std::optional<HttpResponse> check_fields(const json& body,
                                         std::initializer_list<const char*> allowed) {
    if (!body.is_object()) {
        return error_response(400, "invalid_field", "body: must be a JSON object.", "body");
    }
    for (const auto& item : body.items()) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
        const std::string& k = item.key();
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
            return error_response(400, "invalid_field",
                                  k.size() <= 32 ? k + ": unknown field." : "body: unknown field.",
                                  k.size() <= 32 ? k : "body");
        }
    }
    return std::nullopt;
}

AdminApi::AdminApi(Store& store, const ServerKey& key, policies::PolicyStore& policies,
                   AssignHandler assign, DeviceRevokedHandler revoked)
    : store_(store),
      key_(key),
      policies_(policies),
      assign_(std::move(assign)),
      revoked_(std::move(revoked)),
      sessions_(store, key, policies, clock_) {}

HttpResponse AdminApi::handle(const HttpRequest& r) {
    // The boundary: whatever a handler or a value it parses refuses becomes one JSON error.
    try {
        return route(r);
    } catch (const AdminError& e) {
        return error_response(e);
    } catch (const policies::Error& e) {
        return error_response(to_admin_error(e));
    } catch (const storage::Error& e) {
        return error_response(to_admin_error(e));
    } catch (const json::exception&) {
        return error_response(400, "invalid_field",
                              "body: must be a JSON object with the documented fields and types.",
                              "body");
    }
}

HttpResponse AdminApi::route(const HttpRequest& r) {
    if (r.path == "/v1/admin/session") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        return login(r);
    }
    auto who = authenticate(r, sessions_);
    if (!who) {
        return error_response(401, "not_authenticated",
                              "Log in first: POST /v1/admin/session, then send "
                              "'Authorization: Bearer <token>'.");
    }
    if (r.path == "/v1/admin/policy") {
        if (r.method == "GET") return HttpResponse::json(200, policy_with_replies().dump());
        if (r.method != "PUT") return error_response(405, "method_not_allowed", "Use GET or PUT.");
        if (who->role != policies::Role::admin) return forbidden();
        return set_policy(r, *who);
    }
    if (r.path == "/v1/admin/consent") {
        if (r.method == "GET") return consent_list(r, *who);
        if (r.method != "POST")
            return error_response(405, "method_not_allowed", "Use GET or POST.");
        return consent(r, *who);
    }
    if (r.path == "/v1/admin/assign" && assign_) {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        if (who->role != policies::Role::admin) return forbidden();
        return assign(r, *who);
    }
    if (r.path == "/v1/admin/caseworker/disable" || r.path == "/v1/admin/caseworker/enable") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        if (who->role != policies::Role::admin) return forbidden();
        return caseworker_disable(r, *who, r.path == "/v1/admin/caseworker/disable");
    }
    if (r.path == "/v1/admin/caseworker/reset") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        if (who->role != policies::Role::admin) return forbidden();
        return caseworker_reset(r, *who);
    }
    if (r.path == "/v1/admin/caseworker" || r.path == "/v1/admin/survivor") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        if (who->role != policies::Role::admin) return forbidden();
        return r.path == "/v1/admin/caseworker" ? caseworker_create(r, who->account.str())
                                                : survivor_enrol(r, *who);
    }
    if (r.path == "/v1/admin/survivor/update") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        return survivor_update(r, *who);
    }
    if (r.path == "/v1/admin/survivor/record") {
        if (r.method != "GET") return error_response(405, "method_not_allowed", "Use GET.");
        return survivor_record(r, *who);
    }
    if (r.path == "/v1/admin/checkin-plan" || r.path == "/v1/admin/checkin-plan/status") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        return r.path == "/v1/admin/checkin-plan" ? checkin_plan(r, *who)
                                                  : checkin_plan_status(r, *who);
    }
    if (r.path == "/v1/admin/duress-clear") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        return duress_clear(r, *who);
    }
    if (r.path == "/v1/admin/duress-words") {
        if (r.method != "GET" && r.method != "PUT") {
            return error_response(405, "method_not_allowed", "Use GET or PUT.");
        }
        if (who->role != policies::Role::admin) return forbidden();
        return r.method == "GET" ? duress_words_count() : set_duress_words(r, *who);
    }
    if (r.path == "/v1/admin/new-device-notice") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        return new_device_notice_set(r, *who);
    }
    if (r.path == "/v1/admin/caseworkers" || r.path == "/v1/admin/survivors" ||
        r.path == "/v1/admin/checkin-plans" || r.path == "/v1/admin/devices") {
        if (r.method != "GET") return error_response(405, "method_not_allowed", "Use GET.");
        if (who->role != policies::Role::admin) return forbidden();
        if (r.path == "/v1/admin/devices") return device_list(r);
        json list = r.path == "/v1/admin/caseworkers" ? list_caseworkers(policies_)
                    : r.path == "/v1/admin/survivors" ? list_survivors(policies_)
                                                      : list_checkin_plans(policies_);
        return HttpResponse::json(200, list.dump());
    }
    if (r.path == "/v1/admin/device/revoke" || r.path == "/v1/admin/unassign") {
        if (r.method != "POST") return error_response(405, "method_not_allowed", "Use POST.");
        if (who->role != policies::Role::admin) return forbidden();
        return r.path == "/v1/admin/unassign" ? unassign(r, *who) : device_revoke(r, *who);
    }
    if (r.path == "/v1/admin/audit/verify" || r.path == "/v1/admin/audit") {
        if (r.method != "GET") return error_response(405, "method_not_allowed", "Use GET.");
        if (who->role != policies::Role::admin) return forbidden();
        return r.path == "/v1/admin/audit" ? audit(r) : verify();
    }
    return error_response(404, "not_found", "There is no such admin endpoint.");
}

/// POST /v1/admin/session {"username","password","totp"}.
HttpResponse AdminApi::login(const HttpRequest& r) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"username", "password", "totp"})) return *bad;
    std::string username = body.at("username").get<std::string>();
    std::string password = body.at("password").get<std::string>();
    std::string totp = body.at("totp").get<std::string>();
    if (username.empty() || username.size() > kMaxUsernameBytes ||
        password.size() > kMaxPasswordBytes) {
        return error_response(400, "invalid_field", "username: must be 1 to 64 bytes.", "username");
    }
    auto login = sessions_.login(username, password, totp, r.peer_address);
    using Outcome = StaffSessions::Login::Outcome;
    switch (login.outcome) {
        case Outcome::rate_limited:
            return error_response(429, "rate_limited",
                                  "Too many failed attempts; wait before trying again.", "",
                                  {{"retry_after_ms", login.retry_after_ms}});
        case Outcome::disabled:
            return error_response(
                403, "account_disabled",
                "This account is disabled; ask your organisation's administrator.");
        case Outcome::failed:
            return error_response(401, "auth_failed", "The credentials are not valid.", "",
                                  {{"retry_after_ms", login.retry_after_ms}});
        case Outcome::ok:
            break;
    }
    return HttpResponse::json(200, json({{"token", login.token},
                                         {"expires_in", 900},
                                         {"role", login.role},
                                         {"account", login.account}})
                                       .dump());
}

void add_admin_api(HttpRoutes& routes, Store& store, const ServerKey& key,
                   policies::PolicyStore& policies, AssignHandler assign,
                   DeviceRevokedHandler revoked) {
    auto api =
        std::make_shared<AdminApi>(store, key, policies, std::move(assign), std::move(revoked));
    routes.add(
        "/v1/admin/", [api](const HttpRequest& r) { return api->handle(r); },
        HttpRouteClass::admin);
}

}  // namespace ariadne::gateway
