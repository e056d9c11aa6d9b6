// `serve --database`: what is refused at start, and how (the setting named, the password
// never echoed), and the PostgreSQL database written by a newer release refused by `serve`
// and `admin` alike.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fstream>

#include "harness.h"

namespace ariadne::e2e {
namespace {

namespace fs = std::filesystem;

ProcessResult serve(const fs::path& data_dir, std::vector<std::string> extra) {
    std::vector<std::string> argv = {server_binary(),   "serve",    "--data-dir",
                                     data_dir.string(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", 60s);
}

TEST(DatabaseOption, AValueThatIsNotAPostgresqlUriIsRefusedBeforeAnythingIsCreated) {
    TempDir tmp;
    auto r = serve(tmp.path() / "data", {"--database", "/var/lib/ariadne/ariadne.db"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--database takes a PostgreSQL URI"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "data" / "database"));
}

TEST(DatabaseOption, AnUnreachableDatabaseIsRefusedNamingTheSettingWithoutThePassword) {
    TempDir tmp;
    const std::string secret = "pw-that-must-not-show-9f3c";
    auto r = serve(tmp.path() / "data",
                   {"--database", "postgresql://ariadne:" + secret + "@127.0.0.1:1/ariadne"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--database ("), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("cannot be reached"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("postgresql://ariadne:***@127.0.0.1:1/ariadne"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find(secret), std::string::npos) << "the password was echoed";
    EXPECT_EQ(r.out.find(secret), std::string::npos) << "the password was echoed";
}

TEST(DatabaseOption, ADataDirectoryHoldingAnSqliteDatabaseIsNotSwitchedToPostgresql) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data";
    fs::create_directories(data);
    fs::permissions(data, fs::perms::owner_all);
    std::ofstream(data / "ariadne.db") << "";
    auto r = serve(data, {"--database", "postgresql://ariadne@127.0.0.1:1/ariadne"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("already holds an SQLite database"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(data / "database"));
}

TEST(DatabaseOption, APostgresqlDatabaseFromANewerReleaseIsRefusedByServeAndAdmin) {
    if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run";
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    gateway.start();
    EXPECT_EQ(gateway.stop(), 0);
    std::ifstream pointer(tmp.path() / "data" / "database");
    std::string uri;
    std::getline(pointer, uri);
    PGconn* conn = PQconnectdb(uri.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn,
                         "INSERT INTO schema_migrations(version, name, checksum, applied_at) "
                         "VALUES (99, '0099_future.sql', 'x', '2030-01-01T00:00:00Z')");
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);

    auto refused = serve(tmp.path() / "data", {});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("schema version 99"), std::string::npos) << refused.err;
    auto admin = run_process(
        {server_binary(), "admin", "audit-verify", "--data-dir", (tmp.path() / "data").string()},
        "");
    EXPECT_NE(admin.exit_code, 0);
    EXPECT_NE(admin.err.find("schema version 99"), std::string::npos) << admin.err;
}

TEST(DatabaseOption, APostgresqlDatabaseWithTablesNotWrittenByAriadneIsLeftAlone) {
    if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run";
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");  // records a fresh schema in data/database
    std::ifstream pointer(tmp.path() / "data" / "database");
    std::string uri;
    std::getline(pointer, uri);
    PGconn* conn = PQconnectdb(uri.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, "CREATE TABLE customers(id INTEGER PRIMARY KEY)");
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);

    auto refused = serve(tmp.path() / "data", {});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("it was not written by Ariadne"), std::string::npos) << refused.err;
    r = PQexec(conn,
               "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
               "current_schema()");
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
    EXPECT_STREQ(PQgetvalue(r, 0, 0), "1") << "tables were created beside the stranger's";
    PQclear(r);
    PQfinish(conn);
}

TEST(DatabaseOption, AdminBackupOnAPostgresqlDataDirectoryPointsToPgDump) {
    if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run";
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    gateway.start();
    auto r = run_process({server_binary(), "admin", "backup", "--data-dir",
                          (tmp.path() / "data").string(), "--to", (tmp.path() / "b").string()},
                         "");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("pg_dump"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ariadne::e2e
