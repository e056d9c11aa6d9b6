// Staff sessions of the admin HTTP API (private to gateway/admin): login with password
// (Argon2id) + TOTP of a caseworker account, throttled per username and per client address
// (500 ms doubling); a session token (32 random bytes, base64url) valid 15 minutes, held in
// memory only (a restart logs everyone out). A TOTP step cannot be reused within a process.
// A token of an account disabled since (here or by the CLI) ends at its next use (fail
// closed). Thread-safe: one mutex guards the tokens; the throttle has its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ariadne/core/rate_limits.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/policies/clock.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

class StaffSessions {
  public:
    /// `store`, `key`, `policies` and `clock` (the wall clock TOTP codes are checked against)
    /// must outlive the sessions.
    StaffSessions(const Store& store, const ServerKey& key, const policies::PolicyStore& policies,
                  const policies::Clock& clock);

    struct Login {
        enum class Outcome { ok, rate_limited, disabled, failed } outcome = Outcome::failed;
        std::string token;                // ok: the bearer token
        std::string account;              // ok: her account id
        std::string role;                 // ok: "admin" or "caseworker"
        std::int64_t retry_after_ms = 0;  // rate_limited / failed: the wait before the next try
    };
    /// Checks `username`, `password` and `totp` from `peer` (the client address). `disabled`
    /// is said only to someone holding her password and a valid code (no account oracle).
    /// Throws storage::Error when the accounts cannot be read.
    Login login(const std::string& username, const std::string& password, const std::string& totp,
                const std::string& peer);

    /// The staff member a bearer token belongs to, or nullopt (unknown, expired, or her account
    /// is disabled; a disabled one's token is dropped).
    std::optional<policies::Actor> authenticate(const std::string& token);

    /// Ends every session of `account` now (after a reset of her credentials).
    void end_sessions_of(const std::string& account);

  private:
    struct Token {
        std::string account;
        AccountKey key = 0;
        policies::Role role;
        std::chrono::steady_clock::time_point expires;
    };
    const Store& store_;
    const ServerKey& key_;
    const policies::PolicyStore& policies_;
    const policies::Clock& clock_;
    std::string dummy_hash_;  // verified for unknown usernames: the same time as a real one
    AuthThrottle throttle_;
    std::mutex mutex_;
    std::map<std::string, Token> tokens_;
    std::map<std::string, std::uint64_t> last_step_;
};

}  // namespace ariadne::gateway
