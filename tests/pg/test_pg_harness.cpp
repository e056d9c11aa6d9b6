// The PostgreSQL test harness: every PgTestDatabase is an empty schema of its own on the
// fixture's cluster, reached through uri(), with commits acknowledged only once durable.
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "support/pg_test_database.h"

namespace ariadne::testing {
namespace {

struct ConnectionCloser {
    void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

Connection open(const std::string& uri) {
    Connection connection(PQconnectdb(uri.c_str()));
    if (PQstatus(connection.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("connect: ") + PQerrorMessage(connection.get()));
    }
    return connection;
}

// Runs one statement; returns the first column of its first row, or "" when it returns none.
std::string run(PGconn* connection, const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(connection, sql.c_str()), &PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQerrorMessage(connection));
    }
    if (status == PGRES_TUPLES_OK && PQntuples(result.get()) > 0) {
        return PQgetvalue(result.get(), 0, 0);
    }
    return "";
}

TEST(PgTestDatabase, IsAvailableUnderTheFixture) { EXPECT_TRUE(PgTestDatabase::available()); }

TEST(PgTestDatabase, UnqualifiedTablesLandInItsSchema) {
    PgTestDatabase db;
    const Connection connection = open(db.uri());

    run(connection.get(), "CREATE TABLE messages (id bigint PRIMARY KEY, body text NOT NULL)");
    run(connection.get(), "INSERT INTO messages VALUES (1, 'hello')");

    EXPECT_EQ(run(connection.get(), "SELECT current_schema()"), db.schema());
    EXPECT_EQ(run(connection.get(),
                  "SELECT table_schema FROM information_schema.tables "
                  "WHERE table_name = 'messages'"),
              db.schema());
    EXPECT_EQ(run(connection.get(), "SELECT body FROM messages WHERE id = 1"), "hello");
}

TEST(PgTestDatabase, CommitsAreSynchronous) {
    PgTestDatabase db;
    const Connection connection = open(db.uri());
    EXPECT_EQ(run(connection.get(), "SHOW synchronous_commit"), "on");
}

TEST(PgTestDatabase, TwoObjectsGetDifferentSchemasThatDoNotShareTables) {
    PgTestDatabase first;
    PgTestDatabase second;
    ASSERT_NE(first.schema(), second.schema());

    const Connection in_first = open(first.uri());
    const Connection in_second = open(second.uri());
    run(in_first.get(), "CREATE TABLE devices (id int)");
    run(in_first.get(), "INSERT INTO devices VALUES (7)");
    run(in_second.get(), "CREATE TABLE devices (id int)");

    EXPECT_EQ(run(in_first.get(), "SELECT count(*) FROM devices"), "1");
    EXPECT_EQ(run(in_second.get(), "SELECT count(*) FROM devices"), "0");
}

TEST(PgTestDatabase, DropsItsSchemaAndTablesWhenDestroyed) {
    std::string schema;
    {
        PgTestDatabase db;
        schema = db.schema();
        run(open(db.uri()).get(), "CREATE TABLE acks (id int)");
    }
    PgTestDatabase other;
    EXPECT_EQ(run(open(other.cluster_uri()).get(),
                  "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'"),
              "0");
}

TEST(PgTestDatabase, WithoutTheFixtureRefusesAndSaysHowToRegister) {
    const char* set_by_fixture = std::getenv(PgTestDatabase::kDirVariable);
    ASSERT_NE(set_by_fixture, nullptr);
    const std::string dir = set_by_fixture;
    ::unsetenv(PgTestDatabase::kDirVariable);
    EXPECT_FALSE(PgTestDatabase::available());
    try {
        PgTestDatabase db;
        ADD_FAILURE() << "constructed without $" << PgTestDatabase::kDirVariable;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("fixture"), std::string::npos) << e.what();
    }
    ::setenv(PgTestDatabase::kDirVariable, dir.c_str(), 1);
}

}  // namespace
}  // namespace ariadne::testing
