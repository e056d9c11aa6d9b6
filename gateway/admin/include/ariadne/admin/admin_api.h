// The HTTPS admin API under /v1/admin/ on the gateway's port (docs/admin-guide.md), served
// through HttpRoutes (http_routes.h). It does what `ariadne admin` does for the policies,
// for logged-in staff:
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
//   POST /v1/admin/survivor {"caseworker","initials","language","time_zone",
//                            "with_duress_code"}   admin only
//   POST /v1/admin/duress-clear {"case_code"[,"by"]}   assigned caseworker, herself only
//   GET  /v1/admin/duress-words                 admin only: {"duress_words": count}
//   PUT  /v1/admin/duress-words {"words":[...]} admin only
//   GET  /v1/admin/consent?case=CODE            admin, or a caseworker assigned to her
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
// in, 403 wrong role, 404, 405, 422 refused by a rule (e.g. social media), 429, 500.
// Thread-safe: handlers run concurrently on the server's HTTP workers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/crypto/recovery.h"

#include "ariadne/core/http_routes.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// Sets `account`'s staff role ("admin" or "caseworker") in `store`'s database.
/// Throws policies::Error{invalid_field, "role"} for another value, {storage} on failure.
void set_account_role(policies::PolicyStore& store, const std::string& account,
                      const std::string& role);

/// Adds caseworker `caseworker` to survivor `survivor`'s team and returns the JSON answer
/// (with "handover_notice" when she already had a caseworker). `serve` passes
/// PolicyService::assign. Throws GatewayError(not_found) / policies::Error.
using AssignHandler = std::function<nlohmann::json(
    const std::string& survivor, const std::string& caseworker, const std::string& actor)>;

/// Disables (`disabled` = true) or enables again caseworker account `id`, audits
/// "caseworker.disabled"/"caseworker.enabled" in `actor`'s name (ids only) and returns
/// {"account", "disabled", "changed"}. The CLI and the API share it. Throws
/// policies::Error{invalid_field|not_found, field} naming `field`.
nlohmann::json set_caseworker_disabled(Store& store, policies::PolicyStore& policies,
                                       const std::string& id, bool disabled,
                                       const std::string& actor, const std::string& field);

/// A check-in plan as the CLI options / API fields give it. What is not given comes from
/// the organisation's checkin_defaults (every_days, window, grace_minutes); channels default
/// to app, the alert to nobody.
struct CheckinPlanArgs {
    std::string case_code;
    std::optional<int> every_days;
    std::optional<std::string> window;  // "HH:MM-HH:MM"
    std::vector<std::string> channels;  // empty = {"app"}
    std::optional<int> grace_minutes;
    std::string alert = "nobody";  // nobody | caseworker
};

/// Creates a plan for her case in `by`'s name (the same code path for CLI and API); the first
/// cadence day is her local today. Refuses channels this deployment cannot send check-ins on
/// (checkin_reach.h). Returns {"plan_id","case_code","channels":[{"channel","reaches_her"
/// [,"why"]}][,"waiting_for_her":true]}: `waiting_for_her` when no channel reaches her yet,
/// and the first check-in waits for the first window after one does. Throws
/// policies::Error naming the field (`case_field` for the case code, "plan.window",
/// "plan.channels[i]", "plan.channels", "plan.alert", ...).
nlohmann::json set_checkin_plan(const Store& store, policies::PolicyStore& policies,
                                const CheckinPlanArgs& args, const policies::Actor& by,
                                const std::string& case_field);

/// Pauses ("paused"), resumes ("active") or stops ("stopped") a plan in `by`'s name.
/// Returns {"plan_id","status"}. Throws policies::Error{invalid_field, "status"},
/// {not_found, "plan.plan_id"}, {refused, "plan.status"} (a stopped plan stays stopped).
nlohmann::json set_checkin_plan_status(policies::PolicyStore& policies, std::int64_t plan_id,
                                       const std::string& status, const policies::Actor& by);

/// Resets caseworker `id`: a new password (`password`, 1 to 1024 bytes) and a new TOTP
/// secret, returned once as {"account","totp_secret","otpauth_uri"}; audited
/// "caseworker.reset" in `actor`'s name (ids only). Her devices stay registered. Throws
/// policies::Error naming `field` (the id) or "password".
nlohmann::json reset_caseworker(Store& store, const ServerKey& key, policies::PolicyStore& policies,
                                const std::string& id, std::string password,
                                const std::string& actor, const std::string& field);

/// A new caseworker account as `caseworker-add` / POST /v1/admin/caseworker give it.
struct CaseworkerArgs {
    std::string username;
    std::string password;  // wiped by create_caseworker_account
    std::string role = "caseworker";
    std::string initials;  // optional
};

/// Validates every field before anything is stored (role admin|caseworker, initials,
/// username 1 to 64 bytes, password 1 to 1024 bytes), then creates the account with a new
/// TOTP secret. Returns {"account","role","totp_secret","otpauth_uri"} (shown once). The CLI
/// and the API share it. Throws policies::Error naming the field ({conflict, "username"}
/// when the username is taken).
nlohmann::json create_caseworker_account(Store& store, const ServerKey& key,
                                         policies::PolicyStore& policies, CaseworkerArgs args);

/// A survivor's enrolment as `survivor-enrol` / POST /v1/admin/survivor give it.
struct SurvivorEnrolArgs {
    std::vector<std::string> caseworkers;  // at least one
    std::string initials;
    std::string language;
    std::string time_zone;
    bool with_duress_code = false;
};

/// Validates her record and her caseworkers before anything is stored, then enrols her in
/// `by`'s name: returns {"account","case_code","recovery_code"[,"duress_code"]}; the codes
/// exist only in this answer (never stored, never logged). `params` is called only once the
/// input is valid (it may create the deployment's recovery parameters). The CLI and the API
/// share it. Throws policies::Error naming the field ("caseworker", "initials", "language",
/// "time_zone").
nlohmann::json enrol_survivor_account(Store& store, policies::PolicyStore& policies,
                                      const SurvivorEnrolArgs& args,
                                      const std::function<crypto::RecoveryParams()>& params,
                                      const policies::Actor& by);

/// Corrections and changes to her record, as `survivor-update` / POST /v1/admin/survivor/update
/// give them; an absent field stays as it is.
struct SurvivorUpdateArgs {
    std::string case_code;
    std::optional<std::string> initials;
    std::optional<std::string> language;
    std::optional<std::string> time_zone;
    std::optional<std::string> quiet_hours;  // "HH:MM-HH:MM" (her own) or "none" (the org's)
    std::optional<std::string> status;       // active | dormant | closed
    std::optional<std::string> pause_until;  // ISO 8601 instant, "indefinite" or "none"
    std::optional<std::string> team;         // an opaque team id or "none"
    std::optional<bool> never_confirm_client;
};

/// Validates every given field before anything changes, then updates her record in `by`'s
/// name (audited "survivor.update" with the changed field names only, plus "survivor.pause" /
/// "survivor.resume", "survivor.status", "survivor.never_confirm_client"; a new time zone
/// moves her check-in plans to the new clock). An admin may change every field; a caseworker
/// only the record of a survivor assigned to her, and not `status` or `team`
/// (Error{refused} naming the field). Returns survivor_record_json. The CLI and the API share
/// it. Throws policies::Error naming the field (`case_field` for the case code).
nlohmann::json update_survivor_record(policies::PolicyStore& policies,
                                      const SurvivorUpdateArgs& args, const policies::Actor& by,
                                      const std::string& case_field, policies::Instant now);

/// Her record as staff may read it (no consent, no address): {"case_code","initials",
/// "language","time_zone","status","paused","paused_until"?, "quiet_hours" (her own or
/// null),"team" (or null),"never_confirm_client","duress","caseworkers"}.
nlohmann::json survivor_record_json(const policies::Survivor& s, policies::Instant now);
/// Her consent records, oldest first, as `consent-list` / GET /v1/admin/consent give them:
/// {"case_code","records":[{"version","channel","purpose","action","evidence_ref",
/// "form_language","recorded_by","recorded_at"[,"address_on_file"][,"treated_as"]}],
/// "in_effect":[{"channel","purpose","action","version"}]}. `treated_as` names how a record
/// filed under an alias is decided (e.g. "social_media/telegram": refused). Throws
/// policies::Error{not_found, `case_field`} for an unknown case.
nlohmann::json consent_records_json(policies::PolicyStore& policies, const policies::CaseCode& code,
                                    const std::string& case_field);

/// Whether staff account `account` has the admin role (gateway_account_roles).
bool is_admin_account(const policies::PolicyStore& store, const std::string& account);

/// Registers the /v1/admin/ routes on `routes`. `store`, `key` and `policies` must outlive
/// the routes. Without `assign`, POST /v1/admin/assign answers 404.
void add_admin_api(HttpRoutes& routes, Store& store, const ServerKey& key,
                   policies::PolicyStore& policies, AssignHandler assign = {});

}  // namespace ariadne::gateway
