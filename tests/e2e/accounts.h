// Test helpers that log in: consoles and survivors through the Messenger, and raw logins
// (register_device, auth_device, auth_survivor) built by hand for the authentication tests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ariadne/client/messenger.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/recovery.h"
#include "harness.h"

namespace ariadne::e2e {

/// The TOTP code of `cw` for the current time step + `step_offset` (each register_device
/// needs a step not used before by that account: pass 0, 1, ... for successive devices).
std::string totp_for(const Gateway::Caseworker& cw, int step_offset = 0);

/// Messenger options for `gateway` with the store in `dir`.
client::MessengerOptions messenger_options(const Gateway& gateway,
                                           const std::filesystem::path& dir);

/// One fixed key for every test store (a raw key: no Argon2id cost).
const crypto::StoreKey& test_store_key();

/// Registers a new console device of `cw` (store in `dir`).
std::unique_ptr<client::Messenger> register_console(const Gateway& gateway,
                                                    const Gateway::Caseworker& cw,
                                                    const std::filesystem::path& dir,
                                                    int step_offset = 0);
/// Recovers `survivor` on a new phone (store in `dir`).
std::unique_ptr<client::Messenger> recover_survivor(const Gateway& gateway,
                                                    const Gateway::Survivor& survivor,
                                                    const std::filesystem::path& dir);

/// A Signal identity made by a real Party store in `dir`, for hand-built logins.
struct RawDevice {
    crypto::Bytes identity_key;
    crypto::SecretBytes private_key;
    std::uint32_t registration_id = 0;
};
RawDevice make_raw_device(const std::filesystem::path& dir);

/// Asks for a challenge on `conn` and returns its bytes.
crypto::Bytes fresh_challenge(client::Connection& conn);

/// register_device on `conn` (fresh challenge signed by `device`); returns the answer frame.
Json register_raw(client::Connection& conn, const Gateway::Caseworker& cw, const RawDevice& device,
                  const std::string& totp, const std::string& password_override = "");
/// auth_device on `conn` signing a fresh challenge; returns the answer frame.
Json auth_device_raw(client::Connection& conn, const std::string& account, std::uint32_t device_id,
                     const RawDevice& device);

/// A survivor's recovery-derived login, computed once (Argon2id) and reusable.
struct SurvivorLogin {
    crypto::RecoverySecrets secrets;
    RawDevice identity;  // her recovery-derived Signal identity
};
SurvivorLogin derive_survivor_login(client::Connection& conn, const std::string& recovery_code,
                                    const std::filesystem::path& dir);
/// auth_survivor on `conn` signing a fresh challenge; returns the answer frame.
Json auth_survivor_raw(client::Connection& conn, const SurvivorLogin& login);

}  // namespace ariadne::e2e

namespace ariadne::e2e {
/// A keys_upload frame from the Party store that make_raw_device(dir) created: its signed
/// pre-key, `count` new one-time pre-keys and its last-resort key.
Json keys_upload_frame(const std::filesystem::path& dir, std::uint32_t device_id,
                       std::size_t count);
}  // namespace ariadne::e2e
