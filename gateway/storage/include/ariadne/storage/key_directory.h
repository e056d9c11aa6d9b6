// The key directory: each account's devices (identity key, registration id), a survivor's
// app installation on file, and the pre-keys others fetch to open a session with a device.
// Tables: devices, survivor_installations, signed_pre_keys, last_resort_keys, pre_keys.
//
// Only public keys are stored. Thread safety: every method may be called from any thread.
// Reads run on the database's read pool and throw storage::Error on SQLite failure; writes
// are group-committed on its writer and report through their completion (database.h),
// which runs on the writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/storage/accounts.h"
#include "ariadne/storage/database.h"

namespace ariadne::storage {

struct DeviceRecord {
    std::uint32_t device_id = 0;
    crypto::Bytes identity_key;
    std::uint32_t registration_id = 0;
};

struct Bundle {
    std::uint32_t device_id = 0;
    std::uint32_t registration_id = 0;
    crypto::Bytes identity_key;
    gateway::SignedPreKeyUpload signed_pre_key;
    gateway::PreKeyUpload pre_key;  // a one-time pre-key, or the last-resort key (id 16777215)
};

class KeyDirectory {
  public:
    /// `database` must outlive this object.
    KeyDirectory(Database& database, std::size_t max_pre_keys_per_device)
        : db_(database), max_pre_keys_per_device_(max_pre_keys_per_device) {}

    // ---- reads ----
    std::optional<DeviceRecord> find_device(AccountKey account, std::uint32_t device) const;
    /// Devices that can be messaged: they have a signed pre-key and a last-resort key.
    std::vector<std::uint32_t> ready_devices(AccountKey account) const;
    std::uint32_t pre_key_count(AccountKey account, std::uint32_t device) const;

    // ---- writes (group-committed) ----
    /// Stores validated keys (ids/sizes/signature already checked by the caller).
    /// Rejected (nothing stored) if the device would hold more than
    /// max_pre_keys_per_device one-time pre-keys. Completion gets the new pre-key count.
    void upload_keys(AccountKey account, std::uint32_t device, gateway::KeysUploadRequest keys,
                     Completion<std::uint32_t> done);

    /// One bundle per ready device of `account`, each consuming one one-time pre-key
    /// atomically (the last-resort key when none is left).
    void take_bundles(AccountKey account, Completion<std::vector<Bundle>> done);

    /// Registers a new caseworker device after a password + TOTP login, recording
    /// `totp_step` as used. Rejected if a step >= totp_step was already used (replay).
    /// Completion gets the new device id.
    void add_caseworker_device(AccountKey account, std::uint64_t totp_step,
                               crypto::Bytes identity_key, std::uint32_t registration_id,
                               Completion<std::uint32_t> done);

    /// Binds a survivor's device 1 to her recovery-derived identity on first login.
    /// Rejected if a different identity is already recorded. Records `installation_key` (the
    /// installation's public key; empty when the client sent none) as the one on file; the
    /// completion gets true when it differs from the one on file before (a new installation
    /// of her app), false on her first login and whenever it is the same.
    void bind_survivor_device(AccountKey account, crypto::Bytes identity_key,
                              std::uint32_t registration_id, crypto::Bytes installation_key,
                              Completion<bool> done);

    /// Binds device `device` (>= 2) of a survivor account to an identity the gateway's edge
    /// adapter holds for her (adapters/edge.h: SMS and web page). Rejected if a different
    /// identity is already recorded for that device.
    void bind_edge_device(AccountKey account, std::uint32_t device, crypto::Bytes identity_key,
                          std::uint32_t registration_id, Completion<bool> done);

  private:
    Database& db_;
    std::size_t max_pre_keys_per_device_;
};

}  // namespace ariadne::storage
