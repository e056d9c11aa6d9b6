// Staff logins and session tokens of the admin HTTP API (staff_sessions.h).
#include "staff_sessions.h"

#include <algorithm>

#include "ariadne/admin/operations.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/totp.h"

namespace ariadne::gateway {

namespace {

constexpr auto kTokenLifetime = std::chrono::minutes(15);

std::string new_token() {
    std::string token = crypto::base64_encode(crypto::random_bytes(32));
    for (char& c : token) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    while (!token.empty() && token.back() == '=') token.pop_back();
    return token;
}

}  // namespace

StaffSessions::StaffSessions(const Store& store, const ServerKey& key,
                             const policies::PolicyStore& policies, const policies::Clock& clock)
    : store_(store),
      key_(key),
      policies_(policies),
      clock_(clock),
      dummy_hash_(crypto::hash_password(crypto::base64_encode(crypto::random_bytes(18)))) {}

StaffSessions::Login StaffSessions::login(const std::string& username, const std::string& password,
                                          const std::string& totp, const std::string& peer) {
    Login out;
    const std::int64_t now = policies::unix_ms(clock_.now());
    const std::string ukey = "admin-u:" + username, pkey = "admin-ip:" + peer;
    std::int64_t wait = std::max(throttle_.remaining(ukey, now), throttle_.remaining(pkey, now));
    if (wait > 0) {
        out.outcome = Login::Outcome::rate_limited;
        out.retry_after_ms = wait;
        return out;
    }
    auto creds = store_.find_caseworker(username);
    bool ok = crypto::verify_password(password, creds ? creds->password_hash : dummy_hash_);
    std::optional<std::uint64_t> step;
    if (creds) {
        try {
            auto secret = key_.open(creds->account.id, creds->sealed_totp_secret);
            step = crypto::verify_totp(secret.view(), totp, static_cast<std::uint64_t>(now / 1000));
        } catch (const std::exception&) {
        }
    }
    if (ok && creds && step && store_.is_disabled(creds->account.key)) {
        out.outcome = Login::Outcome::disabled;
        return out;
    }
    std::lock_guard lock(mutex_);
    if (ok && creds && step) {
        auto& last = last_step_[creds->account.id];
        if (*step <= last)
            step.reset();
        else
            last = *step;
    }
    if (!ok || !creds || !step) {
        out.retry_after_ms = throttle_.fail(ukey, now);
        throttle_.fail(pkey, now);
        return out;
    }
    throttle_.reset(ukey);
    throttle_.reset(pkey);
    out.outcome = Login::Outcome::ok;
    out.token = new_token();
    out.account = creds->account.id;
    out.role = staff_role(policies_, creds->account.id);
    const auto steady_now = std::chrono::steady_clock::now();
    // Drop expired tokens (the map stays small: staff sessions).
    for (auto it = tokens_.begin(); it != tokens_.end();) {
        it = it->second.expires < steady_now ? tokens_.erase(it) : std::next(it);
    }
    tokens_[out.token] =
        Token{creds->account.id, creds->account.key,
              out.role == "admin" ? policies::Role::admin : policies::Role::caseworker,
              steady_now + kTokenLifetime};
    return out;
}

std::optional<policies::Actor> StaffSessions::authenticate(const std::string& token) {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end() || it->second.expires < std::chrono::steady_clock::now()) {
        return std::nullopt;
    }
    bool disabled = true;
    try {
        disabled = store_.is_disabled(it->second.key);
    } catch (const std::exception&) {
    }
    if (disabled) {
        tokens_.erase(it);
        return std::nullopt;
    }
    return policies::Actor{policies::AccountId(it->second.account), it->second.role};
}

void StaffSessions::end_sessions_of(const std::string& account) {
    std::lock_guard lock(mutex_);
    for (auto it = tokens_.begin(); it != tokens_.end();) {
        it = it->second.account == account ? tokens_.erase(it) : std::next(it);
    }
}

}  // namespace ariadne::gateway
