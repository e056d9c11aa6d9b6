// Login attempt budgets by client network address and for the whole server, on top of the
// per-name and per-connection delays (rate_limits.h). They bound how many credential checks
// an attacker gets however many connections, names or addresses it uses:
//
//   per address  — a token bucket: `address_burst` attempts, then `address_per_minute`.
//   global       — a token bucket shared by every address.
//   fresh lane   — when the global bucket is empty, an address with no failure in the last
//                  `dirty_for_ms` may still try, from a third (smaller) bucket: a flood from
//                  addresses that keep failing does not lock out people who log in rightly.
//
// An attempt takes a token before its credentials are checked (so simultaneous attempts
// cannot all pass the check first) and gets it back when it succeeds: legitimate logins cost
// nothing. The decision never depends on whether the account exists. Times are milliseconds
// on a caller-supplied clock (tests advance it). Thread-safe (one mutex; O(log n)). Nothing
// here throws but std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ariadne::gateway {

/// The key under which a client's connections and login attempts are counted: the IPv4
/// address (also for IPv4-mapped IPv6), or the /64 prefix of an IPv6 address
/// ("2001:db8:1:2::/64"), since one IPv6 client usually holds a whole /64. Text that is not
/// an IP address is returned as is. Throws nothing but std::bad_alloc.
std::string client_address_key(const std::string& address);

struct LoginBudgetOptions {
    double address_per_minute = 10;
    double address_burst = 5;
    double global_per_minute = 300;
    double global_burst = 100;
    double fresh_per_minute = 60;
    double fresh_burst = 30;
    std::int64_t dirty_for_ms = 10 * 60 * 1000;  // a failure marks the address this long
    // Addresses remembered. When full, addresses whose state carries no information are
    // forgotten; if none is, new addresses share one bucket (fail closed, bounded memory).
    std::size_t max_addresses = 65536;
};

class LoginBudget {
  public:
    explicit LoginBudget(LoginBudgetOptions options = {}) : options_(options) {}

    /// What admit() decided; hand it back to succeeded() or failed().
    struct Ticket {
        bool admitted = false;
        std::int64_t retry_after_ms = 0;  // when refused: time until a token is expected
        std::string address;
        enum class Lane { none, global, fresh } lane = Lane::none;
    };

    /// Takes one attempt for `address` (client_address_key above) at `now_ms`.
    Ticket admit(std::string_view address, std::int64_t now_ms);
    /// The attempt succeeded: its tokens are given back.
    void succeeded(const Ticket& ticket, std::int64_t now_ms);
    /// The attempt failed: the address loses the fresh lane for `dirty_for_ms`. Returns the
    /// milliseconds until the address has a token again (0 if it has one now).
    std::int64_t failed(const Ticket& ticket, std::int64_t now_ms);

    /// Addresses currently remembered (tests of the table bound).
    std::size_t addresses() const;

  private:
    struct Bucket {
        double tokens;
        std::int64_t last_ms;
        void refill(std::int64_t now_ms, double per_minute, double burst);
        std::int64_t wait_ms(double per_minute) const;
    };
    struct Address {
        Bucket bucket;
        std::int64_t last_failure_ms = 0;
        bool failed_once = false;
    };
    Address& entry_locked(std::string_view address, std::int64_t now_ms);
    bool dirty(const Address& a, std::int64_t now_ms) const;

    LoginBudgetOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, Address, std::less<>> addresses_;
    Address overflow_{};
    bool overflow_init_ = false;
    Bucket global_{-1, 0};
    Bucket fresh_{-1, 0};
};

}  // namespace ariadne::gateway
