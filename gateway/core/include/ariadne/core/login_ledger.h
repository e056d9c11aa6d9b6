// Failed logins counted across the gateway nodes that share one database. Each node keeps
// its own limits in memory (rate_limits.h, login_budget.h); with a LoginLedger a node also
// records every failure there and, before checking an attempt, reads the failures every
// node recorded for its name and its client address, and applies the same rules to them:
//
//   per name     — the growing delay of Backoff (500 ms doubling per failure, capped at
//                  60 s) after the newest failure, counting the failures of the last hour
//                  (AuthThrottle forgets a name after an hour without failures).
//   per address  — the token bucket of LoginBudget (`address_burst`, then
//                  `address_per_minute`), checked against the failures of the last ten
//                  minutes: no interval ending now may hold more failures than the bucket
//                  lets through in it.
//
// The global and fresh-lane buckets stay per node. The ledger holds keyed hashes only (the
// Session hashes each key with the server key before it gets here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/core/login_budget.h"

namespace ariadne::gateway {

/// Where the nodes' failures are recorded. Implemented over the shared database
/// (ariadne/services/stored_login_ledger.h); must be safe to call from any thread.
class LoginLedger {
  public:
    virtual ~LoginLedger() = default;

    /// The times (Unix ms) of up to `limit` failures recorded under `key` at or after
    /// `since_ms` by any node, newest first. Throws (a std::exception) if the ledger cannot
    /// be read; callers then refuse the attempt.
    virtual std::vector<std::int64_t> failures(std::string_view key, std::int64_t since_ms,
                                               std::size_t limit) const = 0;
    /// Records one failure at `at_ms` under each of `keys`. Only queues the write: never
    /// blocks, never throws (a failure that cannot be recorded is logged, without its keys).
    virtual void record_failure(std::vector<std::string> keys, std::int64_t at_ms) noexcept = 0;
    /// Forgets the failures recorded under `key` (a successful login). Only queues; never
    /// throws.
    virtual void clear(std::string key) noexcept = 0;
};

/// The waits the login limits impose when computed from shared failure times. Pure
/// functions of their arguments: thread-safe, throw nothing.
class SharedLoginLimits {
  public:
    /// Failures older than this no longer count for a name (the longest window: the
    /// ledger may forget rows older than it).
    static constexpr std::int64_t kNameWindowMs = 60 * 60 * 1000;
    /// The name delay stops growing at the 8th failure (500 ms · 2^7 > 60 s): no more rows
    /// are worth reading.
    static constexpr std::size_t kNameRows = 8;
    static constexpr std::int64_t kAddressWindowMs = 10 * 60 * 1000;

    explicit SharedLoginLimits(const LoginBudgetOptions& budget) noexcept : budget_(budget) {}

    /// How many of an address's newest failures decide its wait: one more than its bucket
    /// lets through in kAddressWindowMs (at most 1000).
    std::size_t address_rows() const noexcept;

    /// Milliseconds from `now_ms` until the name with these failures (times newest first,
    /// within kNameWindowMs) may try again; 0: now.
    static std::int64_t name_wait(std::span<const std::int64_t> newest_first,
                                  std::int64_t now_ms) noexcept;
    /// Milliseconds from `now_ms` until the address with these failures (times newest
    /// first, within kAddressWindowMs) has a token again; 0: now.
    std::int64_t address_wait(std::span<const std::int64_t> newest_first,
                              std::int64_t now_ms) const noexcept;

  private:
    LoginBudgetOptions budget_;
};

}  // namespace ariadne::gateway
