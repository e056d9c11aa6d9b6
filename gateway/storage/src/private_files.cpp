#include "private_files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage::detail {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

/// An empty file created 0600, failing if it exists.
File create_private(const fs::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(ErrorKind::other, 0,
                    path.string() + " cannot be created: " + errno_text() + ".");
    }
    std::FILE* f = ::fdopen(fd, "wb");
    if (f == nullptr) {
        ::close(fd);
        throw Error(ErrorKind::other, 0,
                    path.string() + " cannot be opened: " + errno_text() + ".");
    }
    return File(f);
}

File open_read(const fs::path& path) {
    File f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        throw Error(ErrorKind::other, 0, path.string() + " cannot be read: " + errno_text() + ".");
    }
    return f;
}

/// Flushes, fsyncs and closes `f`.
void close_durably(File f, const fs::path& path) {
    bool ok = std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0;
    if (std::fclose(f.release()) != 0) ok = false;
    if (!ok) {
        throw Error(ErrorKind::full, 0,
                    path.string() + " cannot be written to disk: " + errno_text() + ".");
    }
}

void fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

void make_private_dir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ErrorKind::other, 0,
                    "The directory " + dir.string() + " cannot be created: " + errno_text() + ".");
    }
}

void copy_private(const fs::path& from, const fs::path& to) {
    File in = open_read(from);
    File out = create_private(to);
    std::array<char, 1 << 16> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), in.get())) {
        if (std::fwrite(buf.data(), 1, n, out.get()) != n) {
            throw Error(ErrorKind::full, 0, to.string() + " cannot be written: " + errno_text());
        }
    }
    close_durably(std::move(out), to);
}

StagingDir::StagingDir(const fs::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw Error(ErrorKind::other, 0,
                    "A temporary directory cannot be created in " + parent.string() + ": " +
                        errno_text() + ".");
    }
    path_ = pattern;
}

StagingDir::~StagingDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw Error(ErrorKind::other, 0, "SHA-256 is not available (OpenSSL).");
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx_, data, n) != 1) {
        throw Error(ErrorKind::other, 0, "SHA-256 failed (OpenSSL).");
    }
}

std::string Sha256::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &n) != 1) {
        throw Error(ErrorKind::other, 0, "SHA-256 failed (OpenSSL).");
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        out += digits[digest[i] >> 4];
        out += digits[digest[i] & 15];
    }
    return out;
}

}  // namespace ariadne::storage::detail
