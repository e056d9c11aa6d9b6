// EdgeFiles: where the gateway keeps what its edge devices hold, under its data directory.
//
//   <data>/edge/            0700
//     history.db            storage::EdgeHistory (sealed history, pending replies, accounts)
//     <tag>.db              one crypto::Party store per edge device: a client-side sealed
//                           store (crypto/store.h) the gateway holds for her edge device,
//                           named by the keyed tag of her account (32 lowercase hex digits)
//
// The edge hub places and opens its files through this class, so their layout is stated once.
// Thread safety: an EdgeFiles is an immutable value (safe to share); the file system is not
// locked. Errors: storage::Error(other) when the directory cannot be created or listed;
// std::invalid_argument for a malformed tag.
#pragma once

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

    /// Whether `tag` has the form of an edge device's tag (32 lowercase hex digits).
    static bool is_tag(std::string_view tag) noexcept;

  private:
    std::filesystem::path dir_;
};

}  // namespace ariadne::storage
