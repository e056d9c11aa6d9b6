#include "ariadne/crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

namespace {
struct KdfDeleter {
    void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
    void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
};

// OSSL_PARAM takes non-const pointers even for inputs it only reads.
void* param_data(ByteView b) noexcept { return const_cast<std::uint8_t*>(b.data()); }
}  // namespace

SecretBytes hkdf_sha256(ByteView input_key_material, ByteView salt, ByteView info,
                        std::size_t length) {
    if (input_key_material.empty()) {
        throw Error(ErrorCode::invalid_argument, "HKDF needs non-empty input key material");
    }
    if (length == 0 || length > kHkdfSha256MaxLength) {
        throw Error(ErrorCode::invalid_argument,
                    "HKDF-SHA256 output length must be between 1 and 8160 bytes");
    }
    std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
    if (!kdf) throw Error(ErrorCode::internal, "OpenSSL has no HKDF implementation");
    std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx) throw Error(ErrorCode::internal, "could not allocate an HKDF context");

    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, param_data(input_key_material), input_key_material.size());
    // An absent salt and an empty salt are the same in RFC 5869; OpenSSL wants it absent.
    if (!salt.empty()) {
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_data(salt), salt.size());
    }
    if (!info.empty()) {
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_data(info), info.size());
    }
    params[n] = OSSL_PARAM_construct_end();

    SecretBytes out(length);
    if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
        throw Error(ErrorCode::internal, "HKDF-SHA256 derivation failed in OpenSSL");
    }
    return out;
}

}  // namespace ariadne::crypto
