// What administrators list and undo (operations.h): staff accounts, survivor cases, check-in
// plans, devices, device revocation, unassignment, and the audit entry as both surfaces show it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/core/devices.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/admin_listings.h"

namespace ariadne::gateway {

using nlohmann::json;

std::string format_utc_ms(std::int64_t unix_ms) {
    auto secs = static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    auto ms = static_cast<int>(unix_ms - static_cast<std::int64_t>(secs) * 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms);
    return buf;
}

namespace {

void require_id(const std::string& id, const std::string& field) {
    if (!is_account_id(id)) {
        throw AdminError(AdminErrorCode::invalid_field, field,
                         field + ": must be an account id (a_ + 22 characters).");
    }
}

}  // namespace

nlohmann::json list_caseworkers(const policies::PolicyStore& policies) {
    return translating_errors([&]() -> json {
        json rows = json::array();
        for (auto& c : storage::AdminListings(policies).caseworkers()) {
            rows.push_back({{"account", c.account},
                            {"username", c.username},
                            {"initials", c.initials.empty() ? json(nullptr) : json(c.initials)},
                            {"role", c.role == "admin" ? "admin" : "caseworker"},
                            {"teams", c.teams},
                            {"disabled", c.disabled},
                            {"devices", c.devices}});
        }
        return json({{"caseworkers", rows}});
    });
}

nlohmann::json list_survivors(const policies::PolicyStore& policies) {
    return translating_errors([&]() -> json {
        json rows = json::array();
        for (auto& s : storage::AdminListings(policies).survivors()) {
            rows.push_back({{"case_code", s.case_code},
                            {"initials", s.initials},
                            {"language", s.language},
                            {"status", s.status},
                            {"team", s.team ? json(*s.team) : json(nullptr)}});
        }
        return json({{"survivors", rows}});
    });
}

nlohmann::json list_checkin_plans(const policies::PolicyStore& policies) {
    return translating_errors([&]() -> json {
        json rows = json::array();
        for (auto& p : storage::AdminListings(policies).checkin_plans()) {
            json row = {{"plan_id", p.plan_id},
                        {"case_code", p.case_code},
                        {"status", p.status},
                        {"next_slot_at", nullptr},
                        {"next_slot_at_ms", nullptr}};
            if (p.next_due_us) {
                std::int64_t ms = *p.next_due_us / 1000;
                row["next_slot_at"] = format_utc_ms(ms);
                row["next_slot_at_ms"] = ms;
            }
            rows.push_back(std::move(row));
        }
        return json({{"plans", rows}});
    });
}

nlohmann::json list_devices(const Store& store, const policies::PolicyStore& policies,
                            const std::string& id, const std::string& field) {
    return translating_errors([&]() -> json {
        require_id(id, field);
        auto account = store.find_account(id);
        auto devices = storage::AdminListings(policies).devices(id);
        if (!account || !devices) {
            throw AdminError(AdminErrorCode::not_found, field, field + ": no account has this id.");
        }
        json rows = json::array();
        for (const auto& d : *devices) {
            // A survivor's device 1 is her app; her others are the gateway's own edge devices
            // (SMS, web page). A caseworker's devices are consoles.
            const char* kind = account->role == Role::caseworker ? "console"
                               : d.device == kAppDevice          ? "app"
                                                                 : "edge";
            rows.push_back({{"device_id", d.device},
                            {"kind", kind},
                            {"registered_at", format_utc_ms(d.created_ms)},
                            {"registered_at_ms", d.created_ms}});
        }
        return json({{"account", id}, {"role", to_string(account->role)}, {"devices", rows}});
    });
}

nlohmann::json revoke_caseworker_device(Store& store, policies::PolicyStore& policies,
                                        const std::string& id, std::int64_t device,
                                        const std::string& actor, const std::string& field,
                                        const std::string& device_field) {
    return translating_errors([&]() -> json {
        require_id(id, field);
        if (device < 1 || device > 2147483647) {
            throw AdminError(AdminErrorCode::invalid_field, device_field,
                             device_field + ": must be a device id, 1 or more.");
        }
        auto account = store.find_account(id);
        if (!account || account->role != Role::caseworker) {
            throw AdminError(AdminErrorCode::not_found, field,
                             field +
                                 ": no caseworker account has this id (a survivor's lost "
                                 "phone is survivor-recode's).");
        }
        if (!store.revoke_caseworker_device(id, static_cast<std::uint32_t>(device))) {
            throw AdminError(AdminErrorCode::not_found, device_field,
                             device_field + ": this account has no device with this id.");
        }
        auto now = policies::now_utc();
        // Metadata only: who, which account (as the reason token), what.
        policies.append_audit(actor, "device.revoked", "", "done", id, now);
        // Her team: the caseworkers of the cases assigned to her, told on each case's alert
        // list (neutral: no name, no reason).
        auto cases = storage::AdminListings(policies).cases_of(id);
        AlertBoard board(policies);
        for (const auto& c : cases) {
            board.raise(policies::CaseCode(c), AlertKind::device_revoked, now);
        }
        return json({{"account", id},
                     {"device_id", device},
                     {"revoked", true},
                     {"cases_alerted", cases.size()}});
    });
}

nlohmann::json unassign_caseworker(Store& store, policies::PolicyStore& policies,
                                   const std::string& survivor, const std::string& caseworker,
                                   const policies::Actor& by) {
    return translating_errors([&]() -> json {
        require_id(survivor, "survivor");
        require_id(caseworker, "caseworker");
        auto her = store.find_account(survivor);
        auto c = her && her->role == Role::survivor ? find_survivor_case(policies, survivor)
                                                    : std::nullopt;
        if (!her || her->role != Role::survivor || (c && c->duress_account)) {
            throw AdminError(AdminErrorCode::not_found, "survivor",
                             "survivor: no survivor account has this id.");
        }
        auto them = store.find_account(caseworker);
        if (!them || them->role != Role::caseworker) {
            throw AdminError(AdminErrorCode::not_found, "caseworker",
                             "caseworker: no caseworker account has this id.");
        }
        std::optional<policies::Survivor> record;
        if (c) record = policies.find_survivor(c->case_code);
        policies::AccountId cw(caseworker, "caseworker");
        bool on_record = record && std::find(record->caseworkers.begin(), record->caseworkers.end(),
                                             cw) != record->caseworkers.end();
        if (!on_record && !store.shares_assignment(*her, *them)) {
            throw AdminError(AdminErrorCode::not_found, "caseworker",
                             "caseworker: is not assigned to her.");
        }
        // Fail closed: without a caseworker her messages would reach no one and her alerts
        // (a duress alert included) would be shown to no one.
        if (record && on_record && record->caseworkers.size() <= 1) {
            throw AdminError(AdminErrorCode::refused, "caseworker",
                             "caseworker: is her only caseworker; assign another first (without "
                             "a caseworker her messages and alerts would reach no one).");
        }
        store.unassign(survivor, caseworker);
        json line = {{"survivor", survivor}, {"caseworker", caseworker}};
        if (record && on_record) {
            record->caseworkers.erase(
                std::remove(record->caseworkers.begin(), record->caseworkers.end(), cw),
                record->caseworkers.end());
            policies.update_survivor(*record, by, policies::now_utc());
        }
        if (c) line["case_code"] = c->case_code.str();
        return line;
    });
}

nlohmann::json audit_entry_json(const policies::AuditEntry& e) {
    std::int64_t us = policies::to_micros(e.at);
    return json({{"seq", e.seq},
                 {"at", format_utc_ms(us / 1000)},
                 {"at_ms", us / 1000},
                 {"at_us", us},
                 {"actor", e.actor},
                 {"action", e.action},
                 {"case_code", e.case_code},
                 {"decision", e.decision},
                 {"reason", e.reason},
                 {"hash", policies::to_hex(e.hash)}});
}

}  // namespace ariadne::gateway
