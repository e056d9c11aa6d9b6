// The gateway database's one writer and its pool of readers, shared by the repositories
// (accounts.h, key_directory.h, mailbox.h).
//
// Writes go through ONE writer thread that group-commits: jobs queue up and a batch closes
// after `max_batch` messages or `max_delay` since its first job, then commits in one
// transaction (each job inside its own savepoint, so one bad job does not fail the others).
// A job's completion runs on the writer thread after the batch committed (or failed), so a
// caller acknowledges only what is durable. Completions must be quick and must not call
// blocking methods (flush, run_sync and what uses it).
// Reads use a small pool of read-only connections and may run on any thread.
//
// Thread safety: every public method may be called from any thread. Errors: storage::Error
// (sqlite.h) when the file cannot be opened or set up and when a read fails; write failures
// reach completions as CommitStatus::failed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ariadne/protocol/metrics.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

enum class CommitStatus {
    committed,  // durable
    rejected,   // the job refused itself (e.g. replayed TOTP step); nothing of it was stored
    failed,     // the batch could not commit (disk full, read-only...); nothing was stored
};

template <class T>
using Completion = std::function<void(CommitStatus, T)>;

/// Thrown by a job's `apply` to refuse itself: its savepoint is rolled back, the batch goes
/// on and the job completes as CommitStatus::rejected.
struct JobRejected {};

struct DatabaseOptions {
    std::filesystem::path path;
    bool synchronous_full = true;  // false: synchronous=NORMAL (see docs/architecture.md)
    std::size_t max_batch = 256;   // messages per group commit
    std::chrono::microseconds max_delay{2000};
    std::chrono::seconds maintenance_interval{60};
    std::size_t read_connections = 4;
    gateway::Metrics* metrics = nullptr;  // optional, must outlive the database
};

class Database {
  public:
    /// One write. `apply` runs on the writer inside its own savepoint: it throws JobRejected,
    /// or storage::Error without an SQLite code (a refusal of its own: not_found, constraint),
    /// to refuse itself; any other exception fails it. `done` runs after the batch ended.
    struct Job {
        std::function<void(Connection&)> apply;  // empty: a marker (flush)
        std::function<void(CommitStatus)> done;
        std::size_t weight = 1;  // messages it stores, counted against max_batch
        bool is_send = false;    // its latency is observed as send_commit_latency_seconds
        std::chrono::steady_clock::time_point queued;
        CommitStatus status = CommitStatus::committed;
    };

    /// Opens (creating if needed, file mode 0600) the database and runs `setup` on the writer
    /// connection (the schema). Throws storage::Error if the file cannot be opened, or what
    /// `setup` throws. Writes wait for start().
    Database(DatabaseOptions options, const std::function<void(Connection&)>& setup);
    /// Runs `f` on the writer connection, only before start(): a repository loads what it
    /// keeps in memory (the queued-bytes counts). Throws what `f` throws.
    void prepare(const std::function<void(Connection&)>& f);
    /// Starts the writer thread, once, after the repositories are prepared. `tick` runs on
    /// the writer every maintenance_interval when idle (outside any transaction), followed
    /// by wal_checkpoint(TRUNCATE); its exceptions count as failed writes.
    void start(std::function<void(Connection&)> tick);
    /// Commits everything queued, stops the writer and checkpoints the WAL. Call it before
    /// destroying what completions use; afterwards only destruction may follow.
    void close();
    /// close(), then closes the connections.
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// Queues a write for the next group commit.
    void submit(std::shared_ptr<Job> job);
    /// Runs `apply` as one job and waits for its commit; rethrows what `apply` threw, or
    /// throws storage::Error(other) if the batch could not commit. Not from a completion.
    void run_sync(std::function<void(Connection&)> apply);
    /// Blocks until every job submitted before the call has committed (or failed).
    void flush();

    /// Runs `f(Connection&)` on a read connection (this thread's ReadScope if one is open,
    /// else one from the pool) and returns its result. Throws what `f` throws, or
    /// storage::Error if no read connection can be opened.
    template <class F>
    auto read(F&& f) const {
        Reader reader(*this);
        return f(reader.connection());
    }

    /// While it lives, every read this thread makes through `database` runs on one pooled
    /// connection inside one read transaction (one snapshot): a send's lookups (account,
    /// assignment, devices, case) cost one lock round on the WAL instead of one each. Keep
    /// it short (it holds a read connection and pins the WAL against checkpoints), and never
    /// wait inside it for another connection's write (a checkpoint holding the write lock
    /// waits for this reader). A scope opened inside another one of the same database joins
    /// it. If the transaction cannot be begun, reads go to the pool one by one as without
    /// a scope.
    class ReadScope {
      public:
        explicit ReadScope(const Database& database);
        ~ReadScope();
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;

      private:
        const Database* database_ = nullptr;  // null: joined an outer scope, or not begun
        std::unique_ptr<Connection> conn_;
    };

    /// The database is PostgreSQL, possibly shared with other gateway nodes.
    bool is_postgres() const noexcept { return writer_->is_postgres(); }
    /// Number of group commits so far (tests check batching with it).
    std::uint64_t commit_count() const noexcept { return commits_.load(); }
    /// The metrics given in the options (may be null).
    gateway::Metrics* metrics() const noexcept { return options_.metrics; }

  private:
    /// A read connection for one read: the thread's scope's, or one lent by the pool.
    class Reader {
      public:
        explicit Reader(const Database& database);
        ~Reader();
        Reader(const Reader&) = delete;
        Reader& operator=(const Reader&) = delete;
        Connection& connection() noexcept { return *conn_; }

      private:
        const Database& database_;
        Connection* conn_ = nullptr;
        std::unique_ptr<Connection> lent_;
    };

    void writer_loop();
    void run_batch(std::vector<std::shared_ptr<Job>>& batch);
    void maintenance();
    std::unique_ptr<Connection> acquire_reader() const;
    void release_reader(std::unique_ptr<Connection> conn) const;  // null: it was dropped
    /// Logs the first failed write of an episode and the first success after it.
    void note_write_health(bool failed, const char* why);

    DatabaseOptions options_;
    std::function<void(Connection&)> tick_;
    std::unique_ptr<Connection> writer_;
    mutable std::mutex readers_mutex_;
    mutable std::vector<std::unique_ptr<Connection>> idle_readers_;
    mutable std::size_t readers_open_ = 0;
    mutable std::condition_variable readers_cv_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::size_t queued_weight_ = 0;   // sum of the weights in queue_
    std::size_t wake_at_weight_ = 0;  // submit() wakes the writer once queued_weight_ reaches it
    bool stopping_ = false;
    std::atomic<std::uint64_t> commits_{0};
    std::chrono::steady_clock::time_point next_maintenance_;
    bool writes_failing_ = false;  // writer thread only
    std::thread writer_thread_;
};

}  // namespace ariadne::storage
