// A Session's authentication: login challenges, device registration, device and survivor
// logins, the delays and budgets that throttle failed attempts, and disabled accounts.
#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/totp.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

namespace {

constexpr std::int64_t kChallengeLifetimeMs = 60000;
constexpr const char* kAuthFailedMessage = "The credentials are not valid.";
constexpr const char* kRevokedMessage =
    "This device was revoked by your organisation's administrator; log in again as a new "
    "device.";
constexpr const char* kDisabledMessage =
    "This account is disabled; ask your organisation's administrator.";

}  // namespace

void Session::handle_challenge(std::int64_t id, std::uint64_t slot) {
    challenge_ = crypto::random_bytes(32);
    challenge_expires_ms_ = gateway_.now_ms() + kChallengeLifetimeMs;
    complete_locked(slot, encode_ok(id, {{"challenge", crypto::base64_encode(challenge_)},
                                         {"expires_in", kChallengeLifetimeMs / 1000}}));
}

std::optional<Bytes> Session::take_challenge() {
    std::lock_guard lock(mutex_);
    // One attempt per challenge, success or failure.
    Bytes challenge = std::move(challenge_);
    challenge_.clear();
    if (challenge.empty() || gateway_.now_ms() > challenge_expires_ms_) return std::nullopt;
    return challenge;
}

std::int64_t Session::throttled_for(const std::string& key) {
    std::int64_t now = gateway_.now_ms();
    std::int64_t by_key = gateway_.auth_throttle_.remaining(key, now);
    std::lock_guard lock(mutex_);
    return std::max(by_key, connection_backoff_.remaining(now));
}

std::string Session::ledger_key(std::string_view key) const {
    return crypto::hex_encode(gateway_.server_key_.mac("login failures", crypto::as_bytes(key)));
}

Session::SharedFailures Session::read_shared_failures(const std::string& key) {
    const LoginLedger& ledger = *gateway_.options_.login_ledger;
    const SharedLoginLimits limits(gateway_.options_.login_budget);
    const std::int64_t now = gateway_.now_ms();
    SharedFailures shared;
    shared.name_key = ledger_key(key);
    shared.name = ledger.failures(shared.name_key, now - SharedLoginLimits::kNameWindowMs,
                                  SharedLoginLimits::kNameRows);
    if (peer_) {
        // "p:" keeps an address apart from every name key ("u:", "a:", "l:").
        shared.address_key = ledger_key("p:" + *peer_);
        shared.address = ledger.failures(
            shared.address_key, now - SharedLoginLimits::kAddressWindowMs, limits.address_rows());
    }
    return shared;
}

bool Session::refuse_throttled(std::int64_t id, const std::string& key, std::uint64_t slot) {
    std::int64_t wait = throttled_for(key);
    std::unique_ptr<SharedFailures> shared;
    if (wait == 0 && gateway_.options_.login_ledger != nullptr) {
        try {
            shared = std::make_unique<SharedFailures>(read_shared_failures(key));
        } catch (const std::exception&) {
            // Fail closed: without the other nodes' failures this attempt could be one more
            // guess than the limits allow. storage_unavailable rather than rate_limited: the
            // ledger is the database every login reads anyway, and there is no honest
            // retry_after_ms to give; the answer is the same whether the account exists.
            complete(slot, storage_unavailable(id), true, false);
            return true;
        }
        const SharedLoginLimits limits(gateway_.options_.login_budget);
        const std::int64_t now = gateway_.now_ms();
        wait = std::max(SharedLoginLimits::name_wait(shared->name, now),
                        limits.address_wait(shared->address, now));
        // This node's count becomes the shared one: a success on another node resets it
        // here too, and this node's next failure continues the shared count. (The local
        // delay, checked first, still covers the moment before a failure's row commits.)
        gateway_.auth_throttle_.adopt(key, static_cast<std::uint32_t>(shared->name.size()),
                                      shared->name.empty() ? 0 : shared->name.front());
    }
    if (wait == 0 && peer_) {
        // Taken before the check, so simultaneous attempts cannot all be checked first.
        auto ticket = gateway_.login_budget_.admit(*peer_, gateway_.now_ms());
        if (ticket.admitted) {
            std::lock_guard lock(mutex_);
            login_ticket_ = std::move(ticket);
        } else {
            wait = std::max<std::int64_t>(1, ticket.retry_after_ms);
        }
    }
    if (wait == 0) {
        std::lock_guard lock(mutex_);
        shared_failures_ = std::move(shared);
        return false;
    }
    gateway_.metrics().rate_limited.fetch_add(1, std::memory_order_relaxed);
    complete(slot,
             error_frame(id, ErrorCode::rate_limited,
                         "Too many failed attempts; wait before trying again.",
                         {{"retry_after_ms", wait}}),
             true, false);
    return true;
}

std::string Session::auth_failure(std::int64_t id, const std::string& key) {
    std::int64_t now = gateway_.now_ms();
    std::int64_t delay = gateway_.auth_throttle_.fail(key, now);
    std::optional<LoginBudget::Ticket> ticket;
    std::unique_ptr<SharedFailures> shared;
    {
        std::lock_guard lock(mutex_);
        delay = std::max(delay, connection_backoff_.fail(now));
        ticket = std::exchange(login_ticket_, std::nullopt);
        shared = std::move(shared_failures_);
    }
    if (ticket) delay = std::max(delay, gateway_.login_budget_.failed(*ticket, now));
    if (shared) {
        // The name's delay came from the shared count (adopted above); the address's, as
        // every node will compute it with this failure.
        if (!shared->address_key.empty()) {
            shared->address.insert(shared->address.begin(), now);
            const SharedLoginLimits limits(gateway_.options_.login_budget);
            delay = std::max(delay, limits.address_wait(shared->address, now));
        }
        std::vector<std::string> keys{std::move(shared->name_key)};
        if (!shared->address_key.empty()) keys.push_back(std::move(shared->address_key));
        gateway_.options_.login_ledger->record_failure(std::move(keys), now);
    }
    gateway_.metrics().auth_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("authentication failed (retry after {} ms)", delay);
    return error_frame(id, ErrorCode::auth_failed, kAuthFailedMessage, {{"retry_after_ms", delay}});
}

void Session::auth_success(std::int64_t id, const std::string& key, Account account,
                           std::uint32_t device, Bytes identity_key, std::uint64_t slot,
                           bool new_installation) {
    gateway_.auth_throttle_.reset(key);
    std::optional<LoginBudget::Ticket> ticket;
    std::unique_ptr<SharedFailures> shared;
    {
        std::lock_guard lock(mutex_);
        ticket = std::exchange(login_ticket_, std::nullopt);
        shared = std::move(shared_failures_);
    }
    if (ticket) gateway_.login_budget_.succeeded(*ticket, gateway_.now_ms());
    // Her name's failures are forgotten on every node, as AuthThrottle::reset does here;
    // the address's stay, as the address budget keeps them.
    if (shared) gateway_.options_.login_ledger->clear(std::move(shared->name_key));
    std::shared_ptr<Session> self = shared_from_this();
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        connection_backoff_ = Backoff{};
        authenticated_ = true;
        account_ = account;
        device_ = device;
        identity_key_ = std::move(identity_key);
    }
    gateway_.metrics().sessions_authenticated.fetch_add(1, std::memory_order_relaxed);
    // Registered before the first mailbox read, so no commit falls between the two.
    gateway_.register_online({account.key, device}, self);
    gateway_.announce_login({account.key, device});
    // Debug only: next to an alert line, an account id at the default level would say whose
    // login raised it (a duress login is an ordinary login here).
    spdlog::debug("session authenticated: account {} device {}", account.id, device);
    gateway_.workers_.post([self, account, new_installation] {
        self->gateway_.policy_->on_login(account, new_installation);
    });
    std::lock_guard lock(mutex_);
    busy_ = false;
    complete_locked(slot, encode_ok(id, {{"account", account.id},
                                         {"device_id", device},
                                         {"role", to_string(account.role)}}));
    backlog_ = true;
    start_fetch_locked();
    pump_locked();
}

bool Session::refuse_disabled(std::int64_t id, const Account& account, std::uint64_t slot) {
    if (account.role != Role::caseworker) return false;
    bool disabled = true;  // fail closed
    try {
        disabled = gateway_.store_.is_disabled(account.key);
    } catch (const std::exception&) {
        complete(slot, storage_unavailable(id), true, false);
        return true;
    }
    if (!disabled) return false;
    spdlog::info("login refused: account {} is disabled", account.id);
    complete(slot, error_frame(id, ErrorCode::account_disabled, kDisabledMessage), true, false);
    return true;
}

bool Session::end_if_disabled_locked(std::int64_t id, std::uint64_t slot) {
    // An administrator may disable a caseworker while she is connected (possibly from the
    // CLI, another process): every request of hers checks the flag (one indexed read), and
    // the first one after the change ends the connection.
    // A revoked console device (device-revoke) ends the same way, and its row is gone.
    if (account_.role != Role::caseworker) return false;
    bool disabled = true;  // fail closed when the flag cannot be read
    bool revoked = true;
    try {
        disabled = gateway_.store_.is_disabled(account_.key);
        revoked = !gateway_.store_.find_device(account_.key, device_);
    } catch (const std::exception&) {
    }
    if (!disabled && !revoked) return false;
    spdlog::info("session of {} account {} device {} closed", disabled ? "disabled" : "revoked",
                 account_.id, device_);
    complete_locked(slot, disabled ? error_frame(id, ErrorCode::account_disabled, kDisabledMessage)
                                   : error_frame(id, ErrorCode::auth_failed, kRevokedMessage));
    if (output_) output_->close(kClosePolicy, disabled ? "account disabled" : "device revoked");
    return true;
}

void Session::handle_register(std::int64_t id, RegisterDeviceRequest r, std::uint64_t slot) {
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, r = std::move(r), slot]() mutable {
        Gateway& g = self->gateway_;
        const std::string key = "u:" + r.username;
        if (self->refuse_throttled(id, key, slot)) return;
        auto challenge = self->take_challenge();
        std::optional<CaseworkerCredentials> creds;
        try {
            creds = g.store_.find_caseworker(r.username);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
            return;
        }
        // Always run Argon2id, against a dummy hash for unknown usernames (no timing oracle).
        bool password_ok = false;
        try {
            password_ok = crypto::verify_password(
                r.password, creds ? creds->password_hash : g.dummy_password_hash_);
        } catch (const std::exception&) {
            password_ok = false;
        }
        std::optional<std::uint64_t> step;
        if (creds) {
            try {
                auto secret = g.server_key_.open(creds->account.id, creds->sealed_totp_secret);
                step = crypto::verify_totp(secret.view(), r.totp,
                                           static_cast<std::uint64_t>(g.now_ms() / 1000),
                                           g.options_.totp_window);
            } catch (const std::exception&) {
                step.reset();
            }
        }
        bool signature_ok = challenge && verify_signature(r.identity_key, *challenge, r.signature);
        bool ok = creds && password_ok && step && *step > creds->last_totp_step && signature_ok &&
                  valid_public_key(r.identity_key);
        if (!ok) {
            self->complete(slot, self->auth_failure(id, key), true, false);
            return;
        }
        // Said only to someone holding her password and a fresh code (no account oracle).
        if (self->refuse_disabled(id, creds->account, slot)) return;
        Account account = creds->account;
        Bytes identity_key = r.identity_key;
        g.store_.add_caseworker_device(
            account.key, *step, r.identity_key, r.registration_id,
            [self, id, key, account, identity_key, slot](CommitStatus status,
                                                         std::uint32_t device) mutable {
                if (status == CommitStatus::committed) {
                    spdlog::info("device {} registered for account {}", device, account.id);
                    self->auth_success(id, key, account, device, std::move(identity_key), slot);
                } else if (status == CommitStatus::rejected) {
                    // The TOTP step was used meanwhile (replay).
                    self->complete(slot, self->auth_failure(id, key), true, false);
                } else {
                    self->complete(slot, storage_unavailable(id), true, false);
                }
            });
    });
}

void Session::handle_auth_device(std::int64_t id, AuthDeviceRequest r, std::uint64_t slot) {
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, r = std::move(r), slot] {
        Gateway& g = self->gateway_;
        const std::string key = "a:" + r.account;
        if (self->refuse_throttled(id, key, slot)) return;
        auto challenge = self->take_challenge();
        std::optional<Account> account;
        std::optional<DeviceRecord> device;
        try {
            account = g.store_.find_account(r.account);
            if (account) device = g.store_.find_device(account->key, r.device_id);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
            return;
        }
        if (!challenge || !account || !device ||
            !verify_signature(device->identity_key, *challenge, r.signature)) {
            self->complete(slot, self->auth_failure(id, key), true, false);
            return;
        }
        if (self->refuse_disabled(id, *account, slot)) return;
        self->auth_success(id, key, *account, device->device_id, device->identity_key, slot);
    });
}

void Session::handle_auth_survivor(std::int64_t id, AuthSurvivorRequest r, std::uint64_t slot) {
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, r = std::move(r), slot] {
        Gateway& g = self->gateway_;
        const std::string key = "l:" + crypto::hex_encode(r.locator);
        if (self->refuse_throttled(id, key, slot)) return;
        auto challenge = self->take_challenge();
        std::optional<SurvivorCredentials> creds;
        try {
            creds = g.store_.find_survivor(r.locator);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
            return;
        }
        // An installation key must be proven like her login key: a copied public key alone
        // must not pass for her phone.
        const bool installation_ok =
            r.installation_key.empty() ||
            (challenge && valid_public_key(r.installation_key) &&
             verify_signature(r.installation_key, *challenge, r.installation_signature));
        if (!challenge || !creds || !valid_public_key(r.identity_key) ||
            !verify_signature(creds->auth_public_key, *challenge, r.signature) ||
            !installation_ok) {
            self->complete(slot, self->auth_failure(id, key), true, false);
            return;
        }
        Account account = creds->account;
        Bytes identity_key = r.identity_key;
        g.store_.bind_survivor_device(
            account.key, r.identity_key, r.registration_id, r.installation_key,
            [self, id, key, account, identity_key, slot](CommitStatus status,
                                                         bool new_installation) mutable {
                if (status == CommitStatus::committed) {
                    // The answer is the same either way: nothing tells the phone in hand.
                    self->auth_success(id, key, account, 1, std::move(identity_key), slot,
                                       new_installation);
                } else if (status == CommitStatus::rejected) {
                    // Another identity is recorded: the same code always derives the same one.
                    self->complete(slot, self->auth_failure(id, key), true, false);
                } else {
                    self->complete(slot, storage_unavailable(id), true, false);
                }
            });
    });
}

}  // namespace ariadne::gateway
