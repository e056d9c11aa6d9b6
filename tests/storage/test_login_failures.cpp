// The shared ledger of failed logins on a real SQLite file: newest first within a window,
// cleared per key, and old rows deleted by later writes, a bounded number at a time.
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/storage/database.h"
#include "ariadne/storage/login_failures.h"
#include "ariadne/storage/migrations.h"

namespace ariadne::storage {
namespace {

class LoginFailuresTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-login-failures-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        DatabaseOptions options;
        options.path = dir_ / "ariadne.db";
        db_ = std::make_unique<Database>(options,
                                         [](Connection& c) { migrate(c, main_migrations()); });
        db_->start([](Connection&) {});
        failures_ = std::make_unique<LoginFailures>(*db_);
    }
    void TearDown() override {
        failures_.reset();
        db_.reset();
        std::filesystem::remove_all(dir_);
    }

    CommitStatus record(std::vector<std::string> keys, std::int64_t at, std::int64_t forget_before,
                        std::size_t purge = 64) {
        std::promise<CommitStatus> status;
        failures_->record(std::move(keys), at, forget_before, purge,
                          [&](CommitStatus s) { status.set_value(s); });
        return status.get_future().get();
    }
    std::int64_t rows() {
        return db_->read([](Connection& c) {
            auto s = c.prepare("SELECT count(*) FROM gateway_login_failures");
            s.step();
            return s.integer(0);
        });
    }

    std::filesystem::path dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<LoginFailures> failures_;
};

TEST_F(LoginFailuresTest, FailuresAreReadNewestFirstWithinTheWindowAndUpToTheLimit) {
    for (std::int64_t t : {1000, 3000, 2000, 5000}) {
        ASSERT_EQ(record({"name", "address"}, t, 0), CommitStatus::committed);
    }
    ASSERT_EQ(record({"other"}, 4000, 0), CommitStatus::committed);
    EXPECT_EQ(failures_->newest("name", 0, 10),
              (std::vector<std::int64_t>{5000, 3000, 2000, 1000}));
    EXPECT_EQ(failures_->newest("name", 2000, 10), (std::vector<std::int64_t>{5000, 3000, 2000}));
    EXPECT_EQ(failures_->newest("address", 0, 2), (std::vector<std::int64_t>{5000, 3000}));
    EXPECT_TRUE(failures_->newest("nobody", 0, 10).empty());
}

TEST_F(LoginFailuresTest, ClearingAKeyForgetsOnlyItsFailures) {
    ASSERT_EQ(record({"name", "address"}, 1000, 0), CommitStatus::committed);
    std::promise<CommitStatus> cleared;
    failures_->clear("name", [&](CommitStatus s) { cleared.set_value(s); });
    ASSERT_EQ(cleared.get_future().get(), CommitStatus::committed);
    EXPECT_TRUE(failures_->newest("name", 0, 10).empty());
    EXPECT_EQ(failures_->newest("address", 0, 10), (std::vector<std::int64_t>{1000}));
}

TEST_F(LoginFailuresTest, EachWriteDeletesABoundedNumberOfRowsOlderThanTheWindow) {
    for (std::int64_t t = 0; t < 10; ++t) ASSERT_EQ(record({"old"}, t, 0), CommitStatus::committed);
    ASSERT_EQ(record({"new"}, 100, 50, 4), CommitStatus::committed);
    EXPECT_EQ(rows(), 10 - 4 + 1);
    EXPECT_EQ(failures_->newest("old", 0, 10).back(), 4);  // the oldest went first
    ASSERT_EQ(record({"new"}, 101, 50, 64), CommitStatus::committed);
    EXPECT_EQ(rows(), 2);
}

}  // namespace
}  // namespace ariadne::storage
