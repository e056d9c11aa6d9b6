// Survivor use cases shared by `ariadne admin` and the admin HTTP API: enrolment (through
// the services' one enrolment path), corrections to her record, and what staff may read of
// her record and consent (operations.h).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/clock.h"
#include "ariadne/policies/decision.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/enrolment.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_text.h"

namespace ariadne::gateway {

using nlohmann::json;

namespace {

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

}  // namespace

nlohmann::json enrol_survivor_account(Store& store, const ServerKey& key,
                                      policies::PolicyStore& policies,
                                      const SurvivorEnrolment& args,
                                      const std::function<crypto::RecoveryParams()>& params,
                                      const policies::Actor& by) {
    return translating_errors([&]() -> json {
        auto enrolled = enrol_survivor(store, policies, key, args, params, by, policies::now_utc());
        json line = {{"account", enrolled.account.id},
                     {"case_code", enrolled.case_code.str()},
                     {"recovery_code", enrolled.recovery_code}};
        if (args.with_duress_code) line["duress_code"] = enrolled.duress_code;
        return line;
    });
}

nlohmann::json update_survivor_record(policies::PolicyStore& policies,
                                      const SurvivorUpdateArgs& args, const policies::Actor& by,
                                      const std::string& case_field, policies::Instant now) {
    return translating_errors([&]() -> json {
        policies::CaseCode code(args.case_code, case_field);
        // Read and write in one transaction: an assignment made meanwhile (by the server or
        // another CLI) is not overwritten with the caseworker list read here.
        std::optional<storage::SharedTransaction> tx;
        try {
            tx.emplace(policies);
        } catch (const storage::Error& e) {
            throw AdminError(
                AdminErrorCode::storage, "",
                "The survivor record cannot be changed now (" + std::string(e.what()) + ")");
        }
        auto record = policies.find_survivor(code);
        if (!record) {
            throw AdminError(AdminErrorCode::not_found, case_field,
                             case_field + ": no survivor has this case code.");
        }
        if (by.role != policies::Role::admin) {
            if (std::find(record->caseworkers.begin(), record->caseworkers.end(), by.account) ==
                record->caseworkers.end()) {
                throw AdminError(
                    AdminErrorCode::refused, case_field,
                    case_field +
                        ": a caseworker may change only the record of a survivor assigned "
                        "to her.");
            }
            // Opening, closing and moving a case between teams are the organisation's decisions.
            for (const auto& [given, name] : {std::pair{args.status.has_value(), "status"},
                                              std::pair{args.team.has_value(), "team"}}) {
                if (given) {
                    throw AdminError(AdminErrorCode::refused, name,
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
                throw AdminError(AdminErrorCode::invalid_field, "status",
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
                    throw AdminError(
                        AdminErrorCode::invalid_field, "pause_until",
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
            throw AdminError(
                AdminErrorCode::storage, "",
                "The survivor record could not be saved (" + std::string(e.what()) + ")");
        }
        return survivor_record_json(*stored, now);
    });
}

nlohmann::json survivor_record_json(const policies::Survivor& s, policies::Instant now) {
    return translating_errors([&]() -> json {
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
    });
}

nlohmann::json consent_records_json(policies::PolicyStore& policies, const policies::CaseCode& code,
                                    const std::string& case_field) {
    return translating_errors([&]() -> json {
        if (!policies.find_survivor(code)) {
            throw AdminError(AdminErrorCode::not_found, case_field,
                             case_field + ": no survivor has this case code.");
        }
        auto history = policies.consent_history(code);
        json records = json::array();
        for (const auto& r : history) {
            json e = {
                {"version", r.version},
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
        auto now = policies::now_utc();
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
    });
}

}  // namespace ariadne::gateway
