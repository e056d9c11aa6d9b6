// HMAC-SHA256 through OpenSSL's one-shot MAC.
#include "ariadne/crypto/hmac.h"

#include <openssl/evp.h>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

Bytes hmac_sha256(ByteView key, ByteView data) {
    Bytes out(32);
    std::size_t out_len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                  data.size(), out.data(), out.size(), &out_len) == nullptr ||
        out_len != out.size()) {
        throw Error(ErrorCode::internal, "HMAC-SHA256 failed");
    }
    return out;
}

}  // namespace ariadne::crypto
