// The login limits' waits computed from the failures every node recorded.
#include "ariadne/core/login_ledger.h"

#include <algorithm>
#include <cmath>

#include "ariadne/core/rate_limits.h"

namespace ariadne::gateway {

namespace {
// A wait longer than the longest window would outlast the rows it is computed from.
constexpr std::int64_t kMaxWaitMs = SharedLoginLimits::kNameWindowMs;
}  // namespace

std::size_t SharedLoginLimits::address_rows() const noexcept {
    const double through = budget_.address_burst + budget_.address_per_minute *
                                                       static_cast<double>(kAddressWindowMs) /
                                                       60000.0;
    if (!(through < 999)) return 1000;
    return static_cast<std::size_t>(std::max(0.0, std::ceil(through))) + 1;
}

std::int64_t SharedLoginLimits::name_wait(std::span<const std::int64_t> newest_first,
                                          std::int64_t now_ms) noexcept {
    if (newest_first.empty()) return 0;
    const auto failures = static_cast<std::uint32_t>(std::min(newest_first.size(), kNameRows));
    const std::int64_t next = newest_first.front() + Backoff::delay_after(failures);
    return std::clamp<std::int64_t>(next - now_ms, 0, kMaxWaitMs);
}

std::int64_t SharedLoginLimits::address_wait(std::span<const std::int64_t> newest_first,
                                             std::int64_t now_ms) const noexcept {
    // A bucket of `burst` tokens refilled at `rate` lets an attempt through now only if, for
    // every earlier failure, the failures since it plus this attempt fit in the burst plus
    // what refilled since: k + 1 <= burst + rate * (now - t_k).
    const double per_ms = std::max(budget_.address_per_minute, 1e-6) / 60000.0;
    std::int64_t wait = 0;
    for (std::size_t i = 0; i < newest_first.size(); ++i) {
        const double excess = static_cast<double>(i + 2) - budget_.address_burst;
        if (excess <= 0) continue;
        const double due = static_cast<double>(newest_first[i]) + excess / per_ms;
        const double until = std::ceil(due - static_cast<double>(now_ms));
        if (until > static_cast<double>(wait))
            wait = until >= static_cast<double>(kMaxWaitMs) ? kMaxWaitMs
                                                            : static_cast<std::int64_t>(until);
    }
    return wait;
}

}  // namespace ariadne::gateway
