// The exclusive lock of a data directory: `<data dir>/ariadne.lock`, held with flock(2) by
// `ariadne serve` for its whole life and by `ariadne admin restore` while it replaces the
// databases, so a restore never swaps files under a running gateway and a gateway never
// starts on a half-restored directory. The kernel drops the lock when its holder exits, even
// after a crash, so a stale lock file never blocks anyone.
//
// Thread safety: a DataDirLock is an owned file descriptor; move it, do not share it.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace ariadne::storage {

class DataDirLock {
  public:
    /// Takes the lock of `data_dir` (which must exist) without waiting, creating the lock
    /// file 0600 if missing, and writes this process's pid into it. Throws Error(busy)
    /// naming the holder's pid (when it wrote one) if another process holds it, Error(other)
    /// if the file cannot be created or locked.
    static DataDirLock acquire(const std::filesystem::path& data_dir);

    /// The path of the lock file of `data_dir`.
    static std::filesystem::path file(const std::filesystem::path& data_dir);

    /// Releases the lock (closing the descriptor; the file stays).
    ~DataDirLock();
    DataDirLock(DataDirLock&& other) noexcept;
    DataDirLock& operator=(DataDirLock&&) = delete;
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

  private:
    explicit DataDirLock(int fd) noexcept : fd_(fd) {}
    int fd_;
};

}  // namespace ariadne::storage
