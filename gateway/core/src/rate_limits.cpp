// Login backoff per name and connection, and the per-account send token bucket.
#include <algorithm>
#include <cmath>

#include "ariadne/core/rate_limits.h"

namespace ariadne::gateway {

namespace {
constexpr std::int64_t kFirstDelayMs = 500;
constexpr std::int64_t kMaxDelayMs = 60000;
constexpr std::int64_t kForgetAfterMs = 3600 * 1000;
}  // namespace

std::int64_t Backoff::delay_after(std::uint32_t failures) noexcept {
    if (failures == 0) return 0;
    std::int64_t delay = kFirstDelayMs;
    for (std::uint32_t i = 1; i < failures && delay < kMaxDelayMs; ++i) delay *= 2;
    return std::min(delay, kMaxDelayMs);
}

std::int64_t Backoff::fail(std::int64_t now_ms) noexcept {
    ++failures;
    const std::int64_t delay = delay_after(failures);
    next_allowed_ms = now_ms + delay;
    return delay;
}

std::int64_t Backoff::remaining(std::int64_t now_ms) const noexcept {
    return std::max<std::int64_t>(0, next_allowed_ms - now_ms);
}

std::int64_t AuthThrottle::remaining(std::string_view key, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.remaining(now_ms);
}

std::int64_t AuthThrottle::fail(std::string_view key, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries_) prune(now_ms);
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(std::string(key), Backoff{}).first;
    // An hour without failures forgets the earlier ones.
    if (now_ms - it->second.next_allowed_ms > kForgetAfterMs) it->second = Backoff{};
    return it->second.fail(now_ms);
}

void AuthThrottle::reset(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) entries_.erase(it);
}

void AuthThrottle::adopt(std::string_view key, std::uint32_t failures,
                         std::int64_t last_failure_ms) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (failures == 0) {
        if (it != entries_.end()) entries_.erase(it);
        return;
    }
    if (it == entries_.end()) {
        if (entries_.size() >= max_entries_) prune(last_failure_ms);
        it = entries_.emplace(std::string(key), Backoff{}).first;
    }
    it->second = Backoff{failures, last_failure_ms + Backoff::delay_after(failures)};
}

void AuthThrottle::prune(std::int64_t now_ms) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        it = now_ms - it->second.next_allowed_ms > kForgetAfterMs ? entries_.erase(it)
                                                                  : std::next(it);
    }
    // Still full: forget the entries whose delay is over (an attacker filling the table
    // with random names only ever loses their own counters).
    if (entries_.size() >= max_entries_) {
        for (auto it = entries_.begin(); it != entries_.end();) {
            it = it->second.remaining(now_ms) == 0 ? entries_.erase(it) : std::next(it);
        }
    }
}

std::int64_t SendLimiter::take(std::string_view account, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(account);
    if (it == buckets_.end()) {
        if (buckets_.size() > 100000) {
            // Full buckets carry no information: drop them.
            for (auto b = buckets_.begin(); b != buckets_.end();) {
                double t = b->second.tokens + (now_ms - b->second.last_ms) * rate_ / 1000.0;
                b = t >= burst_ ? buckets_.erase(b) : std::next(b);
            }
        }
        it = buckets_.emplace(std::string(account), Bucket{burst_, now_ms}).first;
    }
    Bucket& b = it->second;
    b.tokens =
        std::min(burst_, b.tokens + std::max<std::int64_t>(0, now_ms - b.last_ms) * rate_ / 1000.0);
    b.last_ms = std::max(b.last_ms, now_ms);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / rate_));
}

}  // namespace ariadne::gateway
