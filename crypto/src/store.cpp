#include "ariadne/crypto/store.h"

#include <argon2.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <signal_protocol.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace ariadne::crypto {
namespace {

constexpr std::uint8_t kSealVersion = 1;
constexpr std::size_t kNonceLen = 12;
constexpr std::size_t kTagLen = 16;
constexpr std::size_t kKeyLen = 32;
constexpr std::size_t kSaltLen = 16;
constexpr std::string_view kKeyCheckPlaintext = "ariadne store key check v1";
constexpr std::int64_t kSchemaVersion = 1;

// Fails closed on stored parameters that would make opening take absurd time or memory.
constexpr std::uint32_t kMaxArgon2Iterations = 64;
constexpr std::uint32_t kMaxArgon2MemoryKib = 4u * 1024 * 1024;
constexpr std::uint32_t kMaxArgon2Parallelism = 16;

[[noreturn]] void throw_storage(sqlite3* db, const char* what) {
    throw Error(ErrorCode::storage, std::string("the key store could not ") + what + " (SQLite: " +
                                        (db ? sqlite3_errmsg(db) : "no handle") + ")");
}

// "ariadne-store-v1|<table>|<len>:<field>|...": length prefixes keep rows unambiguous even
// when names contain '|'.
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

std::string device_field(std::int32_t device_id) { return std::to_string(device_id); }

SecretBytes derive_subkey(ByteView ikm, std::string_view info, std::size_t out_len) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) throw Error(ErrorCode::internal, "OpenSSL provides no HKDF");
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == nullptr) throw Error(ErrorCode::internal, "OpenSSL could not allocate HKDF");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()),
                                          ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                          info.size()),
        OSSL_PARAM_construct_end()};
    SecretBytes out(out_len);
    int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
    EVP_KDF_CTX_free(ctx);
    if (ok != 1) throw Error(ErrorCode::internal, "HKDF derivation failed");
    return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
    Bytes out(32);
    std::size_t out_len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                  data.size(), out.data(), out.size(), &out_len) == nullptr ||
        out_len != 32) {
        throw Error(ErrorCode::internal, "HMAC-SHA256 failed");
    }
    return out;
}

SecretBytes argon2id(ByteView passphrase, ByteView salt, const Argon2Params& p) {
    SecretBytes out(kKeyLen);
    int rc = argon2id_hash_raw(p.iterations, p.memory_kib, p.parallelism, passphrase.data(),
                               passphrase.size(), salt.data(), salt.size(), out.data(), out.size());
    if (rc != ARGON2_OK) {
        throw Error(ErrorCode::internal,
                    std::string("Argon2id key derivation failed: ") + argon2_error_message(rc));
    }
    return out;
}

struct CipherCtx {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// StoreKey

StoreKey StoreKey::from_passphrase(std::string_view passphrase, Argon2Params params) {
    if (passphrase.empty()) {
        throw Error(ErrorCode::invalid_argument, "the store passphrase must not be empty");
    }
    if (params.iterations < 1 || params.memory_kib < 8 * 1024 || params.parallelism < 1 ||
        params.iterations > kMaxArgon2Iterations || params.memory_kib > kMaxArgon2MemoryKib ||
        params.parallelism > kMaxArgon2Parallelism) {
        throw Error(ErrorCode::invalid_argument,
                    "Argon2id parameters out of range (t 1..64, m 8 MiB..4 GiB, p 1..16)");
    }
    return StoreKey(SecretBytes(to_bytes(passphrase)), true, params);
}

StoreKey StoreKey::from_bytes(ByteView key) {
    if (key.size() != kKeyLen) {
        throw Error(ErrorCode::invalid_argument, "a store key must be exactly 32 bytes");
    }
    return StoreKey(SecretBytes(Bytes(key.begin(), key.end())), false, {});
}

StoreKey StoreKey::from_key_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " cannot be opened: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() +
                        " is accessible to other users; restrict it with chmod 600");
    }
    SecretBytes key(kKeyLen + 1);  // one extra byte detects an over-long file
    ssize_t got = 0;
    while (static_cast<std::size_t>(got) < key.size()) {
        ssize_t n = ::read(fd, key.data() + got, key.size() - static_cast<std::size_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += n;
    }
    ::close(fd);
    if (got != static_cast<ssize_t>(kKeyLen)) {
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " must hold exactly 32 bytes");
    }
    return from_bytes(ByteView(key.data(), kKeyLen));
}

void StoreKey::create_key_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        throw Error(ErrorCode::invalid_argument, "the key file " + path.string() +
                                                     " cannot be created: " + std::strerror(errno));
    }
    SecretBytes key(random_bytes(kKeyLen));
    bool ok =
        ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        std::filesystem::remove(path);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " could not be written");
    }
}

// ---------------------------------------------------------------------------------------------
// SealedStore internals

struct SealedStore::Keys {
    SecretBytes seal_key;   // AES-256-GCM key for every sealed column
    SecretBytes index_key;  // HMAC key for the name/group tags that index rows
};

// A cached prepared statement, reset and unbound when the wrapper goes out of scope.
class SealedStore::Statement {
  public:
    Statement(SealedStore& store, const char* sql) : db_(store.db_), stmt_(store.prepare(sql)) {}
    ~Statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value) {
        check(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }
    Statement& bind(int index, ByteView blob) {
        // Zero-length blobs must still bind as blobs, not NULL.
        static const std::uint8_t empty = 0;
        check(sqlite3_bind_blob64(stmt_, index, blob.empty() ? &empty : blob.data(), blob.size(),
                                  SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind_text(int index, std::string_view text) {
        check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                  SQLITE_UTF8));
        return *this;
    }
    /// True when a row is available.
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_storage(db_, "be read or written");
    }
    void run() { step(); }
    std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
    bool column_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
    Bytes column_blob(int i) const {
        auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, i));
        int len = sqlite3_column_bytes(stmt_, i);
        return data ? Bytes(data, data + len) : Bytes{};
    }
    std::string column_text(int i) const {
        auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
        return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
                    : std::string{};
    }

  private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw_storage(db_, "bind a value");
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

sqlite3_stmt* SealedStore::prepare(const char* sql) {
    for (auto& [text, stmt] : statements_) {
        if (text == sql) return stmt;  // same literal, same statement
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        throw_storage(db_, "prepare a query");
    }
    statements_.emplace_back(sql, stmt);
    return stmt;
}

void SealedStore::exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : "unknown error";
        sqlite3_free(message);
        throw Error(ErrorCode::storage,
                    "the key store could not be read or written (SQLite: " + text + ")");
    }
}

Bytes SealedStore::seal(std::string_view associated_data, ByteView plaintext) const {
    Bytes out(1 + kNonceLen + plaintext.size() + kTagLen);
    out[0] = kSealVersion;
    Bytes nonce = random_bytes(kNonceLen);
    std::copy(nonce.begin(), nonce.end(), out.begin() + 1);
    CipherCtx c;
    int len = 0;
    std::uint8_t* body = out.data() + 1 + kNonceLen;
    bool ok = c.ctx != nullptr &&
              EVP_EncryptInit_ex2(c.ctx, EVP_aes_256_gcm(), keys_->seal_key.data(), nonce.data(),
                                  nullptr) == 1 &&
              EVP_EncryptUpdate(c.ctx, nullptr, &len,
                                reinterpret_cast<const unsigned char*>(associated_data.data()),
                                static_cast<int>(associated_data.size())) == 1 &&
              EVP_EncryptUpdate(c.ctx, body, &len, plaintext.data(),
                                static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(c.ctx, body + len, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagLen),
                                  body + plaintext.size()) == 1;
    if (!ok) throw Error(ErrorCode::internal, "sealing a record with AES-256-GCM failed");
    return out;
}

SecretBytes SealedStore::open_sealed(std::string_view associated_data, ByteView sealed) const {
    // The table name is the second field of the associated data; it makes the error useful.
    std::string_view table = associated_data.substr(associated_data.find('|') + 1);
    table = table.substr(0, table.find('|'));
    const Error corrupt(ErrorCode::corrupt_record,
                        "a sealed " + std::string(table) +
                            " record failed to open (tampered with, or moved to another row)");
    if (sealed.size() < 1 + kNonceLen + kTagLen || sealed[0] != kSealVersion) throw corrupt;
    const std::size_t body_len = sealed.size() - 1 - kNonceLen - kTagLen;
    const std::uint8_t* nonce = sealed.data() + 1;
    const std::uint8_t* body = nonce + kNonceLen;
    SecretBytes out(body_len);
    CipherCtx c;
    int len = 0;
    std::uint8_t tag[kTagLen];
    std::memcpy(tag, body + body_len, kTagLen);
    bool ok =
        c.ctx != nullptr &&
        EVP_DecryptInit_ex2(c.ctx, EVP_aes_256_gcm(), keys_->seal_key.data(), nonce, nullptr) ==
            1 &&
        EVP_DecryptUpdate(c.ctx, nullptr, &len,
                          reinterpret_cast<const unsigned char*>(associated_data.data()),
                          static_cast<int>(associated_data.size())) == 1 &&
        EVP_DecryptUpdate(c.ctx, out.data(), &len, body, static_cast<int>(body_len)) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagLen), tag) == 1 &&
        EVP_DecryptFinal_ex(c.ctx, out.data() + len, &len) == 1;
    if (!ok) throw corrupt;
    return out;
}

Bytes SealedStore::name_tag(std::string_view name) const {
    std::string input = "name|";
    input += name;
    return hmac_sha256(keys_->index_key.view(), as_bytes(input));
}

std::optional<std::int64_t> SealedStore::meta_int(const char* key) {
    Statement s(*this, "SELECT value FROM meta WHERE key = ?1");
    s.bind_text(1, key);
    if (!s.step() || s.column_null(0)) return std::nullopt;
    return s.column_int(0);
}

void SealedStore::set_meta(const char* key, std::int64_t value) {
    Statement s(*this,
                "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind_text(1, key).bind(2, value).run();
}

// ---------------------------------------------------------------------------------------------
// Opening

SealedStore::SealedStore(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db), keys_(std::make_unique<Keys>()) {}

SealedStore::~SealedStore() {
    for (auto& entry : statements_) sqlite3_finalize(entry.second);
    sqlite3_close_v2(db_);
}

std::unique_ptr<SealedStore> SealedStore::open(const std::filesystem::path& path,
                                               const StoreKey& key) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    bool is_new = !exists || std::filesystem::file_size(path, ec) == 0;
    if (!exists) {
        // SQLite would create the file world-readable; WAL and SHM files inherit this mode.
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            throw Error(ErrorCode::storage, "the key store " + path.string() +
                                                " cannot be created: " + std::strerror(errno));
        }
        ::close(fd);
    }
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    std::unique_ptr<SealedStore> store(new SealedStore(path, db));
    if (rc != SQLITE_OK) throw_storage(db, "be opened");
    sqlite3_busy_timeout(db, 5000);
    // Connection settings only: nothing is written before the key is verified.
    store->exec("PRAGMA secure_delete = ON; PRAGMA synchronous = FULL;");
    store->unlock_or_create(key, is_new);
    return store;
}

void SealedStore::unlock_or_create(const StoreKey& key, bool is_new) {
    if (!is_new) {
        Statement s(*this,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                    "'meta'");
        if (!s.step() || s.column_int(0) != 1) {
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
        Statement s(*this, "SELECT value FROM meta WHERE key = 'kdf'");
        std::string kdf = s.step() ? s.column_text(0) : "";
        if (kdf == "argon2id") {
            Argon2Params p;
            auto t = meta_int("argon2_iterations"), m = meta_int("argon2_memory_kib"),
                 par = meta_int("argon2_parallelism");
            Statement salt_query(*this, "SELECT value FROM meta WHERE key = 'argon2_salt'");
            if (salt_query.step()) salt = salt_query.column_blob(0);
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
    keys_->seal_key = derive_subkey(master.view(), "ariadne store seal key v1", kKeyLen);
    keys_->index_key = derive_subkey(master.view(), "ariadne store index key v1", kKeyLen);
    const std::string check_ad = row_ad("meta", {"key_check"});

    if (!is_new) {
        Statement s(*this, "SELECT value FROM meta WHERE key = 'key_check'");
        Bytes check = s.step() ? s.column_blob(0) : Bytes{};
        try {
            SecretBytes opened = open_sealed(check_ad, check);
            if (!equal_constant_time(opened.view(), as_bytes(kKeyCheckPlaintext))) throw 0;
        } catch (...) {
            throw Error(ErrorCode::wrong_passphrase, refusal);
        }
        exec("PRAGMA journal_mode = WAL;");
        return;
    }

    exec("PRAGMA journal_mode = WAL;");
    Transaction tx(*this);
    exec(R"sql(
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
        Statement s(*this, "INSERT INTO meta(key, value) VALUES('kdf', ?1)");
        s.bind_text(1, params ? "argon2id" : "raw").run();
    }
    if (params) {
        set_meta("argon2_iterations", params->iterations);
        set_meta("argon2_memory_kib", params->memory_kib);
        set_meta("argon2_parallelism", params->parallelism);
        Statement s(*this, "INSERT INTO meta(key, value) VALUES('argon2_salt', ?1)");
        s.bind(1, salt).run();
    }
    {
        Statement s(*this, "INSERT INTO meta(key, value) VALUES('key_check', ?1)");
        s.bind(1, seal(check_ad, as_bytes(kKeyCheckPlaintext))).run();
    }
    tx.commit();
}

std::optional<Argon2Params> SealedStore::argon2_params() const {
    auto* self = const_cast<SealedStore*>(this);
    auto t = self->meta_int("argon2_iterations");
    if (!t) return std::nullopt;
    return Argon2Params{static_cast<std::uint32_t>(*t),
                        static_cast<std::uint32_t>(*self->meta_int("argon2_memory_kib")),
                        static_cast<std::uint32_t>(*self->meta_int("argon2_parallelism"))};
}

// ---------------------------------------------------------------------------------------------
// Transactions

SealedStore::Transaction::Transaction(SealedStore& store) : store_(store) {
    if (sqlite3_get_autocommit(store_.db_) != 0) {
        store_.exec("BEGIN IMMEDIATE");
        owner_ = true;
    } else {
        // Nested: a savepoint, so a failed inner step is undone even if the caller catches
        // the error and the outer transaction commits.
        store_.exec("SAVEPOINT nested");
    }
}

SealedStore::Transaction::~Transaction() {
    if (done_) return;
    if (owner_) {
        sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    } else {
        sqlite3_exec(store_.db_, "ROLLBACK TO nested; RELEASE nested", nullptr, nullptr, nullptr);
    }
}

void SealedStore::Transaction::commit() {
    if (done_) return;
    done_ = true;
    if (!owner_) {
        store_.exec("RELEASE nested");
        return;
    }
    if (sqlite3_exec(store_.db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::string message = sqlite3_errmsg(store_.db_);
        sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw Error(ErrorCode::storage, "the key store could not commit (SQLite: " + message + ")");
    }
}

// ---------------------------------------------------------------------------------------------
// Local identity

std::optional<LocalIdentity> SealedStore::local_identity() {
    Statement s(*this,
                "SELECT registration_id, public_key, private_key FROM local_identity WHERE id = 1");
    if (!s.step()) return std::nullopt;
    LocalIdentity identity;
    identity.registration_id = static_cast<std::uint32_t>(s.column_int(0));
    identity.public_key = s.column_blob(1);
    identity.private_key = open_sealed(row_ad("local_identity", {"1"}), s.column_blob(2));
    return identity;
}

void SealedStore::set_local_identity(const LocalIdentity& identity) {
    if (local_identity()) {
        throw Error(ErrorCode::invalid_argument, "this store already holds an identity");
    }
    Statement s(*this,
                "INSERT INTO local_identity(id, registration_id, public_key, private_key) "
                "VALUES(1, ?1, ?2, ?3)");
    s.bind(1, identity.registration_id)
        .bind(2, identity.public_key)
        .bind(3, seal(row_ad("local_identity", {"1"}), identity.private_key.view()))
        .run();
}

// ---------------------------------------------------------------------------------------------
// Pre-keys

std::optional<SecretBytes> SealedStore::load_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT record FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("pre_keys", {std::to_string(id)}), s.column_blob(0));
}

void SealedStore::store_pre_key(std::uint32_t id, ByteView record) {
    Statement s(*this,
                "INSERT INTO pre_keys(id, record) VALUES(?1, ?2) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id).bind(2, seal(row_ad("pre_keys", {std::to_string(id)}), record)).run();
}

bool SealedStore::contains_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT 1 FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
}

void SealedStore::remove_pre_key(std::uint32_t id) {
    if (id == kLastResortPreKeyId) return;
    Statement s(*this, "DELETE FROM pre_keys WHERE id = ?1");
    s.bind(1, id).run();
}

std::vector<std::uint32_t> SealedStore::one_time_pre_key_ids() {
    Statement s(*this, "SELECT id FROM pre_keys WHERE id <> ?1 ORDER BY id");
    s.bind(1, kLastResortPreKeyId);
    std::vector<std::uint32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::uint32_t>(s.column_int(0)));
    return ids;
}

std::optional<std::uint32_t> SealedStore::take_unissued_pre_key() {
    std::optional<std::uint32_t> id;
    {
        Statement s(*this,
                    "SELECT id FROM pre_keys WHERE issued = 0 AND id <> ?1 ORDER BY id "
                    "LIMIT 1");
        s.bind(1, kLastResortPreKeyId);
        if (s.step()) id = static_cast<std::uint32_t>(s.column_int(0));
    }
    if (id) mark_pre_key_issued(*id);
    return id;
}

void SealedStore::mark_pre_key_issued(std::uint32_t id) {
    Statement s(*this, "UPDATE pre_keys SET issued = 1 WHERE id = ?1");
    s.bind(1, id).run();
}

std::uint32_t SealedStore::next_pre_key_id() {
    auto id = meta_int("next_pre_key_id");
    if (!id || *id < 1 || *id >= kLastResortPreKeyId) return 1;
    return static_cast<std::uint32_t>(*id);
}

void SealedStore::set_next_pre_key_id(std::uint32_t id) { set_meta("next_pre_key_id", id); }

// ---------------------------------------------------------------------------------------------
// Signed pre-keys

std::optional<SecretBytes> SealedStore::load_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT record FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("signed_pre_keys", {std::to_string(id)}), s.column_blob(0));
}

void SealedStore::store_signed_pre_key(std::uint32_t id, ByteView record, std::int64_t created_at) {
    Statement s(*this,
                "INSERT INTO signed_pre_keys(id, record, created_at) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id)
        .bind(2, seal(row_ad("signed_pre_keys", {std::to_string(id)}), record))
        .bind(3, created_at)
        .run();
}

bool SealedStore::contains_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT 1 FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
}

void SealedStore::remove_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "DELETE FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id).run();
}

std::vector<SignedPreKeyInfo> SealedStore::signed_pre_keys() {
    Statement s(*this, "SELECT id, created_at, superseded_at FROM signed_pre_keys ORDER BY id");
    std::vector<SignedPreKeyInfo> out;
    while (s.step()) {
        SignedPreKeyInfo info;
        info.id = static_cast<std::uint32_t>(s.column_int(0));
        info.created_at = s.column_int(1);
        if (!s.column_null(2)) info.superseded_at = s.column_int(2);
        out.push_back(info);
    }
    return out;
}

void SealedStore::supersede_signed_pre_keys_except(std::uint32_t current_id, std::int64_t now) {
    Statement s(*this,
                "UPDATE signed_pre_keys SET superseded_at = ?2 "
                "WHERE id <> ?1 AND superseded_at IS NULL");
    s.bind(1, current_id).bind(2, now).run();
}

// ---------------------------------------------------------------------------------------------
// Sessions

std::optional<SecretBytes> SealedStore::load_session(const Address& a) {
    Statement s(*this, "SELECT record FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sessions", {a.name, device_field(a.device_id)}), s.column_blob(0));
}

void SealedStore::store_session(const Address& a, ByteView record) {
    Statement s(*this,
                "INSERT INTO sessions(name_tag, device_id, record) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(name_tag, device_id) DO UPDATE SET record = excluded.record");
    s.bind(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind(3, seal(row_ad("sessions", {a.name, device_field(a.device_id)}), record))
        .run();
}

bool SealedStore::contains_session(const Address& a) {
    Statement s(*this, "SELECT 1 FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    return s.step();
}

bool SealedStore::delete_session(const Address& a) {
    Statement s(*this, "DELETE FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id).run();
    return sqlite3_changes(db_) > 0;
}

int SealedStore::delete_all_sessions(std::string_view name) {
    Statement s(*this, "DELETE FROM sessions WHERE name_tag = ?1");
    s.bind(1, name_tag(name)).run();
    return sqlite3_changes(db_);
}

std::vector<std::int32_t> SealedStore::session_device_ids(std::string_view name) {
    Statement s(*this, "SELECT device_id FROM sessions WHERE name_tag = ?1 ORDER BY device_id");
    s.bind(1, name_tag(name));
    std::vector<std::int32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::int32_t>(s.column_int(0)));
    return ids;
}

// ---------------------------------------------------------------------------------------------
// Remote identities

std::optional<Bytes> SealedStore::remote_identity(const Address& a) {
    Statement s(*this,
                "SELECT identity_key FROM remote_identities "
                "WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    SecretBytes key = open_sealed(row_ad("remote_identities", {a.name, device_field(a.device_id)}),
                                  s.column_blob(0));
    return Bytes(key.data(), key.data() + key.size());
}

void SealedStore::save_remote_identity(const Address& a, std::optional<ByteView> identity_key) {
    if (!identity_key) {
        Statement s(*this, "DELETE FROM remote_identities WHERE name_tag = ?1 AND device_id = ?2");
        s.bind(1, name_tag(a.name)).bind(2, a.device_id).run();
        return;
    }
    Statement s(*this,
                "INSERT INTO remote_identities(name_tag, device_id, identity_key) "
                "VALUES(?1, ?2, ?3) ON CONFLICT(name_tag, device_id) "
                "DO UPDATE SET identity_key = excluded.identity_key");
    s.bind(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind(3,
              seal(row_ad("remote_identities", {a.name, device_field(a.device_id)}), *identity_key))
        .run();
}

// ---------------------------------------------------------------------------------------------
// Sender keys

std::optional<SecretBytes> SealedStore::load_sender_key(ByteView group_id, const Address& a) {
    std::string group(group_id.begin(), group_id.end());
    Statement s(*this,
                "SELECT record FROM sender_keys "
                "WHERE group_tag = ?1 AND name_tag = ?2 AND device_id = ?3");
    s.bind(1, hmac_sha256(keys_->index_key.view(), as_bytes("group|" + group)))
        .bind(2, name_tag(a.name))
        .bind(3, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}),
                       s.column_blob(0));
}

void SealedStore::store_sender_key(ByteView group_id, const Address& a, ByteView record) {
    std::string group(group_id.begin(), group_id.end());
    Statement s(*this,
                "INSERT INTO sender_keys(group_tag, name_tag, device_id, record) "
                "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(group_tag, name_tag, device_id) "
                "DO UPDATE SET record = excluded.record");
    s.bind(1, hmac_sha256(keys_->index_key.view(), as_bytes("group|" + group)))
        .bind(2, name_tag(a.name))
        .bind(3, a.device_id)
        .bind(4, seal(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}), record))
        .run();
}

// ---------------------------------------------------------------------------------------------
// libsignal callbacks. They never let an exception cross into C: the Error is kept and a
// code below SG_ERR_MINIMUM is returned, so callers can tell it from libsignal's own codes.

constexpr int kCallbackFailed = SG_ERR_MINIMUM - 1;

struct StoreCallbacks {
    static SealedStore& self(void* user_data) { return *static_cast<SealedStore*>(user_data); }
    static Address address(const signal_protocol_address* a) {
        return Address{std::string(a->name, a->name_len), a->device_id};
    }

    template <typename F>
    static int guard(void* user_data, F&& body) {
        try {
            return body();
        } catch (const Error& e) {
            self(user_data).callback_error_ = e;
        } catch (const std::exception&) {
            self(user_data).callback_error_ =
                Error(ErrorCode::internal, "the key store failed unexpectedly");
        }
        return kCallbackFailed;
    }

    static int output(signal_buffer** out, const SecretBytes& data) {
        *out = signal_buffer_create(data.data(), data.size());
        return *out ? SG_SUCCESS : SG_ERR_NOMEM;
    }

    // session store
    static int load_session(signal_buffer** record, signal_buffer**,
                            const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_session(address(a));
            if (!data) return 0;
            return output(record, *data) == SG_SUCCESS ? 1 : SG_ERR_NOMEM;
        });
    }
    static int sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len,
                                   void* ud) {
        return guard(ud, [&] {
            auto ids = self(ud).session_device_ids(std::string_view(name, name_len));
            signal_int_list* list = signal_int_list_alloc();
            if (list == nullptr) return SG_ERR_NOMEM;
            for (auto id : ids) {
                if (signal_int_list_push_back(list, id) != 0) {
                    signal_int_list_free(list);
                    return SG_ERR_NOMEM;
                }
            }
            *sessions = list;
            return static_cast<int>(ids.size());
        });
    }
    static int store_session(const signal_protocol_address* a, uint8_t* record, size_t len,
                             uint8_t*, size_t, void* ud) {
        return guard(ud, [&] {
            self(ud).store_session(address(a), ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int contains_session(const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] { return self(ud).contains_session(address(a)) ? 1 : 0; });
    }
    static int delete_session(const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] { return self(ud).delete_session(address(a)) ? 1 : 0; });
    }
    static int delete_all_sessions(const char* name, size_t name_len, void* ud) {
        return guard(
            ud, [&] { return self(ud).delete_all_sessions(std::string_view(name, name_len)); });
    }

    // pre-key store
    static int load_pre_key(signal_buffer** record, uint32_t id, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_pre_key(id);
            if (!data) return SG_ERR_INVALID_KEY_ID;
            return output(record, *data);
        });
    }
    static int store_pre_key(uint32_t id, uint8_t* record, size_t len, void* ud) {
        return guard(ud, [&] {
            self(ud).store_pre_key(id, ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int contains_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] { return self(ud).contains_pre_key(id) ? 1 : 0; });
    }
    static int remove_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] {
            self(ud).remove_pre_key(id);
            return SG_SUCCESS;
        });
    }

    // signed pre-key store
    static int load_signed_pre_key(signal_buffer** record, uint32_t id, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_signed_pre_key(id);
            if (!data) return SG_ERR_INVALID_KEY_ID;
            return output(record, *data);
        });
    }
    static int store_signed_pre_key(uint32_t id, uint8_t* record, size_t len, void* ud) {
        return guard(ud, [&] {
            self(ud).store_signed_pre_key(id, ByteView(record, len),
                                          static_cast<std::int64_t>(::time(nullptr)));
            return SG_SUCCESS;
        });
    }
    static int contains_signed_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] { return self(ud).contains_signed_pre_key(id) ? 1 : 0; });
    }
    static int remove_signed_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] {
            self(ud).remove_signed_pre_key(id);
            return SG_SUCCESS;
        });
    }

    // identity store
    static int identity_key_pair(signal_buffer** public_data, signal_buffer** private_data,
                                 void* ud) {
        return guard(ud, [&] {
            auto identity = self(ud).local_identity();
            if (!identity) {
                self(ud).callback_error_ =
                    Error(ErrorCode::internal, "the key store holds no local identity");
                return kCallbackFailed;
            }
            *public_data =
                signal_buffer_create(identity->public_key.data(), identity->public_key.size());
            if (*public_data == nullptr) return SG_ERR_NOMEM;
            if (output(private_data, identity->private_key) != SG_SUCCESS) {
                signal_buffer_free(*public_data);
                *public_data = nullptr;
                return SG_ERR_NOMEM;
            }
            return SG_SUCCESS;
        });
    }
    static int local_registration_id(void* ud, uint32_t* registration_id) {
        return guard(ud, [&] {
            auto identity = self(ud).local_identity();
            if (!identity) {
                self(ud).callback_error_ =
                    Error(ErrorCode::internal, "the key store holds no local identity");
                return kCallbackFailed;
            }
            *registration_id = identity->registration_id;
            return SG_SUCCESS;
        });
    }
    static int save_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* ud) {
        return guard(ud, [&] {
            if (key == nullptr) {
                self(ud).save_remote_identity(address(a), std::nullopt);
            } else {
                self(ud).save_remote_identity(address(a), ByteView(key, len));
            }
            return SG_SUCCESS;
        });
    }
    static int is_trusted_identity(const signal_protocol_address* a, uint8_t* key, size_t len,
                                   void* ud) {
        return guard(ud, [&] {
            auto known = self(ud).remote_identity(address(a));
            if (!known) return 1;  // trust on first use
            return equal_constant_time(*known, ByteView(key, len)) ? 1 : 0;
        });
    }

    // sender key store
    static int store_sender_key(const signal_protocol_sender_key_name* name, uint8_t* record,
                                size_t len, uint8_t*, size_t, void* ud) {
        return guard(ud, [&] {
            self(ud).store_sender_key(
                ByteView(reinterpret_cast<const std::uint8_t*>(name->group_id), name->group_id_len),
                address(&name->sender), ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int load_sender_key(signal_buffer** record, signal_buffer**,
                               const signal_protocol_sender_key_name* name, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_sender_key(
                ByteView(reinterpret_cast<const std::uint8_t*>(name->group_id), name->group_id_len),
                address(&name->sender));
            if (!data) return 0;
            return output(record, *data) == SG_SUCCESS ? 1 : SG_ERR_NOMEM;
        });
    }
};

void SealedStore::install_callbacks(signal_protocol_store_context* context) {
    signal_protocol_session_store sessions{};
    sessions.load_session_func = StoreCallbacks::load_session;
    sessions.get_sub_device_sessions_func = StoreCallbacks::sub_device_sessions;
    sessions.store_session_func = StoreCallbacks::store_session;
    sessions.contains_session_func = StoreCallbacks::contains_session;
    sessions.delete_session_func = StoreCallbacks::delete_session;
    sessions.delete_all_sessions_func = StoreCallbacks::delete_all_sessions;
    sessions.user_data = this;

    signal_protocol_pre_key_store pre_keys{};
    pre_keys.load_pre_key = StoreCallbacks::load_pre_key;
    pre_keys.store_pre_key = StoreCallbacks::store_pre_key;
    pre_keys.contains_pre_key = StoreCallbacks::contains_pre_key;
    pre_keys.remove_pre_key = StoreCallbacks::remove_pre_key;
    pre_keys.user_data = this;

    signal_protocol_signed_pre_key_store signed_pre_keys{};
    signed_pre_keys.load_signed_pre_key = StoreCallbacks::load_signed_pre_key;
    signed_pre_keys.store_signed_pre_key = StoreCallbacks::store_signed_pre_key;
    signed_pre_keys.contains_signed_pre_key = StoreCallbacks::contains_signed_pre_key;
    signed_pre_keys.remove_signed_pre_key = StoreCallbacks::remove_signed_pre_key;
    signed_pre_keys.user_data = this;

    signal_protocol_identity_key_store identities{};
    identities.get_identity_key_pair = StoreCallbacks::identity_key_pair;
    identities.get_local_registration_id = StoreCallbacks::local_registration_id;
    identities.save_identity = StoreCallbacks::save_identity;
    identities.is_trusted_identity = StoreCallbacks::is_trusted_identity;
    identities.user_data = this;

    signal_protocol_sender_key_store sender_keys{};
    sender_keys.store_sender_key = StoreCallbacks::store_sender_key;
    sender_keys.load_sender_key = StoreCallbacks::load_sender_key;
    sender_keys.user_data = this;

    if (signal_protocol_store_context_set_session_store(context, &sessions) != 0 ||
        signal_protocol_store_context_set_pre_key_store(context, &pre_keys) != 0 ||
        signal_protocol_store_context_set_signed_pre_key_store(context, &signed_pre_keys) != 0 ||
        signal_protocol_store_context_set_identity_key_store(context, &identities) != 0 ||
        signal_protocol_store_context_set_sender_key_store(context, &sender_keys) != 0) {
        throw Error(ErrorCode::internal, "libsignal refused the store callbacks");
    }
}

std::optional<Error> SealedStore::take_callback_error() {
    std::optional<Error> e;
    e.swap(callback_error_);
    return e;
}

}  // namespace ariadne::crypto
