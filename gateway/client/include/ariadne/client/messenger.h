// High-level client of an Ariadne gateway: one local device (a caseworker console device or
// a survivor's phone) with its Signal identity and sessions in a sealed local store
// (crypto/), talking protocol v1 over a `Connection`. It logs in, keeps its one-time
// pre-keys topped up, encrypts one ciphertext per recipient device, decrypts what arrives
// and acknowledges it only after the plaintext has been handed to the caller.
//
// Local state (directory `store_dir`, created with mode 0700):
//   signal.db  — the crypto::SealedStore of this device (identity, pre-keys, sessions),
//                which also holds, sealed, the client's own state (account id, device id,
//                role and, for a survivor, her login key and locator). Nothing on disk is in
//                clear except SQLite structure.
//
// Threading: every method is thread-safe; calls are serialised internally, except that a
// receive() waiting for a message does not hold up send_text() from another thread. A
// receive() handler may itself call send_text() (to reply) on the same thread.
// Reconnection: a method that finds the connection closed reconnects (backoff 0.5 s
// doubling to 30 s, ±20 % jitter, until `reconnect_deadline`) and logs in again.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/client/connection.h"

namespace ariadne::crypto {
class StoreKey;
}

namespace ariadne::client {

enum class Role { survivor, caseworker };

struct MessengerOptions {
    Endpoint endpoint;
    ConnectionOptions connection;
    /// Directory of the local store (see above). Created if missing.
    std::filesystem::path store_dir;
    milliseconds request_timeout{10000};
    /// Refill one-time pre-keys when the gateway holds fewer than this many...
    std::size_t pre_key_low_water = 20;
    /// ...by uploading this many.
    std::size_t pre_key_batch = 100;
    /// How long a call keeps trying to reconnect before it throws Error(closed).
    milliseconds reconnect_deadline{30000};
    /// Event loop to share with other connections (tests with many clients); none: own.
    std::shared_ptr<Runtime> runtime;
};

/// One account this device may message, as the gateway lists it.
struct Contact {
    std::string account;
    std::string role;  // "survivor" or "caseworker"
    std::vector<std::uint32_t> devices;
};

/// A delivery from the gateway, decrypted.
struct ReceivedMessage {
    std::int64_t server_id = 0;
    std::string from;  // account id
    std::uint32_t from_device = 0;
    std::int64_t server_time = 0;  // Unix ms when the gateway stored it
    bool is_receipt = false;       // a delivery receipt: `ref` is set, `plaintext` empty
    std::int64_t ref = 0;          // the server_id of our message that was delivered
    /// Receipts only: empty when delivered; otherwise the reason code of a receipt with
    /// "status":"failed" (the message did NOT reach her, e.g. "sms_not_delivered").
    std::string failure;
    /// Receipts from her edge device about a reply to her web page: "kept" (taken into her
    /// page's history, not seen yet) or "read" (her page showed it to her); empty otherwise.
    std::string receipt_status;
    /// A notice from the gateway itself (check-in reminder, handover): not end-to-end
    /// encrypted, no reply expected. `notice` is its kind ("checkin", "handover"),
    /// `reference` its reference, `language` her language, `plaintext` the gateway's text.
    bool is_notice = false;
    std::string notice;
    std::string reference;
    std::string language;
    std::string plaintext;  // UTF-8 text as sent by send_text() (notices: the gateway's text)
    /// Set when the ciphertext could not be decrypted (tampered, duplicate, unknown
    /// session): the message is still acknowledged (it can never be read) and the caller
    /// is told, never silently dropped.
    std::optional<std::string> decrypt_error;
};

/// What the gateway acknowledged for one send: a server id per recipient device.
struct SendReceipt {
    std::vector<std::pair<std::uint32_t, std::int64_t>> server_ids;  // (device_id, server_id)
};

class Messenger {
  public:
    /// Caseworker console, first run: creates the local store with a fresh Signal identity,
    /// registers it as a new device with password + TOTP, uploads pre-keys.
    /// Throws ServerError (auth_failed, rate_limited, ...), Error(state) if `store_dir`
    /// already holds a device, crypto::Error for store failures, Error for transport ones.
    static std::unique_ptr<Messenger> register_device(const MessengerOptions& options,
                                                      const crypto::StoreKey& key,
                                                      std::string_view username,
                                                      std::string_view password,
                                                      std::string_view totp_code);

    /// Survivor: derives her login and Signal identity from `recovery_code` (Argon2id with
    /// the gateway's published parameters), logs in, uploads pre-keys. Creates the store if
    /// missing (a new phone) or reuses it. The code itself is never stored.
    /// Throws crypto::Error(invalid_argument) for a malformed code, ServerError(auth_failed)
    /// for a wrong one, and like register_device() otherwise.
    static std::unique_ptr<Messenger> recover_survivor(const MessengerOptions& options,
                                                       const crypto::StoreKey& key,
                                                       std::string_view recovery_code);

    /// Any role, later runs: opens the existing store and logs in with the saved state.
    /// Throws Error(state) if the store holds no registered device, crypto::Error
    /// (wrong_passphrase, ...) if it cannot be opened, ServerError(auth_failed) if the
    /// gateway no longer knows the device.
    static std::unique_ptr<Messenger> open(const MessengerOptions& options,
                                           const crypto::StoreKey& key);

    ~Messenger();
    Messenger(const Messenger&) = delete;
    Messenger& operator=(const Messenger&) = delete;

    const std::string& account() const noexcept;
    std::uint32_t device_id() const noexcept;
    Role role() const noexcept;
    /// The identity key (33 bytes) of this device, for safety numbers.
    std::vector<std::uint8_t> identity_key() const;

    /// Accounts this device may message.
    /// Asks her team to call her (a survivor account; docs/protocol.md 4.9) in `windows`,
    /// each {from, to} in Unix ms. Returns the answer's `callback` object (task_id, state,
    /// window, next_allowed_from when it starts in her quiet hours, replaced). Throws
    /// ServerError like every request: `callback_refused` (its frame carries `reason`),
    /// `invalid_frame` naming the field.
    Json request_callback(const std::vector<std::pair<std::int64_t, std::int64_t>>& windows);
    std::vector<Contact> contacts();

    /// Encrypts `plaintext` for every device of `account` and sends it; returns once the
    /// gateway has durably stored it. Fetches bundles for devices without a session; on
    /// `stale_devices` fetches the missing ones, drops the extra ones and retries.
    /// Throws ServerError (forbidden, rate_limited, storage_unavailable, ...), Error(closed)
    /// when the connection dropped before the answer (the message may or may not have been
    /// stored; a resend can duplicate it).
    SendReceipt send_text(const std::string& account, std::string_view plaintext,
                          bool want_receipt = false);

    /// Waits up to `timeout` for the next delivery, decrypts it, calls `handler` with it and
    /// acknowledges it once `handler` returns (if `handler` throws, the message is not
    /// acknowledged and will be delivered again). Returns false on timeout.
    bool receive(milliseconds timeout, const std::function<void(const ReceivedMessage&)>& handler);

    /// Convenience: like receive(), acknowledging before returning the message. Use the
    /// handler form when the caller must persist the plaintext before the ack.
    std::optional<ReceivedMessage> receive(milliseconds timeout);

    /// Asks the gateway how many one-time pre-keys it holds and uploads a batch when fewer
    /// than `pre_key_low_water` remain. Called after login and after pre-key messages.
    void top_up_pre_keys();

    /// The identity key (33 bytes) the gateway lists now for `account` (its first device),
    /// fetched with `keys_fetch` (uses up one of her one-time pre-keys). Used to show the
    /// new safety number after her identity changed, before it is accepted.
    /// Throws ServerError (forbidden, ...), Error(state) if she has no device.
    std::vector<std::uint8_t> listed_identity(const std::string& account);

    /// After the user compared the new safety number in person: trusts `identity_key` for
    /// every device of `account` and starts fresh sessions from new bundles, so the next
    /// send_text() reaches her new device. Throws Error(state) when the gateway now lists
    /// a different identity key than `identity_key` (nothing is trusted then).
    void accept_identity(const std::string& account, const std::vector<std::uint8_t>& identity_key);

    /// The underlying connection (tests; raw frames). Valid until the next reconnect.
    Connection& connection();

    /// Drops the connection now (tests of reconnection); the next call reconnects.
    void disconnect();

    struct Impl;

  private:
    explicit Messenger(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::client
