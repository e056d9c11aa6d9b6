// Rate limits: the growing delay after failed logins (per account key and per connection)
// and the per-account send token bucket. Times are milliseconds on a caller-supplied clock
// so tests can advance time. Thread-safe (one mutex each; operations are O(log n)). Nothing
// here throws but std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ariadne::gateway {

/// Failure count and the time before which the next attempt is refused.
struct Backoff {
    std::uint32_t failures = 0;
    std::int64_t next_allowed_ms = 0;

    /// Records a failure at `now_ms`: the delay is 500 ms doubling per failure, capped at
    /// 60 s. Returns the delay.
    std::int64_t fail(std::int64_t now_ms) noexcept;
    /// Milliseconds until an attempt is allowed (0 if allowed now).
    std::int64_t remaining(std::int64_t now_ms) const noexcept;
    /// The delay after `failures` failures (0 for none): 500 ms doubling, capped at 60 s.
    static std::int64_t delay_after(std::uint32_t failures) noexcept;
};

/// Login backoff keyed by what the attempt names (username, locator, account id). Entries
/// idle for an hour are forgotten, and the table is bounded so random names cannot grow it
/// without limit.
class AuthThrottle {
  public:
    explicit AuthThrottle(std::size_t max_entries = 100000) : max_entries_(max_entries) {}

    /// Milliseconds until `key` may try again (0: now).
    std::int64_t remaining(std::string_view key, std::int64_t now_ms);
    /// Records a failure; returns the new delay for `key`.
    std::int64_t fail(std::string_view key, std::int64_t now_ms);
    /// A success resets `key`.
    void reset(std::string_view key);
    /// Replaces what is known of `key` by `failures` failures, the newest at
    /// `last_failure_ms` (none: reset): the count that nodes sharing a database keep
    /// (login_ledger.h), so that this node's next failure continues it.
    void adopt(std::string_view key, std::uint32_t failures, std::int64_t last_failure_ms);

  private:
    void prune(std::int64_t now_ms);
    std::mutex mutex_;
    std::map<std::string, Backoff, std::less<>> entries_;
    std::size_t max_entries_;
};

/// Token bucket per account: `rate_per_second` refill, `burst` capacity.
class SendLimiter {
  public:
    SendLimiter(double rate_per_second = 50, double burst = 200)
        : rate_(rate_per_second), burst_(burst) {}
    /// Takes one token for `account`. Returns 0 if allowed, else milliseconds to wait.
    std::int64_t take(std::string_view account, std::int64_t now_ms);

  private:
    struct Bucket {
        double tokens;
        std::int64_t last_ms;
    };
    std::mutex mutex_;
    std::map<std::string, Bucket, std::less<>> buckets_;
    double rate_;
    double burst_;
};

}  // namespace ariadne::gateway
