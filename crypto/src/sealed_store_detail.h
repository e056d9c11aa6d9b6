// Private to the SealedStore sources (sealed_store.cpp, sealed_store_records.cpp,
// store_key.cpp): the pieces
// they share — the derived keys, the associated-data layout of a sealed row and the
// translation of the SQLite wrapper's errors into the store's Error(storage) sentences.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "ariadne/crypto/store.h"
#include "ariadne/sqlite/sqlite.h"

namespace ariadne::crypto {
namespace detail {

inline constexpr std::size_t kStoreKeyBytes = 32;

// Fails closed on stored parameters that would make opening take absurd time or memory.
inline constexpr std::uint32_t kMaxArgon2Iterations = 64;
inline constexpr std::uint32_t kMaxArgon2MemoryKib = 4u * 1024 * 1024;
inline constexpr std::uint32_t kMaxArgon2Parallelism = 16;

/// Throws Error(storage) "the key store could not <what> (SQLite: <SQLite's sentence>)", where
/// <what> follows the failed call: "be opened", "prepare a query", "bind a value", otherwise
/// "be read or written".
[[noreturn]] void throw_storage(const sqlite::Error& error);

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

}  // namespace ariadne::crypto
