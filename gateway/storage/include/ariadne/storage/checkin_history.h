// What the gateway reads and purges of the check-in slots the scheduler keeps
// (policies_checkin_occurrences, created by the check-in scheduler in policies/): the state
// of her latest slot, or of a plan whose first slot is still to come, for her caseworkers'
// console, and the retention purge of closed slots.
//
// The table lives in the policy store's database, on its connection (policy_connection.h).
// Thread safety: safe from any thread (every method holds the store's lock); must not outlive
// the store.
// Errors: every method throws storage::Error when SQLite fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ariadne/policies/values.h"
#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

/// An active plan none of whose slots is recorded yet: its first check-in is still to come
/// (held while no channel of it can reach her, checkin.h).
struct FirstCheckinPending {
    std::int64_t plan_id = 0;
    /// When its next slot is due (the start of the window), if one is scheduled.
    std::optional<policies::Instant> next_due;
};

class CheckinHistory {
  public:
    explicit CheckinHistory(const policies::PolicyStore& store);

    /// The state ("sent", "responded", "missed", ...) of the slot of case `code` whose window
    /// starts last, or nullopt when she has none.
    std::optional<std::string> latest_state(const policies::CaseCode& code) const;
    /// The same slot's reason code (why it was denied, skipped, not answered…; "" when none).
    std::optional<std::string> latest_reason(const policies::CaseCode& code) const;
    /// The newest active plan of case `code` that has no recorded slot, or nullopt when she
    /// has none (no plan, paused or stopped plans only, or every plan has had a slot).
    std::optional<FirstCheckinPending> first_checkin_pending(const policies::CaseCode& code) const;
    /// Whether she chose to have her caseworkers alerted about missed check-ins: one of her
    /// plans that is not stopped has alert target `caseworker`.
    bool alerts_caseworkers(const policies::CaseCode& code) const;
    /// Deletes the slots whose window ended before `cutoff`, except open ones (claimed, or
    /// sent and waiting for her answer). Returns how many were deleted: 0 also when another
    /// node sharing the database (PostgreSQL) is purging at this moment (it skips the round).
    std::int64_t purge_closed_before(policies::Instant cutoff);

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
