// StoreKey: where a store's secret comes from — a passphrase (checked Argon2id parameters), raw
// bytes, or a 0600 key file created and read without following links.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ariadne/crypto/store.h"
#include "sealed_store_detail.h"

namespace ariadne::crypto {

using detail::kMaxArgon2Iterations;
using detail::kMaxArgon2MemoryKib;
using detail::kMaxArgon2Parallelism;
using detail::kStoreKeyBytes;

StoreKey StoreKey::from_passphrase(std::string_view passphrase, Argon2Params params) {
    if (passphrase.empty()) {
        throw Error(ErrorCode::invalid_argument, "the store passphrase must not be empty");
    }
    if (params.iterations < 1 || params.memory_kib < 8 * 1024 || params.parallelism < 1 ||
        params.iterations > kMaxArgon2Iterations || params.memory_kib > kMaxArgon2MemoryKib ||
        params.parallelism > kMaxArgon2Parallelism) {
        throw Error(ErrorCode::invalid_argument,
                    "Argon2id parameters out of range (t 1..64, m 8 MiB..4 GiB, p 1..16)");
    }
    return StoreKey(SecretBytes(to_bytes(passphrase)), true, params);
}

StoreKey StoreKey::from_bytes(ByteView key) {
    if (key.size() != kStoreKeyBytes) {
        throw Error(ErrorCode::invalid_argument, "a store key must be exactly 32 bytes");
    }
    return StoreKey(SecretBytes(Bytes(key.begin(), key.end())), false, {});
}

StoreKey StoreKey::from_key_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " cannot be opened: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() +
                        " is accessible to other users; restrict it with chmod 600");
    }
    SecretBytes key(kStoreKeyBytes + 1);  // one extra byte detects an over-long file
    ssize_t got = 0;
    while (static_cast<std::size_t>(got) < key.size()) {
        ssize_t n = ::read(fd, key.data() + got, key.size() - static_cast<std::size_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += n;
    }
    ::close(fd);
    if (got != static_cast<ssize_t>(kStoreKeyBytes)) {
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " must hold exactly 32 bytes");
    }
    return from_bytes(ByteView(key.data(), kStoreKeyBytes));
}

void StoreKey::create_key_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        throw Error(ErrorCode::invalid_argument, "the key file " + path.string() +
                                                     " cannot be created: " + std::strerror(errno));
    }
    SecretBytes key(random_bytes(kStoreKeyBytes));
    bool ok =
        ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        std::filesystem::remove(path);
        throw Error(ErrorCode::invalid_argument,
                    "the key file " + path.string() + " could not be written");
    }
}

}  // namespace ariadne::crypto
