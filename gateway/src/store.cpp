#include "ariadne/gateway/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <limits>
#include <tuple>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "ariadne/gateway/error.h"
#include "ariadne/storage/migrations.h"

namespace ariadne::gateway {

namespace {

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

[[noreturn]] void storage_error(const std::string& what, int rc) {
    throw GatewayError(GatewayErrorCode::storage,
                       "The database failed to " + what + ": " + sqlite3_errstr(rc) + ".");
}

// Thrown by a job to refuse itself: its savepoint is rolled back, the batch goes on.
struct JobRejected {};

/// Brings the file to this binary's schema (or refuses it) before any thread uses it.
void migrate_schema(const StoreOptions& options) {
    try {
        storage::ConnectionOptions connection_options;
        connection_options.synchronous_full = options.synchronous_full;
        storage::Connection connection(options.path, connection_options);
        storage::migrate(connection, storage::main_migrations());
    } catch (const storage::Error& e) {
        throw GatewayError(GatewayErrorCode::storage, e.what());
    }
}

constexpr int kKindMessage = 0;
constexpr int kKindReceipt = 1;
constexpr int kKindNotice = 2;  // body holds "notice\nreference\nlanguage\ntemplate_id"

bool notice_token_ok(const std::string& t, bool may_be_empty) {
    if (t.empty()) return may_be_empty;
    if (t.size() > 64) return false;
    for (char c : t) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/// Splits a stored notice body back into its tokens (see kKindNotice).
void read_notice(const Bytes& body, Delivery& d) {
    std::string s(body.begin(), body.end());
    std::string* fields[] = {&d.notice, &d.reference, &d.language, &d.template_id};
    std::size_t start = 0;
    for (std::string* f : fields) {
        std::size_t end = s.find('\n', start);
        *f = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

Role role_from(std::int64_t v) { return v == 1 ? Role::caseworker : Role::survivor; }
std::int64_t role_value(Role r) { return r == Role::caseworker ? 1 : 0; }

}  // namespace

const char* to_string(Role role) noexcept {
    return role == Role::caseworker ? "caseworker" : "survivor";
}

std::string new_account_id() {
    std::string text = crypto::base64_encode(crypto::random_bytes(16));  // 24 chars, "=="
    text.resize(22);
    for (char& c : text) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return "a_" + text;
}

// ---- SQLite plumbing ----

class Statement {
  public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value) {
        check(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }
    Statement& bind(int index, std::string_view value) {
        check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind(int index, ByteView value) {
        // A zero-length blob must still be a blob, not NULL.
        static const std::uint8_t empty = 0;
        check(sqlite3_bind_blob(stmt_, index, value.empty() ? &empty : value.data(),
                                static_cast<int>(value.size()), SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind_null(int index) {
        check(sqlite3_bind_null(stmt_, index));
        return *this;
    }

    /// True when a row is available, false when done.
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        storage_error("run a statement", rc);
    }
    void run() {
        while (step()) {
        }
    }

    std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }
    Bytes blob(int col) const {
        auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
        return p ? Bytes(p, p + sqlite3_column_bytes(stmt_, col)) : Bytes();
    }
    int changes() const { return sqlite3_changes(db_); }

  private:
    void check(int rc) {
        if (rc != SQLITE_OK) storage_error("bind a value", rc);
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

class Store::Connection {
  public:
    Connection(const std::filesystem::path& path, bool reader, bool synchronous_full) {
        int rc = sqlite3_open_v2(path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_close(db_);
            db_ = nullptr;
            storage_error("open " + path.filename().string(), rc);
        }
        sqlite3_busy_timeout(db_, 5000);
        exec("PRAGMA journal_mode=WAL");
        exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // Deleted rows (acknowledged ciphertext, consumed pre-keys) are overwritten.
        exec("PRAGMA secure_delete=ON");
        exec("PRAGMA foreign_keys=ON");
        // The writer checkpoints itself (wal_checkpoint(TRUNCATE)) on its maintenance tick.
        if (reader) exec("PRAGMA query_only=ON");
    }
    ~Connection() {
        for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
        sqlite3_close(db_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void exec(const char* sql) {
        char* message = nullptr;
        int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
        sqlite3_free(message);
        if (rc != SQLITE_OK) storage_error("execute a command", rc);
    }

    /// Prepared statements are cached by the address of their (literal) SQL text.
    Statement prepare(const char* sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            sqlite3_stmt* stmt = nullptr;
            int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
            if (rc != SQLITE_OK) storage_error("prepare a statement", rc);
            it = cache_.emplace(sql, stmt).first;
        }
        return Statement(db_, it->second);
    }

    std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

struct Store::Job {
    std::function<void(Connection&)> apply;
    std::function<void(CommitStatus)> done;
    std::size_t weight = 1;
    bool is_send = false;
    std::chrono::steady_clock::time_point queued;
    CommitStatus status = CommitStatus::committed;
};

// ---- lifecycle ----

Store::Store(StoreOptions options) : options_(std::move(options)), queued_(options_.queue_quota) {
    // Create the file 0600 ourselves: SQLite gives -wal and -shm the same mode.
    int fd = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw GatewayError(GatewayErrorCode::storage,
                           "The database file " + options_.path.string() + " cannot be created.");
    }
    ::close(fd);
    migrate_schema(options_);
    writer_ = std::make_unique<Connection>(options_.path, false, options_.synchronous_full);
    count_queued_bytes();
    next_maintenance_ = std::chrono::steady_clock::now() + options_.maintenance_interval;
    writer_thread_ = std::thread([this] { writer_loop(); });
}

void Store::count_queued_bytes() {
    // One scan at start; from then on the quotas are kept up to date as rows come and go.
    auto s = writer_->prepare(
        "SELECT account, sender, SUM(length(body)) FROM mailbox WHERE kind = 0 "
        "GROUP BY account, sender");
    while (s.step()) {
        queued_.add(s.integer(0), s.integer(1), static_cast<std::uint64_t>(s.integer(2)));
    }
}

void Store::note_write_health(bool failed, const char* why) {
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

Store::~Store() {
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    try {
        writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (...) {
        // Best effort: the WAL is checkpointed again on next open.
    }
}

std::uint64_t Store::commit_count() const noexcept { return commits_.load(); }

// ---- writer ----

void Store::submit(std::shared_ptr<Job> job) {
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

void Store::writer_loop() {
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

void Store::run_batch(std::vector<std::shared_ptr<Job>>& batch) {
    Connection& db = *writer_;
    bool begun = false;
    std::string write_error;  // SQLite's sentence (no data), for the once-per-episode log
    bool wrote = false;
    try {
        db.prepare("BEGIN IMMEDIATE").run();
        begun = true;
        for (auto& job : batch) {
            if (!job->apply) continue;
            db.prepare("SAVEPOINT job").run();
            try {
                job->apply(db);
                job->status = CommitStatus::committed;
            } catch (const JobRejected&) {
                job->status = CommitStatus::rejected;
            } catch (const GatewayError& e) {
                job->status = e.code() == GatewayErrorCode::storage ? CommitStatus::failed
                                                                    : CommitStatus::rejected;
                if (job->status == CommitStatus::failed) write_error = e.what();
            } catch (const std::exception& e) {
                job->status = CommitStatus::failed;
                write_error = e.what();
            }
            if (job->status != CommitStatus::committed) db.prepare("ROLLBACK TO job").run();
            db.prepare("RELEASE job").run();
        }
        db.prepare("COMMIT").run();
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

namespace {

/// What an expiry purge deleted: rows, and message bytes per (recipient, sender).
struct Purged {
    std::int64_t rows = 0;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>> bytes;
};

Purged purge_before(Store::Connection& db, std::int64_t cutoff_ms);

}  // namespace

void Store::maintenance() {
    next_maintenance_ = std::chrono::steady_clock::now() + options_.maintenance_interval;
    try {
        auto cutoff =
            unix_ms() -
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.mailbox_ttl).count();
        writer_->exec("BEGIN IMMEDIATE");
        Purged purged;
        try {
            purged = purge_before(*writer_, cutoff);
            writer_->exec("COMMIT");
        } catch (...) {
            writer_->exec("ROLLBACK");
            throw;
        }
        for (const auto& [recipient, sender, bytes] : purged.bytes) {
            queued_.release(recipient, sender, bytes);
        }
        if (options_.metrics && purged.rows > 0) {
            options_.metrics->messages_expired.fetch_add(static_cast<std::uint64_t>(purged.rows));
        }
        // Deleted ciphertext may linger in the WAL until it is checkpointed.
        writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        note_write_health(true, e.what());
        if (options_.metrics) options_.metrics->commit_failures.fetch_add(1);
    }
}

namespace {

Purged purge_before(Store::Connection& db, std::int64_t cutoff_ms) {
    // Server ids grow with time: find the first entry young enough to keep, then delete the
    // expired ones before it by primary-key range (no index on age needed).
    std::int64_t boundary = INT64_MAX;
    {
        auto s = db.prepare(
            "SELECT server_id FROM mailbox WHERE created_ms >= ?1 ORDER BY server_id LIMIT 1");
        s.bind(1, cutoff_ms);
        if (s.step()) boundary = s.integer(0);
    }
    Purged purged;
    {
        auto s = db.prepare(
            "SELECT account, sender, SUM(length(body)) FROM mailbox WHERE server_id < ?1 AND "
            "created_ms < ?2 AND kind = 0 GROUP BY account, sender");
        s.bind(1, boundary).bind(2, cutoff_ms);
        while (s.step()) {
            purged.bytes.emplace_back(s.integer(0), s.integer(1),
                                      static_cast<std::uint64_t>(s.integer(2)));
        }
    }
    auto s = db.prepare("DELETE FROM mailbox WHERE server_id < ?1 AND created_ms < ?2");
    s.bind(1, boundary).bind(2, cutoff_ms).run();
    purged.rows = s.changes();
    return purged;
}

}  // namespace

void Store::flush() {
    std::promise<void> done;
    auto job = std::make_shared<Job>();
    job->weight = 0;
    job->done = [&done](CommitStatus) { done.set_value(); };
    submit(job);
    done.get_future().wait();
}

void Store::run_sync(std::function<void(Connection&)> apply) {
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
        throw GatewayError(GatewayErrorCode::storage, "The database could not commit the change.");
    }
}

// ---- reads ----

namespace {

// The read scope open on this thread, if any (Store::ReadScope).
struct PinnedReader {
    const Store* store = nullptr;
    Store::Connection* conn = nullptr;
};
thread_local PinnedReader pinned_reader;

}  // namespace

std::unique_ptr<Store::Connection> Store::acquire_reader() const {
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
        return std::make_unique<Connection>(options_.path, true, options_.synchronous_full);
    } catch (...) {
        release_reader(nullptr);
        throw;
    }
}

void Store::release_reader(std::unique_ptr<Connection> conn) const {
    std::lock_guard lock(readers_mutex_);
    if (conn) {
        idle_readers_.push_back(std::move(conn));
    } else {
        --readers_open_;
    }
    readers_cv_.notify_one();
}

template <class F>
auto Store::read(F&& f) const {
    if (pinned_reader.store == this) return f(*pinned_reader.conn);
    struct Return {
        const Store* store;
        std::unique_ptr<Connection> conn;
        ~Return() { store->release_reader(std::move(conn)); }
    } give_back{this, acquire_reader()};
    return f(*give_back.conn);
}

Store::ReadScope::ReadScope(const Store& store) {
    if (pinned_reader.store == &store) return;  // joins the outer scope
    try {
        conn_ = store.acquire_reader();
    } catch (const std::exception&) {
        return;  // reads will try the pool themselves and report the failure
    }
    try {
        conn_->prepare("BEGIN").run();
    } catch (const std::exception&) {
        store.release_reader(std::move(conn_));
        return;
    }
    store_ = &store;
    pinned_reader = {store_, conn_.get()};
}

Store::ReadScope::~ReadScope() {
    if (store_ == nullptr) return;
    pinned_reader = {};
    try {
        conn_->prepare("COMMIT").run();
    } catch (const std::exception&) {
        try {
            conn_->exec("ROLLBACK");
        } catch (const std::exception&) {
            conn_.reset();  // a connection stuck in a transaction is not given back
        }
    }
    store_->release_reader(std::move(conn_));
}

std::optional<std::pair<std::string, bool>> Store::survivor_case_link(
    std::string_view account_id) const {
    return read([&](Connection& db) -> std::optional<std::pair<std::string, bool>> {
        auto s =
            db.prepare("SELECT case_code, duress FROM gateway_survivor_cases WHERE account = ?1");
        s.bind(1, account_id);
        if (!s.step()) return std::nullopt;
        return std::make_pair(s.text(0), s.integer(1) != 0);
    });
}

std::optional<Account> Store::find_account(std::string_view id) const {
    return read([&](Connection& db) -> std::optional<Account> {
        auto s = db.prepare("SELECT key, role FROM accounts WHERE id = ?1");
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return Account{s.integer(0), std::string(id), role_from(s.integer(1))};
    });
}

std::optional<CaseworkerCredentials> Store::find_caseworker(std::string_view username) const {
    return read([&](Connection& db) -> std::optional<CaseworkerCredentials> {
        auto s = db.prepare(
            "SELECT a.key, a.id, c.password_hash, c.totp_sealed, c.last_totp_step "
            "FROM caseworkers c JOIN accounts a ON a.key = c.account WHERE c.username = ?1");
        s.bind(1, username);
        if (!s.step()) return std::nullopt;
        CaseworkerCredentials c;
        c.account = Account{s.integer(0), s.text(1), Role::caseworker};
        c.password_hash = s.text(2);
        c.sealed_totp_secret = s.blob(3);
        c.last_totp_step = static_cast<std::uint64_t>(s.integer(4));
        return c;
    });
}

std::optional<SurvivorCredentials> Store::find_survivor(ByteView locator) const {
    return read([&](Connection& db) -> std::optional<SurvivorCredentials> {
        auto s = db.prepare(
            "SELECT a.key, a.id, s.auth_public_key FROM survivors s "
            "JOIN accounts a ON a.key = s.account WHERE s.locator = ?1");
        s.bind(1, locator);
        if (!s.step()) return std::nullopt;
        return SurvivorCredentials{Account{s.integer(0), s.text(1), Role::survivor}, s.blob(2)};
    });
}

std::optional<DeviceRecord> Store::find_device(AccountKey account, std::uint32_t device) const {
    return read([&](Connection& db) -> std::optional<DeviceRecord> {
        auto s = db.prepare(
            "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, std::int64_t{device});
        if (!s.step()) return std::nullopt;
        return DeviceRecord{device, s.blob(0), static_cast<std::uint32_t>(s.integer(1))};
    });
}

std::vector<std::uint32_t> Store::ready_devices(AccountKey account) const {
    return read([&](Connection& db) {
        auto s = db.prepare(
            "SELECT d.device FROM devices d "
            "JOIN signed_pre_keys s ON s.account = d.account AND s.device = d.device "
            "JOIN last_resort_keys l ON l.account = d.account AND l.device = d.device "
            "WHERE d.account = ?1 ORDER BY d.device");
        s.bind(1, account);
        std::vector<std::uint32_t> devices;
        while (s.step()) devices.push_back(static_cast<std::uint32_t>(s.integer(0)));
        return devices;
    });
}

std::vector<Account> Store::assignment_neighbours(const Account& account) const {
    return read([&](Connection& db) {
        std::vector<Account> result;
        if (account.role == Role::survivor) {
            auto s = db.prepare(
                "SELECT a.key, a.id FROM assignments x JOIN accounts a ON a.key = x.caseworker "
                "WHERE x.survivor = ?1 ORDER BY a.id");
            s.bind(1, account.key);
            while (s.step()) result.push_back(Account{s.integer(0), s.text(1), Role::caseworker});
        } else {
            auto s = db.prepare(
                "SELECT DISTINCT a.key, a.id, a.role FROM assignments mine "
                "JOIN assignments other ON other.survivor = mine.survivor "
                "JOIN accounts a ON a.key = other.caseworker "
                "WHERE mine.caseworker = ?1 AND other.caseworker <> ?1 "
                "UNION SELECT a.key, a.id, a.role FROM assignments mine "
                "JOIN accounts a ON a.key = mine.survivor WHERE mine.caseworker = ?1 "
                "ORDER BY 2");
            s.bind(1, account.key);
            while (s.step())
                result.push_back(Account{s.integer(0), s.text(1), role_from(s.integer(2))});
        }
        return result;
    });
}

bool Store::shares_assignment(const Account& a, const Account& b) const {
    if (a.key == b.key) return false;
    return read([&](Connection& db) {
        if (a.role == Role::caseworker && b.role == Role::caseworker) {
            auto s = db.prepare(
                "SELECT 1 FROM assignments x JOIN assignments y ON y.survivor = x.survivor "
                "WHERE x.caseworker = ?1 AND y.caseworker = ?2 LIMIT 1");
            s.bind(1, a.key).bind(2, b.key);
            return s.step();
        }
        if (a.role == b.role) return false;  // survivor to survivor: never
        const Account& survivor = a.role == Role::survivor ? a : b;
        const Account& caseworker = a.role == Role::survivor ? b : a;
        auto s = db.prepare("SELECT 1 FROM assignments WHERE survivor = ?1 AND caseworker = ?2");
        s.bind(1, survivor.key).bind(2, caseworker.key);
        return s.step();
    });
}

std::uint32_t Store::pre_key_count(AccountKey account, std::uint32_t device) const {
    return read([&](Connection& db) {
        auto s = db.prepare("SELECT count(*) FROM pre_keys WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, std::int64_t{device});
        s.step();
        return static_cast<std::uint32_t>(s.integer(0));
    });
}

namespace {

constexpr const char* kPendingSql =
    "SELECT m.server_id, m.kind, a.id, m.sender_device, m.type, m.body, m.ref, m.created_ms "
    "FROM mailbox m LEFT JOIN accounts a ON a.key = m.sender "
    "WHERE m.account = ?1 AND m.device = ?2 AND m.server_id > ?3 ORDER BY m.server_id LIMIT ?4";

}  // namespace

std::vector<MailboxEntryPtr> Store::pending(AccountKey account, std::uint32_t device,
                                            std::int64_t after, std::size_t limit) const {
    return read([&](Connection& db) {
        auto s = db.prepare(kPendingSql);
        s.bind(1, account)
            .bind(2, std::int64_t{device})
            .bind(3, after)
            .bind(4, static_cast<std::int64_t>(limit));
        std::vector<MailboxEntryPtr> entries;
        while (s.step()) {
            auto e = std::make_shared<MailboxEntry>();
            e->recipient = account;
            e->recipient_device = device;
            e->delivery.server_id = s.integer(0);
            e->delivery.is_receipt = s.integer(1) == kKindReceipt;
            e->delivery.is_notice = s.integer(1) == kKindNotice;
            e->delivery.from = s.text(2);
            e->delivery.from_device = static_cast<std::uint32_t>(s.integer(3));
            e->delivery.type = static_cast<int>(s.integer(4));
            e->delivery.body = s.blob(5);
            if (e->delivery.is_notice) {
                read_notice(e->delivery.body, e->delivery);
                e->delivery.body.clear();
            } else if (e->delivery.is_receipt) {
                e->delivery.failure.assign(e->delivery.body.begin(), e->delivery.body.end());
                e->delivery.body.clear();
            }
            e->delivery.ref = s.integer(6);
            e->delivery.server_time = s.integer(7);
            entries.push_back(std::move(e));
        }
        return entries;
    });
}

std::int64_t Store::mailbox_size() const {
    return read([&](Connection& db) {
        auto s = db.prepare("SELECT count(*) FROM mailbox");
        s.step();
        return s.integer(0);
    });
}

std::optional<std::string> Store::setting(std::string_view name) const {
    return read([&](Connection& db) -> std::optional<std::string> {
        auto s = db.prepare("SELECT value FROM settings WHERE name = ?1");
        s.bind(1, name);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    });
}

// ---- writes ----

void Store::store_messages(std::vector<NewMessage> messages,
                           Completion<std::vector<MailboxEntryPtr>> done) {
    for (const auto& m : messages) queued_.add(m.recipient, m.sender.key, m.body.size());
    queue_messages(std::move(messages), std::move(done));
}

QuotaVerdict Store::store_messages_within_quota(std::vector<NewMessage> messages,
                                                Completion<std::vector<MailboxEntryPtr>> done) {
    if (messages.empty()) {
        queue_messages(std::move(messages), std::move(done));
        return QuotaVerdict::within;
    }
    std::uint64_t bytes = 0;
    for (const auto& m : messages) bytes += m.body.size();
    auto verdict = queued_.reserve(messages.front().recipient, messages.front().sender.key, bytes);
    if (verdict == QuotaVerdict::within) queue_messages(std::move(messages), std::move(done));
    return verdict;
}

std::uint64_t Store::queued_bytes_for(AccountKey recipient) const {
    return queued_.recipient_bytes(recipient);
}

std::uint64_t Store::queued_bytes_from(AccountKey sender) const {
    return queued_.sender_bytes(sender);
}

void Store::queue_messages(std::vector<NewMessage> messages,
                           Completion<std::vector<MailboxEntryPtr>> done) {
    // The bytes are counted by the caller; a commit that fails gives them back.
    std::vector<std::tuple<AccountKey, AccountKey, std::uint64_t>> counted;
    counted.reserve(messages.size());
    for (const auto& m : messages) counted.emplace_back(m.recipient, m.sender.key, m.body.size());
    auto job = std::make_shared<Job>();
    auto entries = std::make_shared<std::vector<MailboxEntryPtr>>();
    auto input = std::make_shared<std::vector<NewMessage>>(std::move(messages));
    job->weight = input->size();
    job->is_send = true;
    job->apply = [input, entries](Connection& db) {
        entries->clear();
        std::int64_t now = unix_ms();
        for (auto& m : *input) {
            auto s = db.prepare(
                "INSERT INTO mailbox(account, device, kind, sender, sender_device, type, body, "
                "receipt, created_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8)");
            s.bind(1, m.recipient)
                .bind(2, std::int64_t{m.recipient_device})
                .bind(3, m.sender.key)
                .bind(4, std::int64_t{m.sender_device})
                .bind(5, std::int64_t{m.type})
                .bind(6, ByteView(m.body))
                .bind(7, std::int64_t{m.receipt_requested ? 1 : 0})
                .bind(8, now);
            s.run();
            auto e = std::make_shared<MailboxEntry>();
            e->recipient = m.recipient;
            e->recipient_device = m.recipient_device;
            e->delivery.server_id = db.last_insert_rowid();
            e->delivery.from = m.sender.id;
            e->delivery.from_device = m.sender_device;
            e->delivery.type = m.type;
            e->delivery.body = std::move(m.body);
            e->delivery.server_time = now;
            entries->push_back(std::move(e));
        }
    };
    Metrics* metrics = options_.metrics;
    job->done = [this, entries, counted = std::move(counted), done = std::move(done),
                 metrics](CommitStatus status) {
        if (status == CommitStatus::committed && metrics) {
            metrics->messages_stored.fetch_add(entries->size(), std::memory_order_relaxed);
        }
        if (status != CommitStatus::committed) {
            for (const auto& [recipient, sender, bytes] : counted) {
                queued_.release(recipient, sender, bytes);
            }
        }
        done(status, status == CommitStatus::committed ? std::move(*entries)
                                                       : std::vector<MailboxEntryPtr>{});
    };
    submit(std::move(job));
}

void Store::store_notice(NewNotice notice, Completion<MailboxEntryPtr> done) {
    auto job = std::make_shared<Job>();
    auto entry = std::make_shared<MailboxEntryPtr>();
    auto input = std::make_shared<NewNotice>(std::move(notice));
    job->apply = [input, entry](Connection& db) {
        const NewNotice& n = *input;
        if (!notice_token_ok(n.notice, false) || !notice_token_ok(n.reference, true) ||
            !notice_token_ok(n.language, false) || !notice_token_ok(n.template_id, false)) {
            throw JobRejected();
        }
        std::string packed =
            n.notice + "\n" + n.reference + "\n" + n.language + "\n" + n.template_id;
        Bytes body(packed.begin(), packed.end());
        std::string sender_id;
        if (n.sender != 0) {
            auto s = db.prepare("SELECT id FROM accounts WHERE key = ?1");
            s.bind(1, n.sender);
            if (!s.step()) throw JobRejected();
            sender_id = s.text(0);
        }
        std::int64_t now = unix_ms();
        auto s = db.prepare(
            "INSERT INTO mailbox(account, device, kind, sender, sender_device, body, created_ms) "
            "VALUES (?1, ?2, 2, ?3, 0, ?4, ?5)");
        s.bind(1, n.recipient)
            .bind(2, std::int64_t{n.recipient_device})
            .bind(3, n.sender)
            .bind(4, ByteView(body))
            .bind(5, now);
        s.run();
        auto e = std::make_shared<MailboxEntry>();
        e->recipient = n.recipient;
        e->recipient_device = n.recipient_device;
        e->delivery.server_id = db.last_insert_rowid();
        e->delivery.is_notice = true;
        e->delivery.from = sender_id;
        e->delivery.notice = n.notice;
        e->delivery.reference = n.reference;
        e->delivery.language = n.language;
        e->delivery.template_id = n.template_id;
        e->delivery.server_time = now;
        *entry = std::move(e);
    };
    job->done = [entry, done = std::move(done)](CommitStatus status) {
        done(status, status == CommitStatus::committed ? *entry : MailboxEntryPtr{});
    };
    submit(std::move(job));
}

void Store::acknowledge(AccountKey account, std::uint32_t device, std::int64_t server_id,
                        Completion<AckOutcome> done, std::string failure) {
    auto job = std::make_shared<Job>();
    auto outcome = std::make_shared<AckOutcome>();
    // The acknowledged message's sender and body size, for the queued-bytes quotas.
    auto released = std::make_shared<std::pair<std::int64_t, std::uint64_t>>();
    job->apply = [=](Connection& db) {
        *outcome = AckOutcome{};
        std::int64_t kind = 0, sender = 0, sender_device = 0, receipt = 0;
        *released = {0, 0};
        {
            auto s = db.prepare(
                "DELETE FROM mailbox WHERE server_id = ?1 AND account = ?2 AND device = ?3 "
                "RETURNING kind, sender, sender_device, receipt, length(body)");
            s.bind(1, server_id).bind(2, account).bind(3, std::int64_t{device});
            if (!s.step()) return;
            kind = s.integer(0);
            sender = s.integer(1);
            sender_device = s.integer(2);
            receipt = s.integer(3);
            if (kind == kKindMessage)
                *released = {sender, static_cast<std::uint64_t>(s.integer(4))};
            s.run();
        }
        outcome->found = true;
        if (kind != kKindMessage || receipt == 0) return;
        std::string acker_id;
        {
            auto s = db.prepare("SELECT id FROM accounts WHERE key = ?1");
            s.bind(1, account);
            if (!s.step()) return;
            acker_id = s.text(0);
        }
        std::int64_t now = unix_ms();
        // A receipt's body holds its failure reason code (no body: delivered).
        auto s = db.prepare(
            "INSERT INTO mailbox(account, device, kind, sender, sender_device, ref, created_ms, "
            "body) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7)");
        s.bind(1, sender).bind(2, sender_device).bind(3, account).bind(4, std::int64_t{device});
        s.bind(5, server_id).bind(6, now);
        if (failure.empty()) {
            s.bind_null(7);
        } else {
            s.bind(7, ByteView(crypto::as_bytes(failure)));
        }
        s.run();
        auto e = std::make_shared<MailboxEntry>();
        e->recipient = sender;
        e->recipient_device = static_cast<std::uint32_t>(sender_device);
        e->delivery.server_id = db.last_insert_rowid();
        e->delivery.is_receipt = true;
        e->delivery.from = acker_id;
        e->delivery.from_device = device;
        e->delivery.ref = server_id;
        e->delivery.failure = failure;
        e->delivery.server_time = now;
        outcome->receipt = std::move(e);
    };
    Metrics* metrics = options_.metrics;
    job->done = [this, account, outcome, released, done = std::move(done),
                 metrics](CommitStatus status) {
        if (status == CommitStatus::committed && outcome->found && metrics) {
            metrics->messages_acked.fetch_add(1, std::memory_order_relaxed);
        }
        if (status == CommitStatus::committed && released->second > 0) {
            queued_.release(account, released->first, released->second);
        }
        done(status, status == CommitStatus::committed ? std::move(*outcome) : AckOutcome{});
    };
    submit(std::move(job));
}

void Store::upload_keys(AccountKey account, std::uint32_t device, KeysUploadRequest keys,
                        Completion<std::uint32_t> done) {
    auto job = std::make_shared<Job>();
    auto count = std::make_shared<std::uint32_t>(0);
    auto input = std::make_shared<KeysUploadRequest>(std::move(keys));
    std::size_t limit = options_.max_pre_keys_per_device;
    job->apply = [=](Connection& db) {
        std::int64_t dev = device;
        if (input->signed_pre_key) {
            auto& k = *input->signed_pre_key;
            auto s = db.prepare(
                "INSERT OR REPLACE INTO signed_pre_keys(account, device, key_id, public_key, "
                "signature) VALUES (?1, ?2, ?3, ?4, ?5)");
            s.bind(1, account).bind(2, dev).bind(3, std::int64_t{k.id});
            s.bind(4, ByteView(k.public_key)).bind(5, ByteView(k.signature)).run();
        }
        for (auto& k : input->pre_keys) {
            auto s = db.prepare(
                "INSERT OR REPLACE INTO pre_keys(account, device, key_id, public_key) "
                "VALUES (?1, ?2, ?3, ?4)");
            s.bind(1, account)
                .bind(2, dev)
                .bind(3, std::int64_t{k.id})
                .bind(4, ByteView(k.public_key));
            s.run();
        }
        if (input->last_resort) {
            auto& k = *input->last_resort;
            auto s = db.prepare(
                "INSERT OR REPLACE INTO last_resort_keys(account, device, key_id, public_key) "
                "VALUES (?1, ?2, ?3, ?4)");
            s.bind(1, account)
                .bind(2, dev)
                .bind(3, std::int64_t{k.id})
                .bind(4, ByteView(k.public_key));
            s.run();
        }
        auto s = db.prepare("SELECT count(*) FROM pre_keys WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, dev);
        s.step();
        *count = static_cast<std::uint32_t>(s.integer(0));
        if (*count > limit) throw JobRejected{};
    };
    job->done = [count, done = std::move(done)](CommitStatus status) { done(status, *count); };
    submit(std::move(job));
}

void Store::take_bundles(AccountKey account, Completion<std::vector<Bundle>> done) {
    auto job = std::make_shared<Job>();
    auto bundles = std::make_shared<std::vector<Bundle>>();
    job->apply = [=](Connection& db) {
        bundles->clear();
        {
            auto s = db.prepare(
                "SELECT d.device, d.registration_id, d.identity_key, s.key_id, s.public_key, "
                "s.signature, l.key_id, l.public_key FROM devices d "
                "JOIN signed_pre_keys s ON s.account = d.account AND s.device = d.device "
                "JOIN last_resort_keys l ON l.account = d.account AND l.device = d.device "
                "WHERE d.account = ?1 ORDER BY d.device");
            s.bind(1, account);
            while (s.step()) {
                Bundle b;
                b.device_id = static_cast<std::uint32_t>(s.integer(0));
                b.registration_id = static_cast<std::uint32_t>(s.integer(1));
                b.identity_key = s.blob(2);
                b.signed_pre_key.id = static_cast<std::uint32_t>(s.integer(3));
                b.signed_pre_key.public_key = s.blob(4);
                b.signed_pre_key.signature = s.blob(5);
                b.pre_key.id = static_cast<std::uint32_t>(s.integer(6));
                b.pre_key.public_key = s.blob(7);
                bundles->push_back(std::move(b));
            }
        }
        for (auto& b : *bundles) {
            // The single writer serialises fetches: a one-time key is handed out once.
            std::int64_t key_id = 0;
            {
                auto s = db.prepare(
                    "SELECT key_id, public_key FROM pre_keys WHERE account = ?1 AND device = ?2 "
                    "ORDER BY key_id LIMIT 1");
                s.bind(1, account).bind(2, std::int64_t{b.device_id});
                if (!s.step()) continue;  // none left: the last-resort key stays in place
                key_id = s.integer(0);
                b.pre_key.id = static_cast<std::uint32_t>(key_id);
                b.pre_key.public_key = s.blob(1);
            }
            auto s = db.prepare(
                "DELETE FROM pre_keys WHERE account = ?1 AND device = ?2 AND key_id = ?3");
            s.bind(1, account).bind(2, std::int64_t{b.device_id}).bind(3, key_id).run();
        }
    };
    job->done = [bundles, done = std::move(done)](CommitStatus status) {
        done(status,
             status == CommitStatus::committed ? std::move(*bundles) : std::vector<Bundle>{});
    };
    submit(std::move(job));
}

void Store::add_caseworker_device(AccountKey account, std::uint64_t totp_step, Bytes identity_key,
                                  std::uint32_t registration_id, Completion<std::uint32_t> done) {
    auto job = std::make_shared<Job>();
    auto device = std::make_shared<std::uint32_t>(0);
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    job->apply = [=](Connection& db) {
        {
            // Claim the step atomically: a concurrent login with the same code loses here.
            auto s = db.prepare(
                "UPDATE caseworkers SET last_totp_step = ?2 WHERE account = ?1 AND last_totp_step "
                "< ?2");
            s.bind(1, account).bind(2, static_cast<std::int64_t>(totp_step)).run();
            if (s.changes() != 1) throw JobRejected{};
        }
        {
            auto s =
                db.prepare("SELECT coalesce(max(device), 0) + 1 FROM devices WHERE account = ?1");
            s.bind(1, account);
            s.step();
            *device = static_cast<std::uint32_t>(s.integer(0));
        }
        auto s = db.prepare(
            "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, account).bind(2, std::int64_t{*device}).bind(3, ByteView(*key));
        s.bind(4, std::int64_t{registration_id}).bind(5, unix_ms()).run();
    };
    job->done = [device, done = std::move(done)](CommitStatus status) { done(status, *device); };
    submit(std::move(job));
}

void Store::bind_survivor_device(AccountKey account, Bytes identity_key,
                                 std::uint32_t registration_id, Bytes installation_key,
                                 Completion<bool> done) {
    auto job = std::make_shared<Job>();
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    auto installation = std::make_shared<Bytes>(std::move(installation_key));
    auto is_new = std::make_shared<bool>(false);
    job->apply = [=](Connection& db) {
        bool bound = false;
        {
            auto s = db.prepare(
                "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = "
                "1");
            s.bind(1, account);
            if (s.step()) {
                if (s.blob(0) != *key || s.integer(1) != std::int64_t{registration_id}) {
                    throw JobRejected{};
                }
                bound = true;
            }
        }
        if (!bound) {
            auto s = db.prepare(
                "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
                "VALUES (?1, 1, ?2, ?3, ?4)");
            s.bind(1, account).bind(2, ByteView(*key)).bind(3, std::int64_t{registration_id});
            s.bind(4, unix_ms()).run();
        }
        // The installation on file is the one that logged in last: any other one (or a login
        // without one, where one is on file) is new. The first login records it silently.
        std::optional<Bytes> on_file;
        {
            auto s = db.prepare(
                "SELECT installation_key FROM survivor_installations WHERE account = ?1");
            s.bind(1, account);
            if (s.step()) on_file = s.blob(0);
        }
        if (on_file && *on_file == *installation) return;
        *is_new = on_file.has_value();
        auto s = db.prepare(
            "INSERT INTO survivor_installations(account, installation_key, since_ms) "
            "VALUES (?1, ?2, ?3) ON CONFLICT(account) DO UPDATE SET "
            "installation_key = excluded.installation_key, since_ms = excluded.since_ms");
        s.bind(1, account).bind(2, ByteView(*installation)).bind(3, unix_ms()).run();
    };
    job->done = [done = std::move(done), is_new](CommitStatus status) {
        done(status, status == CommitStatus::committed && *is_new);
    };
    submit(std::move(job));
}

void Store::bind_edge_device(AccountKey account, std::uint32_t device, Bytes identity_key,
                             std::uint32_t registration_id, Completion<bool> done) {
    auto job = std::make_shared<Job>();
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    job->apply = [=](Connection& db) {
        {
            auto s = db.prepare(
                "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = "
                "?2");
            s.bind(1, account).bind(2, std::int64_t{device});
            if (s.step()) {
                if (s.blob(0) != *key || s.integer(1) != std::int64_t{registration_id}) {
                    throw JobRejected{};
                }
                return;
            }
        }
        auto s = db.prepare(
            "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, account).bind(2, std::int64_t{device}).bind(3, ByteView(*key));
        s.bind(4, std::int64_t{registration_id}).bind(5, unix_ms()).run();
    };
    job->done = [done = std::move(done)](CommitStatus status) {
        done(status, status == CommitStatus::committed);
    };
    submit(std::move(job));
}

void Store::purge_expired(std::int64_t cutoff_ms, Completion<std::int64_t> done) {
    auto job = std::make_shared<Job>();
    auto purged = std::make_shared<Purged>();
    job->apply = [=](Connection& db) { *purged = purge_before(db, cutoff_ms); };
    Metrics* metrics = options_.metrics;
    job->done = [this, purged, metrics, done = std::move(done)](CommitStatus status) {
        if (status == CommitStatus::committed) {
            for (const auto& [recipient, sender, bytes] : purged->bytes) {
                queued_.release(recipient, sender, bytes);
            }
            if (metrics)
                metrics->messages_expired.fetch_add(static_cast<std::uint64_t>(purged->rows));
        }
        done(status, status == CommitStatus::committed ? purged->rows : 0);
    };
    submit(std::move(job));
}

// ---- administration ----

Account Store::create_caseworker(std::string_view account_id, std::string_view username,
                                 std::string_view password_hash, ByteView sealed_totp_secret) {
    Account account{0, std::string(account_id), Role::caseworker};
    run_sync([&](Connection& db) {
        {
            auto s = db.prepare("SELECT 1 FROM caseworkers WHERE username = ?1");
            s.bind(1, username);
            if (s.step()) {
                throw GatewayError(GatewayErrorCode::conflict, "That username is already taken.");
            }
        }
        {
            auto s = db.prepare("INSERT INTO accounts(id, role, created_ms) VALUES (?1, 1, ?2)");
            s.bind(1, account.id).bind(2, unix_ms()).run();
            account.key = db.last_insert_rowid();
        }
        auto s = db.prepare(
            "INSERT INTO caseworkers(account, username, password_hash, totp_sealed) "
            "VALUES (?1, ?2, ?3, ?4)");
        s.bind(1, account.key).bind(2, username).bind(3, password_hash).bind(4, sealed_totp_secret);
        s.run();
    });
    return account;
}

Account Store::create_survivor(ByteView locator, ByteView auth_public_key) {
    Account account{0, new_account_id(), Role::survivor};
    run_sync([&](Connection& db) {
        {
            auto s = db.prepare("SELECT 1 FROM survivors WHERE locator = ?1");
            s.bind(1, locator);
            if (s.step()) {
                throw GatewayError(GatewayErrorCode::conflict,
                                   "That recovery code is already enrolled.");
            }
        }
        {
            auto s = db.prepare("INSERT INTO accounts(id, role, created_ms) VALUES (?1, 0, ?2)");
            s.bind(1, account.id).bind(2, unix_ms()).run();
            account.key = db.last_insert_rowid();
        }
        auto s = db.prepare(
            "INSERT INTO survivors(account, locator, auth_public_key) VALUES (?1, ?2, ?3)");
        s.bind(1, account.key).bind(2, locator).bind(3, auth_public_key).run();
    });
    return account;
}

bool Store::set_caseworker_disabled(std::string_view caseworker, bool disabled) {
    bool changed = false;
    run_sync([&](Connection& db) {
        auto s = db.prepare("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
        s.bind(1, caseworker).bind(2, role_value(Role::caseworker));
        if (!s.step()) {
            throw GatewayError(GatewayErrorCode::not_found,
                               "No caseworker account has the id " + std::string(caseworker) + ".");
        }
        std::int64_t key = s.integer(0);
        if (disabled) {
            auto w = db.prepare(
                "INSERT OR IGNORE INTO disabled_accounts(account, since_ms) VALUES (?1, ?2)");
            w.bind(1, key).bind(2, unix_ms()).run();
            changed = w.changes() > 0;
        } else {
            auto w = db.prepare("DELETE FROM disabled_accounts WHERE account = ?1");
            w.bind(1, key).run();
            changed = w.changes() > 0;
        }
    });
    return changed;
}

void Store::replace_caseworker_credentials(std::string_view caseworker,
                                           std::string_view password_hash,
                                           ByteView sealed_totp_secret) {
    run_sync([&](Connection& db) {
        auto s = db.prepare(
            "UPDATE caseworkers SET password_hash = ?2, totp_sealed = ?3 "
            "WHERE account = (SELECT key FROM accounts WHERE id = ?1 AND role = ?4)");
        s.bind(1, caseworker)
            .bind(2, password_hash)
            .bind(3, sealed_totp_secret)
            .bind(4, role_value(Role::caseworker));
        s.run();
        if (s.changes() == 0) {
            throw GatewayError(GatewayErrorCode::not_found,
                               "No caseworker account has the id " + std::string(caseworker) + ".");
        }
    });
}

bool Store::is_disabled(AccountKey account) const {
    return read([&](Connection& db) {
        auto s = db.prepare("SELECT 1 FROM disabled_accounts WHERE account = ?1");
        s.bind(1, account);
        return s.step();
    });
}

void Store::assign(std::string_view survivor, std::string_view caseworker) {
    run_sync([&](Connection& db) {
        auto lookup = [&](std::string_view id, Role role) {
            auto s = db.prepare("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
            s.bind(1, id).bind(2, role_value(role));
            if (!s.step()) {
                throw GatewayError(GatewayErrorCode::not_found,
                                   std::string("No ") + to_string(role) + " account has the id " +
                                       std::string(id) + ".");
            }
            return s.integer(0);
        };
        std::int64_t s_key = lookup(survivor, Role::survivor);
        std::int64_t c_key = lookup(caseworker, Role::caseworker);
        auto s =
            db.prepare("INSERT OR IGNORE INTO assignments(survivor, caseworker) VALUES (?1, ?2)");
        s.bind(1, s_key).bind(2, c_key).run();
    });
}

std::string Store::setting_or_insert(std::string_view name, std::string_view value) {
    std::string result;
    run_sync([&](Connection& db) {
        {
            auto s = db.prepare("INSERT OR IGNORE INTO settings(name, value) VALUES (?1, ?2)");
            s.bind(1, name).bind(2, value).run();
        }
        auto s = db.prepare("SELECT value FROM settings WHERE name = ?1");
        s.bind(1, name);
        s.step();
        result = s.text(0);
    });
    return result;
}

void Store::replace_survivor_code(std::string_view survivor, ByteView locator,
                                  ByteView auth_public_key) {
    run_sync([&](Connection& db) {
        std::int64_t key = 0;
        {
            auto s = db.prepare("SELECT key FROM accounts WHERE id = ?1 AND role = 0");
            s.bind(1, survivor);
            if (!s.step()) {
                throw GatewayError(GatewayErrorCode::not_found,
                                   "No survivor account has the id " + std::string(survivor) + ".");
            }
            key = s.integer(0);
        }
        {
            auto s = db.prepare("SELECT 1 FROM survivors WHERE locator = ?1");
            s.bind(1, locator);
            if (s.step()) {
                throw GatewayError(GatewayErrorCode::conflict,
                                   "That recovery code is already enrolled.");
            }
        }
        {
            auto s = db.prepare(
                "UPDATE survivors SET locator = ?2, auth_public_key = ?3 WHERE account = ?1");
            s.bind(1, key).bind(2, locator).bind(3, auth_public_key).run();
        }
        // Literal SQL texts: prepared statements are cached by their address.
        for (const char* sql : {"DELETE FROM devices WHERE account = ?1",
                                "DELETE FROM survivor_installations WHERE account = ?1",
                                "DELETE FROM signed_pre_keys WHERE account = ?1",
                                "DELETE FROM last_resort_keys WHERE account = ?1",
                                "DELETE FROM pre_keys WHERE account = ?1"}) {
            auto s = db.prepare(sql);
            s.bind(1, key).run();
        }
    });
}

}  // namespace ariadne::gateway
