// SealedStore's file: creating or opening the SQLite file (through ariadne/sqlite), checking
// the key, the schema, transactions, and sealing and opening its values (crypto/aead.h) under
// the derived keys.
#include <argon2.h>

#include "ariadne/crypto/aead.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/hmac.h"
#include "ariadne/crypto/store.h"
#include "sealed_store_detail.h"

namespace ariadne::crypto {

using detail::kMaxArgon2Iterations;
using detail::kMaxArgon2MemoryKib;
using detail::kMaxArgon2Parallelism;
using detail::kStoreKeyBytes;
using detail::row_ad;

namespace detail {

[[noreturn]] void throw_storage(const sqlite::Error& error) {
    const char* what = "be read or written";
    switch (error.operation()) {
        case sqlite::Operation::open:
            what = "be opened";
            break;
        case sqlite::Operation::prepare:
            what = "prepare a query";
            break;
        case sqlite::Operation::bind:
            what = "bind a value";
            break;
        default:
            break;
    }
    const std::string& reason = error.reason().empty() ? "unknown error" : error.reason();
    throw Error(ErrorCode::storage,
                std::string("the key store could not ") + what + " (SQLite: " + reason + ")");
}

std::string row_ad(std::string_view table, std::initializer_list<std::string_view> fields) {
    std::string ad = "ariadne-store-v1|";
    ad += table;
    for (auto field : fields) {
        ad += '|';
        ad += std::to_string(field.size());
        ad += ':';
        ad += field;
    }
    return ad;
}

}  // namespace detail

namespace {

constexpr std::size_t kSaltLen = 16;
constexpr std::string_view kKeyCheckPlaintext = "ariadne store key check v1";
constexpr std::int64_t kSchemaVersion = 1;

SecretBytes argon2id(ByteView passphrase, ByteView salt, const Argon2Params& p) {
    SecretBytes out(kStoreKeyBytes);
    int rc = argon2id_hash_raw(p.iterations, p.memory_kib, p.parallelism, passphrase.data(),
                               passphrase.size(), salt.data(), salt.size(), out.data(), out.size());
    if (rc != ARGON2_OK) {
        throw Error(ErrorCode::internal,
                    std::string("Argon2id key derivation failed: ") + argon2_error_message(rc));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sealing, meta

Bytes SealedStore::seal(std::string_view associated_data, ByteView plaintext) const {
    try {
        return crypto::seal(keys_->seal_key.view(), associated_data, plaintext);
    } catch (const Error&) {
        throw Error(ErrorCode::internal, "sealing a record with AES-256-GCM failed");
    }
}

SecretBytes SealedStore::open_sealed(std::string_view associated_data, ByteView sealed) const {
    try {
        // Stores were versioned from the start: an unversioned value is damage, not history.
        return crypto::open_sealed(keys_->seal_key.view(), associated_data, sealed,
                                   Accept::versioned);
    } catch (const OpenError&) {
        // The table name is the second field of the associated data; it makes the error useful.
        std::string_view table = associated_data.substr(associated_data.find('|') + 1);
        table = table.substr(0, table.find('|'));
        throw Error(ErrorCode::corrupt_record,
                    "a sealed " + std::string(table) +
                        " record failed to open (tampered with, or moved to another row)");
    }
}

Bytes SealedStore::name_tag(std::string_view name) const {
    std::string input = "name|";
    input += name;
    return hmac_sha256(keys_->index_key.view(), as_bytes(input));
}

Bytes SealedStore::group_tag(std::string_view group_id) const {
    std::string input = "group|";
    input += group_id;
    return hmac_sha256(keys_->index_key.view(), as_bytes(input));
}

std::optional<std::int64_t> SealedStore::meta_int(const char* key) {
    auto s = db_->cached("SELECT value FROM meta WHERE key = ?1");
    s.bind(1, key);
    if (!s.step() || s.is_null(0)) return std::nullopt;
    return s.integer(0);
}

void SealedStore::set_meta(const char* key, std::int64_t value) {
    auto s = db_->cached(
        "INSERT INTO meta(key, value) VALUES(?1, ?2) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value).run();
}

// ---------------------------------------------------------------------------------------------
// Opening

SealedStore::SealedStore(std::filesystem::path path, std::unique_ptr<sqlite::Connection> db)
    : path_(std::move(path)), db_(std::move(db)), keys_(std::make_unique<Keys>()) {}

SealedStore::~SealedStore() = default;

std::unique_ptr<SealedStore> SealedStore::open(const std::filesystem::path& path,
                                               const StoreKey& key) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    bool is_new = !exists || std::filesystem::file_size(path, ec) == 0;
    // A missing file is created 0600 (WAL and SHM inherit the mode). Connection settings only:
    // nothing is written, and no WAL switched on, before the key is verified.
    sqlite::ConnectionOptions options{.mode = sqlite::OpenMode::create,
                                      .synchronous_full = true,
                                      .wal = false,
                                      .secure_delete = true,
                                      .foreign_keys = false,
                                      .busy_timeout_ms = 5000};
    try {
        std::unique_ptr<SealedStore> store(
            new SealedStore(path, std::make_unique<sqlite::Connection>(path, options)));
        store->unlock_or_create(key, is_new);
        return store;
    } catch (const sqlite::Error& e) {
        if (e.operation() == sqlite::Operation::create_file) {
            throw Error(ErrorCode::storage,
                        "the key store " + path.string() + " cannot be created: " + e.reason());
        }
        detail::throw_storage(e);
    }
}

void SealedStore::unlock_or_create(const StoreKey& key, bool is_new) {
    if (!is_new) {
        auto s = db_->cached(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
            "'meta'");
        if (!s.step() || s.integer(0) != 1) {
            throw Error(ErrorCode::storage,
                        "the file " + path_.string() + " is not an Ariadne key store");
        }
    }
    Bytes salt;
    std::optional<Argon2Params> params;
    if (is_new) {
        if (key.is_passphrase()) {
            salt = random_bytes(kSaltLen);
            params = key.argon2_params();
        }
    } else {
        auto s = db_->cached("SELECT value FROM meta WHERE key = 'kdf'");
        std::string kdf = s.step() ? s.text(0) : "";
        if (kdf == "argon2id") {
            Argon2Params p;
            auto t = meta_int("argon2_iterations"), m = meta_int("argon2_memory_kib"),
                 par = meta_int("argon2_parallelism");
            auto salt_query = db_->cached("SELECT value FROM meta WHERE key = 'argon2_salt'");
            if (salt_query.step()) salt = salt_query.blob(0);
            if (!t || !m || !par || *t < 1 || *t > kMaxArgon2Iterations || *m < 8 ||
                *m > kMaxArgon2MemoryKib || *par < 1 || *par > kMaxArgon2Parallelism ||
                salt.size() < 8) {
                throw Error(ErrorCode::corrupt_record,
                            "the key store's Argon2id parameters are missing or out of range");
            }
            p.iterations = static_cast<std::uint32_t>(*t);
            p.memory_kib = static_cast<std::uint32_t>(*m);
            p.parallelism = static_cast<std::uint32_t>(*par);
            params = p;
        } else if (kdf != "raw") {
            throw Error(ErrorCode::corrupt_record, "the key store names an unknown key derivation");
        }
    }

    const char* refusal =
        params ? "the passphrase does not open this store" : "the key does not open this store";
    if (params.has_value() != key.is_passphrase()) {
        throw Error(ErrorCode::wrong_passphrase, params ? "this store is opened with a passphrase"
                                                        : "this store is opened with a key file");
    }
    SecretBytes master = params ? argon2id(key.secret().view(), salt, *params) : key.secret();
    keys_->seal_key =
        hkdf_sha256(master.view(), {}, as_bytes("ariadne store seal key v1"), kStoreKeyBytes);
    keys_->index_key =
        hkdf_sha256(master.view(), {}, as_bytes("ariadne store index key v1"), kStoreKeyBytes);
    const std::string check_ad = row_ad("meta", {"key_check"});

    if (!is_new) {
        Bytes check;
        {
            // Reset before the journal-mode change below, which a pending read would block
            // (a store copied in rollback-journal mode would not open).
            auto s = db_->cached("SELECT value FROM meta WHERE key = 'key_check'");
            if (s.step()) check = s.blob(0);
        }
        try {
            SecretBytes opened = open_sealed(check_ad, check);
            if (!equal_constant_time(opened.view(), as_bytes(kKeyCheckPlaintext))) throw 0;
        } catch (...) {
            throw Error(ErrorCode::wrong_passphrase, refusal);
        }
        db_->exec("PRAGMA journal_mode = WAL;");
        return;
    }

    db_->exec("PRAGMA journal_mode = WAL;");
    Transaction tx(*this);
    db_->exec(R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value);
        CREATE TABLE local_identity(
            id INTEGER PRIMARY KEY CHECK (id = 1),
            registration_id INTEGER NOT NULL,
            public_key BLOB NOT NULL,
            private_key BLOB NOT NULL);
        CREATE TABLE pre_keys(
            id INTEGER PRIMARY KEY,
            record BLOB NOT NULL,
            issued INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE signed_pre_keys(
            id INTEGER PRIMARY KEY,
            record BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            superseded_at INTEGER);
        CREATE TABLE sessions(
            name_tag BLOB NOT NULL,
            device_id INTEGER NOT NULL,
            record BLOB NOT NULL,
            PRIMARY KEY (name_tag, device_id));
        CREATE TABLE remote_identities(
            name_tag BLOB NOT NULL,
            device_id INTEGER NOT NULL,
            identity_key BLOB NOT NULL,
            PRIMARY KEY (name_tag, device_id));
        CREATE TABLE sender_keys(
            group_tag BLOB NOT NULL,
            name_tag BLOB NOT NULL,
            device_id INTEGER NOT NULL,
            record BLOB NOT NULL,
            PRIMARY KEY (group_tag, name_tag, device_id));
    )sql");
    set_meta("schema_version", kSchemaVersion);
    {
        auto s = db_->cached("INSERT INTO meta(key, value) VALUES('kdf', ?1)");
        s.bind(1, params ? "argon2id" : "raw").run();
    }
    if (params) {
        set_meta("argon2_iterations", params->iterations);
        set_meta("argon2_memory_kib", params->memory_kib);
        set_meta("argon2_parallelism", params->parallelism);
        auto s = db_->cached("INSERT INTO meta(key, value) VALUES('argon2_salt', ?1)");
        s.bind_blob(1, salt).run();
    }
    {
        auto s = db_->cached("INSERT INTO meta(key, value) VALUES('key_check', ?1)");
        s.bind_blob(1, seal(check_ad, as_bytes(kKeyCheckPlaintext))).run();
    }
    tx.commit();
}

std::optional<Argon2Params> SealedStore::argon2_params() const try {
    auto* self = const_cast<SealedStore*>(this);
    auto t = self->meta_int("argon2_iterations");
    if (!t) return std::nullopt;
    return Argon2Params{static_cast<std::uint32_t>(*t),
                        static_cast<std::uint32_t>(*self->meta_int("argon2_memory_kib")),
                        static_cast<std::uint32_t>(*self->meta_int("argon2_parallelism"))};
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

Bytes SealedStore::image() try { return db_->serialize(); } catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Transactions

// sqlite::Transaction begins IMMEDIATE, or a savepoint inside an open transaction, so a failed
// inner step is undone even if the caller catches the error and the outer one commits.
SealedStore::Transaction::Transaction(SealedStore& store) try
    : tx_(std::make_unique<sqlite::Transaction>(*store.db_)) {
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

SealedStore::Transaction::~Transaction() = default;

void SealedStore::Transaction::commit() {
    if (!tx_) return;
    try {
        tx_->commit();
        tx_.reset();
    } catch (const sqlite::Error& e) {
        tx_.reset();  // rolls back now, not when the caller's scope ends
        const std::string& reason = e.reason().empty() ? "unknown error" : e.reason();
        throw Error(ErrorCode::storage, "the key store could not commit (SQLite: " + reason + ")");
    }
}

}  // namespace ariadne::crypto
