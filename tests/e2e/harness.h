// End-to-end test harness: runs the real `ariadne` server binary as a subprocess on
// 127.0.0.1 (port 0, temp data directory, cheap test parameters), provisions accounts with
// its admin commands, and opens real TLS WebSocket connections to it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/client/connection.h"

namespace ariadne::e2e {

using Json = nlohmann::json;
using namespace std::chrono_literals;

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

struct ProcessResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    std::string out;
    std::string err;
};

/// Runs `argv` to completion, feeding `input` on stdin. Fails the test (throws) after
/// `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::seconds timeout = 60s);

/// True in the suite's PostgreSQL run (ARIADNE_TEST_PG_DIR set by the `pg` fixture): each Gateway's
/// data directory then names a fresh schema on the test cluster in DATA_DIR/database.
bool postgresql_backend();

/// Path of the server binary under test (set by CMake).
std::string server_binary();

/// One `ariadne serve` subprocess over a data directory it does not own (so a test can
/// stop it and start another on the same directory: restarts).
class Gateway {
  public:
    explicit Gateway(std::filesystem::path data_dir, std::vector<std::string> extra_args = {});
    /// Sends SIGKILL if still running.
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    /// Extra environment ("NAME=value") for the server process, from the next start().
    void set_environment(std::vector<std::string> env) { extra_env_ = std::move(env); }

    /// Spawns the server and waits for its "listening on" line (port and fingerprint).
    void start();
    /// Sends `signal` and waits for exit; returns the exit code (128+signal if killed).
    int stop(int signal = 15, std::chrono::seconds timeout = 30s);
    bool running() const { return pid_ > 0; }

    pid_t pid() const { return pid_; }
    std::uint16_t port() const { return port_; }
    const std::string& fingerprint() const { return fingerprint_; }
    client::Endpoint endpoint() const;
    std::string url() const;
    const std::filesystem::path& data_dir() const { return data_dir_; }
    /// VmRSS of the server process in KiB (from /proc/PID/status).
    long rss_kib() const;
    /// What the server wrote to stderr so far.
    std::string log() const;
    /// The first line the server wrote to stdout that matches `pattern`, waiting up to
    /// `timeout` for it (nullopt if none came or the server closed stdout).
    std::optional<std::string> stdout_line(const std::regex& pattern,
                                           std::chrono::seconds timeout = 10s) const;

    /// Opens a raw connection to this server.
    std::unique_ptr<client::Connection> connect(
        const client::ConnectionOptions& options = {},
        std::shared_ptr<client::Runtime> runtime = nullptr) const;

    // -- admin commands (run against the data directory) --------------------------------
    struct Caseworker {
        std::string account;
        std::string username;
        std::string password;
        std::string totp_secret;  // base32
    };
    Caseworker add_caseworker(const std::string& username,
                              const std::string& password = "correct horse battery") const;
    struct Survivor {
        std::string account;
        std::string recovery_code;
        std::string case_code;
    };
    /// Enrols her (initials "A.B.", language en, a time zone where it is now about noon, so
    /// quiet hours never interfere) and, when `consent_replies`, records her consent to
    /// replies on the app channel, recorded by `caseworker_account`.
    Survivor enrol_survivor(const std::string& caseworker_account,
                            bool consent_replies = true) const;
    /// An Etc/GMT±N zone in which the local time is now between 11:00 and 13:00.
    static std::string daytime_zone();
    void assign(const std::string& survivor_account, const std::string& caseworker_account) const;
    /// Runs `ariadne admin <args> --data-dir D` with `input` on stdin; throws on failure.
    Json admin(std::vector<std::string> args, const std::string& input = "") const;

  private:
    /// PostgreSQL run: the server's log must never hold the database password.
    void check_log_keeps_password() const;

    std::filesystem::path data_dir_;
    std::vector<std::string> extra_args_;
    std::vector<std::string> extra_env_;
    std::filesystem::path log_path_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::thread stdout_reader_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::vector<std::string> stdout_lines_;
    bool stdout_closed_ = false;
    std::uint16_t port_ = 0;
    std::string fingerprint_;
};

/// Counts rows of `table` in the SQLite database at `path` (read-only open). In the PostgreSQL
/// run, `<data>/ariadne.db` and `<data>/edge/history.db` name the data directory's database.
long count_rows(const std::filesystem::path& path, const std::string& table,
                const std::string& where = "");

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
long raise_fd_limit();

}  // namespace ariadne::e2e
