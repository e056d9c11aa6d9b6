#include "harness.h"

#include <algorithm>
#include <ctime>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <libpq-fe.h>

#include "support/pg_test_database.h"

extern char** environ;

namespace ariadne::e2e {

namespace fs = std::filesystem;

namespace {

// The PostgreSQL run of this suite (tests registered with the `pg` fixture in CMakeLists.txt,
// which sets ARIADNE_TEST_PG_DIR): every data directory a Gateway uses gets its own schema on the
// test cluster, recorded in DATA_DIR/database as `serve --database` would, so the server and
// every admin command on that directory use it. Dropped with the TempDir that holds it.
std::mutex pg_mutex;
std::map<fs::path, std::unique_ptr<testing::PgTestDatabase>> pg_databases;

void attach_postgresql(const fs::path& data_dir) {
    if (!postgresql_backend()) return;
    std::lock_guard lock(pg_mutex);
    if (pg_databases.count(data_dir) || fs::exists(data_dir / "database")) return;
    auto database = std::make_unique<testing::PgTestDatabase>();
    fs::create_directories(data_dir);
    fs::permissions(data_dir, fs::perms::owner_all);
    const fs::path pointer = data_dir / "database";
    int fd = ::open(pointer.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + pointer.string());
    const std::string line = database->uri() + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + pointer.string());
    pg_databases.emplace(data_dir, std::move(database));
}

void release_postgresql(const fs::path& root) {
    std::lock_guard lock(pg_mutex);
    for (auto it = pg_databases.begin(); it != pg_databases.end();) {
        const auto relative = it->first.lexically_relative(root);
        const bool inside = !relative.empty() && *relative.begin() != "..";
        it = inside ? pg_databases.erase(it) : std::next(it);
    }
}

/// The URI of the schema a data directory uses in the PostgreSQL run, if any.
std::optional<std::string> postgresql_uri(const fs::path& data_dir) {
    std::lock_guard lock(pg_mutex);
    auto it = pg_databases.find(data_dir);
    if (it == pg_databases.end()) return std::nullopt;
    return it->second->uri();
}

/// The password in a postgresql://user:password@host URI ("" if none).
std::string password_of(const std::string& uri) {
    const auto start = uri.find("://");
    const auto at = uri.find('@');
    if (start == std::string::npos || at == std::string::npos) return {};
    const auto colon = uri.find(':', start + 3);
    return colon != std::string::npos && colon < at ? uri.substr(colon + 1, at - colon - 1) : "";
}

long count_rows_postgresql(const std::string& uri, const std::string& sql) {
    PGconn* conn = PQconnectdb(uri.c_str());
    long count = -1;
    std::string message;
    if (PQstatus(conn) == CONNECTION_OK) {
        PGresult* r = PQexec(conn, sql.c_str());
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            count = std::atol(PQgetvalue(r, 0, 0));
        }
        message = PQresultErrorMessage(r);
        PQclear(r);
    } else {
        message = PQerrorMessage(conn);
    }
    PQfinish(conn);
    if (count < 0) throw std::runtime_error("cannot count rows: " + message);
    return count;
}

}  // namespace

bool postgresql_backend() { return testing::PgTestDatabase::available(); }

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    fs::path root = base && *base ? base : "/tmp";
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path candidate = root / ("ariadne-e2e-" + std::to_string(rd()));
        std::error_code ec;
        if (fs::create_directory(candidate, ec)) {
            fs::permissions(candidate, fs::perms::owner_all, ec);
            path_ = candidate;
            return;
        }
    }
    throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
    release_postgresql(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    return argv;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const std::string& input,
                          std::chrono::seconds timeout) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
        pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    auto argv = to_argv(args);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
    signal(SIGPIPE, SIG_IGN);
    std::size_t written = 0;
    if (input.empty()) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    ProcessResult result;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int open_fds = 2;
    bool out_open = true, err_open = true;
    while (open_fds > 0) {
        std::vector<pollfd> fds;
        if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
        if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
        if (in_pipe[1] >= 0) fds.push_back({in_pipe[1], POLLOUT, 0});
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            throw std::runtime_error("timed out running " + args[0] + " " +
                                     (args.size() > 1 ? args[1] : ""));
        }
        int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        for (auto& p : fds) {
            if (p.revents == 0) continue;
            if (p.fd == in_pipe[1]) {
                ssize_t w = write(in_pipe[1], input.data() + written, input.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 || written == input.size()) {
                    close(in_pipe[1]);
                    in_pipe[1] = -1;
                }
                continue;
            }
            char buf[4096];
            ssize_t r = read(p.fd, buf, sizeof buf);
            if (r > 0) {
                (p.fd == out_pipe[0] ? result.out : result.err).append(buf, r);
            } else {
                if (p.fd == out_pipe[0]) out_open = false;
                if (p.fd == err_pipe[0]) err_open = false;
                --open_fds;
            }
        }
    }
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = decode_status(status);
    return result;
}

std::string server_binary() {
    if (const char* env = std::getenv("ARIADNE_SERVER_BINARY")) return env;
    return ARIADNE_SERVER_BINARY;
}

Gateway::Gateway(fs::path data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {
    attach_postgresql(data_dir_);
    log_path_ = data_dir_.parent_path() / (data_dir_.filename().string() + "-server.log");
}

Gateway::~Gateway() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    if (stdout_reader_.joinable()) stdout_reader_.join();
    if (stdout_fd_ >= 0) close(stdout_fd_);
    check_log_keeps_password();
}

void Gateway::start() {
    if (pid_ > 0) throw std::logic_error("gateway already running");
    if (stdout_reader_.joinable()) stdout_reader_.join();
    if (stdout_fd_ >= 0) close(stdout_fd_);
    {
        std::lock_guard lock(mu_);
        stdout_lines_.clear();
        stdout_closed_ = false;
    }
    fs::create_directories(data_dir_);
    fs::path port_file = data_dir_.parent_path() / (data_dir_.filename().string() + ".port");
    std::vector<std::string> args = {server_binary(),
                                     "serve",
                                     "--data-dir",
                                     data_dir_.string(),
                                     "--port-file",
                                     port_file.string(),
                                     "--insecure-test-params",
                                     "--recovery-m-kib",
                                     "8192"};
    // An ephemeral port unless the test fixes one (a restart on the same port).
    if (std::find(extra_args_.begin(), extra_args_.end(), "--listen") == extra_args_.end()) {
        args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    }
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());

    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    auto argv = to_argv(args);
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        bool overridden = false;
        for (auto& x : extra_env_) {
            overridden |= entry.substr(0, entry.find('=') + 1) == x.substr(0, x.find('=') + 1);
        }
        if (!overridden) envp.push_back(*e);
    }
    for (auto& e : extra_env_) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(log_fd);
    close(null_fd);
    if (rc != 0) {
        close(out_pipe[0]);
        pid_ = -1;
        throw std::runtime_error("cannot start the server " + args[0] + ": " + std::strerror(rc));
    }
    stdout_fd_ = out_pipe[0];
    stdout_reader_ = std::thread([this, fd = stdout_fd_] {
        std::string pending;
        char buf[1024];
        for (;;) {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            pending.append(buf, r);
            std::size_t nl;
            while ((nl = pending.find('\n')) != std::string::npos) {
                std::lock_guard lock(mu_);
                stdout_lines_.push_back(pending.substr(0, nl));
                pending.erase(0, nl + 1);
                cv_.notify_all();
            }
        }
        std::lock_guard lock(mu_);
        stdout_closed_ = true;
        cv_.notify_all();
    });

    static const std::regex listening(
        R"(listening on https://[^/ ]+:([0-9]+)/ \(certificate sha256 ([0-9A-Fa-f:]+)\))");
    std::unique_lock lock(mu_);
    std::smatch m;
    bool found = false;
    cv_.wait_for(lock, 60s, [&] {
        for (const auto& line : stdout_lines_) {
            if (std::regex_search(line, m, listening)) return found = true;
        }
        return stdout_closed_;
    });
    if (!found) {
        lock.unlock();
        stop(SIGKILL, 5s);
        throw std::runtime_error("the server did not start; its log:\n" + log());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    fingerprint_ = m[2].str();
}

int Gateway::stop(int signal, std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    if (stdout_reader_.joinable()) stdout_reader_.join();
    close(stdout_fd_);
    stdout_fd_ = -1;
    check_log_keeps_password();
    return decode_status(status);
}

std::optional<std::string> Gateway::stdout_line(const std::regex& pattern,
                                                std::chrono::seconds timeout) const {
    std::unique_lock lock(mu_);
    std::optional<std::string> found;
    cv_.wait_for(lock, timeout, [&] {
        for (const auto& line : stdout_lines_) {
            if (std::regex_search(line, pattern)) {
                found = line;
                return true;
            }
        }
        return stdout_closed_;
    });
    return found;
}

client::Endpoint Gateway::endpoint() const {
    client::Endpoint ep;
    ep.host = "127.0.0.1";
    ep.port = port_;
    ep.fingerprint_sha256 = fingerprint_;
    return ep;
}

std::string Gateway::url() const { return "wss://127.0.0.1:" + std::to_string(port_); }

long Gateway::rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

std::string Gateway::log() const { return read_file(log_path_); }

void Gateway::check_log_keeps_password() const {
    auto uri = postgresql_uri(data_dir_);
    if (!uri) return;
    const std::string password = password_of(*uri);
    if (!password.empty() && log().find(password) != std::string::npos) {
        // Not a test assertion (this harness also drives the load tool): stop everything.
        std::fprintf(stderr, "FATAL: the server log %s holds the database password\n",
                     log_path_.c_str());
        std::abort();
    }
}

std::unique_ptr<client::Connection> Gateway::connect(
    const client::ConnectionOptions& options, std::shared_ptr<client::Runtime> runtime) const {
    return client::Connection::open(endpoint(), options, std::move(runtime));
}

Json Gateway::admin(std::vector<std::string> args, const std::string& input) const {
    std::vector<std::string> argv = {server_binary(), "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data-dir");
    argv.push_back(data_dir_.string());
    fs::create_directories(data_dir_);
    ProcessResult r = run_process(argv, input);
    if (r.exit_code != 0) {
        throw std::runtime_error("ariadne admin " + args.at(0) + " failed (exit " +
                                 std::to_string(r.exit_code) + "): " + r.err);
    }
    Json out = Json::parse(r.out, nullptr, false);
    if (out.is_discarded()) {
        // Some commands print nothing or plain text: hand back the text.
        return Json(r.out);
    }
    return out;
}

Gateway::Caseworker Gateway::add_caseworker(const std::string& username,
                                            const std::string& password) const {
    Json out = admin({"caseworker-add", "--username", username}, password + "\n");
    return Caseworker{out.at("account").get<std::string>(), username, password,
                      out.at("totp_secret").get<std::string>()};
}

std::string Gateway::daytime_zone() {
    std::time_t t = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    int k = 12 - utc.tm_hour;  // local = UTC + k hours; Etc/GMT-k means UTC+k
    if (k == 0) return "Etc/GMT";
    return k > 0 ? "Etc/GMT-" + std::to_string(k) : "Etc/GMT+" + std::to_string(-k);
}

Gateway::Survivor Gateway::enrol_survivor(const std::string& caseworker_account,
                                          bool consent_replies) const {
    Json out = admin({"survivor-enrol", "--caseworker", caseworker_account, "--initials", "A.B.",
                      "--language", "en", "--time-zone", daytime_zone(), "--recovery-m-kib", "8192",
                      "--insecure-test-params"});
    Survivor s{out.at("account").get<std::string>(), out.at("recovery_code").get<std::string>(),
               out.at("case_code").get<std::string>()};
    if (consent_replies) {
        admin({"consent-record", "--case", s.case_code, "--channel", "app", "--purpose", "replies",
               "--by", caseworker_account});
    }
    return s;
}

void Gateway::assign(const std::string& survivor_account,
                     const std::string& caseworker_account) const {
    admin({"assign", "--survivor", survivor_account, "--caseworker", caseworker_account});
}

long count_rows(const fs::path& path, const std::string& table, const std::string& where) {
    std::string sql = "SELECT count(*) FROM " + table + (where.empty() ? "" : " WHERE " + where);
    // On PostgreSQL the edge history's tables are in the deployment's database too.
    const bool edge_history =
        path.filename() == "history.db" && path.parent_path().filename() == "edge";
    if (path.filename() == "ariadne.db" || edge_history) {
        const fs::path data_dir =
            edge_history ? path.parent_path().parent_path() : path.parent_path();
        if (auto uri = postgresql_uri(data_dir)) {
            // The tests' conditions are SQLite's: the two that differ are said in PostgreSQL.
            std::string condition = where == "1" ? "true" : where;
            static const std::regex cast(R"(CAST\(body AS TEXT\))");
            static const std::regex instr(R"(instr\(([^,]*), '([^']*)'\))");
            condition = std::regex_replace(condition, instr, "position('$2' in $1)");
            condition = std::regex_replace(condition, cast, "convert_from(body, 'UTF8')");
            return count_rows_postgresql(*uri, "SELECT count(*) FROM " + table + " WHERE " +
                                                   (condition.empty() ? "true" : condition));
        }
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + path.string() + ": " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    long count = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        count = sqlite3_column_int64(stmt, 0);
    }
    std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (count < 0) throw std::runtime_error("cannot count rows: " + msg);
    return count;
}

long raise_fd_limit() {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
    return static_cast<long>(lim.rlim_cur);
}

}  // namespace ariadne::e2e
