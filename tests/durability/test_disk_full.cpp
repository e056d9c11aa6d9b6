// A full disk: the gateway's data directory is a small tmpfs that a filler file fills up.
// Sends are then refused with `storage_unavailable` (never acknowledged), the server keeps
// running and logs the episode once (and its end), nothing acknowledged before is lost, and
// sends succeed again as soon as space returns. Needs root (to mount the tmpfs); skipped with a
// reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "traffic.h"

namespace ariadne::durability {
namespace {

/// Mounts a tmpfs of `size_kib` at `dir` and unmounts it on destruction.
class SmallDisk {
  public:
    SmallDisk(const std::filesystem::path& dir, int size_kib) : dir_(dir) {
        std::filesystem::create_directories(dir);
        std::string options = "size=" + std::to_string(size_kib) + "k,mode=0700";
        if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
            error_ = std::strerror(errno);
        }
    }
    ~SmallDisk() {
        if (error_.empty()) umount2(dir_.c_str(), MNT_DETACH);
    }
    const std::string& error() const { return error_; }

  private:
    std::filesystem::path dir_;
    std::string error_;
};

/// Writes a file until the file system is full; returns the bytes written.
std::size_t fill(const std::filesystem::path& file) {
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create the filler file");
    std::string chunk(4096, 'x');
    std::size_t total = 0;
    for (;;) {
        ssize_t w = write(fd, chunk.data(), chunk.size());
        if (w <= 0) break;
        total += static_cast<std::size_t>(w);
    }
    fsync(fd);
    close(fd);
    return total;
}

TEST(DiskFull, SendsAreRefusedWithStorageUnavailableAndSucceedAgainWhenSpaceReturns) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to mount a small tmpfs as the data directory";
    }
    e2e::TempDir tmp;
    SmallDisk disk(tmp.path() / "data", 8 * 1024);
    if (!disk.error().empty()) {
        GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error()
                     << "): no private mount namespace or CAP_SYS_ADMIN";
    }
    Cluster cluster(tmp.path(), 1);
    Ledger ledger;
    std::uint32_t seq = 0;
    auto sender = cluster.survivor(0);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(send_numbered(*sender, cluster, ledger, seq), "ok");

    // Fill the disk. SQLite may still reuse free space in the WAL for a while; it must
    // refuse as soon as it cannot write, and never acknowledge what it could not store.
    const auto filler = cluster.gateway.data_dir() / "filler";
    ASSERT_GT(fill(filler), 0u);
    std::size_t refused = 0, accepted_while_full = 0;
    for (int i = 0; i < 400 && refused < 5; ++i) {
        auto code = send_numbered(*sender, cluster, ledger, seq);
        if (code == "ok") {
            ++accepted_while_full;
        } else {
            EXPECT_EQ(code, "storage_unavailable");
            ++refused;
        }
    }
    std::cout << "[ disk full ] " << accepted_while_full << " sends fitted in free WAL space, then "
              << refused << " refused\n";
    ASSERT_EQ(refused, 5u) << "the full disk never made a send fail";
    EXPECT_EQ(kill(cluster.gateway.pid(), 0), 0) << "the server died on a full disk";
    // The connection stays usable while the disk is full.
    EXPECT_EQ(sender->request({{"type", "ping"}})["type"], "ok");

    // Space returns: sends succeed again without a restart.
    std::filesystem::remove(filler);
    std::string code;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((code = send_numbered(*sender, cluster, ledger, seq)) != "ok" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(code, "ok") << "the gateway did not recover when space returned";
    for (int i = 0; i < 20; ++i) EXPECT_EQ(send_numbered(*sender, cluster, ledger, seq), "ok");

    // The episode is in the log once, not once per refused send, and its end too.
    const std::string log = cluster.gateway.log();
    auto count = [&log](const std::string& needle) {
        std::size_t n = 0;
        for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count("storage: writes are failing"), 1u) << log;
    EXPECT_EQ(count("storage: writes succeed again"), 1u) << log;

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
