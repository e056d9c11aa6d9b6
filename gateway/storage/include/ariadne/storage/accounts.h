// Accounts: who may log in and who may talk to whom. Tables: accounts, caseworkers
// (username, Argon2id hash, sealed TOTP secret, last used TOTP step), survivors (recovery
// code locator and login key), disabled_accounts, assignments, settings; it reads
// gateway_survivor_cases (written by the consent policy) for a survivor's case link.
//
// Only hashes, sealed secrets, public keys and opaque ids are stored: no name, number or
// message. Thread safety: every method may be called from any thread. Reads run on the
// database's read pool; administrative writes run on its writer and block until committed.
// Errors: storage::Error (sqlite.h); the kinds a caller may react to are named per method.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/storage/database.h"

namespace ariadne::storage {

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
    std::string password_hash;         // Argon2id PHC string
    crypto::Bytes sealed_totp_secret;  // AES-256-GCM under the server key (server_key.h)
    std::uint64_t last_totp_step = 0;
};

struct SurvivorCredentials {
    Account account;
    crypto::Bytes auth_public_key;  // 33-byte Curve25519 key derived from her recovery code
};

class Accounts {
  public:
    /// `database` must outlive this object.
    explicit Accounts(Database& database) : db_(database) {}

    // ---- reads ----
    std::optional<Account> find_account(std::string_view id) const;
    std::optional<CaseworkerCredentials> find_caseworker(std::string_view username) const;
    std::optional<SurvivorCredentials> find_survivor(crypto::ByteView locator) const;
    /// The accounts `account` shares an assignment with: a survivor's caseworkers; a
    /// caseworker's survivors and the other caseworkers of those survivors. Sorted by id.
    std::vector<Account> assignment_neighbours(const Account& account) const;
    bool shares_assignment(const Account& a, const Account& b) const;
    /// Whether the account is disabled (one indexed read).
    bool is_disabled(AccountKey account) const;
    std::optional<std::string> setting(std::string_view name) const;
    /// The link of a survivor account to her case in `gateway_survivor_cases` (created by
    /// the consent policy): case code and whether it is her duress account. On the read
    /// pool, so a survivor's send never waits for the policy store's connection (whose
    /// writer may sit in SQLite's busy handler).
    std::optional<std::pair<std::string, bool>> survivor_case_link(
        std::string_view account_id) const;

    // ---- administration (blocking, on the writer, so safe while serving) ----
    /// `account_id` comes from new_account_id() (the caller seals the TOTP secret to it).
    /// Throws Error(constraint) if the username is taken.
    Account create_caseworker(std::string_view account_id, std::string_view username,
                              std::string_view password_hash, crypto::ByteView sealed_totp_secret);
    /// Throws Error(constraint) if the locator is already enrolled.
    Account create_survivor(crypto::ByteView locator, crypto::ByteView auth_public_key);
    /// She lost her recovery code: her account gets a new code's locator and login key, and
    /// the identity, keys and installation of her device are forgotten, so her next login (a
    /// new identity, derived from the new code) binds afresh. Messages already queued for her
    /// stay. Throws Error(not_found) unless `survivor` is a survivor account,
    /// Error(constraint) if the locator is already enrolled.
    void replace_survivor_code(std::string_view survivor, crypto::ByteView locator,
                               crypto::ByteView auth_public_key);
    /// Throws Error(not_found) unless `survivor` is a survivor and `caseworker` a caseworker.
    /// Assigning twice is a no-op.
    void assign(std::string_view survivor, std::string_view caseworker);
    /// Removes caseworker `caseworker` from survivor `survivor`'s assignments. Returns whether
    /// she was assigned. Throws Error(not_found) unless `survivor` is a survivor and
    /// `caseworker` a caseworker.
    bool unassign(std::string_view survivor, std::string_view caseworker);
    /// Forgets device `device` of caseworker `caseworker`: its identity and its keys, so it can
    /// no longer log in and no one can open a session with it (Store::revoke_caseworker_device
    /// also drops the mail queued for it).
    /// Returns whether it existed. Throws Error(not_found) unless `caseworker` is a caseworker.
    bool revoke_caseworker_device(std::string_view caseworker, std::uint32_t device);
    /// Disables (or enables again) a caseworker account: a disabled account's logins are
    /// refused and its live sessions end at their next request. Returns whether anything
    /// changed. Throws Error(not_found) unless `caseworker` is a caseworker.
    bool set_caseworker_disabled(std::string_view caseworker, bool disabled);
    /// A new password hash and sealed TOTP secret for a caseworker (a reset): the old ones
    /// stop working at once. Her devices stay registered. Throws Error(not_found).
    void replace_caseworker_credentials(std::string_view caseworker, std::string_view password_hash,
                                        crypto::ByteView sealed_totp_secret);
    /// Stores `value` under `name` unless a value exists; returns the value now stored.
    std::string setting_or_insert(std::string_view name, std::string_view value);

  private:
    Database& db_;
};

}  // namespace ariadne::storage
