// Versioned migrations on real files: a fresh database, a database written by the release
// before migrations (adopted in place), and the databases that must be refused unchanged.
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ariadne/storage/migrations.h"

namespace ariadne::storage {
namespace {

// Every table the release of 2026-12-07 created in ariadne.db.
const std::set<std::string> kMainTables = {
    "settings",
    "accounts",
    "caseworkers",
    "disabled_accounts",
    "survivors",
    "devices",
    "survivor_installations",
    "assignments",
    "signed_pre_keys",
    "last_resort_keys",
    "pre_keys",
    "mailbox",
    "policies_survivors",
    "policies_survivor_caseworkers",
    "policies_consent",
    "policies_org",
    "policies_templates",
    "policies_audit",
    "policies_checkin_plans",
    "policies_checkin_occurrences",
    "policies_last_inbound",
    "gateway_survivor_cases",
    "gateway_last_inbound_channel",
    "gateway_caseworker_initials",
    "gateway_new_device_notices",
    "gateway_handover_notes",
    "gateway_sealed_addresses",
    "gateway_sms_links",
    "gateway_duress_words",
    "gateway_channel_senders",
    "gateway_account_roles",
    "gateway_canned_replies",
    "gateway_alerts",
    "gateway_sms_outbox",
    "gateway_login_failures",
    "gateway_callback_tasks",
    "gateway_callback_attempts",
};

// policies_survivors as databases created before a pause could have an end declared it.
constexpr const char* kOldSurvivorsTable = R"sql(
DROP TABLE policies_survivors;
CREATE TABLE policies_survivors(
  case_code TEXT PRIMARY KEY, initials TEXT NOT NULL, language TEXT NOT NULL,
  time_zone TEXT NOT NULL, team TEXT, status TEXT NOT NULL,
  never_confirm_client INTEGER NOT NULL, paused INTEGER NOT NULL, duress_lock INTEGER NOT NULL,
  quiet_start INTEGER, quiet_end INTEGER, quiet_weekdays INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

class MigrationsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-migrations-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path db() const { return dir_ / "ariadne.db"; }

    /// A database as today's release leaves it: migration 1's statements, no
    /// schema_migrations, policies_survivors without paused_until, and some rows.
    void write_release_database() {
        Connection c(db(), {});
        c.exec(main_migrations().migrations[0].sql);
        c.exec(kOldSurvivorsTable);
        c.exec(
            "INSERT INTO accounts(key, id, role, created_ms) VALUES (7, 'acct-7', 1, 1000);"
            "INSERT INTO mailbox(account, device, kind, sender, sender_device, body, created_ms) "
            "VALUES (7, 1, 0, 8, 1, x'c1c2c3', 2000);"
            "INSERT INTO policies_survivors(case_code, initials, language, time_zone, status, "
            "never_confirm_client, paused, duress_lock, created_at, updated_at) "
            "VALUES ('K7Q2', 'A.B.', 'en', 'UTC', 'active', 0, 1, 0, 10, 20);");
    }

    static std::set<std::string> tables(Connection& c) {
        std::set<std::string> out;
        auto q = c.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'");
        while (q.step()) out.insert(q.text(0));
        return out;
    }

    /// Every table's columns (name, type, not null, pk) and every index and trigger name.
    static std::string shape(Connection& c) {
        std::string out;
        auto q = c.prepare(
            "SELECT m.type, m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m "
            "LEFT JOIN pragma_table_info(m.name) p ON m.type = 'table' "
            "WHERE m.name NOT LIKE 'sqlite%' ORDER BY m.type, m.name, p.cid");
        while (q.step()) {
            for (int i = 0; i < 6; ++i) out += q.text(i) + "|";
            out += "\n";
        }
        return out;
    }

    /// The whole schema text and every row of the tables a test writes.
    static std::string snapshot(Connection& c) {
        std::string out;
        auto q = c.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name");
        while (q.step()) out += q.text(0) + " " + q.text(1) + " " + q.text(2) + "\n";
        for (const char* sql : {"SELECT key || id || role FROM accounts ORDER BY key",
                                "SELECT server_id || hex(body) FROM mailbox ORDER BY server_id"}) {
            auto rows = c.prepare(sql);
            while (rows.step()) out += rows.text(0) + "\n";
        }
        if (schema_version(c) > 0) {
            auto rows = c.prepare(
                "SELECT version || name || checksum || applied_at FROM schema_migrations");
            while (rows.step()) out += rows.text(0) + "\n";
        }
        return out;
    }

    static std::string error_of(Connection& c, const MigrationSet& set) {
        try {
            migrate(c, set);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::schema) << e.what();
            return e.what();
        }
        ADD_FAILURE() << "migrate did not refuse";
        return {};
    }

    std::filesystem::path dir_;
};

TEST_F(MigrationsTest, AFreshDatabaseGetsEveryTableAndOneRecordedMigration) {
    Connection c(db(), {});
    EXPECT_EQ(schema_version(c), 0);
    migrate(c, main_migrations());

    auto created = tables(c);
    for (const auto& t : kMainTables) EXPECT_TRUE(created.count(t)) << t;
    EXPECT_EQ(created.size(), kMainTables.size() + 1);  // + schema_migrations
    EXPECT_EQ(schema_version(c), 5);
    EXPECT_EQ(latest_schema_version(main_migrations()), 5);

    auto row = c.prepare(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.integer(0), 1);
    EXPECT_EQ(row.text(1), "0001_initial.sql");
    EXPECT_EQ(row.text(2), migration_checksum(main_migrations().migrations[0].sql));
    EXPECT_TRUE(std::regex_match(row.text(2), std::regex("[0-9a-f]{64}")));
    EXPECT_TRUE(std::regex_match(row.text(3), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << row.text(3);
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.integer(0), 2);
    EXPECT_EQ(row.text(1), "0002_canned_reply_language.sql");
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.integer(0), 3);
    EXPECT_EQ(row.text(1), "0003_login_failures.sql");
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.integer(0), 4);
    EXPECT_EQ(row.text(1), "0004_callback_tasks.sql");
    // Empty on SQLite: the edge keeps its own files (on PostgreSQL its tables move here).
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.integer(0), 5);
    EXPECT_EQ(row.text(1), "0005_edge_shared.sql");
    EXPECT_FALSE(row.step());

    // The append-only guards come with the tables.
    c.exec("INSERT INTO policies_audit VALUES (1, 1, 'a', 'b', 'c', 'd', 'e', x'00', x'01')");
    EXPECT_THROW(c.exec("DELETE FROM policies_audit"), Error);
}

TEST_F(MigrationsTest, MigratingAgainChangesNothing) {
    Connection c(db(), {});
    migrate(c, main_migrations());
    std::string before = snapshot(c);
    migrate(c, main_migrations());
    Connection other(db(), {});
    migrate(other, main_migrations());
    EXPECT_EQ(snapshot(c), before);
}

TEST_F(MigrationsTest, KnownChecksumOfTheFirstMigrationIsTheSha256OfItsText) {
    EXPECT_EQ(migration_checksum("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(MigrationsTest, TheEdgeHistoryDatabaseGetsItsTables) {
    Connection c(dir_ / "history.db", {});
    migrate(c, edge_history_migrations());
    EXPECT_EQ(tables(c), (std::set<std::string>{"edge_history", "edge_pending", "edge_accounts",
                                                "edge_unread", "schema_migrations"}));
    EXPECT_EQ(schema_version(c), 2);
}

TEST_F(MigrationsTest, ADatabaseFromTheReleaseBeforeMigrationsIsAdoptedInPlace) {
    write_release_database();
    Connection c(db(), {});
    EXPECT_EQ(schema_version(c), 0);
    migrate(c, main_migrations());
    EXPECT_EQ(schema_version(c), 5);

    // Same shape as a database created fresh, legacy column included.
    Connection fresh(dir_ / "fresh.db", {});
    migrate(fresh, main_migrations());
    EXPECT_EQ(shape(c), shape(fresh));

    // The rows are still there; the old survivor has no pause end.
    auto s = c.prepare("SELECT initials, paused, paused_until FROM policies_survivors");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.text(0), "A.B.");
    EXPECT_EQ(s.integer(1), 1);
    EXPECT_TRUE(s.is_null(2));
    auto m = c.prepare("SELECT account, hex(body) FROM mailbox");
    ASSERT_TRUE(m.step());
    EXPECT_EQ(m.integer(0), 7);
    EXPECT_EQ(m.text(1), "C1C2C3");
}

TEST_F(MigrationsTest, CannedRepliesOfAVersionOneDatabaseKeepTheirOrderAndBecomeEnglish) {
    {
        Connection c(db(), {});
        migrate(c, MigrationSet{"ariadne.db", main_migrations().migrations.first(1), {}});
        ASSERT_EQ(schema_version(c), 1);
        c.exec(
            "INSERT INTO gateway_canned_replies(position, label, text) VALUES "
            "(0, 'Call back', 'I will call you back today.'), (1, 'Hi', 'Hello')");
    }
    Connection c(db(), {});
    migrate(c, main_migrations());
    EXPECT_EQ(schema_version(c), 5);
    auto q = c.prepare(
        "SELECT position, label, text, language FROM gateway_canned_replies ORDER BY position");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.integer(0), 0);
    EXPECT_EQ(q.text(1), "Call back");
    EXPECT_EQ(q.text(2), "I will call you back today.");
    EXPECT_EQ(q.text(3), "en");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(1), "Hi");
    EXPECT_EQ(q.text(3), "en");
    EXPECT_FALSE(q.step());
}

TEST_F(MigrationsTest, ADatabaseWithOnlySomeOfTheTablesIsAdoptedAndCompleted) {
    // An admin command run before the first `serve` left only the policy tables.
    {
        Connection c(db(), {});
        c.exec(
            "CREATE TABLE policies_org(id INTEGER PRIMARY KEY CHECK(id = 1), policy_json TEXT "
            "NOT NULL, updated_at INTEGER NOT NULL);"
            "INSERT INTO policies_org VALUES (1, '{}', 5);");
    }
    Connection c(db(), {});
    migrate(c, main_migrations());
    EXPECT_EQ(tables(c).size(), kMainTables.size() + 1);
    auto q = c.prepare("SELECT policy_json FROM policies_org");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "{}");
}

TEST_F(MigrationsTest, ATableWithOtherColumnsIsRefusedByNameAndNothingChanges) {
    write_release_database();
    {
        Connection c(db(), {});
        c.exec(
            "DROP TABLE gateway_alerts; CREATE TABLE gateway_alerts(id INTEGER PRIMARY KEY, "
            "case_code TEXT, kind TEXT NOT NULL, urgent TEXT, raised_at_ms INTEGER NOT NULL, "
            "cleared_at_ms INTEGER, colour TEXT)");
    }
    Connection c(db(), {});
    std::string before = snapshot(c);
    std::string message = error_of(c, main_migrations());
    EXPECT_NE(message.find("the table gateway_alerts does not have the columns"), std::string::npos)
        << message;
    EXPECT_NE(message.find("missing cleared_by TEXT"), std::string::npos) << message;
    EXPECT_NE(message.find("urgent TEXT instead of urgent INTEGER NOT NULL"), std::string::npos)
        << message;
    EXPECT_NE(message.find("unexpected colour"), std::string::npos) << message;
    // The legacy column added before the check is rolled back with everything else.
    EXPECT_EQ(snapshot(c), before);
    EXPECT_EQ(schema_version(c), 0);
}

TEST_F(MigrationsTest, ADatabaseNewerThanTheBinaryIsRefusedWithBothVersions) {
    Connection c(db(), {});
    migrate(c, main_migrations());
    c.exec(
        "INSERT INTO schema_migrations VALUES (6, '0006_x.sql', 'aa', '2030-01-01T00:00:00Z');"
        "INSERT INTO schema_migrations VALUES (7, '0007_y.sql', 'bb', '2031-01-01T00:00:00Z')");
    std::string before = snapshot(c);
    std::string message = error_of(c, main_migrations());
    EXPECT_NE(message.find("This database is at schema version 7; this ariadne knows versions "
                           "up to " +
                           std::to_string(latest_schema_version(main_migrations())) +
                           ". Install the newer release or restore a backup made by this one."),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(db().string()), std::string::npos) << message;
    EXPECT_EQ(snapshot(c), before);
}

TEST_F(MigrationsTest, AnAppliedMigrationWhoseChecksumDiffersIsRefusedByVersionAndFile) {
    Connection c(db(), {});
    migrate(c, main_migrations());
    c.exec("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
    std::string message = error_of(c, main_migrations());
    EXPECT_NE(message.find("migration 1 (0001_initial.sql) was applied with checksum deadbeef"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(migration_checksum(main_migrations().migrations[0].sql)),
              std::string::npos)
        << message;
}

TEST_F(MigrationsTest, AFailingMigrationLeavesSchemaAndDataAsTheyWere) {
    Connection c(db(), {});
    migrate(c, MigrationSet{"ariadne.db", main_migrations().migrations.first(1), {}});
    c.exec(
        "INSERT INTO accounts(key, id, role, created_ms) VALUES (1, 'acct-1', 0, 1);"
        "INSERT INTO mailbox(account, device, kind, sender, sender_device, body, created_ms) "
        "VALUES (1, 1, 0, 2, 1, x'0102', 3)");
    std::string before = snapshot(c);

    const std::vector<Migration> broken = {main_migrations().migrations[0],
                                           {2, "0002_broken.sql",
                                            "CREATE TABLE later(x INTEGER);\n"
                                            "ALTER TABLE accounts ADD COLUMN nickname TEXT;\n"
                                            "DELETE FROM mailbox;\n"
                                            "INSERT INTO no_such_table VALUES (1);\n"}};
    MigrationSet set{"ariadne.db", broken, {}};
    std::string message = error_of(c, set);
    EXPECT_NE(message.find("migration 0002_broken.sql (version 2) failed: no such table: "
                           "no_such_table"),
              std::string::npos)
        << message;
    EXPECT_EQ(snapshot(c), before);
    EXPECT_EQ(schema_version(c), 1);

    // The same database takes a working migration 2 afterwards.
    const std::vector<Migration> fixed = {
        main_migrations().migrations[0],
        {2, "0002_nickname.sql", "ALTER TABLE accounts ADD COLUMN nickname TEXT;\n"}};
    migrate(c, MigrationSet{"ariadne.db", fixed, {}});
    EXPECT_EQ(schema_version(c), 2);
    auto q = c.prepare("SELECT name FROM schema_migrations WHERE version = 2");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "0002_nickname.sql");
}

TEST_F(MigrationsTest, AMigrationThatEndsItsTransactionIsRefusedAndRolledBack) {
    Connection c(db(), {});
    migrate(c, MigrationSet{"ariadne.db", main_migrations().migrations.first(1), {}});
    std::string before = snapshot(c);
    const std::vector<Migration> sneaky = {
        main_migrations().migrations[0],
        {2, "0002_commit.sql", "CREATE TABLE later(x INTEGER);\nCOMMIT;\nBEGIN;\n"}};
    std::string message = error_of(c, MigrationSet{"ariadne.db", sneaky, {}});
    EXPECT_NE(message.find("0002_commit.sql (version 2) failed: it begins, commits or rolls back"),
              std::string::npos)
        << message;
    EXPECT_EQ(snapshot(c), before);
}

TEST_F(MigrationsTest, SchemaVersionOfAnEmptyDatabaseIsZero) {
    Connection c(db(), {});
    EXPECT_EQ(schema_version(c), 0);
    c.exec(
        "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    EXPECT_EQ(schema_version(c), 0);
}

}  // namespace
}  // namespace ariadne::storage
