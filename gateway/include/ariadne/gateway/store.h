// The gateway's durable state in one SQLite database (WAL, secure_delete, synchronous=FULL
// by default): accounts, devices, assignments, the key directory and the mailbox.
//
// Writes go through ONE writer thread that group-commits: jobs queue up and a batch closes
// after `max_batch` messages or `max_delay` since its first job, then commits in one
// transaction (each job inside its own savepoint, so one bad job does not fail the others).
// A job's completion runs on the writer thread after the batch committed (or failed), so a
// caller acknowledges only what is durable. Completions must be quick and must not call
// blocking Store methods (flush, run_sync-based admin calls).
// Reads use a small pool of read-only connections and may run on any thread.
//
// Only ciphertext and routing metadata are stored (see docs/architecture.md "Storage").
// All public methods are thread-safe. Errors: GatewayError(storage) on open/schema/read
// failures; write failures are reported through completions as CommitStatus::failed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/gateway/codec.h"
#include "ariadne/gateway/metrics.h"
#include "ariadne/gateway/queue_quota.h"

namespace ariadne::gateway {

using crypto::ByteView;

enum class Role { survivor, caseworker };
const char* to_string(Role role) noexcept;

/// Internal row id of an account. Never leaves the gateway: the wire uses `Account::id`.
using AccountKey = std::int64_t;

struct Account {
    AccountKey key = 0;
    std::string id;  // "a_" + 22 base64url characters, random
    Role role = Role::survivor;
};

/// Makes a fresh random account id.
std::string new_account_id();

struct CaseworkerCredentials {
    Account account;
    std::string password_hash;  // Argon2id PHC string
    Bytes sealed_totp_secret;   // AES-256-GCM under the server key (server_key.h)
    std::uint64_t last_totp_step = 0;
};

struct SurvivorCredentials {
    Account account;
    Bytes auth_public_key;  // 33-byte Curve25519 key derived from her recovery code
};

struct DeviceRecord {
    std::uint32_t device_id = 0;
    Bytes identity_key;
    std::uint32_t registration_id = 0;
};

struct Bundle {
    std::uint32_t device_id = 0;
    std::uint32_t registration_id = 0;
    Bytes identity_key;
    SignedPreKeyUpload signed_pre_key;
    PreKeyUpload pre_key;  // a one-time pre-key, or the last-resort key (id 16777215)
};

/// One mailbox row: routing + what is pushed to the recipient.
struct MailboxEntry {
    AccountKey recipient = 0;
    std::uint32_t recipient_device = 0;
    Delivery delivery;
};
using MailboxEntryPtr = std::shared_ptr<const MailboxEntry>;

struct NewMessage {
    AccountKey recipient = 0;
    std::uint32_t recipient_device = 0;
    Account sender;
    std::uint32_t sender_device = 0;
    int type = 0;
    Bytes body;
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

enum class CommitStatus {
    committed,  // durable
    rejected,   // the job refused itself (e.g. replayed TOTP step); nothing of it was stored
    failed,     // the batch could not commit (disk full, read-only...); nothing was stored
};

template <class T>
using Completion = std::function<void(CommitStatus, T)>;

struct StoreOptions {
    std::filesystem::path path;
    bool synchronous_full = true;  // false: synchronous=NORMAL (see docs/architecture.md)
    std::size_t max_batch = 256;   // messages per group commit
    std::chrono::microseconds max_delay{2000};
    std::chrono::hours mailbox_ttl{24 * 30};
    std::chrono::seconds maintenance_interval{60};  // TTL purge + wal_checkpoint(TRUNCATE)
    std::size_t read_connections = 4;
    std::size_t max_pre_keys_per_device = 1000;
    // Undelivered message bytes per recipient and per sender (store_messages_within_quota).
    QueueQuotaLimits queue_quota;
    Metrics* metrics = nullptr;  // optional, must outlive the store
};

class Store {
  public:
    class Connection;

    /// Opens (creating if needed, file mode 0600) the database and starts the writer.
    /// Throws GatewayError(storage) if the file cannot be opened or the schema set up.
    explicit Store(StoreOptions options);
    /// Commits everything queued, checkpoints the WAL and closes.
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // ---- reads (any thread; throw GatewayError(storage) on SQLite failure) ----
    std::optional<Account> find_account(std::string_view id) const;
    std::optional<CaseworkerCredentials> find_caseworker(std::string_view username) const;
    std::optional<SurvivorCredentials> find_survivor(ByteView locator) const;
    std::optional<DeviceRecord> find_device(AccountKey account, std::uint32_t device) const;
    /// Devices that can be messaged: they have a signed pre-key and a last-resort key.
    std::vector<std::uint32_t> ready_devices(AccountKey account) const;
    /// The accounts `account` shares an assignment with: a survivor's caseworkers; a
    /// caseworker's survivors and the other caseworkers of those survivors. Sorted by id.
    std::vector<Account> assignment_neighbours(const Account& account) const;
    bool shares_assignment(const Account& a, const Account& b) const;
    std::uint32_t pre_key_count(AccountKey account, std::uint32_t device) const;
    /// Up to `limit` mailbox entries of a device with server_id > `after`, in order.
    std::vector<MailboxEntryPtr> pending(AccountKey account, std::uint32_t device,
                                         std::int64_t after, std::size_t limit) const;
    /// Rows in the mailbox (all devices).
    std::int64_t mailbox_size() const;
    std::optional<std::string> setting(std::string_view name) const;
    /// The link of a survivor account to her case in `gateway_survivor_cases` (created by
    /// the consent policy, consent_policy.h): case code and whether it is her duress
    /// account. On the read pool, so a survivor's send never waits for the policy store's
    /// connection (whose writer may sit in SQLite's busy handler).
    std::optional<std::pair<std::string, bool>> survivor_case_link(
        std::string_view account_id) const;

    /// While it lives, every read this thread makes through `store` runs on one pooled
    /// connection inside one read transaction (one snapshot): a send's lookups (account,
    /// assignment, devices, case) cost one lock round on the WAL instead of one each. Keep
    /// it short (it holds a read connection and pins the WAL against checkpoints), and never
    /// wait inside it for another connection's write (a checkpoint holding the write lock
    /// waits for this reader). A scope opened inside another one of the same store joins
    /// it. If the transaction cannot be begun, reads go to the pool one by one as without
    /// a scope.
    class ReadScope {
      public:
        explicit ReadScope(const Store& store);
        ~ReadScope();
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;

      private:
        const Store* store_ = nullptr;  // null: joined an outer scope, or not begun
        std::unique_ptr<Connection> conn_;
    };

    // ---- writes (group-committed; completions run on the writer thread) ----
    /// Stores messages; the completion gets the stored entries (server ids assigned) in
    /// the order given.
    void store_messages(std::vector<NewMessage> messages,
                        Completion<std::vector<MailboxEntryPtr>> done);

    /// Like store_messages, after checking the queued-bytes quotas (StoreOptions::
    /// queue_quota): when the messages' bodies would take the recipient or the sender past
    /// its limit, nothing is queued, `done` is never called and the verdict says which. The
    /// bytes count until the messages are acknowledged or expire. All messages must have
    /// the same recipient and sender.
    QuotaVerdict store_messages_within_quota(std::vector<NewMessage> messages,
                                             Completion<std::vector<MailboxEntryPtr>> done);

    /// Undelivered message bytes held for / sent by an account (what the quotas count).
    std::uint64_t queued_bytes_for(AccountKey recipient) const;
    std::uint64_t queued_bytes_from(AccountKey sender) const;

    /// Stores one notice (group-committed like messages); the completion gets the stored
    /// entry. Rejected (nothing stored) if a token is malformed.
    void store_notice(NewNotice notice, Completion<MailboxEntryPtr> done);

    struct AckOutcome {
        bool found = false;       // false: unknown or already acknowledged
        MailboxEntryPtr receipt;  // the receipt queued for the sender, if one was asked for
    };
    /// Deletes one mailbox entry of this device; queues a receipt if the sender asked.
    /// `failure` non-empty: the entry did not reach her (an edge device's failed ack); the
    /// receipt carries that reason code instead of "delivered".
    void acknowledge(AccountKey account, std::uint32_t device, std::int64_t server_id,
                     Completion<AckOutcome> done, std::string failure = {});

    /// Stores validated keys (ids/sizes/signature already checked by the caller).
    /// Rejected (nothing stored) if the device would hold more than
    /// max_pre_keys_per_device one-time pre-keys. Completion gets the new pre-key count.
    void upload_keys(AccountKey account, std::uint32_t device, KeysUploadRequest keys,
                     Completion<std::uint32_t> done);

    /// One bundle per ready device of `account`, each consuming one one-time pre-key
    /// atomically (the last-resort key when none is left).
    void take_bundles(AccountKey account, Completion<std::vector<Bundle>> done);

    /// Registers a new caseworker device after a password + TOTP login, recording
    /// `totp_step` as used. Rejected if a step >= totp_step was already used (replay).
    /// Completion gets the new device id.
    void add_caseworker_device(AccountKey account, std::uint64_t totp_step, Bytes identity_key,
                               std::uint32_t registration_id, Completion<std::uint32_t> done);

    /// Binds a survivor's device 1 to her recovery-derived identity on first login.
    /// Rejected if a different identity is already recorded. Records `installation_key` (the
    /// installation's public key; empty when the client sent none) as the one on file; the
    /// completion gets true when it differs from the one on file before (a new installation
    /// of her app), false on her first login and whenever it is the same.
    void bind_survivor_device(AccountKey account, Bytes identity_key, std::uint32_t registration_id,
                              Bytes installation_key, Completion<bool> done);

    /// Binds device `device` (>= 2) of a survivor account to an identity the gateway's edge
    /// adapter holds for her (adapters/edge.h: SMS and web page). Rejected if a different
    /// identity is already recorded for that device.
    void bind_edge_device(AccountKey account, std::uint32_t device, Bytes identity_key,
                          std::uint32_t registration_id, Completion<bool> done);

    /// Deletes undelivered entries stored before `cutoff_ms` (Unix ms); completion gets the
    /// number deleted (also added to metrics.messages_expired).
    void purge_expired(std::int64_t cutoff_ms, Completion<std::int64_t> done);

    /// Blocks until every job submitted before the call has committed (or failed).
    void flush();

    // ---- administration (blocking; run on the writer too, so safe while serving) ----
    /// `account_id` comes from new_account_id() (the caller seals the TOTP secret to it).
    /// Throws GatewayError(conflict) if the username is taken.
    Account create_caseworker(std::string_view account_id, std::string_view username,
                              std::string_view password_hash, ByteView sealed_totp_secret);
    /// Throws GatewayError(conflict) if the locator is already enrolled.
    Account create_survivor(ByteView locator, ByteView auth_public_key);
    /// She lost her recovery code: her account gets a new code's locator and login key, and
    /// the identity, keys and installation of her device are forgotten, so her next login (a new
    /// identity, derived from the new code) binds afresh. Messages already queued for her stay.
    /// Throws GatewayError(not_found) unless `survivor` is a survivor account,
    /// GatewayError(conflict) if the locator is already enrolled.
    void replace_survivor_code(std::string_view survivor, ByteView locator,
                               ByteView auth_public_key);
    /// Throws GatewayError(not_found) unless `survivor` is a survivor and `caseworker` a
    /// caseworker. Assigning twice is a no-op.
    void assign(std::string_view survivor, std::string_view caseworker);
    /// Disables (or enables again) a caseworker account: a disabled account's logins are
    /// refused and its live sessions end at their next request. Returns whether anything
    /// changed. Throws GatewayError(not_found) unless `caseworker` is a caseworker.
    bool set_caseworker_disabled(std::string_view caseworker, bool disabled);
    /// A new password hash and sealed TOTP secret for a caseworker (a reset): the old ones
    /// stop working at once. Her devices stay registered. Throws GatewayError(not_found).
    void replace_caseworker_credentials(std::string_view caseworker, std::string_view password_hash,
                                        ByteView sealed_totp_secret);
    /// Whether the account is disabled (one indexed read).
    bool is_disabled(AccountKey account) const;
    /// Stores `value` under `name` unless a value exists; returns the value now stored.
    std::string setting_or_insert(std::string_view name, std::string_view value);

    /// Number of group commits so far (tests check batching with it).
    std::uint64_t commit_count() const noexcept;

    struct Job;

  private:
    void submit(std::shared_ptr<Job> job);
    void writer_loop();
    void run_batch(std::vector<std::shared_ptr<Job>>& batch);
    void maintenance();
    template <class F>
    auto read(F&& f) const;
    std::unique_ptr<Connection> acquire_reader() const;
    void release_reader(std::unique_ptr<Connection> conn) const;  // null: it was dropped
    void run_sync(std::function<void(Connection&)> apply);
    void queue_messages(std::vector<NewMessage> messages,
                        Completion<std::vector<MailboxEntryPtr>> done);
    void count_queued_bytes();
    /// Logs the first failed write of an episode and the first success after it.
    void note_write_health(bool failed, const char* why);

    StoreOptions options_;
    std::unique_ptr<Connection> writer_;
    mutable std::mutex readers_mutex_;
    mutable std::vector<std::unique_ptr<Connection>> idle_readers_;
    mutable std::size_t readers_open_ = 0;
    mutable std::condition_variable readers_cv_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::size_t queued_weight_ = 0;   // sum of the weights in queue_
    std::size_t wake_at_weight_ = 0;  // submit() wakes the writer once queued_weight_ reaches it
    bool stopping_ = false;
    std::atomic<std::uint64_t> commits_{0};
    std::chrono::steady_clock::time_point next_maintenance_;
    QueueQuota queued_;
    bool writes_failing_ = false;  // writer thread only
    std::thread writer_thread_;
};

}  // namespace ariadne::gateway
