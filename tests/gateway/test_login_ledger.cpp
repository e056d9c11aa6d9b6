// The login limits computed from failures every node recorded (login_ledger.h), on a
// simulated clock: they give the waits the in-memory limits give on one node.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "ariadne/core/login_budget.h"
#include "ariadne/core/login_ledger.h"
#include "ariadne/core/rate_limits.h"

namespace ariadne::gateway {
namespace {

constexpr std::int64_t kMinute = 60 * 1000;

/// Failure times newest first, as the ledger returns them.
std::vector<std::int64_t> newest_first(std::vector<std::int64_t> times) {
    std::sort(times.rbegin(), times.rend());
    return times;
}

TEST(SharedLoginLimits, TheNameDelayGrowsFromTheSharedCountAsOnOneNode) {
    EXPECT_EQ(SharedLoginLimits::name_wait({}, 1000), 0);
    // Failures recorded by two nodes, each when the previous delay was over.
    std::vector<std::int64_t> failures;
    Backoff one_node;
    std::int64_t t = 1000;
    for (int i = 0; i < 10; ++i) {
        failures.insert(failures.begin(), t);
        const std::int64_t delay = one_node.fail(t);
        const std::vector<std::int64_t> read(
            failures.begin(),
            failures.begin() + static_cast<std::ptrdiff_t>(
                                   std::min(failures.size(), SharedLoginLimits::kNameRows)));
        EXPECT_EQ(SharedLoginLimits::name_wait(read, t), delay) << "failure " << i + 1;
        EXPECT_EQ(SharedLoginLimits::name_wait(read, t + delay / 2), delay - delay / 2);
        EXPECT_EQ(SharedLoginLimits::name_wait(read, t + delay), 0);
        t += delay;
    }
    EXPECT_EQ(Backoff::delay_after(5), 8000);
    EXPECT_EQ(Backoff::delay_after(8), 60000);
    EXPECT_EQ(Backoff::delay_after(40), 60000);
}

TEST(SharedLoginLimits, TheAddressGetsItsBurstThenWaitsForItsBucketToRefill) {
    const SharedLoginLimits limits(LoginBudgetOptions{});  // burst 5, then 10 a minute
    EXPECT_EQ(limits.address_wait({}, 0), 0);
    EXPECT_EQ(limits.address_wait(newest_first({0, 0, 0, 0}), 0), 0);
    // Five at once: the sixth waits for one token (six seconds), as LoginBudget says.
    LoginBudget budget;
    for (int i = 0; i < 5; ++i) budget.failed(budget.admit("192.0.2.7", 0), 0);
    const auto refused = budget.admit("192.0.2.7", 0);
    ASSERT_FALSE(refused.admitted);
    const auto five = newest_first({0, 0, 0, 0, 0});
    EXPECT_EQ(limits.address_wait(five, 0), refused.retry_after_ms);
    EXPECT_EQ(limits.address_wait(five, 0), 6000);
    EXPECT_EQ(limits.address_wait(five, 2000), 4000);
    EXPECT_EQ(limits.address_wait(five, 6000), 0);
}

TEST(SharedLoginLimits, GuessesSpreadOverNodesGetNoMoreThanTheBudgetOfOne) {
    // An attacker tries every 100 ms for ten minutes, alternating between nodes; each
    // attempt is allowed only when the shared failures allow it.
    const SharedLoginLimits limits(LoginBudgetOptions{});
    std::vector<std::int64_t> failures;  // newest first
    int checked = 0;
    for (std::int64_t t = 0; t < 10 * kMinute; t += 100) {
        std::vector<std::int64_t> window;
        for (auto f : failures) {
            if (f < t - SharedLoginLimits::kAddressWindowMs ||
                window.size() == limits.address_rows())
                break;
            window.push_back(f);
        }
        if (limits.address_wait(window, t) > 0) continue;
        ++checked;
        failures.insert(failures.begin(), t);
    }
    // LoginBudget's own figure for the same ten minutes: 5 + 100 (one a second, shorter
    // by one step).
    EXPECT_GE(checked, 5 + 99);
    EXPECT_LE(checked, 5 + 100);
}

TEST(SharedLoginLimits, AddressRowsCoverWhatTheBucketLetsThroughInTheWindow) {
    EXPECT_EQ(SharedLoginLimits(LoginBudgetOptions{}).address_rows(), 5u + 100u + 1u);
    LoginBudgetOptions huge;
    huge.address_per_minute = 1e6;
    EXPECT_EQ(SharedLoginLimits(huge).address_rows(), 1000u);
}

TEST(AuthThrottle, AdoptingTheSharedCountContinuesItOrResetsIt) {
    AuthThrottle throttle;
    throttle.fail("u:mara.k", 0);
    throttle.fail("u:mara.k", 600);
    throttle.fail("u:mara.k", 2000);  // three here: the next would be the fourth
    // The nodes together saw four, the newest at 9000: the next failure is the fifth.
    throttle.adopt("u:mara.k", 4, 9000);
    EXPECT_EQ(throttle.remaining("u:mara.k", 9000), 4000);
    EXPECT_EQ(throttle.fail("u:mara.k", 20000), 8000);
    // She logged in on another node: none left.
    throttle.adopt("u:mara.k", 0, 0);
    EXPECT_EQ(throttle.remaining("u:mara.k", 20001), 0);
    EXPECT_EQ(throttle.fail("u:mara.k", 20001), 500);
}

}  // namespace
}  // namespace ariadne::gateway
