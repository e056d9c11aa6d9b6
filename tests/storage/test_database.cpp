// The group-committing writer and the read pool, on a real SQLite file: a job refuses itself
// without failing its batch, SQLite failures fail the batch, completions see durable rows.
// Compiled a second time with ARIADNE_TEST_ON_POSTGRESQL (tests/pg: pg.DatabaseTest.*): the
// same tests on a fresh schema of the test cluster, where the writer runs in libpq's
// pipeline mode (a job's SAVEPOINT and the previous RELEASE ride with its first statement).
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/storage/database.h"
#ifdef ARIADNE_TEST_ON_POSTGRESQL
#include "support/pg_test_database.h"
#endif

namespace ariadne::storage {
namespace {

class DatabaseTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-database-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        options_.path = dir_ / "t.db";
#ifdef ARIADNE_TEST_ON_POSTGRESQL
        pg_ = std::make_unique<testing::PgTestDatabase>();
        options_.path = pg_->uri();
#endif
        options_.max_delay = std::chrono::milliseconds(50);  // room to gather a batch
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static void schema(Connection& db) {
        db.exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    }

    /// A job inserting (k, v) that reports its status to the returned future.
    static std::future<CommitStatus> insert(Database& db, int k, std::string v,
                                            std::function<void(Connection&)> after = {}) {
        auto status = std::make_shared<std::promise<CommitStatus>>();
        auto result = status->get_future();
        auto job = std::make_shared<Database::Job>();
        job->apply = [k, v, after](Connection& c) {
            c.cached("INSERT INTO t(k, v) VALUES (?1, ?2)").bind(1, k).bind(2, v).run();
            if (after) after(c);
        };
        job->done = [status](CommitStatus s) { status->set_value(s); };
        db.submit(std::move(job));
        return result;
    }

    std::int64_t rows() const {
        Connection c(options_.path, ConnectionOptions{.mode = OpenMode::read_only});
        auto s = c.prepare("SELECT count(*) FROM t");
        s.step();
        return s.integer(0);
    }

#ifdef ARIADNE_TEST_ON_POSTGRESQL
    std::unique_ptr<testing::PgTestDatabase> pg_;
#endif
    std::filesystem::path dir_;
    DatabaseOptions options_;
};

TEST_F(DatabaseTest, ARefusingJobIsRolledBackAloneAndTheRestOfItsBatchCommitsOnce) {
    options_.max_delay = std::chrono::milliseconds(500);  // the four jobs make one batch
    Database db(options_, schema);
    db.start({});
    auto a = insert(db, 1, "a");
    auto refused = insert(db, 2, "b", [](Connection&) { throw JobRejected{}; });
    auto unknown = insert(db, 3, "c", [](Connection&) {
        throw Error(ErrorKind::not_found, 0, "No survivor account has the id x.");
    });
    auto d = insert(db, 4, "d");
    EXPECT_EQ(a.get(), CommitStatus::committed);
    EXPECT_EQ(refused.get(), CommitStatus::rejected);
    EXPECT_EQ(unknown.get(), CommitStatus::rejected);
    EXPECT_EQ(d.get(), CommitStatus::committed);
    EXPECT_EQ(db.commit_count(), 1u);  // one group commit for the four jobs
    EXPECT_EQ(rows(), 2);
}

TEST_F(DatabaseTest, AnSqliteErrorInAJobFailsItAndItsSavepointLeavesNothing) {
    Database db(options_, schema);
    db.start({});
    EXPECT_EQ(insert(db, 1, "a").get(), CommitStatus::committed);
    // The same primary key again: SQLite's constraint error, not a refusal of the job's own.
    auto again = insert(db, 1, "again");
    auto other = insert(db, 2, "b");
    EXPECT_EQ(again.get(), CommitStatus::failed);
    EXPECT_EQ(other.get(), CommitStatus::committed);
    EXPECT_EQ(rows(), 2);
}

TEST_F(DatabaseTest, ACompletionRunsOnlyOnceItsRowsAreVisibleToAnotherConnection) {
    Database db(options_, schema);
    db.start({});
    std::promise<std::int64_t> seen;
    auto job = std::make_shared<Database::Job>();
    job->apply = [](Connection& c) { c.exec("INSERT INTO t(k, v) VALUES (7, 'x')"); };
    job->done = [&](CommitStatus) { seen.set_value(rows()); };
    db.submit(job);
    EXPECT_EQ(seen.get_future().get(), 1);
}

TEST_F(DatabaseTest, RunSyncRethrowsTheJobsOwnErrorAndKeepsNothingOfIt) {
    Database db(options_, schema);
    db.start({});
    try {
        db.run_sync([](Connection& c) {
            c.exec("INSERT INTO t(k, v) VALUES (1, 'a')");
            throw Error(ErrorKind::constraint, 0, "That username is already taken.");
        });
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::constraint);
        EXPECT_STREQ(e.what(), "That username is already taken.");
    }
    db.flush();
    EXPECT_EQ(rows(), 0);
    db.run_sync([](Connection& c) { c.exec("INSERT INTO t(k, v) VALUES (2, 'b')"); });
    EXPECT_EQ(db.read([](Connection& c) {
        auto s = c.cached("SELECT v FROM t WHERE k = 2");
        return s.step() ? s.text(0) : std::string();
    }),
              "b");
}

TEST_F(DatabaseTest, TheMaintenanceTickRunsOnTheWriterWhenIdle) {
    options_.maintenance_interval = std::chrono::seconds(0);
    Database db(options_, schema);
    std::promise<void> ticked;
    bool once = false;
    db.start([&](Connection& c) {
        if (once) return;
        once = true;
        c.exec("INSERT INTO t(k, v) VALUES (9, 'tick')");  // autocommit: the tick's own write
        ticked.set_value();
    });
    ASSERT_EQ(ticked.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(rows(), 1);
}

TEST_F(DatabaseTest, ReadsInsideAScopeShareOneSnapshot) {
    Database db(options_, schema);
    db.start({});
    auto count = [&] {
        return db.read([](Connection& c) {
            auto s = c.cached("SELECT count(*) FROM t");
            s.step();
            return s.integer(0);
        });
    };
    {
        Database::ReadScope scope(db);
        EXPECT_EQ(count(), 0);
        EXPECT_EQ(insert(db, 1, "a").get(), CommitStatus::committed);
        EXPECT_EQ(count(), 0);
    }
    EXPECT_EQ(count(), 1);
}

TEST_F(DatabaseTest, AFileThatCannotBeCreatedIsAStorageError) {
#ifdef ARIADNE_TEST_ON_POSTGRESQL
    GTEST_SKIP() << "a file's test";
#endif
    options_.path = dir_ / "missing" / "t.db";
    EXPECT_THROW(Database(options_, schema), Error);
}

}  // namespace
}  // namespace ariadne::storage
