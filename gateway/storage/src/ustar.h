// A minimal POSIX ustar writer and reader for backup files: regular files only, names under
// 100 bytes, sizes in octal (or GNU base-256 above 8 GiB). Every header's checksum is
// checked on read. Errors throw storage::Error with a sentence.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace ariadne::storage::ustar {

/// Appends members to an open file.
class Writer {
  public:
    explicit Writer(std::FILE* out) : out_(out) {}
    /// One regular file `name` (mode 0600) with `size` bytes copied from `in`.
    void add(const std::string& name, std::uint64_t size, std::FILE* in, std::int64_t mtime);
    void add(const std::string& name, const std::string& content, std::int64_t mtime);
    /// The two zero blocks that end an archive.
    void finish();

  private:
    void header(const std::string& name, std::uint64_t size, std::int64_t mtime);
    void pad(std::uint64_t size);
    std::FILE* out_;
};

struct Entry {
    std::string name;
    std::uint64_t size = 0;
};

/// Reads members in order from an open file.
class Reader {
  public:
    explicit Reader(std::FILE* in) : in_(in) {}
    /// The next member's header, or nullopt at the end of the archive. Throws Error for a
    /// damaged header (bad checksum, not ustar), a member that is not a regular file, or a
    /// file that ends early. The member's data must be consumed before calling next again.
    std::optional<Entry> next();
    /// Reads up to `n` bytes of the current member's data; returns how many (0 at its end).
    std::size_t read(void* buf, std::size_t n);

  private:
    std::FILE* in_;
    std::uint64_t remaining_ = 0;
    std::uint64_t padding_ = 0;
};

}  // namespace ariadne::storage::ustar
