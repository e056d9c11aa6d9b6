// EdgeHistory: the edge devices' own database (history rows, pending replies, accounts),
// holding sealed blobs under tags, and EdgeFiles: where edge files live.
#include "ariadne/storage/edge_history.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "ariadne/storage/edge_files.h"

namespace ariadne::storage {
namespace {

using Blob = std::vector<std::uint8_t>;

const std::string kTagA(32, 'a');
const std::string kTagB(32, 'b');

class EdgeHistoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-edge-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path file() const { return dir_ / "history.db"; }
    std::filesystem::path dir_;
};

std::vector<std::int64_t> times(const std::vector<EdgeHistoryRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.at_ms);
    return out;
}

TEST_F(EdgeHistoryTest, TheFileIsPrivateDurableAndTheOldDuressTableIsGone) {
    {
        Connection old(file(), {});
        old.exec("CREATE TABLE edge_duress(tag TEXT)");
    }
    { EdgeHistory h(file()); }
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "history.db-wal") &&
                 std::filesystem::file_size(dir_ / "history.db-wal") > 0);
    Connection c(file(), {});
    auto mode = c.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.text(0), "wal");
    auto q = c.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'edge_duress'");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.integer(0), 0);
}

TEST_F(EdgeHistoryTest, RowsComeBackByTagInOrderAsTheSealedBytesGiven) {
    {
        EdgeHistory h(file());
        h.append(kTagA, 10, {1, 2, 3}, 100);
        h.append(kTagB, 20, {9}, 100);
        h.append(kTagA, 5, {4, 0, 5}, 100);  // order is insertion order, not time
    }
    EdgeHistory h(file());
    auto rows = h.rows(kTagA);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at_ms, 10);
    EXPECT_EQ(rows[0].sealed, (Blob{1, 2, 3}));
    EXPECT_EQ(rows[1].at_ms, 5);
    EXPECT_EQ(rows[1].sealed, (Blob{4, 0, 5}));
    EXPECT_EQ(h.rows(kTagB).size(), 1u);
    EXPECT_TRUE(h.rows(std::string(32, 'c')).empty());
}

TEST_F(EdgeHistoryTest, OnlyTheNewestRowsUpToTheLimitAreKeptPerTag) {
    EdgeHistory h(file());
    for (int i = 1; i <= 5; ++i) h.append(kTagA, i, {static_cast<std::uint8_t>(i)}, 3);
    h.append(kTagB, 100, {1}, 3);
    EXPECT_EQ(times(h.rows(kTagA)), (std::vector<std::int64_t>{3, 4, 5}));
    EXPECT_EQ(times(h.rows(kTagB)), (std::vector<std::int64_t>{100}));
}

TEST_F(EdgeHistoryTest, AReplyIsStoredWithItsPendingCopyUntilForgotten) {
    {
        EdgeHistory h(file());
        h.append_with_pending(kTagA, 7, {1}, 42, {0xAA, 0xBB}, 10);
        EXPECT_EQ(h.pending(kTagA, 43), std::nullopt);
        EXPECT_EQ(h.pending(kTagB, 42), std::nullopt);
    }
    EdgeHistory h(file());
    EXPECT_EQ(times(h.rows(kTagA)), (std::vector<std::int64_t>{7}));
    EXPECT_EQ(h.pending(kTagA, 42), (Blob{0xAA, 0xBB}));
    h.append_with_pending(kTagA, 8, {2}, 42, {0xCC}, 10);  // decrypted again: replaced
    EXPECT_EQ(h.pending(kTagA, 42), (Blob{0xCC}));
    h.forget_pending(kTagA, 42);
    EXPECT_EQ(h.pending(kTagA, 42), std::nullopt);
    h.forget_pending(kTagA, 42);  // nothing left: no error
}

TEST_F(EdgeHistoryTest, AnAccountIsRememberedOnceWithItsFirstSealedId) {
    {
        EdgeHistory h(file());
        h.remember_account(kTagA, {1, 1});
        h.remember_account(kTagA, {2, 2});
        h.remember_account(kTagB, {3});
    }
    EdgeHistory h(file());
    auto accounts = h.accounts();
    std::sort(accounts.begin(), accounts.end());
    EXPECT_EQ(accounts, (std::vector<Blob>{{1, 1}, {3}}));
}

TEST_F(EdgeHistoryTest, AFileThatIsNotADatabaseIsAStorageError) {
    std::ofstream(file()) << std::string(4096, 'x');
    EXPECT_THROW(EdgeHistory h(file()), Error);
}

TEST_F(EdgeHistoryTest, EdgeFilesLiveInAPrivateDirectoryAndListOnlyIdentityStores) {
    EdgeFiles files(dir_);
    EXPECT_EQ(files.directory(), dir_ / "edge");
    EXPECT_TRUE(files.identity_stores().empty());  // no directory yet
    files.create_directory();
    struct stat st {};
    ASSERT_EQ(::stat(files.directory().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(files.history(), dir_ / "edge" / "history.db");
    EXPECT_EQ(files.identity_store(kTagB), dir_ / "edge" / (kTagB + ".db"));
    EXPECT_THROW(files.identity_store("../server"), std::invalid_argument);
    EXPECT_THROW(files.identity_store(std::string(32, 'A')), std::invalid_argument);
    for (const auto& name :
         {kTagB + ".db", kTagA + ".db", kTagA + ".db-wal", kTagA + ".db-shm",
          std::string("history.db"), std::string("notes.txt"), std::string(31, 'a') + ".db"}) {
        std::ofstream(files.directory() / name) << "x";
    }
    std::filesystem::create_directory(files.directory() / (std::string(32, 'c') + ".db"));
    EXPECT_EQ(files.identity_stores(),
              (std::vector<std::filesystem::path>{files.identity_store(kTagA),
                                                  files.identity_store(kTagB)}));
}

}  // namespace
}  // namespace ariadne::storage
