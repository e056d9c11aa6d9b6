#include "ariadne/protocol/queue_quota.h"

namespace ariadne::gateway {

QuotaVerdict QueueQuota::reserve(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    auto held = [](const auto& m, std::int64_t key) -> std::uint64_t {
        auto it = m.find(key);
        return it == m.end() ? 0 : it->second;
    };
    if (held(by_recipient_, recipient) + bytes > limits_.per_recipient_bytes) {
        return QuotaVerdict::recipient_full;
    }
    if (held(by_sender_, sender) + bytes > limits_.per_sender_bytes) {
        return QuotaVerdict::sender_full;
    }
    by_recipient_[recipient] += bytes;
    by_sender_[sender] += bytes;
    return QuotaVerdict::within;
}

void QueueQuota::add(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    by_recipient_[recipient] += bytes;
    by_sender_[sender] += bytes;
}

void QueueQuota::take(std::unordered_map<std::int64_t, std::uint64_t>& m, std::int64_t key,
                      std::uint64_t bytes) {
    auto it = m.find(key);
    if (it == m.end()) return;
    if (it->second <= bytes) {
        m.erase(it);  // accounts with nothing queued cost no memory
    } else {
        it->second -= bytes;
    }
}

void QueueQuota::release(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    take(by_recipient_, recipient, bytes);
    take(by_sender_, sender, bytes);
}

void QueueQuota::correct(std::int64_t recipient, std::uint64_t recipient_bytes,
                         std::int64_t sender, std::uint64_t sender_bytes) {
    std::lock_guard lock(mutex_);
    if (recipient_bytes == 0) {
        by_recipient_.erase(recipient);
    } else {
        by_recipient_[recipient] = recipient_bytes;
    }
    if (sender_bytes == 0) {
        by_sender_.erase(sender);
    } else {
        by_sender_[sender] = sender_bytes;
    }
}

std::uint64_t QueueQuota::recipient_bytes(std::int64_t recipient) const {
    std::lock_guard lock(mutex_);
    auto it = by_recipient_.find(recipient);
    return it == by_recipient_.end() ? 0 : it->second;
}

std::uint64_t QueueQuota::sender_bytes(std::int64_t sender) const {
    std::lock_guard lock(mutex_);
    auto it = by_sender_.find(sender);
    return it == by_sender_.end() ? 0 : it->second;
}

}  // namespace ariadne::gateway
