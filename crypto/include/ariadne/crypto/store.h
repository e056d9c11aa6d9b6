// SealedStore: the Signal protocol state of one local device in one SQLite file, with every
// secret sealed at rest.
//
// What is sealed (crypto/aead.h, version 1: AES-256-GCM, fresh random 12-byte nonce per write,
// the row's identity as associated data so a record copied into another row fails to open):
// the local identity private key, pre-key and signed pre-key records, session records, remote
// identity keys and sender-key records. The sealing and index keys are derived from the
// StoreKey (store_key.h). Peer names never appear in clear: rows are indexed by a keyed
// HMAC-SHA256 of the name. See docs/crypto.md for the formats and the threats they answer.
//
// Errors: every method throws crypto::Error — storage for SQLite failures, corrupt_record
// when a sealed value does not open (naming its table), wrong_passphrase from open().
// Ownership: open() returns the only owner; the SQLite connection (ariadne/sqlite/sqlite.h,
// whose errors never leave the store untranslated) closes with it.
//
// Thread-safety: a SealedStore is NOT safe for concurrent use. Party (session.h) owns one and
// serialises every call under its SignalContext lock; use it that way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/store_key.h"

extern "C" {
struct signal_protocol_store_context;
}

namespace ariadne::sqlite {
class Connection;
class Transaction;
}  // namespace ariadne::sqlite

namespace ariadne::crypto {

/// A remote device: a pseudonymous account name (case code, caseworker account id — never a
/// person's name) and a device id >= 1.
struct Address {
    std::string name;
    std::int32_t device_id = 1;
    bool operator==(const Address&) const = default;
};

/// The local device's long-term identity. `private_key` is the 32-byte Curve25519 scalar.
struct LocalIdentity {
    std::uint32_t registration_id = 0;
    Bytes public_key;  // 33 bytes, 0x05 prefix
    SecretBytes private_key;
};

/// Book-keeping of one signed pre-key (the record itself stays sealed).
struct SignedPreKeyInfo {
    std::uint32_t id = 0;
    std::int64_t created_at = 0;                // unix seconds
    std::optional<std::int64_t> superseded_at;  // unix seconds; absent for the current key
};

/// Pre-key id reserved for the last-resort pre-key: used when one-time pre-keys run out and
/// never deleted when used.
inline constexpr std::uint32_t kLastResortPreKeyId = 0xFFFFFF;

class SealedStore {
  public:
    /// Opens (or creates, with mode 0600) the store at `path`. A new store records the KDF
    /// parameters, a random salt and a key-check value. Throws Error(wrong_passphrase, "the
    /// passphrase does not open this store") — having written nothing — when the key does
    /// not match; Error(storage) for SQLite failures or a file that is not an Ariadne store.
    static std::unique_ptr<SealedStore> open(const std::filesystem::path& path,
                                             const StoreKey& key);
    ~SealedStore();
    SealedStore(const SealedStore&) = delete;
    SealedStore& operator=(const SealedStore&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// Argon2id parameters recorded in the store; nullopt for a raw-key store.
    std::optional<Argon2Params> argon2_params() const;
    /// The committed store as the bytes of its file, to be kept elsewhere (a gateway shares
    /// its edge devices' stores between nodes); written to a file, it opens as this store.
    /// Every secret in it stays sealed. Throws Error(storage) if SQLite cannot copy it.
    Bytes image();

    // -- local identity ---------------------------------------------------------------------
    std::optional<LocalIdentity> local_identity();
    /// Stores the identity of a new device. Throws Error(invalid_argument) if one exists.
    void set_local_identity(const LocalIdentity& identity);

    // -- pre-keys (serialized libsignal session_pre_key records) ------------------------------
    std::optional<SecretBytes> load_pre_key(std::uint32_t id);
    void store_pre_key(std::uint32_t id, ByteView record);
    bool contains_pre_key(std::uint32_t id);
    /// Deletes a used one-time pre-key; the last-resort key (kLastResortPreKeyId) is kept.
    void remove_pre_key(std::uint32_t id);
    /// Ids of one-time pre-keys still held (the last-resort key excluded), ascending.
    std::vector<std::uint32_t> one_time_pre_key_ids();
    /// Picks the lowest one-time pre-key not yet handed out in a bundle and marks it handed
    /// out; nullopt when all are (the caller then falls back to the last-resort key).
    std::optional<std::uint32_t> take_unissued_pre_key();
    void mark_pre_key_issued(std::uint32_t id);
    /// Id for the next generated batch (1..0xFFFFFE, wrapping), persisted across opens.
    std::uint32_t next_pre_key_id();
    void set_next_pre_key_id(std::uint32_t id);

    // -- signed pre-keys ---------------------------------------------------------------------
    std::optional<SecretBytes> load_signed_pre_key(std::uint32_t id);
    /// Stores a signed pre-key record; `created_at` in unix seconds.
    void store_signed_pre_key(std::uint32_t id, ByteView record, std::int64_t created_at);
    bool contains_signed_pre_key(std::uint32_t id);
    void remove_signed_pre_key(std::uint32_t id);
    /// All signed pre-keys, ascending by id.
    std::vector<SignedPreKeyInfo> signed_pre_keys();
    /// Marks every signed pre-key other than `current_id` superseded at `now` (if not yet).
    void supersede_signed_pre_keys_except(std::uint32_t current_id, std::int64_t now);

    // -- sessions (serialized libsignal session_record) -------------------------------------
    std::optional<SecretBytes> load_session(const Address& address);
    void store_session(const Address& address, ByteView record);
    bool contains_session(const Address& address);
    bool delete_session(const Address& address);
    int delete_all_sessions(std::string_view name);
    std::vector<std::int32_t> session_device_ids(std::string_view name);

    // -- remote identities (trust on first use) ----------------------------------------------
    std::optional<Bytes> remote_identity(const Address& address);
    /// Records `identity_key` as trusted for `address`; nullopt removes the entry.
    void save_remote_identity(const Address& address, std::optional<ByteView> identity_key);

    // -- sender keys (groups) ----------------------------------------------------------------
    std::optional<SecretBytes> load_sender_key(ByteView group_id, const Address& sender);
    void store_sender_key(ByteView group_id, const Address& sender, ByteView record);

    /// Groups writes into one durable SQLite transaction (BEGIN IMMEDIATE ... COMMIT).
    /// Nested use becomes a savepoint inside the outer transaction (durable only when the
    /// outer one commits). Without commit() the destructor rolls back (to the savepoint).
    class Transaction {
      public:
        explicit Transaction(SealedStore& store);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        /// Throws Error(storage) if the commit fails (the transaction is then rolled back).
        void commit();

      private:
        std::unique_ptr<sqlite::Transaction> tx_;  // null once committed
    };

    /// Installs the libsignal session, pre-key, signed pre-key, identity and sender-key store
    /// callbacks on `context`. The store must outlive the context's use. A callback that
    /// fails keeps its Error; fetch it with take_callback_error().
    void install_callbacks(signal_protocol_store_context* context);
    /// The Error a store callback hit during the last libsignal call, if any (then cleared).
    std::optional<Error> take_callback_error();

  private:
    struct Keys;
    SealedStore(std::filesystem::path path, std::unique_ptr<sqlite::Connection> db);
    void unlock_or_create(const StoreKey& key, bool is_new);
    Bytes seal(std::string_view associated_data, ByteView plaintext) const;
    SecretBytes open_sealed(std::string_view associated_data, ByteView sealed) const;
    Bytes name_tag(std::string_view name) const;
    Bytes group_tag(std::string_view group_id) const;
    std::optional<std::int64_t> meta_int(const char* key);
    void set_meta(const char* key, std::int64_t value);

    friend struct StoreCallbacks;

    std::filesystem::path path_;
    std::unique_ptr<sqlite::Connection> db_;
    std::unique_ptr<Keys> keys_;
    std::optional<Error> callback_error_;
};

}  // namespace ariadne::crypto
