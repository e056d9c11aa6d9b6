// The organisation's administrative use cases: one code path each, called by `ariadne admin`
// (admin.h) and the HTTPS admin API (admin_api.h) alike, so both accept and refuse the same
// input with the same sentence. Survivor enrolment and assign-with-handover are the services'
// (enrolment.h, handover.h), shared with the SMS adapter; this layer adds what staff see.
//
// Errors: every function here throws AdminError (admin_error.h) naming the field, and nothing
// of a lower layer (policies::Error, storage::Error are translated), except where a function
// says so. `field`/`case_field` parameters name the input as the caller spells it ("--id" in
// the CLI, "caseworker" in the API), so the sentence points at what the user typed.
// Ownership: stores and keys are used only during the call. Thread-safety: safe to call from
// several threads at once (the stores serialise their writes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/admin/admin_error.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/services/enrolment.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

// ---- staff accounts (caseworker_operations.cpp) ----

/// Sets `account`'s staff role ("admin" or "caseworker"). Throws AdminError{invalid_field,
/// "role"} for another value, {storage, "role"} when it cannot be stored.
void set_account_role(policies::PolicyStore& store, const std::string& account,
                      const std::string& role);

/// `account`'s staff role, "admin" or "caseworker"; an unreadable role is the lesser one,
/// "caseworker" (fail closed). Never throws.
std::string staff_role(const policies::PolicyStore& store, const std::string& account);
/// Whether staff account `account` has the admin role (staff_role). Never throws.
bool is_admin_account(const policies::PolicyStore& store, const std::string& account);

/// A new caseworker account as `caseworker-add` / POST /v1/admin/caseworker give it.
struct CaseworkerArgs {
    std::string username;
    std::string password;  // wiped by create_caseworker_account
    std::string role = "caseworker";
    std::string initials;  // optional
};

/// Validates every field before anything is stored (role admin|caseworker, initials,
/// username 1 to 64 bytes, password 1 to 1024 bytes), then creates the account with a new
/// TOTP secret, audited "caseworker.created" or "admin.created" in `actor`'s name (ids only).
/// Returns {"account","role","totp_secret","otpauth_uri","otpauth_qr_svg"} (shown once; the
/// SVG is the URI as a QR code for her authenticator app). Throws AdminError
/// naming the field ({conflict, "username"} when the username is taken).
nlohmann::json create_caseworker_account(Store& store, const ServerKey& key,
                                         policies::PolicyStore& policies, CaseworkerArgs args,
                                         const std::string& actor);

/// Resets caseworker `id`: a new password (`password`, 1 to 1024 bytes, wiped) and a new TOTP
/// secret, returned once as {"account","totp_secret","otpauth_uri","otpauth_qr_svg"}; audited
/// "caseworker.reset" in `actor`'s name (ids only). Her devices stay registered. Throws
/// AdminError{invalid_field | not_found} naming `field` (the id) or "password".
nlohmann::json reset_caseworker(Store& store, const ServerKey& key, policies::PolicyStore& policies,
                                const std::string& id, std::string password,
                                const std::string& actor, const std::string& field);

/// Disables (`disabled` = true) or enables again caseworker account `id`, audits
/// "caseworker.disabled"/"caseworker.enabled" in `actor`'s name (ids only) and returns
/// {"account","disabled","changed"}. Throws AdminError{invalid_field | not_found, field}.
nlohmann::json set_caseworker_disabled(Store& store, policies::PolicyStore& policies,
                                       const std::string& id, bool disabled,
                                       const std::string& actor, const std::string& field);

// ---- survivors (survivor_operations.cpp) ----

/// enrol_survivor (enrolment.h) at the system clock's now, answered as staff see it:
/// {"account","case_code","recovery_code"[,"duress_code"]}; the codes exist only in this
/// answer. Throws AdminError naming the field ("caseworker", "initials", "language",
/// "time_zone"); whatever `params` throws passes unchanged (the CLI's GatewayError(config)
/// for refused recovery parameters).
nlohmann::json enrol_survivor_account(Store& store, const ServerKey& key,
                                      policies::PolicyStore& policies,
                                      const SurvivorEnrolment& args,
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
/// name in one transaction (audited "survivor.update" with the changed field names only, plus
/// "survivor.pause" / "survivor.resume", "survivor.status", "survivor.never_confirm_client"; a
/// new time zone moves her check-in plans to the new clock). An admin may change every field;
/// a caseworker only the record of a survivor assigned to her, and not `status` or `team`
/// (AdminError{refused} naming the field). Returns survivor_record_json. Throws AdminError
/// naming the field (`case_field` for the case code).
nlohmann::json update_survivor_record(policies::PolicyStore& policies,
                                      const SurvivorUpdateArgs& args, const policies::Actor& by,
                                      const std::string& case_field, policies::Instant now);

/// Her record as staff may read it (no consent, no address): {"case_code","initials",
/// "language","time_zone","status","paused","paused_until"?, "quiet_hours" (her own or
/// null),"team" (or null),"never_confirm_client","duress","caseworkers"}. Never throws.
nlohmann::json survivor_record_json(const policies::Survivor& s, policies::Instant now);

/// Her consent records, oldest first, as `consent-list` / GET /v1/admin/consent give them:
/// {"case_code","records":[{"version","channel","purpose","action","evidence_ref",
/// "form_language","recorded_by","recorded_at"[,"address_on_file"][,"treated_as"]}],
/// "in_effect":[{"channel","purpose","action","version"}]}. `treated_as` names how a record
/// filed under an alias is decided (e.g. "social_media/telegram": refused). Throws
/// AdminError{not_found, `case_field`} for an unknown case.
nlohmann::json consent_records_json(policies::PolicyStore& policies, const policies::CaseCode& code,
                                    const std::string& case_field);

// ---- check-in plans (checkin_plan_operations.cpp) ----

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

/// Creates a plan for her case in `by`'s name; the first cadence day is her local today.
/// Refuses channels this deployment cannot send check-ins on (checkin_reach.h). Returns
/// {"plan_id","case_code","channels":[{"channel","reaches_her"[,"why"]}][,"waiting_for_her":
/// true]}: `waiting_for_her` when no channel reaches her yet, and the first check-in waits
/// for the first window after one does. Throws AdminError naming the field (`case_field` for
/// the case code, "plan.window", "plan.channels[i]", "plan.channels", "plan.alert", ...).
nlohmann::json set_checkin_plan(const Store& store, policies::PolicyStore& policies,
                                const CheckinPlanArgs& args, const policies::Actor& by,
                                const std::string& case_field);

/// Pauses ("paused"), resumes ("active") or stops ("stopped") a plan in `by`'s name.
/// Returns {"plan_id","status"}. Throws AdminError{invalid_field, "status"},
/// {not_found, "plan.plan_id"}, {refused, "plan.status"} (a stopped plan stays stopped).
nlohmann::json set_checkin_plan_status(policies::PolicyStore& policies, std::int64_t plan_id,
                                       const std::string& status, const policies::Actor& by);

// ---- listings, revocation, unassignment (directory_operations.cpp) ----

/// "2026-05-03T10:15:00.123Z": Unix ms as ISO 8601 UTC with milliseconds. Never throws.
std::string format_utc_ms(std::int64_t unix_ms);

/// {"caseworkers":[{"account","username","initials" (or null),"role","teams":[...],
/// "disabled","devices"}]} by username; `teams` are the teams of the cases assigned to her.
/// Throws AdminError{storage}.
nlohmann::json list_caseworkers(const policies::PolicyStore& policies);
/// {"survivors":[{"case_code","initials","language","status","team" (or null)}]} by case
/// code: never a name, number or account id. Throws AdminError{storage}.
nlohmann::json list_survivors(const policies::PolicyStore& policies);
/// {"plans":[{"plan_id","case_code","status","next_slot_at" (ISO 8601 UTC or null),
/// "next_slot_at_ms" (or null)}]} by plan id. Throws AdminError{storage}.
nlohmann::json list_checkin_plans(const policies::PolicyStore& policies);
/// {"account","role","devices":[{"device_id","kind" (console | app | edge),"registered_at",
/// "registered_at_ms"}]}: account `id`'s devices. Throws AdminError{invalid_field |
/// not_found, field}.
nlohmann::json list_devices(const Store& store, const policies::PolicyStore& policies,
                            const std::string& id, const std::string& field);
/// Revokes console device `device` of caseworker `id` in `actor`'s name: its identity, keys
/// and queued mail are deleted (Store::revoke_caseworker_device), so it can no longer log in
/// and its live sessions end at their next request; audited "device.revoked" (ids only); a
/// neutral `device_revoked` alert is raised on every case assigned to her (her team).
/// Returns {"account","device_id","revoked","cases_alerted"}. Throws AdminError naming
/// `field` (the account; not_found for a survivor) or `device_field` (not a device of hers).
nlohmann::json revoke_caseworker_device(Store& store, policies::PolicyStore& policies,
                                        const std::string& id, std::int64_t device,
                                        const std::string& actor, const std::string& field,
                                        const std::string& device_field);
/// The inverse of assign_caseworker (handover.h), in `by`'s name: removes the assignment and
/// her record's caseworker. Refuses (AdminError{refused, "caseworker"}) to remove her last
/// caseworker: her messages and alerts would reach no one. Returns {"survivor","caseworker"
/// [,"case_code"]}. Throws AdminError{invalid_field | not_found} naming "survivor" or
/// "caseworker" (not_found also when he is not assigned to her).
nlohmann::json unassign_caseworker(Store& store, policies::PolicyStore& policies,
                                   const std::string& survivor, const std::string& caseworker,
                                   const policies::Actor& by);
/// An audit entry as `audit-export` and GET /v1/admin/audit show it: {"seq","at" (ISO 8601
/// UTC, ms),"at_ms","at_us","actor","action","case_code","decision","reason","hash"}.
nlohmann::json audit_entry_json(const policies::AuditEntry& e);

}  // namespace ariadne::gateway
