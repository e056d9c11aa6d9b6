// The HTTPS admin API under /v1/admin/ on the gateway's port (docs/admin-guide.md), served
// through HttpRoutes (http_routes.h). It runs the same use cases as `ariadne admin`
// (operations.h; enrolment.h and handover.h of the services), for logged-in staff:
//
//   POST /v1/admin/session   {"username","password","totp"} → {"token","expires_in","role"}
//   GET  /v1/admin/policy                       any role
//   PUT  /v1/admin/policy    {"quiet_hours","retention_days","ban","unban","consent_recorders",
//                             "canned_replies","organisation_names","templates",
//                             "checkin_defaults","accept_messenger","drop_messenger"}
//                                               admin only
//   POST /v1/admin/survivor/update {"case_code","initials","language","time_zone",
//                            "quiet_hours","status","pause_until","team",
//                            "never_confirm_client"}   admin, or her assigned caseworker
//                                               (not status or team)
//   GET  /v1/admin/survivor/record?case_code=C  admin, or her assigned caseworker
//   POST /v1/admin/consent   {"case_code","channel","purpose","action","evidence","language"}
//                                               caseworker (or admin if the policy allows)
//   POST /v1/admin/caseworker/disable {"caseworker"}   admin only
//   POST /v1/admin/caseworker/enable  {"caseworker"}   admin only
//   POST /v1/admin/checkin-plan {"case_code","by","every_days","window","channels",
//                                "grace_minutes","alert"}   caseworker (herself) or admin
//   POST /v1/admin/checkin-plan/status {"plan_id","status","by"}   likewise
//   POST /v1/admin/caseworker/reset {"caseworker","password"}   admin only
//   POST /v1/admin/caseworker {"username","password","role","initials"}   admin only
//   POST /v1/admin/assign {"survivor","caseworker"}   admin only (404 without an AssignHandler)
//   POST /v1/admin/new-device-notice {"case_code","notify"}   admin, or her assigned caseworker
//   POST /v1/admin/survivor {"caseworker","initials","language","time_zone",
//                            "with_duress_code"}   admin only
//   POST /v1/admin/duress-clear {"case_code"[,"by"]}   assigned caseworker, herself only
//   GET  /v1/admin/duress-words                 admin only: {"duress_words": count}
//   PUT  /v1/admin/duress-words {"words":[...]} admin only
//   GET  /v1/admin/consent?case=CODE            admin, or a caseworker assigned to her
//   GET  /v1/admin/caseworkers | survivors | checkin-plans    admin only (listings)
//   GET  /v1/admin/devices?account=ID           admin only
//   POST /v1/admin/device/revoke {"account","device_id"}   admin only
//   POST /v1/admin/unassign {"survivor","caseworker"}      admin only
//   GET  /v1/admin/audit/verify                 admin only
//   GET  /v1/admin/audit?from=N&limit=M         admin only (metadata, JSON lines)
//
// Authentication: password (Argon2id) + TOTP of a caseworker account; the role comes from
// `gateway_account_roles` (set by `ariadne admin caseworker-add --role admin`), default
// caseworker. A session token (32 random bytes, base64url) is valid 15 minutes, held in
// memory only (a restart logs everyone out), sent as `Authorization: Bearer …`. Failed
// logins are throttled per username and per client address (500 ms doubling, 429 with
// retry_after_ms). TOTP steps cannot be reused within a process. No endpoint returns
// message content (the gateway holds none in clear). Errors: JSON
// {"error": code, "field": name?, "message": sentence}; 400 invalid input, 401 not logged
// in, 403 wrong role, 404, 405, 409 conflict, 422 refused by a rule (e.g. social media),
// 429, 500 (a store failed); a use case's AdminError gives the status in admin_error.h.
// Thread-safe: handlers run concurrently on the server's HTTP workers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/core/http_routes.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// Adds caseworker `caseworker` to survivor `survivor`'s team in `actor`'s name and returns
/// the answer of assign_caseworker (handover.h), which it runs with the server's notice
/// carriers: `serve` passes PolicyService::assign. Throws what assign_caseworker throws
/// (policies::Error naming "survivor" or "caseworker"; the API answers it as an AdminError).
using AssignHandler = std::function<nlohmann::json(
    const std::string& survivor, const std::string& caseworker, const std::string& actor)>;

/// Ends the live connections of console device `device` of caseworker account `account` at
/// once (a revoked device): `serve` passes Gateway::end_device_sessions. Never throws.
using DeviceRevokedHandler = std::function<void(const std::string& account, std::uint32_t device)>;

/// Registers the /v1/admin/ routes on `routes`. `store`, `key` and `policies` must outlive
/// the routes. Without `assign`, POST /v1/admin/assign answers 404; without `revoked`, a
/// revoked device's connections end at their next request only. Handlers never throw
/// (every refusal is an answer); an unexpected exception is left to the server (500).
void add_admin_api(HttpRoutes& routes, Store& store, const ServerKey& key,
                   policies::PolicyStore& policies, AssignHandler assign = {},
                   DeviceRevokedHandler revoked = {});

}  // namespace ariadne::gateway
