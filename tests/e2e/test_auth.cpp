// Authentication against the real server: every bad credential gets the same auth_failed
// (no account oracle), proofs cannot be replayed, and repeated failures are slowed down.
#include <gtest/gtest.h>

#include "accounts.h"
#include "ariadne/crypto/recovery.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using crypto::base64_encode;

class Auth : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
        device_ = make_raw_device(tmp_.path() / "device");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    /// Checks the uniform failure answer, then waits out its delay (failures slow down the
    /// account across connections, so the next attempt would otherwise be rate_limited).
    static void expect_auth_failed(const Json& r) {
        EXPECT_EQ(r["type"], "error") << r.dump();
        EXPECT_EQ(r["code"], "auth_failed") << r.dump();
        EXPECT_EQ(r["message"], "The credentials are not valid.") << r.dump();
        ASSERT_TRUE(r["retry_after_ms"].is_number_integer()) << r.dump();
        std::this_thread::sleep_for(
            std::chrono::milliseconds(r["retry_after_ms"].get<std::int64_t>() + 30));
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
    RawDevice device_;
};

TEST_F(Auth, ACaseworkerRegistersADeviceThenLogsInWithItsKeyOnLaterConnections) {
    auto conn = gateway_->connect();
    Json r = register_raw(*conn, cw_, device_, totp_for(cw_));
    ASSERT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(r["account"], cw_.account);
    EXPECT_EQ(r["role"], "caseworker");
    auto device_id = r["device_id"].get<std::uint32_t>();
    EXPECT_GE(device_id, 1u);
    // Logged in: a second login on this connection is refused, the rest works.
    Json again = auth_device_raw(*conn, cw_.account, device_id, device_);
    EXPECT_EQ(again["code"], "already_authenticated") << again.dump();
    EXPECT_EQ(conn->request({{"type", "keys_count"}})["type"], "ok");

    auto later = gateway_->connect();
    Json ok = auth_device_raw(*later, cw_.account, device_id, device_);
    ASSERT_EQ(ok["type"], "ok") << ok.dump();
    EXPECT_EQ(ok["device_id"], device_id);
    EXPECT_EQ(ok["account"], cw_.account);
}

TEST_F(Auth, AWrongPasswordAndAnUnknownUsernameGetTheSameAnswer) {
    auto conn = gateway_->connect();
    Json wrong = register_raw(*conn, cw_, device_, totp_for(cw_), "not the password");
    expect_auth_failed(wrong);

    auto other = gateway_->connect();
    Gateway::Caseworker ghost = cw_;
    ghost.username = "nobody.here";
    Json unknown = register_raw(*other, ghost, device_, totp_for(cw_));
    expect_auth_failed(unknown);
    EXPECT_EQ(unknown["retry_after_ms"], wrong["retry_after_ms"]);
}

TEST_F(Auth, AWrongTotpCodeIsRefused) {
    auto conn = gateway_->connect();
    std::string code = totp_for(cw_);
    std::string wrong = code;
    wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
    expect_auth_failed(register_raw(*conn, cw_, device_, wrong));
    // A code far outside the allowed clock drift is refused too.
    auto later = gateway_->connect();
    expect_auth_failed(register_raw(*later, cw_, device_, totp_for(cw_, 40)));
}

TEST_F(Auth, ATotpCodeCannotBeUsedTwice) {
    std::string code = totp_for(cw_);
    auto first = gateway_->connect();
    ASSERT_EQ(register_raw(*first, cw_, device_, code)["type"], "ok");
    auto second = gateway_->connect();
    RawDevice other = make_raw_device(tmp_.path() / "other");
    expect_auth_failed(register_raw(*second, cw_, other, code));
}

TEST_F(Auth, AnUnknownAccountOrDeviceIsRefusedLikeABadSignature) {
    auto conn = gateway_->connect();
    ASSERT_EQ(register_raw(*conn, cw_, device_, totp_for(cw_))["type"], "ok");
    auto a = gateway_->connect();
    expect_auth_failed(auth_device_raw(*a, "a_AAAAAAAAAAAAAAAAAAAAAA", 1, device_));
    auto b = gateway_->connect();
    expect_auth_failed(auth_device_raw(*b, cw_.account, 999, device_));
    auto c = gateway_->connect();
    RawDevice impostor = make_raw_device(tmp_.path() / "impostor");
    expect_auth_failed(auth_device_raw(*c, cw_.account, 1, impostor));
}

TEST_F(Auth, AReplayedLoginProofIsRefused) {
    auto setup = gateway_->connect();
    Json reg = register_raw(*setup, cw_, device_, totp_for(cw_));
    ASSERT_EQ(reg["type"], "ok") << reg.dump();
    auto device_id = reg["device_id"].get<std::uint32_t>();

    // A genuine login, observed by an attacker...
    auto victim = gateway_->connect();
    auto challenge = fresh_challenge(*victim);
    Json proof = {
        {"type", "auth_device"},
        {"account", cw_.account},
        {"device_id", device_id},
        {"signature", base64_encode(crypto::sign_login_challenge(device_.private_key, challenge))}};
    ASSERT_EQ(victim->request(proof)["type"], "ok");

    // ...replayed on a new connection, with or without asking for a new challenge.
    auto attacker = gateway_->connect();
    expect_auth_failed(attacker->request(proof));
    auto attacker2 = gateway_->connect();
    fresh_challenge(*attacker2);
    expect_auth_failed(attacker2->request(proof));
}

TEST_F(Auth, AChallengeIsConsumedByOneAttempt) {
    auto setup = gateway_->connect();
    Json reg = register_raw(*setup, cw_, device_, totp_for(cw_));
    ASSERT_EQ(reg["type"], "ok");
    auto conn = gateway_->connect();
    auto challenge = fresh_challenge(*conn);
    Json bad = {{"type", "auth_device"},
                {"account", cw_.account},
                {"device_id", reg["device_id"]},
                {"signature", base64_encode(crypto::Bytes(64, 7))}};
    Json r = conn->request(bad);
    expect_auth_failed(r);
    // The right signature over the spent challenge no longer works.
    Json late = {
        {"type", "auth_device"},
        {"account", cw_.account},
        {"device_id", reg["device_id"]},
        {"signature", base64_encode(crypto::sign_login_challenge(device_.private_key, challenge))}};
    Json again = conn->request(late);
    EXPECT_EQ(again["code"], "auth_failed") << again.dump();
}

TEST_F(Auth, ASurvivorLogsInWithHerRecoveryCodeAndAWrongCodeIsRefused) {
    auto conn = gateway_->connect();
    SurvivorLogin login = derive_survivor_login(*conn, survivor_.recovery_code, tmp_.path() / "s");
    Json ok = auth_survivor_raw(*conn, login);
    ASSERT_EQ(ok["type"], "ok") << ok.dump();
    EXPECT_EQ(ok["account"], survivor_.account);
    EXPECT_EQ(ok["device_id"], 1);
    EXPECT_EQ(ok["role"], "survivor");

    auto other = gateway_->connect();
    std::string wrong_code = crypto::generate_recovery_code();
    SurvivorLogin wrong = derive_survivor_login(*other, wrong_code, tmp_.path() / "w");
    expect_auth_failed(auth_survivor_raw(*other, wrong));
}

TEST_F(Auth, ASurvivorCannotLogInWithADifferentSignalIdentity) {
    auto conn = gateway_->connect();
    SurvivorLogin login = derive_survivor_login(*conn, survivor_.recovery_code, tmp_.path() / "s");
    ASSERT_EQ(auth_survivor_raw(*conn, login)["type"], "ok");
    auto later = gateway_->connect();
    SurvivorLogin forged = login;
    forged.identity = make_raw_device(tmp_.path() / "forged");
    expect_auth_failed(auth_survivor_raw(*later, forged));
}

TEST_F(Auth, RepeatedFailuresAreSlowedDownWithAGrowingDelay) {
    auto conn = gateway_->connect();
    std::vector<std::int64_t> delays;
    for (int i = 0; i < 3; ++i) {
        Json r = register_raw(*conn, cw_, device_, totp_for(cw_), "guess " + std::to_string(i));
        ASSERT_EQ(r["code"], "auth_failed") << r.dump();
        delays.push_back(r["retry_after_ms"].get<std::int64_t>());
        if (i == 0) {
            // Trying again at once is refused without counting as a new failure.
            Json early = register_raw(*conn, cw_, device_, totp_for(cw_), "too soon");
            EXPECT_EQ(early["code"], "rate_limited") << early.dump();
            EXPECT_GT(early["retry_after_ms"].get<std::int64_t>(), 0);
            EXPECT_LE(early["retry_after_ms"].get<std::int64_t>(), delays[0]);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delays.back() + 50));
    }
    EXPECT_EQ(delays[0], 500);
    EXPECT_EQ(delays[1], 2 * delays[0]);
    EXPECT_EQ(delays[2], 2 * delays[1]);

    // The right credentials still work after the delay, and reset the counter.
    Json ok = register_raw(*conn, cw_, device_, totp_for(cw_));
    EXPECT_EQ(ok["type"], "ok") << ok.dump();
    auto fresh = gateway_->connect();
    Json after = register_raw(*fresh, cw_, device_, totp_for(cw_, 1), "wrong again");
    expect_auth_failed(after);
    EXPECT_EQ(after["retry_after_ms"], 500) << after.dump();
}

}  // namespace
}  // namespace ariadne::e2e
