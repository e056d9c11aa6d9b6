#include "ariadne/storage/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

std::filesystem::path DataDirLock::file(const std::filesystem::path& data_dir) {
    return data_dir / "ariadne.lock";
}

DataDirLock DataDirLock::acquire(const std::filesystem::path& data_dir) {
    const auto path = file(data_dir);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(
            ErrorKind::other, 0,
            "The lock file " + path.string() + " cannot be opened: " + std::strerror(errno) + ".");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        // The holder wrote its pid right after locking; it may not have yet.
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        if (err == EWOULDBLOCK) {
            throw Error(ErrorKind::busy, 0,
                        "Another ariadne process" + (pid.empty() ? "" : " (pid " + pid + ")") +
                            " holds " + path.string() +
                            ": a gateway serves this data directory or a restore is running.");
        }
        throw Error(
            ErrorKind::other, 0,
            "The lock file " + path.string() + " cannot be locked: " + std::strerror(err) + ".");
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    // Best effort: the pid only makes the refusal message more useful.
    if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

}  // namespace ariadne::storage
