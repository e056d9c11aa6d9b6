#include <algorithm>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/totp.h"

namespace ariadne::gateway {

namespace {

using nlohmann::json;

constexpr std::int64_t kChallengeLifetimeMs = 60000;
constexpr const char* kAuthFailedMessage = "The credentials are not valid.";
constexpr const char* kDisabledMessage =
    "This account is disabled; ask your organisation's administrator.";

std::string error_frame(std::int64_t id, ErrorCode code, std::string message,
                        json extra = nullptr) {
    return encode_error(ProtocolError{code, std::move(message), id}, std::move(extra));
}

std::string storage_unavailable(std::int64_t id) {
    return error_frame(
        id, ErrorCode::storage_unavailable,
        "The gateway could not store this change; nothing was stored. Try again later.");
}

bool valid_public_key(const Bytes& key) { return key.size() == 33 && key[0] == 0x05; }

bool verify_signature(const Bytes& public_key, const Bytes& challenge, const Bytes& signature) {
    try {
        return crypto::verify_login_signature(public_key, challenge, signature);
    } catch (const std::exception&) {
        return false;  // malformed key: same answer as a bad signature
    }
}

json key_json(const PreKeyUpload& k) {
    return {{"id", k.id}, {"public_key", crypto::base64_encode(k.public_key)}};
}

}  // namespace

Session::Session(Gateway& gateway, std::shared_ptr<SessionOutput> output,
                 std::optional<std::string> peer)
    : gateway_(gateway), output_(std::move(output)), peer_(std::move(peer)) {}

Session::~Session() = default;

bool Session::authenticated() const {
    std::lock_guard lock(mutex_);
    return authenticated_;
}

void Session::on_closed() {
    Gateway::DeviceKey device;
    bool was_authenticated;
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        output_.reset();
        input_.clear();
        slots_.clear();
        was_authenticated = authenticated_;
        device = {account_.key, device_};
    }
    if (was_authenticated) {
        gateway_.unregister_online(device, this);
        gateway_.metrics().sessions_authenticated.fetch_sub(1, std::memory_order_relaxed);
    }
}

// ---- ordered answers ----

std::uint64_t Session::reserve_slot_locked() {
    slots_.emplace_back();
    return first_slot_ + slots_.size() - 1;
}

void Session::complete_locked(std::uint64_t slot, std::string frame) {
    if (closed_ || slot < first_slot_ || slot - first_slot_ >= slots_.size()) return;
    slots_[slot - first_slot_] = std::move(frame);
    std::size_t ready = 0;
    while (ready < slots_.size() && slots_[ready].has_value()) {
        gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
        output_->send_text(std::move(*slots_[ready]));
        ++ready;
    }
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(ready));
    first_slot_ += ready;
    if (slots_.empty() && slots_.capacity() > 64) slots_.shrink_to_fit();
}

void Session::complete(std::uint64_t slot, std::string frame, bool ends_barrier, bool ends_write) {
    std::lock_guard lock(mutex_);
    if (ends_barrier) busy_ = false;
    if (ends_write && pending_writes_ > 0) --pending_writes_;
    complete_locked(slot, std::move(frame));
    pump_locked();
}

void Session::on_binary() {
    std::lock_guard lock(mutex_);
    if (closed_ || !gateway_.accepting()) return;
    gateway_.metrics().frames_in.fetch_add(1, std::memory_order_relaxed);
    auto slot = reserve_slot_locked();
    complete_locked(
        slot, encode_error(ProtocolError{ErrorCode::invalid_frame,
                                         "frames must be text frames holding JSON", std::nullopt}));
}

void Session::on_text(std::string_view frame) {
    auto decoded = decode_request(frame);
    std::lock_guard lock(mutex_);
    if (closed_ || !gateway_.accepting()) return;
    gateway_.metrics().frames_in.fetch_add(1, std::memory_order_relaxed);
    if (auto* error = std::get_if<ProtocolError>(&decoded)) {
        auto slot = reserve_slot_locked();
        complete_locked(slot, encode_error(*error));
        return;
    }
    auto& request = std::get<Request>(decoded);
    if (input_.size() >= gateway_.options_.max_queued_requests) {
        auto slot = reserve_slot_locked();
        gateway_.metrics().rate_limited.fetch_add(1, std::memory_order_relaxed);
        complete_locked(slot, error_frame(request.id, ErrorCode::overloaded,
                                          "Too many requests are waiting on this connection.",
                                          {{"retry_after_ms", 1000}}));
        return;
    }
    input_.push_back(std::move(request));
    pump_locked();
}

void Session::pump_locked() {
    while (!closed_ && !busy_ && pending_writes_ < gateway_.options_.max_pending_writes &&
           !input_.empty()) {
        Request request = std::move(input_.front());
        input_.erase(input_.begin());
        if (input_.empty() && input_.capacity() > 16) input_.shrink_to_fit();
        auto slot = reserve_slot_locked();
        dispatch_locked(request, slot);
    }
}

void Session::dispatch_locked(Request& request, std::uint64_t slot) {
    const std::int64_t id = request.id;
    auto& body = request.body;
    const bool is_auth = std::holds_alternative<RegisterDeviceRequest>(body) ||
                         std::holds_alternative<AuthDeviceRequest>(body) ||
                         std::holds_alternative<AuthSurvivorRequest>(body);
    const bool open_op = is_auth || std::holds_alternative<PingRequest>(body) ||
                         std::holds_alternative<RecoveryParamsRequest>(body) ||
                         std::holds_alternative<ChallengeRequest>(body);

    if (std::holds_alternative<PingRequest>(body)) {
        complete_locked(slot, encode_ok(id, {{"server_time", gateway_.now_ms()}}));
        return;
    }
    if (std::holds_alternative<RecoveryParamsRequest>(body)) {
        complete_locked(slot,
                        encode_ok(id, {{"params", json::parse(gateway_.recovery_params_json_)}}));
        return;
    }
    if (!authenticated_ && !open_op) {
        complete_locked(slot, error_frame(id, ErrorCode::not_authenticated,
                                          "This operation needs a login first."));
        return;
    }
    if (authenticated_ && is_auth) {
        complete_locked(slot, error_frame(id, ErrorCode::already_authenticated,
                                          "This connection is already logged in."));
        return;
    }
    // An administrator may disable a caseworker while she is connected (possibly from the
    // CLI, another process): every request of hers checks the flag (one indexed read), and
    // the first one after the change ends the connection.
    if (authenticated_ && account_.role == Role::caseworker) {
        bool disabled = true;  // fail closed when the flag cannot be read
        try {
            disabled = gateway_.store_.is_disabled(account_.key);
        } catch (const std::exception&) {
        }
        if (disabled) {
            spdlog::info("session of disabled account {} closed", account_.id);
            complete_locked(slot, error_frame(id, ErrorCode::account_disabled, kDisabledMessage));
            if (output_) output_->close(kClosePolicy, "account disabled");
            return;
        }
    }
    if (std::holds_alternative<ChallengeRequest>(body)) {
        handle_challenge(id, slot);
        return;
    }
    if (std::holds_alternative<KeysCountRequest>(body)) {
        complete_locked(slot, handle_keys_count(id));
        return;
    }
    if (std::holds_alternative<ContactsRequest>(body)) {
        complete_locked(slot, handle_contacts(id));
        return;
    }
    if (auto* ack = std::get_if<AckRequest>(&body)) {
        handle_ack(id, *ack, slot);
        return;
    }
    if (std::holds_alternative<AlertsRequest>(body)) {
        complete_locked(slot, handle_alerts(id));
        return;
    }
    if (std::holds_alternative<SettingsRequest>(body)) {
        complete_locked(slot, handle_settings(id));
        return;
    }
    if (auto* clear = std::get_if<AlertClearRequest>(&body)) {
        complete_locked(slot, handle_alert_clear(id, *clear));
        return;
    }
    if (auto* send = std::get_if<SendRequest>(&body)) {
        handle_send(id, std::move(*send), slot);
        return;
    }
    // Everything else finishes asynchronously and later requests wait for it (they may
    // depend on the login or the keys it stores).
    busy_ = true;
    if (auto* r = std::get_if<RegisterDeviceRequest>(&body)) {
        handle_register(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<AuthDeviceRequest>(&body)) {
        handle_auth_device(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<AuthSurvivorRequest>(&body)) {
        handle_auth_survivor(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<KeysUploadRequest>(&body)) {
        handle_keys_upload(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<KeysFetchRequest>(&body)) {
        handle_keys_fetch(id, *r, slot);
    } else if (auto* r = std::get_if<DuressReportRequest>(&body)) {
        handle_duress_report(id, std::move(*r), slot);
    } else {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::internal, "Unhandled operation."));
    }
}

// ---- authentication ----

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

bool Session::refuse_throttled(std::int64_t id, const std::string& key, std::uint64_t slot) {
    std::int64_t wait = throttled_for(key);
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
    if (wait == 0) return false;
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
    {
        std::lock_guard lock(mutex_);
        delay = std::max(delay, connection_backoff_.fail(now));
        ticket = std::exchange(login_ticket_, std::nullopt);
    }
    if (ticket) delay = std::max(delay, gateway_.login_budget_.failed(*ticket, now));
    gateway_.metrics().auth_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("authentication failed (retry after {} ms)", delay);
    return error_frame(id, ErrorCode::auth_failed, kAuthFailedMessage, {{"retry_after_ms", delay}});
}

void Session::auth_success(std::int64_t id, const std::string& key, Account account,
                           std::uint32_t device, Bytes identity_key, std::uint64_t slot,
                           bool new_installation) {
    gateway_.auth_throttle_.reset(key);
    std::optional<LoginBudget::Ticket> ticket;
    {
        std::lock_guard lock(mutex_);
        ticket = std::exchange(login_ticket_, std::nullopt);
    }
    if (ticket) gateway_.login_budget_.succeeded(*ticket, gateway_.now_ms());
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

// ---- keys ----

void Session::handle_keys_upload(std::int64_t id, KeysUploadRequest r, std::uint64_t slot) {
    auto invalid = [&](const std::string& message) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::invalid_keys, message));
    };
    if (r.signed_pre_key) {
        const auto& k = *r.signed_pre_key;
        if (k.id > kLastResortKeyId)
            return invalid("signed_pre_key.id must be between 0 and 16777215");
        if (!valid_public_key(k.public_key)) {
            return invalid(
                "signed_pre_key.public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
        if (k.signature.size() != 64 ||
            !crypto::verify_signed_pre_key(identity_key_, k.public_key, k.signature)) {
            return invalid(
                "signed_pre_key.signature is not this device's identity key's signature of the "
                "key");
        }
    }
    for (std::size_t i = 0; i < r.pre_keys.size(); ++i) {
        const auto& k = r.pre_keys[i];
        std::string field = "pre_keys[" + std::to_string(i) + "]";
        if (k.id < 1 || k.id > kMaxPreKeyId)
            return invalid(field + ".id must be between 1 and 16777214");
        if (!valid_public_key(k.public_key)) {
            return invalid(field +
                           ".public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
    }
    if (r.last_resort) {
        if (r.last_resort->id != kLastResortKeyId)
            return invalid("last_resort.id must be 16777215");
        if (!valid_public_key(r.last_resort->public_key)) {
            return invalid(
                "last_resort.public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
    }
    auto self = shared_from_this();
    gateway_.store_.upload_keys(
        account_.key, device_, std::move(r),
        [self, id, slot](CommitStatus status, std::uint32_t count) {
            if (status == CommitStatus::committed) {
                self->complete(slot, encode_ok(id, {{"pre_key_count", count}}), true, false);
            } else if (status == CommitStatus::rejected) {
                self->complete(slot,
                               error_frame(id, ErrorCode::invalid_keys,
                                           "A device may hold at most 1000 one-time pre-keys."),
                               true, false);
            } else {
                self->complete(slot, storage_unavailable(id), true, false);
            }
        });
}

std::string Session::handle_keys_count(std::int64_t id) {
    try {
        return encode_ok(id,
                         {{"pre_key_count", gateway_.store_.pre_key_count(account_.key, device_)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

void Session::handle_keys_fetch(std::int64_t id, const KeysFetchRequest& r, std::uint64_t slot) {
    std::optional<Account> target;
    try {
        target = gateway_.store_.find_account(r.account);
    } catch (const std::exception&) {
        busy_ = false;
        complete_locked(slot, storage_unavailable(id));
        return;
    }
    if (!target || !gateway_.policy_->decide(account_, device_, *target).allowed) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "This account may not address that account."));
        return;
    }
    auto self = shared_from_this();
    std::string target_id = target->id;
    gateway_.store_.take_bundles(target->key, [self, id, slot, target_id](
                                                  CommitStatus status,
                                                  std::vector<Bundle> bundles) {
        if (status != CommitStatus::committed) {
            self->complete(slot, storage_unavailable(id), true, false);
            return;
        }
        json list = json::array();
        for (const auto& b : bundles) {
            list.push_back({{"registration_id", b.registration_id},
                            {"device_id", b.device_id},
                            {"identity_key", crypto::base64_encode(b.identity_key)},
                            {"signed_pre_key",
                             {{"id", b.signed_pre_key.id},
                              {"public_key", crypto::base64_encode(b.signed_pre_key.public_key)},
                              {"signature", crypto::base64_encode(b.signed_pre_key.signature)}}},
                            {"pre_key", key_json(b.pre_key)}});
        }
        self->complete(slot, encode_ok(id, {{"account", target_id}, {"bundles", std::move(list)}}),
                       true, false);
    });
}

std::string Session::handle_contacts(std::int64_t id) {
    try {
        json list = json::array();
        for (const auto& other : gateway_.store_.assignment_neighbours(account_)) {
            if (!gateway_.policy_->decide(account_, device_, other).allowed) continue;
            json entry = {{"account", other.id},
                          {"role", to_string(other.role)},
                          {"devices", gateway_.store_.ready_devices(other.key)}};
            json details = gateway_.policy_->contact_details(account_, other);
            if (details.is_object()) {
                for (auto& [k, v] : details.items()) {
                    if (!entry.contains(k)) entry[k] = v;
                }
            }
            list.push_back(std::move(entry));
        }
        return encode_ok(id, {{"contacts", std::move(list)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

// ---- alerts ----

namespace {
std::string not_a_caseworker(std::int64_t id) {
    return error_frame(id, ErrorCode::forbidden,
                       "Only a caseworker device may read or clear alerts.");
}
}  // namespace

std::string Session::handle_alerts(std::int64_t id) {
    if (account_.role != Role::caseworker) return not_a_caseworker(id);
    json list = json::array();
    if (gateway_.alerts_) {
        try {
            for (auto& a : gateway_.alerts_->open_alerts_for(account_.id)) {
                list.push_back(std::move(a));
            }
        } catch (const std::exception&) {
            return storage_unavailable(id);
        }
    }
    return encode_ok(id, {{"alerts", std::move(list)}});
}

std::string Session::handle_alert_clear(std::int64_t id, const AlertClearRequest& r) {
    if (account_.role != Role::caseworker) return not_a_caseworker(id);
    const char* unknown = "No alert with that alert_id exists.";
    if (!gateway_.alerts_) return error_frame(id, ErrorCode::not_found, unknown);
    try {
        auto at = std::chrono::sys_time<std::chrono::microseconds>(
            std::chrono::milliseconds(gateway_.now_ms()));
        auto [outcome, out] = gateway_.alerts_->clear_alert(r.alert_id, account_.id, at);
        if (outcome == ClearOutcome::not_found) {
            return error_frame(id, ErrorCode::not_found, unknown);
        }
        if (outcome == ClearOutcome::forbidden) {
            return error_frame(id, ErrorCode::forbidden,
                               "Only a caseworker assigned to this case may clear its alert.");
        }
        out["already_cleared"] = outcome == ClearOutcome::already_cleared;
        return encode_ok(id, {{"alert", std::move(out)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

void Session::handle_duress_report(std::int64_t id, DuressReportRequest r, std::uint64_t slot) {
    if (account_.role != Role::caseworker) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "Only a caseworker device may report a duress word."));
        return;
    }
    // Raising commits the lock, the alert and the audit: off the network thread.
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, r = std::move(r), reporter = account_] {
        Gateway& g = self->gateway_;
        const char* not_hers =
            "Only a caseworker assigned to this survivor's case may report a duress word.";
        try {
            auto survivor = g.store_.find_account(r.survivor);
            auto outcome = survivor ? g.policy_->report_duress(reporter, *survivor)
                                    : SendPolicy::DuressReport::forbidden;
            if (outcome != SendPolicy::DuressReport::raised) {
                self->complete(slot, error_frame(id, ErrorCode::forbidden, not_hers), true, false);
                return;
            }
            spdlog::warn("duress word reported by a console");  // never for whom
            self->complete(slot, encode_ok(id, {{"duress", true}}), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

std::string Session::handle_settings(std::int64_t id) {
    if (account_.role != Role::caseworker) {
        return error_frame(id, ErrorCode::forbidden,
                           "Only a caseworker device may read the organisation's settings.");
    }
    json fields = json::object();
    if (gateway_.options_.console_settings) {
        try {
            fields = gateway_.options_.console_settings();
        } catch (const std::exception&) {
            return storage_unavailable(id);
        }
    }
    return encode_ok(id, std::move(fields));
}

void Session::push_frame(const std::string& frame) {
    std::lock_guard lock(mutex_);
    if (closed_ || !authenticated_ || !output_) return;
    gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
    output_->send_text(frame);
}

// ---- messages ----

void Session::handle_send(std::int64_t id, SendRequest r, std::uint64_t slot) {
    Gateway& g = gateway_;
    if (auto wait = g.send_limiter_.take(account_.id, g.now_ms()); wait > 0) {
        g.metrics().rate_limited.fetch_add(1, std::memory_order_relaxed);
        complete_locked(slot, error_frame(id, ErrorCode::rate_limited,
                                          "This account is sending too fast; wait and retry.",
                                          {{"retry_after_ms", wait}}));
        return;
    }
    // The lookups below (account, assignment, devices, her case) read one snapshot in one
    // read transaction; consent is still decided here, at send time.
    std::optional<Store::ReadScope> reads;
    reads.emplace(g.store_);
    std::optional<Account> target;
    std::vector<std::uint32_t> devices;
    try {
        target = g.store_.find_account(r.to);
        if (target) {
            auto decision = g.policy_->decide(account_, device_, *target);
            if (!decision.allowed) {
                spdlog::debug("send from {} refused by policy: {}", account_.id, decision.reason);
                target.reset();
            }
        }
        if (target) devices = g.store_.ready_devices(target->key);
    } catch (const std::exception&) {
        complete_locked(slot, storage_unavailable(id));
        return;
    }
    // A reply to a survivor is decided by the consent policy on its own connection, which
    // may wait for the database's write lock: no read snapshot is held across that wait
    // (a checkpoint waiting for readers would wait for this one). A survivor's own send
    // only reads the store (her case link), so it stays in the scope.
    if (account_.role != Role::survivor) reads.reset();
    if (target) {
        // Consent decides each message at the moment of sending (docs/policies.md).
        auto decision = g.policy_->decide_message(account_, device_, *target);
        if (!decision.allowed && !decision.message.empty()) {
            complete_locked(slot, error_frame(id, ErrorCode::policy_denied, decision.message,
                                              {{"reason", decision.reason}}));
            return;
        }
        if (!decision.allowed) target.reset();
    }
    reads.reset();
    if (!target) {
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "This account may not address that account."));
        return;
    }
    std::vector<std::uint32_t> given;
    for (const auto& m : r.messages) given.push_back(m.device_id);
    std::sort(given.begin(), given.end());
    std::vector<std::uint32_t> missing, extra;
    std::set_difference(devices.begin(), devices.end(), given.begin(), given.end(),
                        std::back_inserter(missing));
    std::set_difference(given.begin(), given.end(), devices.begin(), devices.end(),
                        std::back_inserter(extra));
    if (!missing.empty() || !extra.empty()) {
        complete_locked(slot, error_frame(id, ErrorCode::stale_devices,
                                          "The recipient's device list changed: fetch keys for the "
                                          "missing devices and drop the extra ones.",
                                          {{"missing", missing}, {"extra", extra}}));
        return;
    }
    std::vector<NewMessage> messages;
    messages.reserve(r.messages.size());
    for (auto& m : r.messages) {
        NewMessage n;
        n.recipient = target->key;
        n.recipient_device = m.device_id;
        n.sender = account_;
        n.sender_device = device_;
        n.type = m.type;
        n.body = std::move(m.body);
        n.receipt_requested = r.receipt;
        messages.push_back(std::move(n));
    }
    ++pending_writes_;
    auto self = shared_from_this();
    QuotaVerdict quota = g.store_.store_messages_within_quota(
        std::move(messages),
        [self, id, slot](CommitStatus status, std::vector<MailboxEntryPtr> entries) {
            if (status != CommitStatus::committed) {
                self->complete(slot, storage_unavailable(id), false, true);
                return;
            }
            std::vector<std::pair<std::uint32_t, std::int64_t>> ids;
            ids.reserve(entries.size());
            for (const auto& e : entries)
                ids.emplace_back(e->recipient_device, e->delivery.server_id);
            self->complete(slot, encode_send_ok(id, ids), false, true);
            self->gateway_.notify(entries);
        });
    if (quota == QuotaVerdict::within) return;
    --pending_writes_;
    const bool recipient = quota == QuotaVerdict::recipient_full;
    complete_locked(
        slot,
        error_frame(id, ErrorCode::quota_exceeded,
                    recipient ? "Not sent: too much is already waiting for this recipient to "
                                "collect; retry after they have received their messages."
                              : "Not sent: too much of what this account sent is still waiting "
                                "to be collected; retry after its recipients have received it.",
                    {{"quota", recipient ? "recipient" : "sender"}}));
}

void Session::handle_ack(std::int64_t id, const AckRequest& r, std::uint64_t slot) {
    // Only a survivor's edge device (device >= 2, its key held by this gateway's adapters)
    // can say a reply did not reach her: a failed receipt from anyone else would be a lie.
    if (!r.failure.empty() && (account_.role != Role::survivor || device_ < 2)) {
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "Only the gateway's SMS/web adapter may report a "
                                          "message as not delivered ('status': 'failed')."));
        return;
    }
    ++pending_writes_;
    auto self = shared_from_this();
    std::int64_t server_id = r.server_id;
    gateway_.store_.acknowledge(
        account_.key, device_, server_id,
        [self, id, slot, server_id](CommitStatus status, Store::AckOutcome outcome) {
            if (status != CommitStatus::committed) {
                self->complete(slot, storage_unavailable(id), false, true);
                return;
            }
            {
                std::lock_guard lock(self->mutex_);
                if (self->pending_writes_ > 0) --self->pending_writes_;
                if (auto it = self->in_flight_.find(server_id); it != self->in_flight_.end()) {
                    self->in_flight_bytes_ -= it->second;
                    self->in_flight_.erase(it);
                }
                self->complete_locked(
                    slot, outcome.found
                              ? encode_ok_plain(id)
                              : error_frame(
                                    id, ErrorCode::not_found,
                                    "No message with that server_id is waiting for this device."));
                if (self->backlog_ && !self->fetching_) self->start_fetch_locked();
                self->pump_locked();
            }
            if (outcome.receipt) self->gateway_.notify({outcome.receipt});
        },
        r.failure);
}

// ---- delivery ----

// The window closes on count or on bytes; one delivery always fits, however large, so a
// message near the frame limit is never stuck behind the byte cap.
bool Session::window_full_locked() const {
    return in_flight_.size() >= gateway_.options_.max_in_flight ||
           (!in_flight_.empty() && in_flight_bytes_ >= gateway_.options_.max_in_flight_bytes);
}

void Session::push_locked(const MailboxEntryPtr& entry) {
    std::string frame = gateway_.encode_delivery(entry->delivery);
    in_flight_.emplace(entry->delivery.server_id, frame.size());
    in_flight_bytes_ += frame.size();
    cursor_ = entry->delivery.server_id;
    gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
    output_->send_text(std::move(frame));
}

void Session::on_mail(const MailboxEntryPtr& entry) {
    std::lock_guard lock(mutex_);
    if (closed_ || !authenticated_) return;
    if (fetching_) {
        notified_during_fetch_ = true;
        return;
    }
    if (backlog_ || window_full_locked()) {
        backlog_ = true;
        return;
    }
    if (entry->delivery.server_id > cursor_) push_locked(entry);
}

void Session::start_fetch_locked() {
    if (closed_ || fetching_) return;
    if (window_full_locked()) {
        backlog_ = true;
        return;
    }
    std::size_t limit = gateway_.options_.max_in_flight - in_flight_.size();
    fetching_ = true;
    notified_during_fetch_ = false;
    auto self = shared_from_this();
    AccountKey account = account_.key;
    std::uint32_t device = device_;
    std::int64_t after = cursor_;
    gateway_.workers_.post([self, account, device, after, limit] {
        std::vector<MailboxEntryPtr> entries;
        try {
            entries = self->gateway_.store_.pending(account, device, after, limit);
        } catch (const std::exception&) {
            spdlog::warn("mailbox read failed for a device of account {}", self->account_.id);
            entries.clear();
        }
        self->fetch_done(std::move(entries), limit);
    });
}

void Session::fetch_done(std::vector<MailboxEntryPtr> entries, std::size_t limit) {
    std::lock_guard lock(mutex_);
    fetching_ = false;
    if (closed_) return;
    for (const auto& e : entries) {
        if (e->delivery.server_id <= cursor_) continue;
        if (window_full_locked()) {
            // The rest is fetched again once acks open the window.
            backlog_ = true;
            return;
        }
        push_locked(e);
    }
    if (entries.size() < limit && !notified_during_fetch_) {
        backlog_ = false;
        return;
    }
    backlog_ = true;
    if (!window_full_locked()) start_fetch_locked();
}

}  // namespace ariadne::gateway
