// The gateway's durable state in one SQLite database (WAL, secure_delete, synchronous=FULL
// by default): one Database (group-committing writer, read pool; database.h) and the
// repositories over it: Accounts (accounts.h), KeyDirectory (key_directory.h) and Mailbox
// (mailbox.h). Each method below forwards to the repository named in its group, whose
// header states what it does and what it throws.
//
// Only ciphertext and routing metadata are stored (see docs/architecture.md "Storage").
// All public methods are thread-safe. Errors: storage::Error on open, schema and read
// failures, and from the administrative writes (not_found, constraint); group-committed
// writes report failures through completions as CommitStatus::failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ariadne/protocol/metrics.h"
#include "ariadne/protocol/queue_quota.h"
#include "ariadne/storage/accounts.h"
#include "ariadne/storage/database.h"
#include "ariadne/storage/key_directory.h"
#include "ariadne/storage/mailbox.h"

namespace ariadne::storage {

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
    gateway::QueueQuotaLimits queue_quota;
    gateway::Metrics* metrics = nullptr;  // optional, must outlive the store
};

class Store {
  public:
    /// Opens (creating if needed, file mode 0600) the database, creates the schema and
    /// starts the writer. Throws storage::Error if the file cannot be opened or the schema
    /// set up.
    explicit Store(StoreOptions options);
    /// Commits everything queued, checkpoints the WAL and closes.
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    Database& database() noexcept { return database_; }
    Accounts& accounts() noexcept { return accounts_; }
    KeyDirectory& keys() noexcept { return keys_; }
    Mailbox& mailbox() noexcept { return mailbox_; }
    const Accounts& accounts() const noexcept { return accounts_; }
    const KeyDirectory& keys() const noexcept { return keys_; }
    const Mailbox& mailbox() const noexcept { return mailbox_; }

    /// Database::ReadScope over this store's database (one snapshot for this thread's reads).
    class ReadScope {
      public:
        explicit ReadScope(const Store& store) : scope_(store.database_) {}

      private:
        Database::ReadScope scope_;
    };
    using AckOutcome = Mailbox::AckOutcome;

    // ---- accounts (accounts.h) ----
    std::optional<Account> find_account(std::string_view id) const {
        return accounts_.find_account(id);
    }
    std::optional<CaseworkerCredentials> find_caseworker(std::string_view username) const {
        return accounts_.find_caseworker(username);
    }
    std::optional<SurvivorCredentials> find_survivor(crypto::ByteView locator) const {
        return accounts_.find_survivor(locator);
    }
    std::vector<Account> assignment_neighbours(const Account& account) const {
        return accounts_.assignment_neighbours(account);
    }
    bool shares_assignment(const Account& a, const Account& b) const {
        return accounts_.shares_assignment(a, b);
    }
    bool is_disabled(AccountKey account) const { return accounts_.is_disabled(account); }
    std::optional<std::string> setting(std::string_view name) const {
        return accounts_.setting(name);
    }
    std::optional<std::pair<std::string, bool>> survivor_case_link(
        std::string_view account_id) const {
        return accounts_.survivor_case_link(account_id);
    }
    Account create_caseworker(std::string_view account_id, std::string_view username,
                              std::string_view password_hash, crypto::ByteView sealed_totp_secret) {
        return accounts_.create_caseworker(account_id, username, password_hash, sealed_totp_secret);
    }
    Account create_survivor(crypto::ByteView locator, crypto::ByteView auth_public_key) {
        return accounts_.create_survivor(locator, auth_public_key);
    }
    void replace_survivor_code(std::string_view survivor, crypto::ByteView locator,
                               crypto::ByteView auth_public_key) {
        accounts_.replace_survivor_code(survivor, locator, auth_public_key);
    }
    void assign(std::string_view survivor, std::string_view caseworker) {
        accounts_.assign(survivor, caseworker);
    }
    bool unassign(std::string_view survivor, std::string_view caseworker) {
        return accounts_.unassign(survivor, caseworker);
    }
    /// Accounts::revoke_caseworker_device, then the mail queued for that device is dropped
    /// (a new device may later get the same id). Blocking, on the writer.
    bool revoke_caseworker_device(std::string_view caseworker, std::uint32_t device);
    bool set_caseworker_disabled(std::string_view caseworker, bool disabled) {
        return accounts_.set_caseworker_disabled(caseworker, disabled);
    }
    void replace_caseworker_credentials(std::string_view caseworker, std::string_view password_hash,
                                        crypto::ByteView sealed_totp_secret) {
        accounts_.replace_caseworker_credentials(caseworker, password_hash, sealed_totp_secret);
    }
    std::string setting_or_insert(std::string_view name, std::string_view value) {
        return accounts_.setting_or_insert(name, value);
    }

    // ---- key directory (key_directory.h) ----
    std::optional<DeviceRecord> find_device(AccountKey account, std::uint32_t device) const {
        return keys_.find_device(account, device);
    }
    std::vector<std::uint32_t> ready_devices(AccountKey account) const {
        return keys_.ready_devices(account);
    }
    std::uint32_t pre_key_count(AccountKey account, std::uint32_t device) const {
        return keys_.pre_key_count(account, device);
    }
    void upload_keys(AccountKey account, std::uint32_t device, gateway::KeysUploadRequest keys,
                     Completion<std::uint32_t> done) {
        keys_.upload_keys(account, device, std::move(keys), std::move(done));
    }
    void take_bundles(AccountKey account, Completion<std::vector<Bundle>> done) {
        keys_.take_bundles(account, std::move(done));
    }
    void add_caseworker_device(AccountKey account, std::uint64_t totp_step,
                               crypto::Bytes identity_key, std::uint32_t registration_id,
                               Completion<std::uint32_t> done) {
        keys_.add_caseworker_device(account, totp_step, std::move(identity_key), registration_id,
                                    std::move(done));
    }
    void bind_survivor_device(AccountKey account, crypto::Bytes identity_key,
                              std::uint32_t registration_id, crypto::Bytes installation_key,
                              Completion<bool> done) {
        keys_.bind_survivor_device(account, std::move(identity_key), registration_id,
                                   std::move(installation_key), std::move(done));
    }
    void bind_edge_device(AccountKey account, std::uint32_t device, crypto::Bytes identity_key,
                          std::uint32_t registration_id, Completion<bool> done) {
        keys_.bind_edge_device(account, device, std::move(identity_key), registration_id,
                               std::move(done));
    }

    // ---- mailbox (mailbox.h) ----
    std::vector<MailboxEntryPtr> pending(AccountKey account, std::uint32_t device,
                                         std::int64_t after, std::size_t limit) const {
        return mailbox_.pending(account, device, after, limit);
    }
    std::int64_t mailbox_size() const { return mailbox_.size(); }
    std::uint64_t queued_bytes_for(AccountKey recipient) const {
        return mailbox_.queued_bytes_for(recipient);
    }
    std::uint64_t queued_bytes_from(AccountKey sender) const {
        return mailbox_.queued_bytes_from(sender);
    }
    void store_messages(std::vector<NewMessage> messages,
                        Completion<std::vector<MailboxEntryPtr>> done) {
        mailbox_.store_messages(std::move(messages), std::move(done));
    }
    gateway::QuotaVerdict store_messages_within_quota(
        std::vector<NewMessage> messages, Completion<std::vector<MailboxEntryPtr>> done) {
        return mailbox_.store_messages_within_quota(std::move(messages), std::move(done));
    }
    void store_notice(NewNotice notice, Completion<MailboxEntryPtr> done) {
        mailbox_.store_notice(std::move(notice), std::move(done));
    }
    void acknowledge(AccountKey account, std::uint32_t device, std::int64_t server_id,
                     Completion<AckOutcome> done, std::string failure = {},
                     gateway::AckStatus status = gateway::AckStatus::delivered) {
        mailbox_.acknowledge(account, device, server_id, std::move(done), std::move(failure),
                             status);
    }
    void purge_expired(std::int64_t cutoff_ms, Completion<std::int64_t> done) {
        mailbox_.purge_expired(cutoff_ms, std::move(done));
    }

    // ---- database (database.h) ----
    void flush() { database_.flush(); }
    std::uint64_t commit_count() const noexcept { return database_.commit_count(); }

  private:
    Database database_;
    Accounts accounts_;
    KeyDirectory keys_;
    Mailbox mailbox_;
};

}  // namespace ariadne::storage
