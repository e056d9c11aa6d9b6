// EdgeHistory: what the gateway's edge devices keep. On SQLite, in its own database
// `<data>/edge/history.db` (WAL, synchronous=FULL, secure_delete); on PostgreSQL, in the
// deployment's database (main migration 5), shared by every node. Each survivor's
// conversation as the web page shows it (`edge_history`), replies decrypted but not yet
// settled (`edge_pending`), replies kept for her page she has not been shown yet
// (`edge_unread`) and the accounts with an edge device (`edge_accounts`). Shared only: each
// edge device's Signal store image with its version (`edge_stores`), changed under the
// device's advisory lock, and which node receives its replies until when (`edge_receivers`).
//
// It stores opaque sealed blobs under keyed tags only: the edge hub seals every row with
// the server key and derives the tag from her account id before calling it, so nothing
// here is readable without the server key.
//
// Thread safety: safe from any thread (an internal recursive mutex serialises calls; inside
// with_device the calling thread keeps it, so calls from other threads wait for the device's
// work to end). Errors: storage::Error when the database cannot be opened or a row cannot be
// read or written; a failed call changes nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
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

/// An edge device's Signal store as the shared database holds it.
struct EdgeStoreImage {
    std::int64_t version = 0;  // 1 for the first image, one more at each change
    std::vector<std::uint8_t> image;
};

class EdgeHistory {
  public:
    /// `path` a file: opens or creates (0600) it and its tables. `path` a PostgreSQL URI
    /// (is_postgres_uri): connects to the deployment's database, whose migrations (run by
    /// the Store) made the tables. Throws storage::Error.
    explicit EdgeHistory(const std::filesystem::path& path);
    /// Checkpoints the WAL into the file, so no -wal file outlives the hub.
    ~EdgeHistory();
    /// True on PostgreSQL: several nodes share these rows and the store images.
    bool shared() const noexcept { return db_.is_postgres(); }
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

    // -- shared only (PostgreSQL) ---------------------------------------------------------
    /// Runs `work` in one transaction holding device `tag`'s advisory lock, which every node
    /// takes before it loads, uses or changes the device's store: two nodes never work on one
    /// device at once. Calls of this object inside `work` (same thread) join the transaction.
    /// If `work` throws, nothing of it stays and the exception propagates; throws
    /// storage::Error if the lock cannot be taken or the commit fails (nothing stays either;
    /// a commit whose answer was lost may have stayed: reload before trusting a local copy).
    /// On SQLite: runs `work` under the mutex, without a transaction.
    void with_device(const std::string& tag, const std::function<void()>& work);
    /// Inside with_device: the version of the stored image (0: none stored yet).
    std::int64_t store_version(const std::string& tag);
    /// Inside with_device: the stored image, if one is stored.
    std::optional<EdgeStoreImage> load_store(const std::string& tag);
    /// Inside with_device: stores `image` as version `expected` + 1, if the stored version is
    /// still `expected` (0: none stored). Throws storage::Error(constraint) otherwise.
    void save_store(const std::string& tag, std::int64_t expected,
                    const std::vector<std::uint8_t>& image);

    /// Makes `node` the receiver of device `tag` (account key `account_key`) until `until_ms`,
    /// unless another node's receivership lasts past `now_ms`. Returns whether `node` is the
    /// receiver now.
    bool claim_receiver(const std::string& tag, std::int64_t account_key, const std::string& node,
                        std::int64_t now_ms, std::int64_t until_ms);
    /// Whether `node` is the receiver of device `tag` (lapsed or not: until another node
    /// claims it, it still is).
    bool is_receiver(const std::string& tag, const std::string& node);
    /// Extends every receivership of `node` to `until_ms`.
    void renew_receivers(const std::string& node, std::int64_t until_ms);
    /// The account ids whose edge device (device id `device`) has mail waiting and whose
    /// receiver lapsed before `now_ms` (its node stopped renewing: it died).
    std::vector<std::string> lapsed_with_mail(std::int64_t now_ms, std::uint32_t device);
    /// The sealed ids of the remembered accounts with no receiver at `now_ms`.
    std::vector<std::vector<std::uint8_t>> accounts_without_receiver(std::int64_t now_ms);

  private:
    void append_locked(const std::string& tag, std::int64_t at_ms,
                       const std::vector<std::uint8_t>& sealed, std::size_t limit);

    std::recursive_mutex mutex_;
    Connection db_;
};

}  // namespace ariadne::storage
