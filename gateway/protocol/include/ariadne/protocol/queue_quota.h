// Bytes of undelivered messages held for each recipient account and sent by each sender
// account, with a limit on each, so that one account cannot fill the disk (or one
// survivor's mailbox) however fast it sends. Only message ciphertext counts (receipts and
// notices are the gateway's own and small). Thread-safe (one mutex; operations O(1)).
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace ariadne::gateway {

// One sender's quota is a quarter of a recipient's, so no single account can fill
// someone's mailbox and shut out the others who write to her or him.
struct QueueQuotaLimits {
    std::uint64_t per_recipient_bytes = 256ull << 20;  // undelivered to one account
    std::uint64_t per_sender_bytes = 64ull << 20;      // undelivered from one account
};

enum class QuotaVerdict {
    within,          // counted
    recipient_full,  // the recipient's undelivered messages would pass per_recipient_bytes
    sender_full,     // the sender's undelivered messages would pass per_sender_bytes
};

class QueueQuota {
  public:
    explicit QueueQuota(QueueQuotaLimits limits = {}) : limits_(limits) {}

    /// Counts `bytes` from `sender` to `recipient` unless that passes a limit (then nothing
    /// is counted). Check and count are one step: concurrent senders cannot both pass.
    QuotaVerdict reserve(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes);
    /// Counts `bytes` without checking the limits (what the mailbox already holds at start).
    void add(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes);
    /// Stops counting `bytes` (a commit that failed, a message acknowledged or expired).
    void release(std::int64_t recipient, std::int64_t sender, std::uint64_t bytes);

    /// Replaces the counts of one recipient and one sender with what the database holds
    /// (nodes sharing a database: acknowledgements on other nodes are not seen here).
    void correct(std::int64_t recipient, std::uint64_t recipient_bytes, std::int64_t sender,
                 std::uint64_t sender_bytes);

    std::uint64_t recipient_bytes(std::int64_t recipient) const;
    std::uint64_t sender_bytes(std::int64_t sender) const;
    const QueueQuotaLimits& limits() const noexcept { return limits_; }

  private:
    static void take(std::unordered_map<std::int64_t, std::uint64_t>& m, std::int64_t key,
                     std::uint64_t bytes);
    QueueQuotaLimits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::uint64_t> by_recipient_;
    std::unordered_map<std::int64_t, std::uint64_t> by_sender_;
};

}  // namespace ariadne::gateway
