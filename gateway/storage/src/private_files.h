// Files for backup and restore: created 0600 (directories 0700), written durably (fsync of the
// file, then of its directory), hashed with SHA-256. Every failure throws storage::Error with
// a sentence naming the path.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace ariadne::storage::detail {

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

/// strerror(errno), for messages.
std::string errno_text();

/// An empty file created 0600 and opened for writing; fails if it exists.
File create_private(const std::filesystem::path& path);
File open_read(const std::filesystem::path& path);
/// Flushes, fsyncs and closes `f`.
void close_durably(File f, const std::filesystem::path& path);
/// Best effort: makes the directory's entries (renames, new files) durable.
void fsync_dir(const std::filesystem::path& dir);
/// mkdir 0700; an existing directory is fine.
void make_private_dir(const std::filesystem::path& dir);
/// Copies `from` to a new 0600 file `to`, durably.
void copy_private(const std::filesystem::path& from, const std::filesystem::path& to);

/// A 0700 directory (mkdtemp in `parent`) removed with its content when this object dies.
class StagingDir {
  public:
    StagingDir(const std::filesystem::path& parent, const std::string& prefix);
    ~StagingDir();
    StagingDir(const StagingDir&) = delete;
    StagingDir& operator=(const StagingDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, std::size_t n);
    /// The digest in lower-case hex (once).
    std::string hex();

  private:
    EVP_MD_CTX* ctx_;
};

}  // namespace ariadne::storage::detail
