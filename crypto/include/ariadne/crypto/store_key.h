// StoreKey: the secret a sealed store (store.h) or console history is opened with — a
// passphrase stretched with Argon2id, a raw 32-byte key, or a key file — held in wiped memory.
// Immutable after construction, so safe to share across threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

/// Argon2id cost used when a passphrase store is CREATED. An existing store always uses the
/// parameters recorded in it. Defaults are those docs/crypto.md gives for keys that face offline
/// attack.
struct Argon2Params {
    std::uint32_t iterations = 3;          // t
    std::uint32_t memory_kib = 64 * 1024;  // m (64 MiB)
    std::uint32_t parallelism = 1;         // p
    /// Cheaper parameters for tests only (8 MiB, t=1): never use for real stores.
    static Argon2Params for_tests() { return {1, 8 * 1024, 1}; }
};

/// How the 32-byte store key is obtained. Holds the secret in wiped memory.
class StoreKey {
  public:
    /// Key derived with Argon2id from `passphrase` and the salt kept in the store; `params`
    /// apply only when a new store is created. Throws Error(invalid_argument) if the
    /// passphrase is empty or `params` are out of range (t 1..64, m 8 MiB..4 GiB, p 1..16).
    static StoreKey from_passphrase(std::string_view passphrase, Argon2Params params = {});
    /// Reads a key file holding exactly 32 bytes (see create_key_file). Throws
    /// Error(invalid_argument) if it cannot be read, is not a regular file (links are not
    /// followed), is readable by other users, or has another length.
    static StoreKey from_key_file(const std::filesystem::path& path);
    /// A raw 32-byte key (e.g. from a hardware token or a higher-level KDF).
    /// Throws Error(invalid_argument) if `key` is not 32 bytes.
    static StoreKey from_bytes(ByteView key);
    /// Writes 32 random bytes to a new file with mode 0600. Refuses to overwrite an existing
    /// file: throws Error(invalid_argument) naming the problem.
    static void create_key_file(const std::filesystem::path& path);

    bool is_passphrase() const noexcept { return passphrase_; }
    const Argon2Params& argon2_params() const noexcept { return params_; }
    const SecretBytes& secret() const noexcept { return secret_; }

  private:
    StoreKey(SecretBytes secret, bool passphrase, Argon2Params params)
        : secret_(std::move(secret)), passphrase_(passphrase), params_(params) {}
    SecretBytes secret_;  // the passphrase bytes, or the 32-byte key
    bool passphrase_ = false;
    Argon2Params params_;
};

}  // namespace ariadne::crypto
