// A private schema on the test PostgreSQL cluster (the CTest fixture `pg`), dropped when the
// object goes away: tests sharing the cluster, even in parallel, never see each other's tables.
//
// A test that uses it must be registered with the fixture (tests/CMakeLists.txt):
//   ariadne_pg_test(NAME my.test COMMAND ...)  or
//   gtest_discover_tests(my_tests PROPERTIES ${ARIADNE_PG_TEST_PROPERTIES})
// which start the cluster first and set $ARIADNE_TEST_PG_DIR to its directory.
//
// Not thread-safe: create and destroy an object on one thread; uri() may be read from any.
#pragma once

#include <string>

namespace ariadne::testing {

class PgTestDatabase {
  public:
    /// The environment variable naming the cluster's directory (which holds its `uri` file).
    static constexpr const char* kDirVariable = "ARIADNE_TEST_PG_DIR";

    /// True when $ARIADNE_TEST_PG_DIR is set and not empty, i.e. the test runs with the fixture.
    static bool available() noexcept;

    /// Reads the cluster's uri from $ARIADNE_TEST_PG_DIR/uri and creates a fresh, empty schema
    /// named t_<pid>_<counter>_<random>. Throws std::runtime_error saying what to do if the
    /// variable is unset (the test is not registered with the fixture) and with libpq's message
    /// if the uri file cannot be read or the server refuses the connection or the schema.
    PgTestDatabase();

    /// Drops the schema and everything in it. Never throws: a failure (the test stopped the
    /// server, say) is reported on stderr and the schema is left behind.
    ~PgTestDatabase();

    PgTestDatabase(const PgTestDatabase&) = delete;
    PgTestDatabase& operator=(const PgTestDatabase&) = delete;

    /// The schema's name: lower-case letters, digits and underscores, usable unquoted in SQL.
    const std::string& schema() const noexcept { return schema_; }

    /// The cluster's uri plus `options=-csearch_path=<schema>`: a connection opened with it
    /// creates and finds unqualified tables in the schema. It holds the superuser's password:
    /// never print it.
    const std::string& uri() const noexcept { return uri_; }

    /// The cluster's uri as written by pg-cluster (default search_path; same password caveat).
    const std::string& cluster_uri() const noexcept { return cluster_uri_; }

  private:
    std::string cluster_uri_;
    std::string schema_;
    std::string uri_;
};

}  // namespace ariadne::testing
