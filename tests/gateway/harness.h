// Test harness for the gateway core: a real Store on a temp-dir SQLite file, a Gateway with
// a controllable clock, sessions whose output is captured, and helpers that create
// caseworkers (password + TOTP), survivors (recovery code) and Signal identity keys.
#pragma once

#include <gtest/gtest.h>
#include <signal_protocol.h>
#include <stdlib.h>

#include <spdlog/spdlog.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "ariadne/core/gateway.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/signal_context.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/policies/clock.h"

namespace ariadne::gateway::test {

using crypto::Bytes;
using nlohmann::json;

/// A policies::Clock that reads a Unix-ms counter the test moves by hand.
class MillisClock final : public policies::Clock {
  public:
    explicit MillisClock(const std::atomic<std::int64_t>& ms) : ms_(ms) {}
    policies::Instant now() const override {
        return policies::Instant{std::chrono::milliseconds{ms_.load()}};
    }

  private:
    const std::atomic<std::int64_t>& ms_;
};

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ariadne-gw-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

/// A Signal identity key pair (libsignal curve25519) that can XEdDSA-sign anything.
class TestIdentity {
  public:
    TestIdentity() {
        static crypto::SignalContext context;
        context_ = &context;
        auto lock = context_->lock();
        if (curve_generate_key_pair(context_->get(), &pair_) != 0)
            throw std::runtime_error("keygen");
        public_key_ = serialize(ec_key_pair_get_public(pair_));
    }
    ~TestIdentity() {
        auto lock = context_->lock();
        SIGNAL_UNREF(pair_);
    }
    TestIdentity(const TestIdentity&) = delete;
    TestIdentity& operator=(const TestIdentity&) = delete;

    const Bytes& public_key() const { return public_key_; }

    Bytes sign(crypto::ByteView data) const {
        auto lock = context_->lock();
        signal_buffer* sig = nullptr;
        if (curve_calculate_signature(context_->get(), &sig, ec_key_pair_get_private(pair_),
                                      data.data(), data.size()) != 0) {
            throw std::runtime_error("sign");
        }
        Bytes out(signal_buffer_data(sig), signal_buffer_data(sig) + signal_buffer_len(sig));
        signal_buffer_free(sig);
        return out;
    }

    /// The login signature over "ariadne-auth-v1" || challenge.
    Bytes sign_login(const Bytes& challenge) const {
        Bytes data = crypto::to_bytes("ariadne-auth-v1");
        data.insert(data.end(), challenge.begin(), challenge.end());
        return sign(data);
    }

    /// A fresh key pair's serialized public key (for pre-keys).
    static Bytes random_public_key() {
        TestIdentity other;
        return other.public_key();
    }

  private:
    static Bytes serialize(ec_public_key* key) {
        signal_buffer* buf = nullptr;
        if (ec_public_key_serialize(&buf, key) != 0) throw std::runtime_error("serialize");
        Bytes out(signal_buffer_data(buf), signal_buffer_data(buf) + signal_buffer_len(buf));
        signal_buffer_free(buf);
        return out;
    }
    crypto::SignalContext* context_;
    ec_key_pair* pair_ = nullptr;
    Bytes public_key_;
};

inline std::string b64(const Bytes& b) { return crypto::base64_encode(b); }
inline Bytes unb64(const json& j) { return crypto::base64_decode(j.get<std::string>()); }

/// Records what a Session sends: responses (with an id) and pushes apart.
class CapturingOutput : public SessionOutput {
  public:
    void send_text(std::string frame) override {
        json j = json::parse(frame);
        std::lock_guard lock(mutex_);
        if (j.contains("id")) {
            responses_.push_back(std::move(j));
        } else {
            pushes_.push_back(std::move(j));
        }
        order_.push_back(frame);
        cv_.notify_all();
    }
    void close(std::uint16_t code, std::string) override {
        std::lock_guard lock(mutex_);
        close_code_ = code;
        cv_.notify_all();
    }

    /// Next response frame; fails the test (and returns null) after `timeout`.
    json next_response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !responses_.empty(); })) {
            ADD_FAILURE() << "no response within timeout";
            return nullptr;
        }
        json j = std::move(responses_.front());
        responses_.pop_front();
        return j;
    }
    json next_push(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !pushes_.empty(); })) {
            ADD_FAILURE() << "no push within timeout";
            return nullptr;
        }
        json j = std::move(pushes_.front());
        pushes_.pop_front();
        return j;
    }
    /// True if no push arrives within `wait`.
    bool no_push_for(std::chrono::milliseconds wait) {
        std::unique_lock lock(mutex_);
        return !cv_.wait_for(lock, wait, [&] { return !pushes_.empty(); });
    }
    std::size_t pushes_waiting() {
        std::lock_guard lock(mutex_);
        return pushes_.size();
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<json> responses_;
    std::deque<json> pushes_;
    std::vector<std::string> order_;
    std::optional<std::uint16_t> close_code_;
};

struct Client {
    std::shared_ptr<CapturingOutput> out;
    std::shared_ptr<Session> session;
    std::int64_t next_id = 1;

    /// Sends `frame` (id and v filled in) and returns the response to it.
    json call(json frame) {
        frame["v"] = 1;
        std::int64_t id = next_id++;
        frame["id"] = id;
        session->on_text(frame.dump());
        json r = out->next_response();
        EXPECT_EQ(r.value("id", json()), json(id)) << r.dump();
        return r;
    }
    void close() { session->on_closed(); }
};

struct CaseworkerLogin {
    Account account;
    std::string username;
    std::string password;
    crypto::SecretBytes totp_secret;
};

struct SurvivorLogin {
    Account account;
    crypto::RecoverySecrets secrets;
};

class Harness {
  public:
    explicit Harness(std::function<void(StoreOptions&)> tweak_store = {},
                     std::function<void(GatewayOptions&)> tweak_gateway = {}) {
        spdlog::set_level(spdlog::level::warn);
        store_options.path = dir.path / "ariadne.db";
        store_options.metrics = &metrics;
        store_options.max_delay = std::chrono::microseconds(500);
        if (tweak_store) tweak_store(store_options);
        store = std::make_unique<Store>(store_options);
        params.m_kib = 8192;
        params.t_cost = 1;
        params.salt = crypto::random_bytes(16);
        GatewayOptions options;
        options.recovery_params = params;
        options.clock = &clock;
        if (tweak_gateway) tweak_gateway(options);
        gateway = std::make_unique<Gateway>(*store, key, metrics, options);
    }
    ~Harness() {
        for (auto& s : sessions) s->on_closed();
        gateway.reset();
        store.reset();
    }

    /// Restarts the store and gateway on the same database file.
    void restart() {
        for (auto& s : sessions) s->on_closed();
        sessions.clear();
        gateway.reset();
        store.reset();
        store = std::make_unique<Store>(store_options);
        GatewayOptions options;
        options.recovery_params = params;
        options.clock = &clock;
        gateway = std::make_unique<Gateway>(*store, key, metrics, options);
    }

    Client connect() {
        Client c;
        c.out = std::make_shared<CapturingOutput>();
        c.session = gateway->open_session(c.out);
        sessions.push_back(c.session);
        return c;
    }

    CaseworkerLogin add_caseworker(const std::string& username,
                                   const std::string& password = "correct horse") {
        CaseworkerLogin login;
        login.username = username;
        login.password = password;
        login.totp_secret = crypto::generate_totp_secret();
        std::string id = new_account_id();
        crypto::PasswordParams cheap;
        cheap.m_kib = 1024;
        cheap.t_cost = 1;
        login.account =
            store->create_caseworker(id, username, crypto::hash_password(password, cheap),
                                     key.seal(id, login.totp_secret.view()));
        return login;
    }

    SurvivorLogin add_survivor(const std::vector<Account>& team) {
        SurvivorLogin s;
        std::string code = crypto::generate_recovery_code();
        s.secrets = crypto::derive_recovery_secrets(code, params);
        s.account = store->create_survivor(s.secrets.locator, s.secrets.auth_public_key);
        for (const auto& c : team) store->assign(s.account.id, c.id);
        return s;
    }

    std::string totp_now(const CaseworkerLogin& c, std::int64_t offset_steps = 0) const {
        return crypto::totp_code(c.totp_secret.view(),
                                 static_cast<std::uint64_t>(now.load() / 1000 + offset_steps * 30));
    }

    Bytes challenge(Client& c) {
        json r = c.call({{"type", "challenge"}});
        EXPECT_EQ(r["type"], "ok") << r.dump();
        return unb64(r["challenge"]);
    }

    json register_device(Client& c, const CaseworkerLogin& cw, const TestIdentity& identity,
                         std::optional<std::string> totp = std::nullopt) {
        Bytes ch = challenge(c);
        return c.call({{"type", "register_device"},
                       {"username", cw.username},
                       {"password", cw.password},
                       {"totp", totp ? *totp : totp_now(cw)},
                       {"identity_key", b64(identity.public_key())},
                       {"registration_id", 4711},
                       {"signature", b64(identity.sign_login(ch))}});
    }

    json auth_device(Client& c, const std::string& account, std::uint32_t device,
                     const TestIdentity& identity) {
        Bytes ch = challenge(c);
        return c.call({{"type", "auth_device"},
                       {"account", account},
                       {"device_id", device},
                       {"signature", b64(identity.sign_login(ch))}});
    }

    json auth_survivor(Client& c, const SurvivorLogin& s, const TestIdentity& identity) {
        Bytes ch = challenge(c);
        return c.call({{"type", "auth_survivor"},
                       {"locator", b64(s.secrets.locator)},
                       {"signature", b64(crypto::sign_login_challenge(s.secrets.auth_key, ch))},
                       {"identity_key", b64(identity.public_key())},
                       {"registration_id", 1234}});
    }

    /// Uploads a signed pre-key, `count` one-time pre-keys (ids 1..count) and the last-resort key.
    json upload_keys(Client& c, const TestIdentity& identity, int count) {
        Bytes spk = TestIdentity::random_public_key();
        json pre_keys = json::array();
        for (int i = 1; i <= count; ++i) {
            pre_keys.push_back({{"id", i}, {"public_key", b64(TestIdentity::random_public_key())}});
        }
        return c.call(
            {{"type", "keys_upload"},
             {"signed_pre_key",
              {{"id", 1}, {"public_key", b64(spk)}, {"signature", b64(identity.sign(spk))}}},
             {"pre_keys", pre_keys},
             {"last_resort",
              {{"id", 16777215}, {"public_key", b64(TestIdentity::random_public_key())}}}});
    }

    TempDir dir;
    Metrics metrics;
    StoreOptions store_options;
    ServerKey key{crypto::SecretBytes(crypto::random_bytes(32))};
    crypto::RecoveryParams params;
    // The gateway's clock in Unix ms; tests move time with `now += ms`.
    std::atomic<std::int64_t> now{policies::unix_ms(policies::now_utc())};
    MillisClock clock{now};
    std::unique_ptr<Store> store;
    std::unique_ptr<Gateway> gateway;
    std::vector<std::shared_ptr<Session>> sessions;
};

/// A caseworker device logged in on its own connection, with keys uploaded.
struct Device {
    Client client;
    std::unique_ptr<TestIdentity> identity = std::make_unique<TestIdentity>();
    std::string account;
    std::uint32_t device_id = 0;
};

}  // namespace ariadne::gateway::test
