#include "ariadne/core/server_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

[[noreturn]] void openssl_failure(const char* what) {
    throw GatewayError(GatewayErrorCode::internal, std::string("Sealing failed: ") + what + ".");
}

}  // namespace

ServerKey::ServerKey(crypto::SecretBytes key) : key_(std::move(key)) {
    if (key_.size() != kKeyBytes) openssl_failure("the server key must be 32 bytes");
}

ServerKey ServerKey::load_or_create(const std::filesystem::path& data_dir) {
    auto path = data_dir / "server.key";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        crypto::Bytes fresh = crypto::random_bytes(kKeyBytes);
        bool ok = ::write(fd, fresh.data(), fresh.size()) == static_cast<ssize_t>(fresh.size()) &&
                  ::fsync(fd) == 0;
        ::close(fd);
        if (!ok) {
            ::unlink(path.c_str());
            throw GatewayError(GatewayErrorCode::io,
                               "The server key " + path.string() + " could not be written.");
        }
        return ServerKey(crypto::SecretBytes(std::move(fresh)));
    }
    if (errno != EEXIST) {
        throw GatewayError(GatewayErrorCode::io,
                           "The server key " + path.string() + " could not be created.");
    }
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw GatewayError(GatewayErrorCode::io,
                           "The server key " + path.string() + " cannot be read.");
    }
    crypto::SecretBytes key(kKeyBytes + 1);
    ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(kKeyBytes)) {
        throw GatewayError(GatewayErrorCode::io,
                           "The server key " + path.string() + " is not 32 bytes long.");
    }
    return ServerKey(crypto::SecretBytes(crypto::Bytes(key.data(), key.data() + kKeyBytes)));
}

crypto::Bytes ServerKey::mac(std::string_view context, crypto::ByteView data) const {
    // Per-context key: HMAC(server key, "ariadne.mac.v1:" || context).
    std::string label = "ariadne.mac.v1:" + std::string(context);
    unsigned char derived[32];
    unsigned char out[32];
    std::size_t n = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_.data(), key_.size(),
                   reinterpret_cast<const unsigned char*>(label.data()), label.size(), derived,
                   sizeof derived, &n) ||
        !EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, derived, sizeof derived,
                   data.data(), data.size(), out, sizeof out, &n)) {
        openssl_failure("HMAC");
    }
    return crypto::Bytes(out, out + sizeof out);
}

crypto::Bytes ServerKey::seal(std::string_view context, crypto::ByteView plaintext) const {
    crypto::Bytes out = crypto::random_bytes(kNonceBytes);
    out.resize(kNonceBytes + plaintext.size() + kTagBytes);
    Ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(context.data()),
                          static_cast<int>(context.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                            out.data() + kNonceBytes + plaintext.size()) != 1) {
        openssl_failure("AES-GCM encryption failed");
    }
    return out;
}

crypto::SecretBytes ServerKey::open(std::string_view context, crypto::ByteView sealed) const {
    if (sealed.size() < kNonceBytes + kTagBytes) openssl_failure("the sealed value is too short");
    std::size_t n = sealed.size() - kNonceBytes - kTagBytes;
    crypto::SecretBytes out(n);
    Ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    crypto::Bytes tag(sealed.end() - kTagBytes, sealed.end());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), sealed.data()) !=
            1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(context.data()),
                          static_cast<int>(context.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kNonceBytes,
                          static_cast<int>(n)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
        openssl_failure("the sealed value does not open (tampered, moved or another key)");
    }
    return out;
}

}  // namespace ariadne::gateway
