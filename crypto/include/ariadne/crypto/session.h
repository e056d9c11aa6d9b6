// Party: one local Signal device — its sealed key store, its libsignal context, its keys and
// its sessions — behind a small RAII interface.
//
// Thread-safety: every public method of one Party takes the Party's recursive lock (the
// SignalContext lock libsignal itself uses), so a Party may be called from several threads;
// calls are serialised, so throughput is that of one thread. Different Party objects are
// independent. Every state change (session step, used pre-key, trusted identity) is committed
// to the store in one SQLite transaction before the call returns, or rolled back if it fails.
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

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/store.h"

extern "C" {
struct signal_protocol_store_context;
}

namespace ariadne::crypto {

class SignalContext;

/// libsignal-protocol-c message types (the TypeScript implementation numbers kSignalMessage 1).
inline constexpr int kSignalMessage = 2;  // normal message of an established session
inline constexpr int kPreKeyMessage = 3;  // first messages, until the peer has replied

struct Ciphertext {
    int type = kSignalMessage;  // kSignalMessage or kPreKeyMessage
    Bytes bytes;                // the serialized libsignal message
};

struct PartyOptions {
    /// How long a superseded signed pre-key keeps opening pre-key messages: senders may have
    /// fetched the old bundle shortly before a rotation and deliver days later.
    std::chrono::seconds signed_pre_key_grace = std::chrono::hours(24 * 30);
};

/// Largest plaintext encrypt() accepts (4 MiB).
inline constexpr std::size_t kMaxPlaintext = 4 * 1024 * 1024;

/// Padded length for a plaintext of `length` bytes: the smallest of 160, 512, 1024, 4096 and
/// 16384 that holds length + 1, then the next multiple of 16384.
std::size_t padded_size(std::size_t length);
/// plaintext || 0x80 || zeros up to padded_size(). Throws Error(invalid_argument) above
/// kMaxPlaintext.
Bytes pad_plaintext(ByteView plaintext);
/// Strips trailing zeros and the 0x80 marker. Throws Error(invalid_message) if the marker is
/// missing (accepts any total length, so Signal-style 160-byte padding also opens).
Bytes unpad_plaintext(ByteView padded);

class Party {
  public:
    /// Opens the store at `path` (see SealedStore::open for key errors), creating it with a
    /// fresh random identity, registration id, signed pre-key and last-resort pre-key if new.
    static std::unique_ptr<Party> open(const std::filesystem::path& path, const StoreKey& key,
                                       const PartyOptions& options = {});
    /// Like open(), but a new store gets the identity derived from the 32-byte `seed`
    /// (clamped into a Curve25519 private key; registration id from HMAC(seed)), so the same
    /// seed yields the same identity on any device. An existing store must already hold that
    /// identity, else Error(invalid_argument). Throws Error(invalid_argument) if the seed is
    /// not 32 bytes.
    static std::unique_ptr<Party> create_from_seed(const std::filesystem::path& path,
                                                   const StoreKey& key, ByteView seed,
                                                   const PartyOptions& options = {});
    ~Party();
    Party(const Party&) = delete;
    Party& operator=(const Party&) = delete;

    /// This device's public identity key (33 bytes) and registration id.
    Bytes identity_key();
    std::uint32_t registration_id();

    // -- keys --------------------------------------------------------------------------------
    /// Generates `count` (1..1000) one-time pre-keys with the next ids (never 0, wrapping from
    /// 0xFFFFFE to 1, never the last-resort id) and stores them. Returns their public halves.
    std::vector<PublicPreKey> generate_pre_keys(std::size_t count);
    /// Creates a new signed pre-key, makes it current, marks the previous one superseded and
    /// deletes those superseded longer than options.signed_pre_key_grace before `now`.
    SignedPublicPreKey rotate_signed_pre_key(
        std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
    SignedPublicPreKey current_signed_pre_key();
    PublicPreKey last_resort_pre_key();
    /// A bundle for `device_id` carrying the lowest one-time pre-key not yet handed out (now
    /// marked handed out), or the last-resort pre-key when none remain.
    PreKeyBundle bundle(std::int32_t device_id);
    /// Generates `count` new one-time pre-keys, marks them handed out, and returns the set to
    /// upload to the gateway's key directory.
    UploadSet upload_set(std::int32_t device_id, std::size_t count);

    // -- sessions ----------------------------------------------------------------------------
    /// Starts a session with `address` from its bundle (X3DH). Throws Error(invalid_bundle)
    /// for malformed keys or a bad signature, Error(untrusted_identity) if the bundle's
    /// identity differs from the one already recorded for `address`.
    void start_session(const Address& address, const PreKeyBundle& bundle);
    bool has_session(const Address& address);
    /// Pads and encrypts. Throws Error(no_session) without a session, Error(invalid_argument)
    /// above kMaxPlaintext.
    Ciphertext encrypt(const Address& address, ByteView plaintext);
    /// Decrypts a message of `type` (kSignalMessage or kPreKeyMessage) and removes padding.
    /// Throws Error(invalid_message) for garbage, a failed MAC, bad padding, an unknown type or
    /// a replay ("this message was already received (replay)"), Error(untrusted_identity)
    /// when a pre-key message carries a changed identity key, Error(no_session) for a normal
    /// message without a session. On any error the store is unchanged.
    Bytes decrypt(const Address& address, int type, ByteView message);
    /// Same, calling `persist(plaintext)` after decryption but before the session step is
    /// committed: if persist throws, nothing is committed and the exception propagates, so a
    /// crash can duplicate a message but never lose one.
    Bytes decrypt(const Address& address, int type, ByteView message,
                  const std::function<void(ByteView plaintext)>& persist);

    /// Runs `work(*this)` under the lock and ONE store transaction, so a fan-out of N
    /// encrypts or a drained mailbox of N decrypts costs one durable commit (an fsync) instead
    /// of N. Each inner call is still all-or-nothing (savepoint). If `work` throws, nothing is
    /// committed and the exception propagates. Send no ciphertext produced inside until this
    /// returns: a rolled-back session step would reuse its message keys.
    void atomically(const std::function<void(Party&)>& work);

    // -- identities --------------------------------------------------------------------------
    /// The identity key recorded for `address` (trust on first use), if any.
    std::optional<Bytes> remote_identity_key(const Address& address);
    /// Replaces the recorded identity of `address` (after the user verified the new safety
    /// number). Throws Error(invalid_argument) if the key is not a 33-byte public key.
    void trust_identity(const Address& address, ByteView identity_key);
    /// The 60-digit safety number (12 groups of 5) between this device, known to the peer as
    /// `local_id`, and `remote`, known as `remote_id`. Throws Error(untrusted_identity) if
    /// no identity is recorded for `remote` yet.
    std::string safety_number(std::string_view local_id, std::string_view remote_id,
                              const Address& remote);

    /// The underlying store, for inspection and tests. Use only while holding no other call of
    /// this Party on another thread.
    SealedStore& store() noexcept { return *store_; }

  private:
    Party(std::unique_ptr<SealedStore> store, const PartyOptions& options);
    void initialise(const std::optional<SecretBytes>& seed);
    [[noreturn]] void fail(int code, ErrorCode fallback, const std::string& what);

    std::unique_ptr<SignalContext> context_;
    std::unique_ptr<SealedStore> store_;
    signal_protocol_store_context* store_context_ = nullptr;
    PartyOptions options_;
};

}  // namespace ariadne::crypto
