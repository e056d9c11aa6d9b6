// Guessing survivor codes (and caseworker credentials) against the real server, one new
// connection and one new name per guess, from other loopback addresses (127.0.0.x appear
// as different clients): the per-address and global budgets bound how many guesses are
// checked, counted from the answers (auth_failed: checked; rate_limited: refused before any
// check), while real logins from other addresses still succeed.
#include <gtest/gtest.h>

#include <atomic>

#include "accounts.h"
#include "ariadne/crypto/bytes.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using crypto::base64_encode;

struct Tally {
    std::atomic<int> checked{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    void count(const Json& r) {
        std::string code = r.value("code", "");
        if (code == "auth_failed") {
            ++checked;
        } else if (code == "rate_limited" && r.value("retry_after_ms", 0) > 0 &&
                   r.value("message", "") ==
                       "Too many failed attempts; wait before trying again.") {
            ++refused;
        } else {
            ++other;
            ADD_FAILURE() << "unexpected answer to a guess: " << r.dump();
        }
    }
};

crypto::Bytes random_key() {
    crypto::Bytes k = crypto::random_bytes(33);
    k[0] = 0x05;
    return k;
}

std::unique_ptr<client::Connection> connect_from(const Gateway& g, const std::string& address) {
    client::ConnectionOptions o;
    o.local_address = address;
    return g.connect(o);
}

/// One guessed recovery code, as an attacker sends it: a new connection, a challenge, and a
/// locator never tried before.
Json guess_survivor(const Gateway& g, const std::string& from) {
    auto conn = connect_from(g, from);
    fresh_challenge(*conn);
    return conn->request({{"type", "auth_survivor"},
                          {"locator", base64_encode(crypto::random_bytes(32))},
                          {"signature", base64_encode(crypto::random_bytes(64))},
                          {"identity_key", base64_encode(random_key())},
                          {"registration_id", 1234}});
}

class LoginBudget : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(LoginBudget, OneAddressGetsABurstOfFiveThenOneGuessEverySixSeconds) {
    Tally tally;
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 30; ++i) tally.count(guess_survivor(*gateway_, "127.0.0.2"));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "[ measured ] 30 guesses from one address in " << seconds
              << " s: " << tally.checked << " checked, " << tally.refused << " refused\n";
    EXPECT_GE(tally.checked.load(), 5);
    // Five at once, then 10 a minute: one more per started 6 s.
    EXPECT_LE(tally.checked.load(), 5 + 1 + static_cast<int>(seconds / 6));
    EXPECT_EQ(tally.checked + tally.refused, 30);

    // Her real login from another address is not affected.
    auto her = recover_survivor(*gateway_, survivor_, dir("her"));
    EXPECT_EQ(her->account(), survivor_.account);
}

TEST_F(LoginBudget, DeviceLoginsAndRegistrationsCountAgainstTheSameAddressBudget) {
    Tally tally;
    RawDevice device = make_raw_device(dir("device"));
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) {
        auto conn = connect_from(*gateway_, "127.0.0.3");
        Gateway::Caseworker guess = cw_;
        guess.username = "guess" + std::to_string(i);
        tally.count(register_raw(*conn, guess, device, "123456", "not her password"));
        auto conn2 = connect_from(*gateway_, "127.0.0.3");
        tally.count(auth_device_raw(*conn2, "a_" + std::string(21, 'A') + std::to_string(i % 10), 1,
                                    device));
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_GE(tally.checked.load(), 5);
    EXPECT_LE(tally.checked.load(), 5 + 1 + static_cast<int>(seconds / 6));
    EXPECT_EQ(tally.checked + tally.refused, 16);

    // Her console registers from another address.
    auto console = register_console(*gateway_, cw_, dir("console"));
    EXPECT_EQ(console->account(), cw_.account);
}

TEST_F(LoginBudget, ManyAddressesTogetherAreBoundedAndRealLoginsStillSucceed) {
    // Derived before the flood (Argon2id): her login itself happens during it.
    SurvivorLogin her_login;
    {
        auto c = gateway_->connect();
        her_login = derive_survivor_login(*c, survivor_.recovery_code, dir("her"));
    }
    auto console = register_console(*gateway_, cw_, dir("console"));

    // 100 addresses, 127.0.1.1 to 127.0.1.100, three guesses each, four at a time.
    Tally tally;
    auto started = std::chrono::steady_clock::now();
    auto flood_round = [&] {
        std::atomic<int> next{1};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int a; (a = next++) <= 100;) {
                    tally.count(guess_survivor(*gateway_, "127.0.1." + std::to_string(a)));
                }
            });
        }
        for (auto& t : threads) t.join();
    };
    flood_round();
    // The global budget is spent now; her login (an address that never failed) succeeds.
    {
        auto c = gateway_->connect();
        Json r = auth_survivor_raw(*c, her_login);
        EXPECT_EQ(r["type"], "ok") << r.dump();
    }
    flood_round();
    flood_round();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "[ measured ] 300 guesses from 100 addresses in " << seconds
              << " s: " << tally.checked << " checked, " << tally.refused << " refused\n";
    // Global: 100 at once, then 300 a minute; addresses that never failed: 30, then 60 a
    // minute (each address here uses that at most once).
    EXPECT_LE(tally.checked.load(), 100 + 30 + 1 + static_cast<int>(seconds * 360 / 60));
    EXPECT_GT(tally.refused.load(), 0);
    EXPECT_EQ(tally.checked + tally.refused, 300);

    // The console that was logged in before keeps working, and a caseworker's device login
    // from a clean address still succeeds during the flood.
    EXPECT_NO_THROW(console->contacts());
    auto again = register_console(*gateway_, cw_, dir("console2"), 1);
    EXPECT_EQ(again->account(), cw_.account);
}

}  // namespace
}  // namespace ariadne::e2e
