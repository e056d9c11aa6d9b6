// The real binary records its schema migrations and refuses, exiting non-zero, a data
// directory written by a newer release (docs/admin-guide.md, "Upgrading").
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "harness.h"

namespace ariadne::e2e {
namespace {

constexpr const char* kNewerStart =
    "This database is at schema version 999; this ariadne knows "
    "versions up to ";
constexpr const char* kNewerEnd =
    ". Install the newer release or restore a backup made by this one.";

void exec(const std::filesystem::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
}

class SchemaMigrations : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(data());
        gateway_->add_caseworker("mara.k");
        gateway_->start();
        EXPECT_EQ(gateway_->stop(), 0);
    }

    std::filesystem::path data() const { return tmp_.path() / "data"; }

    ProcessResult serve() const {
        return run_process({server_binary(), "serve", "--data-dir", data().string(), "--listen",
                            "127.0.0.1:0", "--insecure-test-params"},
                           "", 120s);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
};

TEST_F(SchemaMigrations, ServeRecordsEveryMigrationOfBothDatabases) {
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations",
                         "version = 1 AND name = '0001_initial.sql' AND length(checksum) = 64"),
              1);
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations",
                         "version = 2 AND name = '0002_canned_reply_language.sql'"),
              1);
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations",
                         "version = 3 AND name = '0003_login_failures.sql'"),
              1);
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations",
                         "version = 4 AND name = '0004_callback_tasks.sql'"),
              1);
    EXPECT_EQ(count_rows(data() / "edge" / "history.db", "schema_migrations", "version = 1"), 1);
    // A restart applies nothing again.
    gateway_->start();
    EXPECT_EQ(gateway_->stop(), 0);
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations"), 4);
}

TEST_F(SchemaMigrations, ServeAndAdminRefuseADatabaseFromANewerRelease) {
    exec(data() / "ariadne.db",
         "INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 'ab', "
         "'2036-01-01T00:00:00Z')");
    auto served = serve();
    EXPECT_NE(served.exit_code, 0);
    EXPECT_NE(served.err.find(kNewerStart), std::string::npos) << served.err;
    EXPECT_NE(served.err.find(kNewerEnd), std::string::npos) << served.err;

    auto admin =
        run_process({server_binary(), "admin", "audit-verify", "--data-dir", data().string()}, "");
    EXPECT_NE(admin.exit_code, 0);
    EXPECT_NE(admin.err.find(kNewerStart), std::string::npos) << admin.err;
    // Nothing was changed: the future row is still the newest.
    EXPECT_EQ(count_rows(data() / "ariadne.db", "schema_migrations", "version = 999"), 1);
}

TEST_F(SchemaMigrations, ServeRefusesAnEdgeHistoryFromANewerRelease) {
    exec(data() / "edge" / "history.db",
         "INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 'ab', "
         "'2036-01-01T00:00:00Z')");
    auto served = serve();
    EXPECT_NE(served.exit_code, 0);
    EXPECT_NE(served.err.find("history.db: " + std::string(kNewerStart)), std::string::npos)
        << served.err;
}

}  // namespace
}  // namespace ariadne::e2e
