// The admin HTTP API's request handlers (private to gateway/admin; the contract is
// admin_api.h). The router (http_api.cpp) authenticates, checks the role and calls one
// handler; a handler parses its body, calls a use case (operations.h) and renders the answer.
// Handlers for staff and survivor accounts are in http_accounts.cpp, for the organisation's
// policy, plans, consent and audit in http_organisation.cpp. Thread-safe: the handlers keep
// no state of their own beyond the staff sessions (staff_sessions.h).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "ariadne/admin/admin_api.h"
#include "ariadne/admin/admin_error.h"
#include "ariadne/policies/clock.h"
#include "staff_sessions.h"

namespace ariadne::gateway {

/// {"error": code, "message": message[, "field": field]} plus `extra`'s members.
HttpResponse error_response(int status, const std::string& code, const std::string& message,
                            const std::string& field = "",
                            nlohmann::json extra = nlohmann::json::object());
/// The answer for a refused use case: its status and {"error","field","message"}.
HttpResponse error_response(const AdminError& e);
/// 403: this needs the admin role.
HttpResponse forbidden();
/// The error naming the first field of `body` not in `allowed` (or a body that is not an
/// object), or nullopt when every field is allowed.
std::optional<HttpResponse> check_fields(const nlohmann::json& body,
                                         std::initializer_list<const char*> allowed);

class AdminApi {
  public:
    /// The references must outlive the API (admin_api.h).
    AdminApi(Store& store, const ServerKey& key, policies::PolicyStore& policies,
             AssignHandler assign, DeviceRevokedHandler revoked);

    /// Answers one request under /v1/admin/. Never throws.
    HttpResponse handle(const HttpRequest& r);

  private:
    HttpResponse route(const HttpRequest& r);
    HttpResponse login(const HttpRequest& r);

    // http_accounts.cpp
    HttpResponse assign(const HttpRequest& r, const policies::Actor& who);
    HttpResponse caseworker_disable(const HttpRequest& r, const policies::Actor& who,
                                    bool disabled);
    HttpResponse caseworker_reset(const HttpRequest& r, const policies::Actor& who);
    HttpResponse caseworker_create(const HttpRequest& r, const std::string& actor);
    HttpResponse survivor_enrol(const HttpRequest& r, const policies::Actor& who);
    HttpResponse survivor_update(const HttpRequest& r, const policies::Actor& who);
    HttpResponse survivor_record(const HttpRequest& r, const policies::Actor& who);
    HttpResponse new_device_notice_set(const HttpRequest& r, const policies::Actor& who);
    HttpResponse duress_clear(const HttpRequest& r, const policies::Actor& who);
    HttpResponse device_list(const HttpRequest& r);
    HttpResponse device_revoke(const HttpRequest& r, const policies::Actor& who);
    HttpResponse unassign(const HttpRequest& r, const policies::Actor& who);

    // http_organisation.cpp
    std::variant<policies::Actor, HttpResponse> plan_actor(const nlohmann::json& body,
                                                           const policies::Actor& who);
    HttpResponse checkin_plan(const HttpRequest& r, const policies::Actor& who);
    HttpResponse checkin_plan_status(const HttpRequest& r, const policies::Actor& who);
    HttpResponse duress_words_count();
    HttpResponse set_duress_words(const HttpRequest& r, const policies::Actor& who);
    HttpResponse set_policy(const HttpRequest& r, const policies::Actor& who);
    nlohmann::json policy_with_replies();
    HttpResponse consent_list(const HttpRequest& r, const policies::Actor& who);
    HttpResponse consent(const HttpRequest& r, const policies::Actor& who);
    HttpResponse verify();
    HttpResponse audit(const HttpRequest& r);

    Store& store_;
    const ServerKey& key_;
    policies::PolicyStore& policies_;
    AssignHandler assign_;
    DeviceRevokedHandler revoked_;
    policies::SystemClock clock_;
    StaffSessions sessions_;
};

}  // namespace ariadne::gateway
