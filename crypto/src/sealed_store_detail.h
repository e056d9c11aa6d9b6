// Private to the SealedStore sources (sealed_store.cpp, sealed_store_records.cpp,
// store_key.cpp): the pieces they share — the derived keys, the prepared-statement
// wrapper, the associated-data layout of a sealed row and the SQLite error sentence.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "ariadne/crypto/store.h"

namespace ariadne::crypto {
namespace detail {

inline constexpr std::size_t kStoreKeyBytes = 32;

// Fails closed on stored parameters that would make opening take absurd time or memory.
inline constexpr std::uint32_t kMaxArgon2Iterations = 64;
inline constexpr std::uint32_t kMaxArgon2MemoryKib = 4u * 1024 * 1024;
inline constexpr std::uint32_t kMaxArgon2Parallelism = 16;

/// Throws Error(storage) "the key store could not <what> (SQLite: <message>)".
[[noreturn]] void throw_storage(sqlite3* db, const char* what);

/// The associated data that binds a sealed value to its row:
/// "ariadne-store-v1|<table>|<len>:<field>|...". Length prefixes keep rows unambiguous even
/// when names contain '|'. Part of the stored format: changing it makes every store unreadable.
std::string row_ad(std::string_view table, std::initializer_list<std::string_view> fields);

inline std::string device_field(std::int32_t device_id) { return std::to_string(device_id); }

}  // namespace detail

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
        detail::throw_storage(db_, "be read or written");
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
        if (rc != SQLITE_OK) detail::throw_storage(db_, "bind a value");
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

}  // namespace ariadne::crypto
