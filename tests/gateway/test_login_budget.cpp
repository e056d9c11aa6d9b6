// Login budgets by client address and in total, on a simulated clock: how many attempts get
// checked when an attacker tries continuously for ten minutes, from one address or many,
// and that people who log in rightly are not locked out meanwhile.
#include <gtest/gtest.h>

#include "ariadne/core/login_budget.h"

namespace ariadne::gateway {
namespace {

constexpr std::int64_t kMinute = 60 * 1000;

/// Attempts every `step_ms` from `address` until `end_ms`, all failing; returns how many
/// were admitted (checked).
int guess_continuously(LoginBudget& b, const std::string& address, std::int64_t start_ms,
                       std::int64_t end_ms, std::int64_t step_ms) {
    int checked = 0;
    for (std::int64_t t = start_ms; t < end_ms; t += step_ms) {
        auto ticket = b.admit(address, t);
        if (ticket.admitted) {
            ++checked;
            b.failed(ticket, t);
        } else {
            EXPECT_GT(ticket.retry_after_ms, 0);
        }
    }
    return checked;
}

TEST(LoginBudget, OneAddressGetsFiveThenTenAMinute) {
    LoginBudget b;
    // 100 attempts a second for ten minutes.
    int checked = guess_continuously(b, "192.0.2.7", 1000, 1000 + 10 * kMinute, 10);
    EXPECT_GE(checked, 5 + 99);
    EXPECT_LE(checked, 5 + 100);
}

TEST(LoginBudget, ARefusedAddressIsToldHowLongToWait) {
    LoginBudget b;
    for (int i = 0; i < 5; ++i) b.failed(b.admit("192.0.2.7", 1000), 1000);
    auto refused = b.admit("192.0.2.7", 1000);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.retry_after_ms, 6000);  // one attempt per 6 s
    EXPECT_TRUE(b.admit("192.0.2.7", 7000).admitted);
    // Other addresses are not affected.
    EXPECT_TRUE(b.admit("192.0.2.8", 1000).admitted);
}

TEST(LoginBudget, SuccessesCostNothing) {
    LoginBudget b;
    for (int i = 0; i < 1000; ++i) {
        auto t = b.admit("192.0.2.7", 1000);
        ASSERT_TRUE(t.admitted) << i;
        b.succeeded(t, 1000);
    }
}

TEST(LoginBudget, ManyAddressesTogetherAreBoundedByTheGlobalBudget) {
    LoginBudget b;
    // 1,000 addresses, each trying once a second (six times its own budget), for ten minutes.
    int checked = 0;
    for (std::int64_t tick = 0; tick < 10 * 600; ++tick) {
        std::int64_t t = 1000 + tick * 100;
        for (int i = 0; i < 100; ++i) {
            int a = static_cast<int>((tick * 100 + i) % 1000);
            auto ticket =
                b.admit("10.0." + std::to_string(a / 250) + "." + std::to_string(a % 250), t);
            if (ticket.admitted) {
                ++checked;
                b.failed(ticket, t);
            }
        }
    }
    // Global: 100 + 300 a minute; fresh lane (addresses never seen failing): 30 + 60 a
    // minute. Every address here fails at its first attempt, so the fresh lane is used by
    // at most one attempt per address.
    EXPECT_LE(checked, 100 + 300 * 10 + 30 + 60 * 10);
    EXPECT_GE(checked, 300 * 10);
}

TEST(LoginBudget, AnAddressWithoutFailuresStillLogsInWhenTheGlobalBudgetIsSpent) {
    LoginBudget b;
    // Spend the global budget from 100 addresses that keep failing.
    for (int round = 0; round < 3; ++round) {
        for (int a = 0; a < 100; ++a) {
            auto t = b.admit("10.1.0." + std::to_string(a), 1000);
            if (t.admitted) b.failed(t, 1000);
        }
    }
    auto attacker = b.admit("10.1.0.1", 1000);
    EXPECT_FALSE(attacker.admitted);
    // Someone logging in rightly, from an address that has not failed: admitted, and
    // her success gives the attempt back.
    for (int i = 0; i < 100; ++i) {
        auto her = b.admit("198.51.100.4", 1000);
        ASSERT_TRUE(her.admitted) << i;
        b.succeeded(her, 1000);
    }
    // The limit of that lane (docs/security.md): 30 new addresses that fail use it up; the
    // next new address waits for it to refill (one a second).
    for (int a = 0; a < 30; ++a) {
        auto t = b.admit("10.9.0." + std::to_string(a), 1000);
        ASSERT_TRUE(t.admitted) << a;
        b.failed(t, 1000);
    }
    EXPECT_FALSE(b.admit("198.51.100.5", 1000).admitted);
    EXPECT_TRUE(b.admit("198.51.100.5", 2000).admitted);
}

TEST(LoginBudget, TheAddressTableIsBounded) {
    LoginBudgetOptions o;
    o.max_addresses = 100;
    o.global_burst = o.global_per_minute = 1e9;  // only the address table is tested here
    LoginBudget b(o);
    for (int a = 0; a < 1000; ++a) {
        auto t = b.admit("10.2." + std::to_string(a / 250) + "." + std::to_string(a % 250), 1000);
        if (t.admitted) b.failed(t, 1000);
    }
    EXPECT_LE(b.addresses(), 100u);
    // Newcomers beyond the bound share one bucket: five attempts between them, not each.
    int admitted = 0;
    for (int a = 0; a < 50; ++a) {
        admitted += b.admit("10.3.0." + std::to_string(a), 1000).admitted ? 1 : 0;
    }
    EXPECT_LE(admitted, 5);
}

}  // namespace
}  // namespace ariadne::gateway
