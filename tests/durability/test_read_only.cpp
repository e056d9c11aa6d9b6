// A database that becomes read-only under the running gateway. Every file of the data
// directory (the database, its WAL, the server key and certificate) except the WAL index
// (-shm, see below) and the directory itself are made immutable (FS_IMMUTABLE_FL, what `chattr +i` sets): from then on every write(2) on
// the descriptors SQLite already holds fails (EPERM), as on a file system the kernel
// remounted read-only after an error (EROFS). A real read-only remount cannot be done while
// SQLite holds the files open for writing (EBUSY), hence the flag. Checked: sends are
// refused with `storage_unavailable` (never acknowledged), the server and the connection
// stay up, sends succeed again without a restart once the files are writable, and nothing
// acknowledged is lost, also across a kill -9. Needs root (CAP_LINUX_IMMUTABLE) and a file
// system with the flag (ext4, xfs, btrfs, tmpfs >= 6.0); skipped with the reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "traffic.h"

namespace ariadne::durability {
namespace {

/// Sets or clears FS_IMMUTABLE_FL on `path`; returns "" or the reason it could not.
std::string set_immutable(const std::filesystem::path& path, bool on) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::string("open: ") + std::strerror(errno);
    int flags = 0;
    std::string error;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
        error = std::string("FS_IOC_GETFLAGS: ") + std::strerror(errno);
    } else {
        flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) {
            error = std::string("FS_IOC_SETFLAGS: ") + std::strerror(errno);
        }
    }
    close(fd);
    return error;
}

/// Makes the data directory and everything in it immutable; undone on destruction.
class ReadOnlyData {
  public:
    explicit ReadOnlyData(const std::filesystem::path& dir) {
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            // Not the WAL index (-shm): SQLite maps it and writes through the mapping, and
            // a write fault on an immutable (or read-only) mapped file is SIGBUS. See the
            // note in docs/benchmarks.md ("Durability and overload tests").
            if (!entry.is_regular_file() || entry.path().string().ends_with("-shm")) continue;
            if (auto e = set_immutable(entry.path(), true); !e.empty()) {
                error_ = entry.path().filename().string() + ": " + e;
                return;
            }
            done_.push_back(entry.path());
        }
        if (auto e = set_immutable(dir, true); !e.empty()) {
            error_ = "the directory: " + e;
            return;
        }
        done_.push_back(dir);
    }
    ~ReadOnlyData() { release(); }
    void release() {
        for (auto it = done_.rbegin(); it != done_.rend(); ++it) set_immutable(*it, false);
        done_.clear();
    }
    const std::string& error() const { return error_; }
    std::size_t count() const { return done_.size(); }

  private:
    std::vector<std::filesystem::path> done_;
    std::string error_;
};

TEST(ReadOnlyDatabase, SendsAreRefusedWithStorageUnavailableAndSucceedAgainWhenWritable) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root (CAP_LINUX_IMMUTABLE) to make the database files immutable";
    }
    e2e::TempDir tmp;
    Cluster cluster(tmp.path(), 1);
    Ledger ledger;
    std::uint32_t seq = 0;
    auto sender = cluster.survivor(0);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(send_numbered(*sender, cluster, ledger, seq), "ok");

    std::size_t refused = 0, accepted = 0;
    {
        ReadOnlyData ro(cluster.gateway.data_dir());
        if (!ro.error().empty()) {
            ro.release();
            GTEST_SKIP() << "this file system cannot make files immutable (" << ro.error() << ")";
        }
        for (int i = 0; i < 10; ++i) {
            std::string code;
            try {
                code = send_numbered(*sender, cluster, ledger, seq);
            } catch (const std::exception& e) {
                FAIL() << e.what() << "\nserver log:\n" << cluster.gateway.log();
            }
            if (code == "ok") {
                ++accepted;
            } else {
                EXPECT_EQ(code, "storage_unavailable");
                ++refused;
            }
        }
        std::cout << "[ read-only ] " << ro.count() << " paths immutable: " << refused
                  << " sends refused, " << accepted << " accepted\n";
        EXPECT_EQ(accepted, 0u) << "a send was acknowledged although nothing can be written";
        EXPECT_EQ(kill(cluster.gateway.pid(), 0), 0) << "the server died on a read-only database";
        // The connection stays usable meanwhile.
        EXPECT_EQ(sender->request({{"type", "ping"}})["type"], "ok");
    }

    // Writable again: sends succeed without a restart.
    std::string code;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((code = send_numbered(*sender, cluster, ledger, seq)) != "ok" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(code, "ok") << "the gateway did not recover when the database became writable";
    for (int i = 0; i < 20; ++i) EXPECT_EQ(send_numbered(*sender, cluster, ledger, seq), "ok");

    // Nothing acknowledged was lost, nothing refused was stored; also across a kill -9.
    cluster.gateway.stop(SIGKILL);
    cluster.gateway.start();
    std::atomic<bool> stop{false};
    for (std::size_t d = 0; d < 2; ++d) {
        auto conn = cluster.console(d);
        run_receiver(*conn, cluster, d, ledger, stop, 1000ms);
    }
    for (const auto& v : ledger.violations(cluster.console_ids)) ADD_FAILURE() << v;
    EXPECT_EQ(ledger.received(cluster.console_ids[0]), ledger.count(Ledger::Outcome::acked));
    EXPECT_GE(ledger.count(Ledger::Outcome::acked), 41u);
}

}  // namespace
}  // namespace ariadne::durability
