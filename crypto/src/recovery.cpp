#include "ariadne/crypto/recovery.h"

#include <curve.h>
#include <openssl/rand.h>
#include <signal_protocol.h>

#include <algorithm>
#include <array>
#include <climits>

#include "argon2id_phc.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/hkdf.h"

namespace ariadne::crypto {

namespace {

// Written for Ariadne: short, common, concrete, neutral words (nothing about debt, drugs,
// police, violence, night life or family), 3-6 letters, unique first three letters.
// Never reorder or change it: codes already handed out depend on each index.
constexpr std::array<std::string_view, kRecoveryWordListSize> kWords = {
    "acorn",  "amber",  "anchor", "apple",  "apron",  "arrow",  "atlas",  "autumn", "bacon",
    "baker",  "bamboo", "banana", "basket", "beach",  "bell",   "berry",  "bike",   "bird",
    "blue",   "boat",   "bottle", "bread",  "brick",  "brush",  "bucket", "butter", "cabin",
    "cake",   "camel",  "candle", "carrot", "castle", "cello",  "chair",  "cheese", "circle",
    "cloud",  "coffee", "comet",  "copper", "cotton", "crayon", "crown",  "cup",    "daisy",
    "donkey", "dragon", "drum",   "duck",   "dune",   "dusk",   "eagle",  "earth",  "easel",
    "elm",    "fabric", "falcon", "farm",   "fern",   "fiddle", "fig",    "finch",  "fish",
    "flag",   "flour",  "flute",  "forest", "fox",    "frog",   "fruit",  "fudge",  "funnel",
    "garden", "gate",   "gecko",  "ginger", "glass",  "globe",  "goat",   "gold",   "grape",
    "green",  "guitar", "gull",   "harbor", "hazel",  "hedge",  "hill",   "honey",  "horse",
    "igloo",  "inch",   "iris",   "island", "ivory",  "ivy",    "jacket", "jade",   "jaguar",
    "jar",    "jazz",   "jelly",  "jewel",  "jigsaw", "juice",  "jungle", "kayak",  "kettle",
    "kite",   "kiwi",   "koala",  "ladder", "lake",   "lamp",   "lava",   "lawn",   "lemon",
    "lentil", "letter", "lily",   "lime",   "linen",  "lion",   "lizard", "llama",  "lotus",
    "lunar",  "magnet", "mango",  "maple",  "marble", "meadow", "melon",  "milk",   "mint",
    "mirror", "mitten", "monkey", "moon",   "moss",   "mouse",  "muffin", "museum", "napkin",
    "nectar", "nest",   "noodle", "nutmeg", "oasis",  "ocean",  "olive",  "omelet", "onion",
    "opal",   "opera",  "orange", "orbit",  "orchid", "otter",  "oven",   "owl",    "oyster",
    "paddle", "palm",   "panda",  "paper",  "parrot", "pasta",  "peach",  "pebble", "pencil",
    "pepper", "piano",  "pickle", "pillow", "pizza",  "planet", "plum",   "pocket", "poem",
    "pony",   "potato", "prism",  "puppy",  "puzzle", "quail",  "rabbit", "radio",  "rain",
    "raven",  "reef",   "ribbon", "rice",   "river",  "robin",  "rocket", "ruby",   "saddle",
    "salad",  "sand",   "scarf",  "seed",   "shell",  "ship",   "silver", "smile",  "snail",
    "snow",   "soap",   "sock",   "sofa",   "soup",   "spice",  "spoon",  "spring", "squash",
    "star",   "stone",  "straw",  "sugar",  "summer", "swan",   "swing",  "table",  "taco",
    "tennis", "tiger",  "toast",  "tomato", "topaz",  "towel",  "tree",   "tulip",  "tuna",
    "turtle", "valley", "vase",   "velvet", "violin", "wafer",  "wagon",  "walnut", "wave",
    "whale",  "wheat",  "willow", "window", "wizard", "wolf",   "wool",   "yacht",  "yarn",
    "yellow", "yogurt", "zebra",  "zero",
};

constexpr std::size_t kMaxCodeText = 256;  // bounds work on hostile input
constexpr std::size_t kSecretLength = 32;
constexpr std::size_t kMinChallenge = 16;
constexpr std::size_t kMaxChallenge = 1024;
constexpr std::string_view kLoginContext = "ariadne-auth-v1";
constexpr std::string_view kInfoAuth = "ariadne/v1/auth";
constexpr std::string_view kInfoIdentity = "ariadne/v1/identity";
constexpr std::string_view kInfoLocator = "ariadne/v1/locator";
constexpr std::string_view kInfoVerifier = "ariadne/v1/verifier";

[[noreturn]] void refuse(const char* sentence) {
    throw Error(ErrorCode::invalid_argument, sentence);
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string normalize_digits(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (is_digit(c)) {
            out += c;
        } else if (std::string_view(" \t-.+()/").find(c) == std::string_view::npos) {
            refuse("a recovery code has only digits; spaces and dashes are allowed between them");
        }
    }
    if (out.size() != kRecoveryCodeDigits) refuse("a recovery code has 16 digits");
    return out;
}

std::string normalize_words(std::string_view text) {
    std::string out;
    std::string word;
    std::size_t count = 0;
    auto finish_word = [&] {
        if (word.empty()) return;
        ++count;
        if (count > kRecoveryCodeWords) refuse("a recovery code has 8 words");
        if (!std::binary_search(kWords.begin(), kWords.end(), std::string_view(word))) {
            static const std::array<const char*, kRecoveryCodeWords> kMessages = {
                "word 1 of the recovery code is not in the word list",
                "word 2 of the recovery code is not in the word list",
                "word 3 of the recovery code is not in the word list",
                "word 4 of the recovery code is not in the word list",
                "word 5 of the recovery code is not in the word list",
                "word 6 of the recovery code is not in the word list",
                "word 7 of the recovery code is not in the word list",
                "word 8 of the recovery code is not in the word list"};
            refuse(kMessages[count - 1]);
        }
        if (!out.empty()) out += ' ';
        out += word;
        wipe(word.data(), word.size());
        word.clear();
    };
    for (char c : text) {
        if (is_letter(c)) {
            word += static_cast<char>(c | 0x20);  // ASCII lower-case
        } else if (std::string_view(" \t\r\n-,.").find(c) != std::string_view::npos) {
            finish_word();
        } else {
            refuse("a recovery code in words has only letters and spaces");
        }
    }
    finish_word();
    if (count != kRecoveryCodeWords) refuse("a recovery code has 8 words");
    return out;
}

detail::Argon2idCost cost_of(const RecoveryParams& p) { return {p.t_cost, p.m_kib, p.parallelism}; }

void check_params(const RecoveryParams& p) {
    detail::check_cost(cost_of(p));
    if (p.salt.size() < detail::kGeneratedSaltLength || p.salt.size() > detail::kMaxSaltLength) {
        refuse("the recovery salt must be 16 to 64 bytes");
    }
}

void check_challenge(ByteView challenge) {
    if (challenge.size() < kMinChallenge || challenge.size() > kMaxChallenge) {
        refuse("a login challenge must be 16 to 1024 bytes");
    }
}

Bytes login_message(ByteView challenge) {
    // Sized up front: growing a vector by insert() trips g++ 12's -Warray-bounds at -O3.
    Bytes m(kLoginContext.size() + challenge.size());
    std::copy(kLoginContext.begin(), kLoginContext.end(), m.begin());
    std::copy(challenge.begin(), challenge.end(), m.begin() + kLoginContext.size());
    return m;
}

// Owns a libsignal object reference.
template <typename T>
struct SignalRef {
    T* ptr = nullptr;
    ~SignalRef() {
        if (ptr != nullptr) SIGNAL_UNREF(ptr);
    }
};

struct SignalBuffer {
    signal_buffer* ptr = nullptr;
    ~SignalBuffer() { signal_buffer_bzero_free(ptr); }
};

// The libsignal context the curve functions need. They only draw randomness from it (the
// XEdDSA nonce), so the provider has OpenSSL's generator and refuses everything else; this
// keeps recovery independent of the session machinery in signal_context.h.
class CurveContext {
  public:
    CurveContext() {
        signal_crypto_provider provider{};
        provider.random_func = [](std::uint8_t* data, std::size_t len, void*) -> int {
            if (len > static_cast<std::size_t>(INT_MAX)) return SG_ERR_INVAL;
            return RAND_bytes(data, static_cast<int>(len)) == 1 ? SG_SUCCESS : SG_ERR_UNKNOWN;
        };
        // libsignal insists on HMAC callbacks; curve25519 never calls them.
        provider.hmac_sha256_init_func = [](void**, const std::uint8_t*, std::size_t,
                                            void*) -> int { return SG_ERR_UNKNOWN; };
        provider.hmac_sha256_update_func = [](void*, const std::uint8_t*, std::size_t,
                                              void*) -> int { return SG_ERR_UNKNOWN; };
        provider.hmac_sha256_final_func = [](void*, signal_buffer**, void*) -> int {
            return SG_ERR_UNKNOWN;
        };
        provider.hmac_sha256_cleanup_func = [](void*, void*) {};
        if (signal_context_create(&context_, nullptr) != 0) {
            throw Error(ErrorCode::internal, "could not create a libsignal context");
        }
        if (signal_context_set_crypto_provider(context_, &provider) != 0) {
            signal_context_destroy(context_);
            throw Error(ErrorCode::internal, "libsignal refused the crypto provider");
        }
    }
    ~CurveContext() { signal_context_destroy(context_); }
    CurveContext(const CurveContext&) = delete;
    CurveContext& operator=(const CurveContext&) = delete;
    signal_context* get() const noexcept { return context_; }

  private:
    signal_context* context_ = nullptr;
};

// The X25519 private key libsignal uses, from 32 uniformly random bytes (RFC 7748 clamping,
// as curve_generate_private_key does for random keys).
void decode_auth_private_key(const SecretBytes& auth_key, signal_context* ctx,
                             SignalRef<ec_private_key>& out) {
    if (auth_key.size() != kSecretLength) refuse("a recovery auth key is 32 bytes");
    std::array<std::uint8_t, kSecretLength> scalar{};
    std::copy(auth_key.data(), auth_key.data() + kSecretLength, scalar.begin());
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
    const int rc = curve_decode_private_point(&out.ptr, scalar.data(), scalar.size(), ctx);
    wipe(scalar.data(), scalar.size());
    if (rc != 0) throw Error(ErrorCode::internal, "libsignal could not load the auth key");
}

Bytes auth_public_key_of(const SecretBytes& auth_key) {
    CurveContext ctx;
    SignalRef<ec_private_key> priv;
    decode_auth_private_key(auth_key, ctx.get(), priv);
    SignalRef<ec_public_key> pub;
    SignalBuffer serialized;
    if (curve_generate_public_key(&pub.ptr, priv.ptr) != 0 ||
        ec_public_key_serialize(&serialized.ptr, pub.ptr) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not compute the auth public key");
    }
    const std::uint8_t* data = signal_buffer_data(serialized.ptr);
    return Bytes(data, data + signal_buffer_len(serialized.ptr));
}

}  // namespace

std::span<const std::string_view> recovery_word_list() noexcept { return kWords; }

std::string generate_recovery_code(RecoveryFormat format) {
    std::string code;
    if (format == RecoveryFormat::digits) {
        for (std::size_t i = 0; i < kRecoveryCodeDigits; ++i) {
            code += static_cast<char>('0' + random_uniform(10));
        }
    } else {
        for (std::size_t i = 0; i < kRecoveryCodeWords; ++i) {
            if (i > 0) code += ' ';
            code += kWords[random_uniform(kRecoveryWordListSize)];
        }
    }
    std::string display = format_recovery_code(code);
    wipe(code.data(), code.size());
    return display;
}

std::string normalize_recovery_code(std::string_view text) {
    if (text.size() > kMaxCodeText) refuse("a recovery code is at most 256 characters long");
    const bool has_letter = std::any_of(text.begin(), text.end(), is_letter);
    const bool has_digit = std::any_of(text.begin(), text.end(), is_digit);
    if (!has_letter && !has_digit) refuse("the recovery code is empty");
    if (has_letter && has_digit) {
        refuse("a recovery code has 16 digits or 8 words, not letters and digits mixed");
    }
    return has_digit ? normalize_digits(text) : normalize_words(text);
}

std::string format_recovery_code(std::string_view text) {
    std::string n = normalize_recovery_code(text);
    if (n.size() != kRecoveryCodeDigits || !is_digit(n[0])) return n;  // words: already spaced
    std::string display =
        n.substr(0, 5) + ' ' + n.substr(5, 3) + ' ' + n.substr(8, 4) + ' ' + n.substr(12, 4);
    wipe(n.data(), n.size());
    return display;
}

RecoveryParams new_recovery_params() {
    RecoveryParams p;
    p.salt = random_bytes(detail::kGeneratedSaltLength);
    return p;
}

std::string serialize_recovery_params(const RecoveryParams& params) {
    check_params(params);
    return detail::phc_encode(cost_of(params), params.salt, {});
}

RecoveryParams parse_recovery_params(std::string_view text) {
    detail::PhcRecord r = detail::phc_decode(text, /*with_hash=*/false, "recovery parameters");
    RecoveryParams p;
    p.t_cost = r.cost.t_cost;
    p.m_kib = r.cost.m_kib;
    p.parallelism = r.cost.parallelism;
    p.salt = std::move(r.salt);
    check_params(p);
    return p;
}

RecoverySecrets derive_recovery_secrets(std::string_view code, const RecoveryParams& params) {
    check_params(params);
    std::string normalized = normalize_recovery_code(code);
    RecoverySecrets s;
    s.master = detail::argon2id(as_bytes(normalized), params.salt, cost_of(params), kSecretLength);
    wipe(normalized.data(), normalized.size());
    // master is uniformly random already, so HKDF runs without salt; info separates purposes.
    auto expand = [&](std::string_view info) {
        return hkdf_sha256(s.master.view(), {}, as_bytes(info), kSecretLength);
    };
    s.auth_key = expand(kInfoAuth);
    s.identity_seed = expand(kInfoIdentity);
    SecretBytes locator = expand(kInfoLocator);
    SecretBytes verifier = expand(kInfoVerifier);
    s.locator.assign(locator.data(), locator.data() + locator.size());
    s.verifier.assign(verifier.data(), verifier.data() + verifier.size());
    s.auth_public_key = auth_public_key_of(s.auth_key);
    return s;
}

StoredRecovery make_recovery_verifier(std::string_view code, const RecoveryParams& params) {
    RecoverySecrets s = derive_recovery_secrets(code, params);
    return StoredRecovery{params, std::move(s.locator), std::move(s.verifier),
                          std::move(s.auth_public_key)};
}

bool verify_recovery_code(std::string_view code, const StoredRecovery& stored) {
    if (stored.locator.size() != kSecretLength || stored.verifier.size() != kSecretLength) {
        refuse("a stored recovery record has a 32-byte locator and verifier");
    }
    RecoverySecrets s = derive_recovery_secrets(code, stored.params);
    // Both compared in full (no short-circuit) so timing says nothing about which differed.
    const bool locator_ok = equal_constant_time(s.locator, stored.locator);
    const bool verifier_ok = equal_constant_time(s.verifier, stored.verifier);
    return locator_ok & verifier_ok;
}

Bytes login_public_key(const SecretBytes& private_key) { return auth_public_key_of(private_key); }

Bytes sign_login_challenge(const SecretBytes& auth_key, ByteView challenge) {
    check_challenge(challenge);
    CurveContext ctx;  // supplies the randomness XEdDSA mixes into each signature
    SignalRef<ec_private_key> priv;
    decode_auth_private_key(auth_key, ctx.get(), priv);
    const Bytes message = login_message(challenge);
    SignalBuffer signature;
    if (curve_calculate_signature(ctx.get(), &signature.ptr, priv.ptr, message.data(),
                                  message.size()) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not sign the login challenge");
    }
    const std::uint8_t* data = signal_buffer_data(signature.ptr);
    return Bytes(data, data + signal_buffer_len(signature.ptr));
}

bool verify_login_signature(ByteView auth_public_key, ByteView challenge, ByteView signature) {
    check_challenge(challenge);
    if (auth_public_key.size() != kAuthPublicKeyLength || auth_public_key[0] != 0x05) {
        refuse("a login public key is 33 bytes starting with 0x05");
    }
    if (signature.size() != kLoginSignatureLength) return false;
    CurveContext ctx;
    SignalRef<ec_public_key> pub;
    if (curve_decode_point(&pub.ptr, auth_public_key.data(), auth_public_key.size(), ctx.get()) !=
        0) {
        refuse("a login public key is not a valid curve25519 key");
    }
    const Bytes message = login_message(challenge);
    return curve_verify_signature(pub.ptr, message.data(), message.size(), signature.data(),
                                  signature.size()) == 1;
}

}  // namespace ariadne::crypto
