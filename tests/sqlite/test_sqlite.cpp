// The one SQLite wrapper: file mode, pragmas, statements, transactions and error kinds.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "ariadne/sqlite/sqlite.h"

namespace ariadne::sqlite {
namespace {

class SqliteTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-sqlite-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path db() const { return dir_ / "t.db"; }
    std::filesystem::path dir_;
};

TEST_F(SqliteTest, CreatesTheFileReadableOnlyByItsOwnerWithDurablePragmas) {
    Connection c(db(), {});
    struct stat st {};
    ASSERT_EQ(::stat(db().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto q = c.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "wal");
    auto s = c.prepare("PRAGMA synchronous");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.integer(0), 2);  // FULL
    auto d = c.prepare("PRAGMA secure_delete");
    ASSERT_TRUE(d.step());
    EXPECT_EQ(d.integer(0), 1);
}

TEST_F(SqliteTest, BindsAndReadsEveryTypeIncludingAnEmptyBlobThatIsNotNull) {
    Connection c(db(), {});
    c.exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB NOT NULL, n TEXT)");
    std::vector<std::uint8_t> bytes = {0, 1, 2, 255};
    c.prepare("INSERT INTO t VALUES (?,?,?,?)")
        .bind(1, std::int64_t{-5})
        .bind(2, std::string_view("a\0b", 3))
        .bind_blob(3, bytes)
        .bind_null(4)
        .run();
    c.prepare("INSERT INTO t VALUES (1,'',?,NULL)").bind_blob(1, {}).run();
    auto q = c.prepare("SELECT i, s, b, n FROM t ORDER BY rowid");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.integer(0), -5);
    EXPECT_EQ(q.text(1), std::string("a\0b", 3));
    EXPECT_EQ(q.blob(2), bytes);
    EXPECT_TRUE(q.is_null(3));
    ASSERT_TRUE(q.step());
    EXPECT_FALSE(q.is_null(2));
    EXPECT_TRUE(q.blob(2).empty());
    EXPECT_FALSE(q.step());
}

TEST_F(SqliteTest, CachedStatementsAreResetAndReusable) {
    Connection c(db(), {});
    c.exec("CREATE TABLE t(x INTEGER)");
    for (int i = 0; i < 3; ++i) c.cached("INSERT INTO t VALUES (?)").bind(1, i).run();
    auto q = c.cached("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.integer(0), 3);
}

TEST_F(SqliteTest, AnUncommittedTransactionLeavesNothingAndANestedOneIsASavepoint) {
    Connection c(db(), {});
    c.exec("CREATE TABLE t(x INTEGER)");
    {
        Transaction tx(c);
        c.exec("INSERT INTO t VALUES (1)");
    }
    {
        Transaction outer(c);
        c.exec("INSERT INTO t VALUES (2)");
        {
            Transaction inner(c);
            c.exec("INSERT INTO t VALUES (3)");
        }
        outer.commit();
    }
    EXPECT_FALSE(c.in_transaction());
    auto q = c.prepare("SELECT group_concat(x) FROM t");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "2");
}

TEST_F(SqliteTest, ErrorsNameTheOperationAndKindButNeverTheBoundValue) {
    Connection c(db(), {});
    c.exec("CREATE TABLE t(x TEXT PRIMARY KEY)");
    c.prepare("INSERT INTO t VALUES (?)").bind(1, "secret-value-1").run();
    try {
        c.prepare("INSERT INTO t VALUES (?)").bind(1, "secret-value-1").run();
        FAIL() << "a duplicate key must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::constraint);
        EXPECT_NE(std::string(e.what()).find("failed to run a statement"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
    }
    EXPECT_THROW(c.prepare("SELEC nonsense"), Error);
}

TEST_F(SqliteTest, AReadOnlyConnectionRefusesWritesAndAMissingFileIsNotCreated) {
    {
        Connection c(db(), {});
        c.exec("CREATE TABLE t(x)");
    }
    Connection r(db(), {.mode = OpenMode::read_only});
    EXPECT_THROW(r.exec("INSERT INTO t VALUES (1)"), Error);
    EXPECT_THROW(Connection(dir_ / "missing.db", {.mode = OpenMode::read_write}), Error);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.db"));
}

TEST_F(SqliteTest, AFileThatIsNotADatabaseIsReportedAsCorrupt) {
    {
        std::FILE* f = std::fopen(db().c_str(), "w");
        std::fputs(std::string(4096, 'x').c_str(), f);
        std::fclose(f);
    }
    try {
        Connection c(db(), {.mode = OpenMode::read_write});
        c.exec("SELECT * FROM sqlite_master");
        FAIL() << "must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::corrupt);
    }
}

}  // namespace
}  // namespace ariadne::sqlite

namespace ariadne::sqlite {
namespace {

TEST_F(SqliteTest, ABorrowedHandleIsUsedButNotClosed) {
    Connection owner(db(), {});
    owner.exec("CREATE TABLE t(x)");
    {
        Connection borrowed(owner.handle());
        borrowed.cached("INSERT INTO t VALUES (7)").run();
        EXPECT_EQ(borrowed.path(), std::filesystem::canonical(db()));
    }
    auto q = owner.prepare("SELECT x FROM t");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.integer(0), 7);
}

TEST_F(SqliteTest, AnErrorSaysWhichCallFailedAndSqlitesOwnSentence) {
    Connection c(db(), {});
    try {
        c.prepare("SELECT x FROM nowhere");
        FAIL() << "a missing table must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), Operation::prepare);
        EXPECT_EQ(e.reason(), "no such table: nowhere");
        EXPECT_EQ(std::string(e.what()),
                  "The database failed to prepare a statement: SQL logic error.");
    }
    c.exec("CREATE TABLE t(x TEXT PRIMARY KEY)");
    c.prepare("INSERT INTO t VALUES ('a')").run();
    try {
        c.prepare("INSERT INTO t VALUES ('a')").run();
        FAIL() << "a duplicate key must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), Operation::step);
        EXPECT_EQ(e.reason(), "UNIQUE constraint failed: t.x");
    }
    try {
        c.exec("BEGIN; BEGIN;");
        FAIL() << "a nested BEGIN must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), Operation::exec);
        EXPECT_EQ(e.reason(), "cannot start a transaction within a transaction");
    }
}

TEST_F(SqliteTest, AFileThatCannotBeCreatedSaysWhyInTheSystemsWords) {
    try {
        Connection c(dir_ / "no-such-dir" / "t.db", {});
        FAIL() << "must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.operation(), Operation::create_file);
        EXPECT_EQ(e.reason(), "No such file or directory");
    }
}

TEST_F(SqliteTest, AClientStoreCanOpenWithoutWalAndWithoutForeignKeys) {
    Connection c(db(), {.wal = false, .foreign_keys = false});
    auto journal = c.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(journal.step());
    EXPECT_EQ(journal.text(0), "delete");
    auto keys = c.prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(keys.step());
    EXPECT_EQ(keys.integer(0), 0);
    auto sync = c.prepare("PRAGMA synchronous");
    ASSERT_TRUE(sync.step());
    EXPECT_EQ(sync.integer(0), 2);  // FULL
    auto secure = c.prepare("PRAGMA secure_delete");
    ASSERT_TRUE(secure.step());
    EXPECT_EQ(secure.integer(0), 1);
}

}  // namespace
}  // namespace ariadne::sqlite
