// The log's format for journald: a "<N>" syslog priority per level, used only when stderr is
// the stream $JOURNAL_STREAM names.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "ariadne/app/logging.h"

namespace ariadne::gateway {
namespace {

TEST(Logging, LevelsMapToTheSyslogPrioritiesJournaldReads) {
    EXPECT_EQ(journal_priority("critical"), 3);
    EXPECT_EQ(journal_priority("error"), 3);
    EXPECT_EQ(journal_priority("warning"), 4);
    EXPECT_EQ(journal_priority("info"), 6);
    EXPECT_EQ(journal_priority("debug"), 7);
    EXPECT_EQ(journal_priority("trace"), 7);
}

TEST(Logging, StderrIsTheJournalOnlyWhenJournalStreamNamesItsDeviceAndInode) {
    struct stat st {};
    ASSERT_EQ(::fstat(2, &st), 0);
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const char* saved = std::getenv("JOURNAL_STREAM");
    const std::string restore = saved ? saved : "";
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(stderr_is_journal());
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    EXPECT_TRUE(stderr_is_journal());
    const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    ::setenv("JOURNAL_STREAM", other.c_str(), 1);
    EXPECT_FALSE(stderr_is_journal());
    const std::string trailing = mine + "x";
    for (const std::string& bad :
         {std::string(), std::string("garbage"), std::string("12"), trailing}) {
        ::setenv("JOURNAL_STREAM", bad.c_str(), 1);
        EXPECT_FALSE(stderr_is_journal()) << bad;
    }
    if (saved) {
        ::setenv("JOURNAL_STREAM", restore.c_str(), 1);
    } else {
        ::unsetenv("JOURNAL_STREAM");
    }
}

}  // namespace
}  // namespace ariadne::gateway
