// History: the console's decrypted message history and per-conversation marks, kept only on
// the caseworker's machine in one SQLite file (history.db) with every value sealed.
//
// Sealing: crypto/aead.h (AES-256-GCM, a fresh 12-byte random nonce per write, the row's
// identity as associated data, so a value copied into another row fails to open); files
// written before its versioned format still open. The key comes from the
// same secret as the device's Signal store (crypto::StoreKey): Argon2id over the passphrase
// with this file's own salt (parameters recorded in the file), or HKDF of a raw key. Account
// ids never appear in clear: rows are found by a keyed HMAC-SHA256 of the account id. What is
// in clear: row ids, message times (for retention) and gateway server ids (for receipts).
//
// Thread-safety: all methods are thread-safe (one internal mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/crypto/store.h"

namespace ariadne::console {

/// Delivery state of a message, in the order it progresses.
enum class DeliveryState {
    received,         // inbound: decrypted and kept here
    sending,          // outbound: handed to the gateway, no answer yet
    committed,        // outbound: the gateway stored it durably (it acknowledged the send)
    delivered,        // outbound: the survivor's device acknowledged it (delivery receipt)
    waiting_on_page,  // outbound: her edge device kept it for her web page; not seen yet
    read_on_page,     // outbound: her web page showed it to her (a "read" receipt)
    refused,          // outbound: the gateway refused it; `refusal` says why
    failed,           // outbound: the connection failed; it may not have been stored
    not_delivered,    // outbound: stored, but the gateway reported it did not reach her
                      // (a failed receipt, e.g. SMS); `refusal` says why and what to do
};
const char* to_string(DeliveryState state) noexcept;

struct StoredMessage {
    std::int64_t id = 0;  // local, increasing in arrival/sending order
    std::string account;  // the conversation: the survivor's account id
    bool outbound = false;
    std::int64_t time_ms = 0;  // Unix ms: gateway time for inbound, local time for outbound
    std::string text;
    DeliveryState state = DeliveryState::received;
    std::string refusal;  // sentence from the gateway when refused or failed
    /// The channel this message travelled on, as the gateway names it ("app", "web", "sms"),
    /// or empty when unknown (messages kept before channels were recorded).
    std::string channel;
    /// Inbound only: written by the gateway's edge (a duress sign-in alert), not by her.
    bool from_gateway = false;
    /// Outbound, delivered: which of her devices acknowledged it first: "app" (her app, on
    /// her phone), "edge" (the gateway's SMS/web adapter: the network reported the SMS
    /// delivered), or "" (kept before the console recorded it).
    std::string delivered_by;
};

struct ConversationMarks {
    std::string account;
    std::int64_t last_read_id = 0;  // messages with a larger id are unread
    std::string verified_number;    // safety number the caseworker marked verified, or empty
};

struct ConversationSummary {
    std::string account;
    std::int64_t last_activity_ms = 0;
    int unread = 0;
};

class History {
  public:
    /// Opens or creates (mode 0600) the history at `path`. Throws crypto::Error
    /// (wrong_passphrase) if `key` does not open an existing file, crypto::Error(storage) for
    /// SQLite failures.
    static std::unique_ptr<History> open(const std::filesystem::path& path,
                                         const crypto::StoreKey& key);
    ~History();
    History(const History&) = delete;
    History& operator=(const History&) = delete;

    /// Records an inbound message; a second call with the same `server_id` (a redelivery)
    /// records nothing and returns the first id. Durable when it returns.
    /// `channel` and `from_gateway` as in StoredMessage.
    std::int64_t add_inbound(const std::string& account, std::int64_t server_id,
                             std::int64_t time_ms, std::string_view text,
                             const std::string& channel = {}, bool from_gateway = false);
    /// Records an outbound message in state `sending` on `channel`; returns its id.
    std::int64_t add_outbound(const std::string& account, std::int64_t time_ms,
                              std::string_view text, const std::string& channel = {});
    /// The gateway stored message `id` under `server_ids` (one per recipient device).
    void set_committed(std::int64_t id, const std::vector<std::int64_t>& server_ids);
    /// The gateway refused (`refused`) or the send failed (`failed`), with a sentence.
    void set_not_sent(std::int64_t id, DeliveryState state, std::string_view sentence);
    /// A delivery receipt for `server_id` from her device `from_device` (1 her app, 2 the
    /// gateway's edge): marks its message delivered, unless her web page already showed it
    /// (read_on_page stays). Returns false if no message of ours carries that server id
    /// (e.g. already purged).
    bool mark_delivered(std::int64_t server_id, std::uint32_t from_device = 1);
    /// A receipt from her edge device about a reply to her web page: `read` false, kept for
    /// the page (waiting_on_page, only while nothing better is known); true, her page showed
    /// it (read_on_page). Returns false if no message of ours carries that server id.
    bool mark_on_page(std::int64_t server_id, bool read);
    /// A failed receipt for `server_id`: marks its message not_delivered with `sentence`,
    /// unless another of her devices already acknowledged it (delivered stays delivered).
    /// Returns false if no message of ours carries that server id.
    bool mark_not_delivered(std::int64_t server_id, std::string_view sentence);

    /// Messages of one conversation, oldest first.
    std::vector<StoredMessage> conversation(const std::string& account);
    /// One summary per conversation that has messages.
    std::vector<ConversationSummary> conversations();

    ConversationMarks marks(const std::string& account);
    void mark_read(const std::string& account);
    /// Sets (non-empty) or clears (empty) the verified safety number of a conversation.
    void set_verified(const std::string& account, const std::string& safety_number);

    /// Deletes messages older than `cutoff_ms` (retention); returns how many. The WAL is
    /// checkpointed and truncated so deleted text does not linger in it.
    int purge_older_than(std::int64_t cutoff_ms);

    struct Impl;

  private:
    explicit History(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::console
