// AES-256-GCM sealing and opening in the formats aead.h describes.
#include "ariadne/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <memory>
#include <optional>

namespace ariadne::crypto {
namespace {

constexpr std::size_t kUnversionedOverhead = kSealNonceBytes + kSealTagBytes;
constexpr std::size_t kMaxInput = INT_MAX;  // OpenSSL's update calls take int lengths

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

void check_key(ByteView key) {
    if (key.size() != kSealKeyBytes) {
        throw Error(ErrorCode::invalid_argument, "a sealing key must be exactly 32 bytes");
    }
}

const unsigned char* label_data(std::string_view label) {
    return reinterpret_cast<const unsigned char*>(label.data());
}

// Opens nonce || ciphertext || tag (the body of either format); nullopt if the tag does not
// verify. Throws Error(internal) if OpenSSL cannot set up the cipher.
std::optional<SecretBytes> open_body(ByteView key, std::string_view label, ByteView body) {
    const std::size_t text_len = body.size() - kUnversionedOverhead;
    const std::uint8_t* nonce = body.data();
    const std::uint8_t* text = nonce + kSealNonceBytes;
    std::uint8_t tag[kSealTagBytes];
    std::copy(text + text_len, text + text_len + kSealTagBytes, tag);
    SecretBytes out(text_len);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx ||
        EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), nonce, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kSealTagBytes),
                            tag) != 1) {
        throw Error(ErrorCode::internal, "opening a sealed value with AES-256-GCM failed");
    }
    bool ok =
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, label_data(label),
                          static_cast<int>(label.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, text, static_cast<int>(text_len)) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) == 1;
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace

Bytes seal(ByteView key, std::string_view label, ByteView plaintext) {
    check_key(key);
    if (plaintext.size() > kMaxInput - kSealOverhead || label.size() > kMaxInput) {
        throw Error(ErrorCode::invalid_argument, "a value to seal must be smaller than 2 GiB");
    }
    Bytes out(kSealOverhead + plaintext.size());
    out[0] = kSealVersion1;
    Bytes nonce = random_bytes(kSealNonceBytes);
    std::copy(nonce.begin(), nonce.end(), out.begin() + 1);
    std::uint8_t* text = out.data() + 1 + kSealNonceBytes;
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bool ok =
        ctx &&
        EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), nonce.data(), nullptr) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, label_data(label),
                          static_cast<int>(label.size())) == 1 &&
        EVP_EncryptUpdate(ctx.get(), text, &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx.get(), text + len, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kSealTagBytes),
                            text + plaintext.size()) == 1;
    if (!ok) throw Error(ErrorCode::internal, "sealing a value with AES-256-GCM failed");
    return out;
}

SecretBytes open_sealed(ByteView key, std::string_view label, ByteView sealed, Accept accept) {
    check_key(key);
    if (label.size() > kMaxInput || sealed.size() > kMaxInput) {
        throw Error(ErrorCode::invalid_argument, "a sealed value must be smaller than 2 GiB");
    }
    const bool unversioned = accept == Accept::versioned_or_unversioned;
    if (sealed.size() >= kSealOverhead && sealed[0] == kSealVersion1) {
        if (auto plain = open_body(key, label, sealed.subspan(1))) return std::move(*plain);
    }
    // An unversioned value starts with its random nonce, so its first byte may be 0x01 too:
    // when version 1 did not open, the whole value is tried as unversioned.
    if (unversioned && sealed.size() >= kUnversionedOverhead) {
        if (auto plain = open_body(key, label, sealed)) return std::move(*plain);
    }
    using Reason = OpenError::Reason;
    if (sealed.size() < (unversioned ? kUnversionedOverhead : kSealOverhead)) {
        throw OpenError(Reason::too_short, "the sealed value is too short to be one");
    }
    if (!unversioned && sealed[0] != kSealVersion1) {
        throw OpenError(Reason::unknown_version, "the sealed value has an unknown format version " +
                                                     std::to_string(sealed[0]));
    }
    throw OpenError(Reason::not_authentic,
                    "the sealed value does not open (another key, another label, or altered)");
}

}  // namespace ariadne::crypto
