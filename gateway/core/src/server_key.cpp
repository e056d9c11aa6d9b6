// The gateway's server key: loading or creating its file, and sealing, opening and keyed MACs
// under it (sealing itself is crypto/aead.h).
#include "ariadne/core/server_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "ariadne/crypto/aead.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/hmac.h"
#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

namespace {

constexpr std::size_t kKeyBytes = crypto::kSealKeyBytes;

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
    try {
        crypto::Bytes derived = crypto::hmac_sha256(
            key_.view(), crypto::as_bytes("ariadne.mac.v1:" + std::string(context)));
        crypto::Bytes out = crypto::hmac_sha256(derived, data);
        crypto::wipe(derived.data(), derived.size());
        return out;
    } catch (const crypto::Error&) {
        openssl_failure("HMAC");
    }
}

crypto::Bytes ServerKey::seal(std::string_view context, crypto::ByteView plaintext) const {
    try {
        return crypto::seal(key_.view(), context, plaintext);
    } catch (const crypto::Error&) {
        openssl_failure("AES-GCM encryption failed");
    }
}

crypto::SecretBytes ServerKey::open(std::string_view context, crypto::ByteView sealed) const {
    try {
        // Values sealed before the versioned format (TOTP secrets, addresses, handover notes,
        // edge files of earlier releases) are unversioned and must keep opening.
        return crypto::open_sealed(key_.view(), context, sealed,
                                   crypto::Accept::versioned_or_unversioned);
    } catch (const crypto::OpenError& e) {
        if (e.reason() == crypto::OpenError::Reason::too_short) {
            openssl_failure("the sealed value is too short");
        }
        openssl_failure("the sealed value does not open (tampered, moved or another key)");
    } catch (const crypto::Error&) {
        openssl_failure("AES-GCM decryption failed");
    }
}

}  // namespace ariadne::gateway
