// The mailbox: what waits for each device (message ciphertext, delivery receipts, notices)
// until the device acknowledges it or it expires, and the bytes each account has queued.
// Table: mailbox (server_id grows with time; one row per entry and device).
//
// Only ciphertext and routing metadata are stored; a notice holds tokens, never its text.
// Thread safety: every method may be called from any thread. Reads run on the database's
// read pool and throw storage::Error on SQLite failure; writes are group-committed on its
// writer and report through their completion (database.h), which runs on the writer thread.
// The queued-bytes counts live in memory: loaded at start, kept as rows come and go.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/queue_quota.h"
#include "ariadne/storage/accounts.h"
#include "ariadne/storage/database.h"

namespace ariadne::storage {

/// One mailbox row: routing + what is pushed to the recipient.
struct MailboxEntry {
    AccountKey recipient = 0;
    std::uint32_t recipient_device = 0;
    gateway::Delivery delivery;
};
using MailboxEntryPtr = std::shared_ptr<const MailboxEntry>;

struct NewMessage {
    AccountKey recipient = 0;
    std::uint32_t recipient_device = 0;
    Account sender;
    std::uint32_t sender_device = 0;
    int type = 0;
    crypto::Bytes body;
    bool receipt_requested = false;
};

/// A server-originated notice for one device of a survivor (docs/protocol.md 4.6). Only
/// tokens are stored (kind, reference, language, template id): the text is rendered when it
/// is delivered. Each token: 1..64 of [A-Za-z0-9_.:-] (reference may be empty).
struct NewNotice {
    AccountKey recipient = 0;
    std::uint32_t recipient_device = 0;
    AccountKey sender = 0;  // 0: from the organisation (no `from`); handover: the new caseworker
    std::string notice;     // "checkin" | "handover"
    std::string reference;
    std::string language;
    std::string template_id;
};

struct MailboxOptions {
    std::chrono::hours ttl{24 * 30};  // undelivered entries older than this are purged
    // Undelivered message bytes per recipient and per sender (store_messages_within_quota).
    gateway::QueueQuotaLimits queue_quota;
};

class Mailbox {
  public:
    /// Counts the bytes already queued (one scan; the database must not be started yet).
    /// `database` must outlive this object. Throws storage::Error if the scan fails.
    Mailbox(Database& database, MailboxOptions options);

    // ---- reads ----
    /// Up to `limit` mailbox entries of a device with server_id > `after`, in order.
    std::vector<MailboxEntryPtr> pending(AccountKey account, std::uint32_t device,
                                         std::int64_t after, std::size_t limit) const;
    /// Rows in the mailbox (all devices).
    std::int64_t size() const;
    /// The devices that have anything waiting (the poll of nodes sharing a database: only
    /// these re-read their backlog). Throws storage::Error if it cannot be read.
    std::vector<std::pair<AccountKey, std::uint32_t>> devices_with_mail() const;
    /// Undelivered message bytes held for / sent by an account (what the quotas count).
    std::uint64_t queued_bytes_for(AccountKey recipient) const;
    std::uint64_t queued_bytes_from(AccountKey sender) const;

    // ---- writes (group-committed) ----
    /// Stores messages; the completion gets the stored entries (server ids assigned) in
    /// the order given.
    void store_messages(std::vector<NewMessage> messages,
                        Completion<std::vector<MailboxEntryPtr>> done);

    /// Like store_messages, after checking the queued-bytes quotas: when the messages' bodies
    /// would take the recipient or the sender past its limit, nothing is queued, `done` is
    /// never called and the verdict says which. The bytes count until the messages are
    /// acknowledged or expire. All messages must have the same recipient and sender.
    gateway::QuotaVerdict store_messages_within_quota(
        std::vector<NewMessage> messages, Completion<std::vector<MailboxEntryPtr>> done);

    /// Stores one notice (group-committed like messages); the completion gets the stored
    /// entry. Rejected (nothing stored) if a token is malformed or the sender is unknown.
    void store_notice(NewNotice notice, Completion<MailboxEntryPtr> done);

    struct AckOutcome {
        bool found = false;       // false: unknown or already acknowledged
        MailboxEntryPtr receipt;  // the receipt queued for the sender, if one was asked for
    };
    /// Deletes one mailbox entry of this device; queues a receipt if the sender asked.
    /// `failure` non-empty: the entry did not reach her (an edge device's failed ack); the
    /// receipt carries that reason code instead of "delivered".
    /// `status` kept (an edge device took a reply into her web page's history): a message
    /// whose sender asked for a receipt is not deleted but kept, without its body, never
    /// pushed again, until the same device acknowledges it `read` (or it expires); each of
    /// the two acks queues a receipt with its status. `read` finds only a kept entry, and a
    /// kept entry answers nothing else (found = false).
    void acknowledge(AccountKey account, std::uint32_t device, std::int64_t server_id,
                     Completion<AckOutcome> done, std::string failure = {},
                     gateway::AckStatus status = gateway::AckStatus::delivered);

    /// Deletes undelivered entries stored before `cutoff_ms` (Unix ms); completion gets the
    /// number deleted (also added to metrics.messages_expired): 0 also when another node
    /// sharing the database (PostgreSQL) is purging at this moment (it skips the round).
    void purge_expired(std::int64_t cutoff_ms, Completion<std::int64_t> done);

    /// Deletes every entry queued for device `device` of `account` (a revoked device), blocking
    /// on the writer; returns how many. Throws storage::Error if it cannot.
    std::int64_t drop_device(AccountKey account, std::uint32_t device);

    /// The database's maintenance tick (writer thread only): purges entries older than the
    /// TTL in one transaction. Throws storage::Error if it cannot.
    void expire(Connection& writer);

  private:
    void queue_messages(std::vector<NewMessage> messages,
                        Completion<std::vector<MailboxEntryPtr>> done);

    Database& db_;
    MailboxOptions options_;
    gateway::QueueQuota queued_;
};

}  // namespace ariadne::storage
