// What administrators list: staff accounts, survivor cases, check-in plans and an account's
// devices, read from the gateway's tables (accounts, caseworkers, disabled_accounts, devices,
// gateway_caseworker_initials, gateway_account_roles, policies_survivors,
// policies_survivor_caseworkers, policies_checkin_plans) on the policy store's connection.
//
// Only what is stored in clear is read: ids, usernames, initials, case codes, languages,
// statuses, team ids and times. No name, phone number, key or secret is read.
// Thread safety: safe from any thread (every method holds the store's lock). Errors:
// storage::Error when the database cannot be read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

struct CaseworkerListing {
    std::string account;
    std::string username;
    std::string initials;            // empty when none was stored
    std::string role;                // as stored in gateway_account_roles; empty when none was
    std::vector<std::string> teams;  // the teams of the cases assigned to her, sorted
    bool disabled = false;
    std::int64_t devices = 0;
};

struct SurvivorListing {
    std::string case_code;
    std::string initials;
    std::string language;
    std::string status;
    std::optional<std::string> team;
};

struct PlanListing {
    std::int64_t plan_id = 0;
    std::string case_code;
    std::string status;
    std::optional<std::int64_t> next_due_us;  // Unix microseconds; none when nothing is due
};

struct DeviceListing {
    std::uint32_t device = 0;
    std::int64_t created_ms = 0;  // Unix ms when it was registered or bound
};

class AdminListings {
  public:
    /// `store` must outlive this object.
    explicit AdminListings(const policies::PolicyStore& store) : store_(store) {}

    /// Every caseworker account (admins included), by username.
    std::vector<CaseworkerListing> caseworkers() const;
    /// Every survivor case, by case code.
    std::vector<SurvivorListing> survivors() const;
    /// Every check-in plan, by plan id.
    std::vector<PlanListing> checkin_plans() const;
    /// The case codes caseworker account `account_id` is assigned to, sorted.
    std::vector<std::string> cases_of(const std::string& account_id) const;
    /// The devices of account `account_id`, by device id; none when no account has the id.
    std::optional<std::vector<DeviceListing>> devices(const std::string& account_id) const;

  private:
    const policies::PolicyStore& store_;
};

}  // namespace ariadne::storage
