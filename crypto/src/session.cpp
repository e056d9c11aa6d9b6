#include "ariadne/crypto/session.h"

#include <curve.h>
#include <key_helper.h>
#include <protocol.h>
#include <ratchet.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <signal_protocol.h>

#include <openssl/evp.h>

#include "ariadne/crypto/safety_number.h"
#include "ariadne/crypto/signal_context.h"

namespace ariadne::crypto {
namespace {

constexpr std::uint32_t kMaxOneTimePreKeyId = kLastResortPreKeyId - 1;  // 0xFFFFFE
constexpr int kDecryptCallbackFailed = SG_ERR_MINIMUM - 2;

// Owner of one reference to a libsignal object.
template <typename T>
struct Ref {
    T* p = nullptr;
    Ref() = default;
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() {
        if (p) signal_type_unref(reinterpret_cast<signal_type_base*>(p));
    }
    T** out() { return &p; }
    T* get() const { return p; }
};

struct Buffer {
    signal_buffer* p = nullptr;
    bool secret = false;
    explicit Buffer(bool is_secret = false) : secret(is_secret) {}
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() {
        if (!p) return;
        if (secret)
            signal_buffer_bzero_free(p);
        else
            signal_buffer_free(p);
    }
    ByteView view() const { return {signal_buffer_const_data(p), signal_buffer_len(p)}; }
    Bytes bytes() const { return Bytes(view().begin(), view().end()); }
};

struct CipherHandle {
    session_cipher* p = nullptr;
    ~CipherHandle() {
        if (p) session_cipher_free(p);
    }
};

struct BuilderHandle {
    session_builder* p = nullptr;
    ~BuilderHandle() {
        if (p) session_builder_free(p);
    }
};

struct PreKeyList {
    signal_protocol_key_helper_pre_key_list_node* head = nullptr;
    ~PreKeyList() {
        if (head) signal_protocol_key_helper_key_list_free(head);
    }
};

signal_protocol_address c_address(const Address& a) {
    return signal_protocol_address{a.name.c_str(), a.name.size(), a.device_id};
}

Bytes serialize_public(const ec_public_key* key) {
    Buffer b;
    if (ec_public_key_serialize(&b.p, key) != 0) {
        throw Error(ErrorCode::internal, "a public key could not be serialized");
    }
    return b.bytes();
}

void check_public_key(ByteView key, const char* field) {
    if (key.size() != 33 || key[0] != 0x05) {
        throw Error(ErrorCode::invalid_bundle,
                    std::string("bundle field '") + field + "' is not a 33-byte public key");
    }
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void check_address(const Address& a) {
    if (a.name.empty() || a.device_id < 1) {
        throw Error(ErrorCode::invalid_argument,
                    "an address needs a non-empty name and a device id >= 1");
    }
}

struct DecryptContext {
    const std::function<void(ByteView)>* persist = nullptr;
    Bytes plaintext;
    std::optional<Error> error;
    std::exception_ptr foreign;  // a non-Error exception thrown by persist
};

int on_decrypted(session_cipher*, signal_buffer* plaintext, void* decrypt_context) {
    auto* ctx = static_cast<DecryptContext*>(decrypt_context);
    try {
        ctx->plaintext = unpad_plaintext(
            ByteView(signal_buffer_const_data(plaintext), signal_buffer_len(plaintext)));
        if (ctx->persist && *ctx->persist) (*ctx->persist)(ctx->plaintext);
        return SG_SUCCESS;
    } catch (const Error& e) {
        ctx->error = e;
    } catch (...) {
        ctx->foreign = std::current_exception();
    }
    return kDecryptCallbackFailed;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Padding

std::size_t padded_size(std::size_t length) {
    constexpr std::size_t kBuckets[] = {160, 512, 1024, 4096, 16384};
    for (std::size_t bucket : kBuckets) {
        if (length + 1 <= bucket) return bucket;
    }
    constexpr std::size_t kStep = 16384;
    return (length + 1 + kStep - 1) / kStep * kStep;
}

Bytes pad_plaintext(ByteView plaintext) {
    if (plaintext.size() > kMaxPlaintext) {
        throw Error(ErrorCode::invalid_argument, "a message may hold at most 4 MiB");
    }
    Bytes out(padded_size(plaintext.size()), 0);
    std::copy(plaintext.begin(), plaintext.end(), out.begin());
    out[plaintext.size()] = 0x80;
    return out;
}

Bytes unpad_plaintext(ByteView padded) {
    std::size_t end = padded.size();
    while (end > 0 && padded[end - 1] == 0) --end;
    if (end == 0 || padded[end - 1] != 0x80) {
        throw Error(ErrorCode::invalid_message, "the message padding is malformed");
    }
    return Bytes(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(end - 1));
}

// ---------------------------------------------------------------------------------------------
// Construction

Party::Party(std::unique_ptr<SealedStore> store, const PartyOptions& options)
    : context_(std::make_unique<SignalContext>()), store_(std::move(store)), options_(options) {
    if (signal_protocol_store_context_create(&store_context_, context_->get()) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create a store context");
    }
    store_->install_callbacks(store_context_);
}

Party::~Party() {
    if (store_context_) signal_protocol_store_context_destroy(store_context_);
}

std::unique_ptr<Party> Party::open(const std::filesystem::path& path, const StoreKey& key,
                                   const PartyOptions& options) {
    std::unique_ptr<Party> party(new Party(SealedStore::open(path, key), options));
    party->initialise(std::nullopt);
    return party;
}

std::unique_ptr<Party> Party::create_from_seed(const std::filesystem::path& path,
                                               const StoreKey& key, ByteView seed,
                                               const PartyOptions& options) {
    if (seed.size() != 32) {
        throw Error(ErrorCode::invalid_argument, "an identity seed must be exactly 32 bytes");
    }
    std::unique_ptr<Party> party(new Party(SealedStore::open(path, key), options));
    party->initialise(SecretBytes(Bytes(seed.begin(), seed.end())));
    return party;
}

void Party::initialise(const std::optional<SecretBytes>& seed) {
    auto lock = context_->lock();
    signal_context* ctx = context_->get();

    LocalIdentity identity;
    if (seed) {
        // Clamping as X25519 does (RFC 7748 §5) turns any 32 bytes into a valid scalar.
        SecretBytes scalar = *seed;
        scalar.data()[0] &= 248;
        scalar.data()[31] &= 127;
        scalar.data()[31] |= 64;
        Ref<ec_private_key> private_key;
        Ref<ec_public_key> public_key;
        if (curve_decode_private_point(private_key.out(), scalar.data(), scalar.size(), ctx) != 0 ||
            curve_generate_public_key(public_key.out(), private_key.get()) != 0) {
            throw Error(ErrorCode::internal, "the identity could not be derived from the seed");
        }
        identity.public_key = serialize_public(public_key.get());
        identity.private_key = std::move(scalar);
        // Registration id 1..16380 from a separate HMAC of the seed.
        std::uint8_t mac[32];
        std::size_t mac_len = 0;
        static constexpr unsigned char kLabel[] = "ariadne registration id v1";
        if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, seed->data(), seed->size(),
                      kLabel, sizeof kLabel - 1, mac, sizeof mac, &mac_len) == nullptr) {
            throw Error(ErrorCode::internal, "HMAC-SHA256 failed");
        }
        std::uint32_t v = (std::uint32_t{mac[0]} << 24) | (std::uint32_t{mac[1]} << 16) |
                          (std::uint32_t{mac[2]} << 8) | mac[3];
        identity.registration_id = v % 16380 + 1;
    }

    if (auto existing = store_->local_identity()) {
        if (seed && !equal_constant_time(existing->public_key, identity.public_key)) {
            throw Error(ErrorCode::invalid_argument,
                        "this store already holds a different identity than the seed gives");
        }
        return;
    }

    if (!seed) {
        Ref<ratchet_identity_key_pair> pair;
        if (signal_protocol_key_helper_generate_identity_key_pair(pair.out(), ctx) != 0 ||
            signal_protocol_key_helper_generate_registration_id(&identity.registration_id, 0,
                                                                ctx) != 0) {
            throw Error(ErrorCode::internal, "libsignal could not generate an identity");
        }
        identity.public_key = serialize_public(ratchet_identity_key_pair_get_public(pair.get()));
        Buffer priv(true);
        if (ec_private_key_serialize(&priv.p, ratchet_identity_key_pair_get_private(pair.get())) !=
            0) {
            throw Error(ErrorCode::internal, "a private key could not be serialized");
        }
        identity.private_key = SecretBytes(priv.bytes());
    }

    SealedStore::Transaction tx(*store_);
    store_->set_local_identity(identity);
    // Random first ids lower the chance that a re-created device reuses ids the directory
    // still serves.
    store_->set_next_pre_key_id(random_uniform(kMaxOneTimePreKeyId) + 1);
    {
        Ref<ec_key_pair> pair;
        Ref<session_pre_key> last_resort;
        Buffer record(true);
        if (curve_generate_key_pair(ctx, pair.out()) != 0 ||
            session_pre_key_create(last_resort.out(), kLastResortPreKeyId, pair.get()) != 0 ||
            session_pre_key_serialize(&record.p, last_resort.get()) != 0) {
            throw Error(ErrorCode::internal, "libsignal could not generate the last-resort key");
        }
        store_->store_pre_key(kLastResortPreKeyId, record.view());
    }
    rotate_signed_pre_key();
    tx.commit();
}

// ---------------------------------------------------------------------------------------------
// Errors

void Party::fail(int code, ErrorCode fallback, const std::string& what) {
    if (auto stored = store_->take_callback_error()) throw *stored;
    switch (code) {
        case SG_ERR_DUPLICATE_MESSAGE:
            throw Error(ErrorCode::invalid_message, "this message was already received (replay)");
        case SG_ERR_UNTRUSTED_IDENTITY:
            throw Error(ErrorCode::untrusted_identity,
                        "the peer's identity key changed since it was first seen; verify the "
                        "safety number before trusting the new key");
        case SG_ERR_NO_SESSION:
            throw Error(ErrorCode::no_session, "there is no session with this peer yet");
        case SG_ERR_INVALID_KEY_ID:
            throw Error(ErrorCode::invalid_message,
                        "the message uses a pre-key this device does not hold (already used or "
                        "never issued)");
        case SG_ERR_INVALID_MAC:
            throw Error(ErrorCode::invalid_message,
                        "the message failed its authentication check (altered or not for us)");
        case SG_ERR_NOMEM:
            throw Error(ErrorCode::internal, "out of memory while " + what);
        default:
            throw Error(fallback,
                        "libsignal failed while " + what + " (code " + std::to_string(code) + ")");
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

Bytes Party::identity_key() {
    auto lock = context_->lock();
    return store_->local_identity().value().public_key;
}

std::uint32_t Party::registration_id() {
    auto lock = context_->lock();
    return store_->local_identity().value().registration_id;
}

std::vector<PublicPreKey> Party::generate_pre_keys(std::size_t count) {
    if (count < 1 || count > kMaxPreKeysPerUpload) {
        throw Error(ErrorCode::invalid_argument, "pre-keys are generated 1 to 1000 at a time");
    }
    auto lock = context_->lock();
    SealedStore::Transaction tx(*store_);
    const std::uint32_t start = store_->next_pre_key_id();
    PreKeyList list;
    if (signal_protocol_key_helper_generate_pre_keys(
            &list.head, start, static_cast<unsigned>(count), context_->get()) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not generate pre-keys");
    }
    std::vector<PublicPreKey> out;
    out.reserve(count);
    for (auto* node = list.head; node; node = signal_protocol_key_helper_key_list_next(node)) {
        session_pre_key* key = signal_protocol_key_helper_key_list_element(node);
        Buffer record(true);
        if (session_pre_key_serialize(&record.p, key) != 0) {
            throw Error(ErrorCode::internal, "a pre-key could not be serialized");
        }
        const std::uint32_t id = session_pre_key_get_id(key);
        store_->store_pre_key(id, record.view());
        out.push_back(
            {id, serialize_public(ec_key_pair_get_public(session_pre_key_get_key_pair(key)))});
    }
    // Same wrap as libsignal's generator: ids run 1..0xFFFFFE.
    store_->set_next_pre_key_id(
        static_cast<std::uint32_t>((start + count - 1) % kMaxOneTimePreKeyId) + 1);
    tx.commit();
    return out;
}

SignedPublicPreKey Party::rotate_signed_pre_key(std::chrono::system_clock::time_point now) {
    auto lock = context_->lock();
    SealedStore::Transaction tx(*store_);
    auto existing = store_->signed_pre_keys();
    std::uint32_t id = existing.empty() ? random_uniform(kMaxOneTimePreKeyId) + 1 : 0;
    if (!existing.empty()) {
        const auto& current =
            *std::max_element(existing.begin(), existing.end(), [](const auto& a, const auto& b) {
                return std::pair(!a.superseded_at, a.created_at) <
                       std::pair(!b.superseded_at, b.created_at);
            });
        id = current.id % kMaxOneTimePreKeyId + 1;
    }
    Ref<ratchet_identity_key_pair> identity;
    Ref<session_signed_pre_key> signed_key;
    Buffer record(true);
    const auto now_s = unix_seconds(now);
    if (signal_protocol_identity_get_key_pair(store_context_, identity.out()) != 0 ||
        signal_protocol_key_helper_generate_signed_pre_key(signed_key.out(), identity.get(), id,
                                                           static_cast<std::uint64_t>(now_s) * 1000,
                                                           context_->get()) != 0 ||
        session_signed_pre_key_serialize(&record.p, signed_key.get()) != 0) {
        if (auto stored = store_->take_callback_error()) throw *stored;
        throw Error(ErrorCode::internal, "libsignal could not generate a signed pre-key");
    }
    store_->store_signed_pre_key(id, record.view(), now_s);
    store_->supersede_signed_pre_keys_except(id, now_s);
    const auto grace = options_.signed_pre_key_grace.count();
    for (const auto& info : store_->signed_pre_keys()) {
        if (info.superseded_at && *info.superseded_at + grace < now_s) {
            store_->remove_signed_pre_key(info.id);
        }
    }
    SignedPublicPreKey out;
    out.id = id;
    out.public_key = serialize_public(
        ec_key_pair_get_public(session_signed_pre_key_get_key_pair(signed_key.get())));
    const uint8_t* sig = session_signed_pre_key_get_signature(signed_key.get());
    out.signature.assign(sig, sig + session_signed_pre_key_get_signature_len(signed_key.get()));
    tx.commit();
    return out;
}

SignedPublicPreKey Party::current_signed_pre_key() {
    auto lock = context_->lock();
    std::optional<SignedPreKeyInfo> current;
    for (const auto& info : store_->signed_pre_keys()) {
        if (!info.superseded_at && (!current || info.created_at >= current->created_at)) {
            current = info;
        }
    }
    if (!current) throw Error(ErrorCode::internal, "the store holds no current signed pre-key");
    SecretBytes record = store_->load_signed_pre_key(current->id).value();
    Ref<session_signed_pre_key> key;
    if (session_signed_pre_key_deserialize(key.out(), record.data(), record.size(),
                                           context_->get()) != 0) {
        throw Error(ErrorCode::corrupt_record, "the signed pre-key record cannot be parsed");
    }
    SignedPublicPreKey out;
    out.id = current->id;
    out.public_key =
        serialize_public(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(key.get())));
    const uint8_t* sig = session_signed_pre_key_get_signature(key.get());
    out.signature.assign(sig, sig + session_signed_pre_key_get_signature_len(key.get()));
    return out;
}

namespace {
PublicPreKey public_pre_key(SealedStore& store, std::uint32_t id, signal_context* ctx) {
    auto record = store.load_pre_key(id);
    if (!record) throw Error(ErrorCode::internal, "a pre-key vanished from the store");
    Ref<session_pre_key> key;
    if (session_pre_key_deserialize(key.out(), record->data(), record->size(), ctx) != 0) {
        throw Error(ErrorCode::corrupt_record, "a pre-key record cannot be parsed");
    }
    return {id, serialize_public(ec_key_pair_get_public(session_pre_key_get_key_pair(key.get())))};
}
}  // namespace

PublicPreKey Party::last_resort_pre_key() {
    auto lock = context_->lock();
    return public_pre_key(*store_, kLastResortPreKeyId, context_->get());
}

PreKeyBundle Party::bundle(std::int32_t device_id) {
    auto lock = context_->lock();
    SealedStore::Transaction tx(*store_);
    PreKeyBundle b;
    auto identity = store_->local_identity().value();
    b.registration_id = identity.registration_id;
    b.device_id = device_id;
    b.identity_key = identity.public_key;
    b.signed_pre_key = current_signed_pre_key();
    auto id = store_->take_unissued_pre_key();
    b.pre_key = public_pre_key(*store_, id.value_or(kLastResortPreKeyId), context_->get());
    tx.commit();
    return b;
}

UploadSet Party::upload_set(std::int32_t device_id, std::size_t count) {
    auto lock = context_->lock();
    SealedStore::Transaction tx(*store_);
    UploadSet u;
    auto identity = store_->local_identity().value();
    u.registration_id = identity.registration_id;
    u.device_id = device_id;
    u.identity_key = identity.public_key;
    u.signed_pre_key = current_signed_pre_key();
    u.pre_keys = generate_pre_keys(count);
    for (const auto& k : u.pre_keys) store_->mark_pre_key_issued(k.id);
    u.last_resort_pre_key = last_resort_pre_key();
    tx.commit();
    return u;
}

// ---------------------------------------------------------------------------------------------
// Sessions

void Party::start_session(const Address& address, const PreKeyBundle& b) {
    check_address(address);
    check_public_key(b.identity_key, "identity_key");
    check_public_key(b.signed_pre_key.public_key, "signed_pre_key.public_key");
    if (b.pre_key) check_public_key(b.pre_key->public_key, "pre_key.public_key");
    if (!verify_signed_pre_key(b.identity_key, b.signed_pre_key.public_key,
                               b.signed_pre_key.signature)) {
        throw Error(ErrorCode::invalid_bundle,
                    "bundle field 'signed_pre_key.signature' does not verify against "
                    "identity_key");
    }
    auto lock = context_->lock();
    signal_context* ctx = context_->get();
    Ref<ec_public_key> identity, signed_key, one_time;
    if (curve_decode_point(identity.out(), b.identity_key.data(), b.identity_key.size(), ctx) !=
            0 ||
        curve_decode_point(signed_key.out(), b.signed_pre_key.public_key.data(),
                           b.signed_pre_key.public_key.size(), ctx) != 0 ||
        (b.pre_key && curve_decode_point(one_time.out(), b.pre_key->public_key.data(),
                                         b.pre_key->public_key.size(), ctx) != 0)) {
        throw Error(ErrorCode::invalid_bundle, "the bundle holds a key libsignal cannot decode");
    }
    Ref<session_pre_key_bundle> bundle;
    if (session_pre_key_bundle_create(bundle.out(), b.registration_id, address.device_id,
                                      b.pre_key ? b.pre_key->id : 0, one_time.get(),
                                      b.signed_pre_key.id, signed_key.get(),
                                      b.signed_pre_key.signature.data(),
                                      b.signed_pre_key.signature.size(), identity.get()) != 0) {
        throw Error(ErrorCode::invalid_bundle, "libsignal refused the bundle");
    }
    store_->take_callback_error();  // drop any stale error from an earlier call
    SealedStore::Transaction tx(*store_);
    const signal_protocol_address addr = c_address(address);
    BuilderHandle builder;
    if (session_builder_create(&builder.p, store_context_, &addr, ctx) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create a session builder");
    }
    if (int rc = session_builder_process_pre_key_bundle(builder.p, bundle.get()); rc != 0) {
        fail(rc, rc == SG_ERR_INVALID_KEY ? ErrorCode::invalid_bundle : ErrorCode::internal,
             "starting a session from a bundle");
    }
    tx.commit();
}

bool Party::has_session(const Address& address) {
    auto lock = context_->lock();
    return store_->contains_session(address);
}

Ciphertext Party::encrypt(const Address& address, ByteView plaintext) {
    check_address(address);
    Bytes padded = pad_plaintext(plaintext);
    auto lock = context_->lock();
    store_->take_callback_error();  // drop any stale error from an earlier call
    SealedStore::Transaction tx(*store_);
    if (!store_->contains_session(address)) {
        throw Error(ErrorCode::no_session, "there is no session with this peer yet");
    }
    const signal_protocol_address addr = c_address(address);
    CipherHandle cipher;
    if (session_cipher_create(&cipher.p, store_context_, &addr, context_->get()) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create a session cipher");
    }
    Ref<ciphertext_message> message;
    int rc = session_cipher_encrypt(cipher.p, padded.data(), padded.size(), message.out());
    wipe(padded.data(), padded.size());
    if (rc != 0) fail(rc, ErrorCode::internal, "encrypting a message");
    Ciphertext out;
    out.type = ciphertext_message_get_type(message.get());
    signal_buffer* serialized = ciphertext_message_get_serialized(message.get());
    out.bytes.assign(signal_buffer_const_data(serialized),
                     signal_buffer_const_data(serialized) + signal_buffer_len(serialized));
    tx.commit();
    return out;
}

Bytes Party::decrypt(const Address& address, int type, ByteView message) {
    return decrypt(address, type, message, {});
}

Bytes Party::decrypt(const Address& address, int type, ByteView message,
                     const std::function<void(ByteView)>& persist) {
    check_address(address);
    if (type != kSignalMessage && type != kPreKeyMessage) {
        throw Error(ErrorCode::invalid_message,
                    "unknown message type " + std::to_string(type) + " (expected 2 or 3)");
    }
    if (message.empty()) throw Error(ErrorCode::invalid_message, "the message is empty");
    auto lock = context_->lock();
    signal_context* ctx = context_->get();
    store_->take_callback_error();  // drop any stale error from an earlier call
    // One transaction: the session step, the used pre-key and the peer's identity are
    // committed together after the MAC and padding checks, or not at all.
    SealedStore::Transaction tx(*store_);
    const signal_protocol_address addr = c_address(address);
    CipherHandle cipher;
    if (session_cipher_create(&cipher.p, store_context_, &addr, ctx) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create a session cipher");
    }
    session_cipher_set_decryption_callback(cipher.p, on_decrypted);
    DecryptContext dctx;
    dctx.persist = &persist;
    Buffer plaintext(true);
    int rc = 0;
    if (type == kPreKeyMessage) {
        Ref<pre_key_signal_message> parsed;
        if (pre_key_signal_message_deserialize(parsed.out(), message.data(), message.size(), ctx) !=
            0) {
            throw Error(ErrorCode::invalid_message, "the pre-key message cannot be parsed");
        }
        rc = session_cipher_decrypt_pre_key_signal_message(cipher.p, parsed.get(), &dctx,
                                                           &plaintext.p);
    } else {
        Ref<signal_message> parsed;
        if (signal_message_deserialize(parsed.out(), message.data(), message.size(), ctx) != 0) {
            throw Error(ErrorCode::invalid_message, "the message cannot be parsed");
        }
        rc = session_cipher_decrypt_signal_message(cipher.p, parsed.get(), &dctx, &plaintext.p);
    }
    if (dctx.foreign) std::rethrow_exception(dctx.foreign);
    if (dctx.error) throw *dctx.error;
    if (rc != 0) fail(rc, ErrorCode::invalid_message, "decrypting a message");
    tx.commit();
    return std::move(dctx.plaintext);
}

void Party::atomically(const std::function<void(Party&)>& work) {
    auto lock = context_->lock();
    SealedStore::Transaction tx(*store_);
    work(*this);
    tx.commit();
}

// ---------------------------------------------------------------------------------------------
// Identities

std::optional<Bytes> Party::remote_identity_key(const Address& address) {
    auto lock = context_->lock();
    return store_->remote_identity(address);
}

void Party::trust_identity(const Address& address, ByteView identity_key) {
    check_address(address);
    if (identity_key.size() != 33 || identity_key[0] != 0x05) {
        throw Error(ErrorCode::invalid_argument, "an identity key is 33 bytes starting with 0x05");
    }
    auto lock = context_->lock();
    store_->save_remote_identity(address, identity_key);
}

std::string Party::safety_number(std::string_view local_id, std::string_view remote_id,
                                 const Address& remote) {
    auto lock = context_->lock();
    auto remote_key = store_->remote_identity(remote);
    if (!remote_key) {
        throw Error(ErrorCode::untrusted_identity, "no identity key is known for this peer yet");
    }
    return ariadne::crypto::safety_number(local_id, store_->local_identity().value().public_key,
                                          remote_id, *remote_key);
}

}  // namespace ariadne::crypto
