// EdgeHistory: what the gateway's edge devices keep, in its own database
// `<data>/edge/history.db` (WAL, synchronous=FULL, secure_delete): each survivor's
// conversation as the web page shows it (`edge_history`), replies decrypted but not yet
// settled (`edge_pending`), replies kept for her page she has not been shown yet
// (`edge_unread`) and the accounts with an edge device (`edge_accounts`).
//
// It stores opaque sealed blobs under keyed tags only: the edge hub seals every row with
// the server key and derives the tag from her account id before calling it, so nothing
// here is readable without the server key.
//
// Thread safety: safe from any thread (an internal mutex serialises calls).
// Errors: storage::Error when the file cannot be opened or a row cannot be read or written;
// a failed call changes nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

/// One history row: when, and the sealed line.
struct EdgeHistoryRow {
    std::int64_t at_ms = 0;  // Unix ms
    std::vector<std::uint8_t> sealed;
};

class EdgeHistory {
  public:
    /// Opens or creates (0600) the file at `path` and its tables. Throws storage::Error.
    explicit EdgeHistory(const std::filesystem::path& path);
    /// Checkpoints the WAL into the file, so no -wal file outlives the hub.
    ~EdgeHistory();
    EdgeHistory(const EdgeHistory&) = delete;
    EdgeHistory& operator=(const EdgeHistory&) = delete;

    /// Appends a row for `tag` and keeps only its newest `limit` rows.
    void append(const std::string& tag, std::int64_t at_ms, const std::vector<std::uint8_t>& sealed,
                std::size_t limit);
    /// A reply as it is decrypted: its history row and its pending copy (by mailbox entry
    /// `server_id`) in one transaction, so a crash leaves both or neither.
    void append_with_pending(const std::string& tag, std::int64_t at_ms,
                             const std::vector<std::uint8_t>& sealed_row, std::int64_t server_id,
                             const std::vector<std::uint8_t>& sealed_pending, std::size_t limit);
    /// The rows of `tag`, oldest first.
    std::vector<EdgeHistoryRow> rows(const std::string& tag);

    /// The pending copy of reply `server_id`, if one is kept.
    std::optional<std::vector<std::uint8_t>> pending(const std::string& tag,
                                                     std::int64_t server_id);
    /// Forgets it (nothing if there is none).
    void forget_pending(const std::string& tag, std::int64_t server_id);

    /// Notes reply `server_id` (its history row at `at_ms`) as kept for her page and not yet
    /// shown to her; a second call changes nothing.
    void add_unread(const std::string& tag, std::int64_t server_id, std::int64_t at_ms);
    /// The unread replies of `tag` whose history row is at or after `from_ms`, oldest first.
    std::vector<std::int64_t> unread_since(const std::string& tag, std::int64_t from_ms);
    /// Forgets one (nothing if there is none).
    void forget_unread(const std::string& tag, std::int64_t server_id);

    /// Remembers an account with an edge device (its sealed id); a known tag is kept as is.
    void remember_account(const std::string& tag, const std::vector<std::uint8_t>& sealed);
    /// The sealed ids of every remembered account.
    std::vector<std::vector<std::uint8_t>> accounts();

  private:
    void append_locked(const std::string& tag, std::int64_t at_ms,
                       const std::vector<std::uint8_t>& sealed, std::size_t limit);

    std::mutex mutex_;
    Connection db_;
};

}  // namespace ariadne::storage
