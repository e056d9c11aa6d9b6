// Several repositories open their own Connection to the gateway's one database file. Opening
// one must never release the SQLite locks another connection of the same process holds
// (closing any descriptor of a file drops all of a process's POSIX locks on it): otherwise
// another process can write under a transaction in progress, or checkpoint and delete the
// WAL a running gateway still writes to.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>

#include "ariadne/sqlite/sqlite.h"

namespace ariadne::sqlite {
namespace {

// Whether another process sees a SQLite shared lock on the database file: every open WAL
// connection holds one, and a closing connection that finds none checkpoints and deletes the
// WAL. The byte range is SQLite's file format (PENDING_BYTE 0x40000000; the shared range
// starts two bytes after it and is 510 bytes long: sqlite.org/lockingv3.html). Asked with
// fcntl from a child process, since a process never conflicts with its own locks.
bool another_process_sees_a_connection(const std::filesystem::path& path) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) ::_exit(2);
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        probe.l_start = 0x40000000 + 2;
        probe.l_len = 510;
        if (::fcntl(fd, F_GETLK, &probe) != 0) ::_exit(2);
        ::_exit(probe.l_type == F_UNLCK ? 1 : 0);  // no destructors of the parent's objects
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 2) << "the child could not probe the database file";
    return WEXITSTATUS(status) == 0;
}

}  // namespace

TEST(SqliteLocks, OpeningAnotherConnectionToTheFileKeepsTheFirstOnesLock) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("ariadne-sqlite-locks-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto path = dir / "t.db";
    {
        Connection first(path, ConnectionOptions{});
        first.exec("CREATE TABLE t(x)");
        ASSERT_TRUE(another_process_sees_a_connection(path));
        Connection second(path, ConnectionOptions{});  // e.g. another repository's connection
        EXPECT_TRUE(another_process_sees_a_connection(path))
            << "opening a second connection released the first one's lock";
    }
    std::filesystem::remove_all(dir);
}

}  // namespace ariadne::sqlite
