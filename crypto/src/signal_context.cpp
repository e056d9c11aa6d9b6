// OpenSSL 3 crypto provider for libsignal-protocol-c. Only non-deprecated EVP interfaces.
#include "ariadne/crypto/signal_context.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <signal_protocol.h>

#include <climits>
#include <memory>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {
namespace {

struct MacDeleter {
    void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
};

// Fetched once: fetching is a provider lookup, too slow for every HMAC libsignal computes.
EVP_MAC* hmac_algorithm() {
    static const std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    return mac.get();
}

int random_bytes_cb(uint8_t* data, size_t len, void*) {
    if (len > static_cast<size_t>(INT_MAX)) return SG_ERR_INVAL;
    return RAND_bytes(data, static_cast<int>(len)) == 1 ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int hmac_init_cb(void** hmac_context, const uint8_t* key, size_t key_len, void*) {
    EVP_MAC* mac = hmac_algorithm();
    if (mac == nullptr) return SG_ERR_UNKNOWN;
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    if (ctx == nullptr) return SG_ERR_NOMEM;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // A non-null key pointer even for an empty key: OpenSSL treats null as "keep old key".
    static const uint8_t empty_key = 0;
    if (EVP_MAC_init(ctx, key_len > 0 ? key : &empty_key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *hmac_context = ctx;
    return SG_SUCCESS;
}

int hmac_update_cb(void* hmac_context, const uint8_t* data, size_t len, void*) {
    return EVP_MAC_update(static_cast<EVP_MAC_CTX*>(hmac_context), data, len) == 1 ? SG_SUCCESS
                                                                                   : SG_ERR_UNKNOWN;
}

int hmac_final_cb(void* hmac_context, signal_buffer** output, void*) {
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;
    if (EVP_MAC_final(static_cast<EVP_MAC_CTX*>(hmac_context), md, &md_len, sizeof md) != 1) {
        return SG_ERR_UNKNOWN;
    }
    signal_buffer* buffer = signal_buffer_create(md, md_len);
    if (buffer == nullptr) return SG_ERR_NOMEM;
    *output = buffer;
    return SG_SUCCESS;
}

void hmac_cleanup_cb(void* hmac_context, void*) {
    EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(hmac_context));
}

int sha512_init_cb(void** digest_context, void*) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return SG_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *digest_context = ctx;
    return SG_SUCCESS;
}

int sha512_update_cb(void* digest_context, const uint8_t* data, size_t len, void*) {
    return EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(digest_context), data, len) == 1
               ? SG_SUCCESS
               : SG_ERR_UNKNOWN;
}

int sha512_final_cb(void* digest_context, signal_buffer** output, void*) {
    auto* ctx = static_cast<EVP_MD_CTX*>(digest_context);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1) return SG_ERR_UNKNOWN;
    // libsignal reuses the context after final: start a fresh digest.
    if (EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) != 1) return SG_ERR_UNKNOWN;
    signal_buffer* buffer = signal_buffer_create(md, md_len);
    if (buffer == nullptr) return SG_ERR_NOMEM;
    *output = buffer;
    return SG_SUCCESS;
}

void sha512_cleanup_cb(void* digest_context, void*) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(digest_context));
}

const EVP_CIPHER* select_cipher(int cipher, size_t key_len) {
    if (cipher == SG_CIPHER_AES_CBC_PKCS5) {
        switch (key_len) {
            case 16:
                return EVP_aes_128_cbc();
            case 24:
                return EVP_aes_192_cbc();
            case 32:
                return EVP_aes_256_cbc();
            default:
                return nullptr;
        }
    }
    if (cipher == SG_CIPHER_AES_CTR_NOPADDING) {
        switch (key_len) {
            case 16:
                return EVP_aes_128_ctr();
            case 24:
                return EVP_aes_192_ctr();
            case 32:
                return EVP_aes_256_ctr();
            default:
                return nullptr;
        }
    }
    return nullptr;
}

struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};

int aes_cb(bool encrypt, signal_buffer** output, int cipher, const uint8_t* key, size_t key_len,
           const uint8_t* iv, size_t iv_len, const uint8_t* input, size_t input_len) {
    const EVP_CIPHER* algorithm = select_cipher(cipher, key_len);
    if (algorithm == nullptr || iv_len != 16 || input_len > static_cast<size_t>(INT_MAX) - 32) {
        return SG_ERR_INVAL;
    }
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return SG_ERR_NOMEM;
    if (EVP_CipherInit_ex2(ctx.get(), algorithm, key, iv, encrypt ? 1 : 0, nullptr) != 1) {
        return SG_ERR_UNKNOWN;
    }
    EVP_CIPHER_CTX_set_padding(ctx.get(), cipher == SG_CIPHER_AES_CBC_PKCS5 ? 1 : 0);
    signal_buffer* buffer = signal_buffer_alloc(input_len + 16);
    if (buffer == nullptr) return SG_ERR_NOMEM;
    uint8_t* out = signal_buffer_data(buffer);
    int written = 0;
    int final_written = 0;
    if (EVP_CipherUpdate(ctx.get(), out, &written, input, static_cast<int>(input_len)) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), out + written, &final_written) != 1) {
        signal_buffer_bzero_free(buffer);
        return SG_ERR_UNKNOWN;  // wrong key or bad PKCS#7 padding on decrypt
    }
    signal_buffer* exact = signal_buffer_create(out, static_cast<size_t>(written + final_written));
    signal_buffer_bzero_free(buffer);
    if (exact == nullptr) return SG_ERR_NOMEM;
    *output = exact;
    return SG_SUCCESS;
}

int encrypt_cb(signal_buffer** output, int cipher, const uint8_t* key, size_t key_len,
               const uint8_t* iv, size_t iv_len, const uint8_t* plaintext, size_t plaintext_len,
               void*) {
    return aes_cb(true, output, cipher, key, key_len, iv, iv_len, plaintext, plaintext_len);
}

int decrypt_cb(signal_buffer** output, int cipher, const uint8_t* key, size_t key_len,
               const uint8_t* iv, size_t iv_len, const uint8_t* ciphertext, size_t ciphertext_len,
               void*) {
    return aes_cb(false, output, cipher, key, key_len, iv, iv_len, ciphertext, ciphertext_len);
}

}  // namespace

void SignalContext::lock_callback(void* self) { static_cast<SignalContext*>(self)->mutex_.lock(); }
void SignalContext::unlock_callback(void* self) {
    static_cast<SignalContext*>(self)->mutex_.unlock();
}

SignalContext::SignalContext() {
    if (hmac_algorithm() == nullptr) {
        throw Error(ErrorCode::internal, "OpenSSL provides no HMAC implementation");
    }
    if (signal_context_create(&context_, this) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create its context");
    }
    signal_crypto_provider provider{};
    provider.random_func = random_bytes_cb;
    provider.hmac_sha256_init_func = hmac_init_cb;
    provider.hmac_sha256_update_func = hmac_update_cb;
    provider.hmac_sha256_final_func = hmac_final_cb;
    provider.hmac_sha256_cleanup_func = hmac_cleanup_cb;
    provider.sha512_digest_init_func = sha512_init_cb;
    provider.sha512_digest_update_func = sha512_update_cb;
    provider.sha512_digest_final_func = sha512_final_cb;
    provider.sha512_digest_cleanup_func = sha512_cleanup_cb;
    provider.encrypt_func = encrypt_cb;
    provider.decrypt_func = decrypt_cb;
    provider.user_data = nullptr;
    if (signal_context_set_crypto_provider(context_, &provider) != 0 ||
        signal_context_set_locking_functions(context_, lock_callback, unlock_callback) != 0) {
        signal_context_destroy(context_);
        throw Error(ErrorCode::internal, "libsignal refused the crypto provider");
    }
}

SignalContext::~SignalContext() { signal_context_destroy(context_); }

}  // namespace ariadne::crypto
