#include "ariadne/storage/database.h"

#include <future>
#include <limits>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace ariadne::storage {

namespace {

ConnectionOptions writer_options(const DatabaseOptions& o) {
    ConnectionOptions c;
    c.mode = OpenMode::create;
    c.synchronous_full = o.synchronous_full;
    return c;
}

ConnectionOptions reader_options(const DatabaseOptions& o) {
    ConnectionOptions c;
    c.mode = OpenMode::read_only;
    c.synchronous_full = o.synchronous_full;
    return c;
}

// The read scope open on this thread, if any (Database::ReadScope).
struct PinnedReader {
    const Database* database = nullptr;
    Connection* conn = nullptr;
};
thread_local PinnedReader pinned_reader;

}  // namespace

// ---- lifecycle ----

Database::Database(DatabaseOptions options, const std::function<void(Connection&)>& setup)
    : options_(std::move(options)) {
    writer_ = std::make_unique<Connection>(options_.path, writer_options(options_));
    setup(*writer_);
}

void Database::prepare(const std::function<void(Connection&)>& f) {
    if (writer_thread_.joinable()) throw std::logic_error("Database::prepare after start()");
    f(*writer_);
}

void Database::start(std::function<void(Connection&)> tick) {
    if (writer_thread_.joinable()) throw std::logic_error("Database::start called twice");
    tick_ = std::move(tick);
    // PostgreSQL: a job's SAVEPOINT and the previous job's RELEASE travel with the job's
    // first statement, one round trip instead of three.
    writer_->set_pipelined(true);
    next_maintenance_ = std::chrono::steady_clock::now() + options_.maintenance_interval;
    writer_thread_ = std::thread([this] { writer_loop(); });
}

void Database::close() {
    {
        std::lock_guard lock(queue_mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    try {
        if (!writer_->is_postgres()) writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (...) {
        // Best effort: the WAL is checkpointed again on next open.
    }
}

Database::~Database() { close(); }

void Database::note_write_health(bool failed, const char* why) {
    // Once per episode (a full disk fails every commit until space returns), never content.
    if (failed && !writes_failing_) {
        spdlog::error(
            "storage: writes are failing ({}); sends are refused with storage_unavailable until "
            "a write succeeds again",
            why);
    } else if (!failed && writes_failing_) {
        spdlog::warn("storage: writes succeed again");
    }
    writes_failing_ = failed;
}

// ---- writer ----

void Database::submit(std::shared_ptr<Job> job) {
    job->queued = std::chrono::steady_clock::now();
    bool wake;
    {
        std::lock_guard lock(queue_mutex_);
        queued_weight_ += job->weight;
        queue_.push_back(std::move(job));
        // Wake the writer only when it has something to do now: it waits for a first job,
        // or the batch it is collecting is full. Otherwise it wakes at its deadline and
        // takes what queued meanwhile; a wake-up per job cost two context switches per
        // message on a shared core.
        wake = queued_weight_ >= wake_at_weight_;
    }
    if (options_.metrics)
        options_.metrics->store_queue_depth.fetch_add(1, std::memory_order_relaxed);
    if (wake) queue_cv_.notify_one();
}

void Database::writer_loop() {
    std::vector<std::shared_ptr<Job>> batch;
    std::unique_lock lock(queue_mutex_);
    for (;;) {
        wake_at_weight_ = 0;  // idle: any job wakes the writer
        while (queue_.empty() && !stopping_) {
            if (queue_cv_.wait_until(lock, next_maintenance_) == std::cv_status::timeout &&
                queue_.empty()) {
                lock.unlock();
                maintenance();
                lock.lock();
            }
        }
        if (queue_.empty() && stopping_) break;

        // A batch closes max_batch messages or max_delay after its first job was queued
        // (jobs that piled up during the previous commit go out at once).
        auto deadline = queue_.front()->queued + options_.max_delay;
        std::size_t weight = 0;
        batch.clear();
        for (bool timed_out = false;;) {
            while (!queue_.empty() && weight < options_.max_batch) {
                weight += queue_.front()->weight;
                queued_weight_ -= queue_.front()->weight;
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            if (weight >= options_.max_batch || stopping_ || timed_out) break;
            // Collecting: woken early only by the job that fills the batch (or stopping);
            // at the deadline it takes what queued meanwhile.
            wake_at_weight_ = options_.max_batch - weight;
            timed_out = !queue_cv_.wait_until(
                lock, deadline, [&] { return queued_weight_ >= wake_at_weight_ || stopping_; });
        }
        // Committing: jobs queue without waking the writer; it looks again when done.
        wake_at_weight_ = std::numeric_limits<std::size_t>::max();
        lock.unlock();
        if (options_.metrics) {
            options_.metrics->store_queue_depth.fetch_sub(static_cast<std::int64_t>(batch.size()),
                                                          std::memory_order_relaxed);
        }
        run_batch(batch);
        batch.clear();
        if (std::chrono::steady_clock::now() >= next_maintenance_) maintenance();
        lock.lock();
    }
}

void Database::run_batch(std::vector<std::shared_ptr<Job>>& batch) {
    Connection& db = *writer_;
    bool begun = false;
    std::string write_error;  // SQLite's sentence (no data), for the once-per-episode log
    bool wrote = false;
    try {
        db.cached(db.is_postgres() ? "BEGIN" : "BEGIN IMMEDIATE").run();
        begun = true;
        for (auto& job : batch) {
            if (!job->apply) continue;
            db.defer("SAVEPOINT job");
            try {
                job->apply(db);
                job->status = CommitStatus::committed;
            } catch (const JobRejected&) {
                job->status = CommitStatus::rejected;
            } catch (const Error& e) {
                // SQLite's errors fail the job; one a job raised itself (no SQLite code: an
                // unknown account, a taken username) refuses it.
                job->status = e.sqlite_code() == 0 ? CommitStatus::rejected : CommitStatus::failed;
                if (job->status == CommitStatus::failed) write_error = e.what();
            } catch (const std::exception& e) {
                job->status = CommitStatus::failed;
                write_error = e.what();
            }
            if (job->status != CommitStatus::committed) db.cached("ROLLBACK TO job").run();
            db.defer("RELEASE job");
        }
        db.cached("COMMIT").run();
        commits_.fetch_add(1);
        for (auto& job : batch) wrote |= job->apply && job->status == CommitStatus::committed;
    } catch (const std::exception& e) {
        write_error = e.what();
        if (begun) {
            try {
                db.exec("ROLLBACK");
            } catch (...) {
            }
        }
        for (auto& job : batch) {
            if (job->status == CommitStatus::committed) job->status = CommitStatus::failed;
        }
        if (options_.metrics) options_.metrics->commit_failures.fetch_add(1);
    }
    if (!write_error.empty()) {
        note_write_health(true, write_error.c_str());
    } else if (wrote) {
        note_write_health(false, "");
    }

    auto now = std::chrono::steady_clock::now();
    std::size_t weight = 0;
    for (auto& job : batch) {
        weight += job->weight;
        if (options_.metrics && job->is_send && job->status == CommitStatus::committed) {
            options_.metrics->send_commit_latency_seconds.observe(
                std::chrono::duration<double>(now - job->queued).count());
        }
    }
    if (options_.metrics) {
        options_.metrics->commits.fetch_add(1, std::memory_order_relaxed);
        options_.metrics->commit_batch_size.observe(static_cast<double>(weight));
    }
    for (auto& job : batch) {
        if (!job->done) continue;
        try {
            job->done(job->status);
        } catch (...) {
            // A completion must not take the writer down.
        }
    }
}

void Database::maintenance() {
    next_maintenance_ = std::chrono::steady_clock::now() + options_.maintenance_interval;
    try {
        if (tick_) tick_(*writer_);
        // Deleted ciphertext may linger in the WAL until it is checkpointed (SQLite; on
        // PostgreSQL the server's autovacuum and checkpoints do this).
        if (!writer_->is_postgres()) writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        note_write_health(true, e.what());
        if (options_.metrics) options_.metrics->commit_failures.fetch_add(1);
    }
}

void Database::flush() {
    std::promise<void> done;
    auto job = std::make_shared<Job>();
    job->weight = 0;
    job->done = [&done](CommitStatus) { done.set_value(); };
    submit(job);
    done.get_future().wait();
}

void Database::run_sync(std::function<void(Connection&)> apply) {
    std::promise<CommitStatus> result;
    std::exception_ptr error;
    auto job = std::make_shared<Job>();
    job->apply = [&](Connection& db) {
        try {
            apply(db);
        } catch (...) {
            error = std::current_exception();
            throw;
        }
    };
    job->done = [&result](CommitStatus s) { result.set_value(s); };
    submit(job);
    CommitStatus status = result.get_future().get();
    if (error) std::rethrow_exception(error);
    if (status != CommitStatus::committed) {
        throw Error(ErrorKind::other, 0, "The database could not commit the change.");
    }
}

// ---- reads ----

std::unique_ptr<Connection> Database::acquire_reader() const {
    {
        std::unique_lock lock(readers_mutex_);
        readers_cv_.wait(lock, [&] {
            return !idle_readers_.empty() || readers_open_ < options_.read_connections;
        });
        if (!idle_readers_.empty()) {
            auto conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return conn;
        }
        ++readers_open_;
    }
    try {
        return std::make_unique<Connection>(options_.path, reader_options(options_));
    } catch (...) {
        release_reader(nullptr);
        throw;
    }
}

void Database::release_reader(std::unique_ptr<Connection> conn) const {
    std::lock_guard lock(readers_mutex_);
    if (conn) {
        idle_readers_.push_back(std::move(conn));
    } else {
        --readers_open_;
    }
    readers_cv_.notify_one();
}

Database::Reader::Reader(const Database& database) : database_(database) {
    if (pinned_reader.database == &database) {
        conn_ = pinned_reader.conn;
        return;
    }
    lent_ = database.acquire_reader();
    conn_ = lent_.get();
}

Database::Reader::~Reader() {
    if (lent_) database_.release_reader(std::move(lent_));
}

Database::ReadScope::ReadScope(const Database& database) {
    if (pinned_reader.database == &database) return;  // joins the outer scope
    try {
        conn_ = database.acquire_reader();
    } catch (const std::exception&) {
        return;  // reads will try the pool themselves and report the failure
    }
    try {
        // One snapshot for the whole scope: SQLite's read transaction gives it; PostgreSQL's
        // default (read committed) would take one per statement.
        conn_->cached(conn_->is_postgres() ? "BEGIN ISOLATION LEVEL REPEATABLE READ" : "BEGIN")
            .run();
    } catch (const std::exception&) {
        database.release_reader(std::move(conn_));
        return;
    }
    database_ = &database;
    pinned_reader = {database_, conn_.get()};
}

Database::ReadScope::~ReadScope() {
    if (database_ == nullptr) return;
    pinned_reader = {};
    try {
        conn_->cached("COMMIT").run();
    } catch (const std::exception&) {
        try {
            conn_->exec("ROLLBACK");
        } catch (const std::exception&) {
            conn_.reset();  // a connection stuck in a transaction is not given back
        }
    }
    database_->release_reader(std::move(conn_));
}

}  // namespace ariadne::storage
