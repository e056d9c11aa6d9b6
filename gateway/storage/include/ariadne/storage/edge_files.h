// EdgeFiles: where the gateway keeps what its edge devices hold, under its data directory.
//
//   <data>/edge/            0700
//     history.db            storage::EdgeHistory (sealed history, pending replies, accounts)
//     <tag>.db              one crypto::Party store per edge device: a client-side sealed
//                           store (crypto/store.h) the gateway holds for her edge device,
//                           named by the keyed tag of her account (32 lowercase hex digits)
//     work/                 0700, on a shared (PostgreSQL) database only: this node's working
//       <tag>-<n>.db        copies of edge stores whose real copy is in the database
//                           (EdgeHistory::load_store); emptied when the hub starts
//
// The edge hub places and opens its files through this class, so their layout is stated once.
// Thread safety: an EdgeFiles is an immutable value (safe to share); the file system is not
// locked. Errors: storage::Error(other) when a directory cannot be created, listed or emptied or a
// working copy cannot be written;
// std::invalid_argument for a malformed tag.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace ariadne::storage {

class EdgeFiles {
  public:
    explicit EdgeFiles(const std::filesystem::path& data_dir) : dir_(data_dir / "edge") {}

    /// `<data>/edge`.
    const std::filesystem::path& directory() const noexcept { return dir_; }
    /// Creates the directory if needed and makes it 0700 (owner only).
    void create_directory() const;
    /// `<data>/edge/history.db`.
    std::filesystem::path history() const { return dir_ / "history.db"; }
    /// `<data>/edge/<tag>.db`, the identity store of one edge device.
    std::filesystem::path identity_store(std::string_view tag) const;
    /// Every identity store present (not their -wal/-shm companions), sorted; empty when
    /// the directory does not exist.
    std::vector<std::filesystem::path> identity_stores() const;

    /// `<data>/edge/work/<tag>-<n>.db`: working copy `n` of an edge store.
    std::filesystem::path working_copy(std::string_view tag, std::uint64_t n) const;
    /// Removes `<data>/edge/work/` with what it holds and creates it again (0700).
    void reset_working_directory() const;
    /// Writes `image` (0600) as the file at `path`, replacing it and its -wal, -shm and
    /// -journal companions.
    static void write_working_copy(const std::filesystem::path& path,
                                   const std::vector<std::uint8_t>& image);
    /// Removes the file at `path` and its companions (nothing if absent; never throws).
    static void remove_working_copy(const std::filesystem::path& path) noexcept;

    /// Whether `tag` has the form of an edge device's tag (32 lowercase hex digits).
    static bool is_tag(std::string_view tag) noexcept;

  private:
    std::filesystem::path dir_;
};

}  // namespace ariadne::storage
