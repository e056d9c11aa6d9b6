#include "support/pg_test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace ariadne::testing {

namespace {

struct ConnectionCloser {
    void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

std::string without_trailing_newline(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// libpq's messages end with a newline; ours continue on the same line.
std::string pq_message(const PGconn* connection) {
    return without_trailing_newline(PQerrorMessage(connection));
}

std::string read_cluster_uri() {
    const char* dir = std::getenv(PgTestDatabase::kDirVariable);
    if (dir == nullptr || *dir == '\0') {
        throw std::runtime_error(
            std::string("PgTestDatabase: $") + PgTestDatabase::kDirVariable +
            " is not set: a test that needs PostgreSQL must be registered with the CTest "
            "fixture `pg` (ariadne_pg_test() or ${ARIADNE_PG_TEST_PROPERTIES} in "
            "tests/CMakeLists.txt) and run through ctest");
    }
    const std::string path = std::string(dir) + "/uri";
    std::ifstream file(path);
    std::string uri;
    if (!file || !std::getline(file, uri) || uri.empty()) {
        throw std::runtime_error("PgTestDatabase: cannot read the cluster's uri from " + path +
                                 " (did pg.cluster.start succeed?)");
    }
    return without_trailing_newline(uri);
}

// A connection as the cluster's superuser; throws with libpq's reason when there is none.
Connection connect_to_cluster(const std::string& uri) {
    const char* keywords[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {uri.c_str(), "10", nullptr};
    Connection connection(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!connection) throw std::runtime_error("PgTestDatabase: libpq is out of memory");
    if (PQstatus(connection.get()) != CONNECTION_OK) {
        throw std::runtime_error("PgTestDatabase: cannot connect to the test cluster: " +
                                 pq_message(connection.get()));
    }
    // DROP … CASCADE lists every object as a NOTICE: not worth a test's output.
    PQsetNoticeProcessor(connection.get(), [](void*, const char*) {}, nullptr);
    return connection;
}

void execute(PGconn* connection, const std::string& sql) {
    Result result(PQexec(connection, sql.c_str()));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error("PgTestDatabase: `" + sql + "` failed: " + pq_message(connection));
    }
}

// Unique within the process (counter), across processes (pid) and across runs that reuse a
// pid against a cluster that kept an old schema (random part).
std::string new_schema_name() {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    char name[64];
    std::snprintf(name, sizeof name, "t_%ld_%u_%08x", static_cast<long>(::getpid()),
                  counter.fetch_add(1), static_cast<unsigned>(random()));
    return name;
}

}  // namespace

bool PgTestDatabase::available() noexcept {
    const char* dir = std::getenv(kDirVariable);
    return dir != nullptr && *dir != '\0';
}

PgTestDatabase::PgTestDatabase() : cluster_uri_(read_cluster_uri()), schema_(new_schema_name()) {
    const Connection connection = connect_to_cluster(cluster_uri_);
    execute(connection.get(), "CREATE SCHEMA " + schema_);
    // %3D is "=": the value of `options` is itself key=value.
    uri_ = cluster_uri_ + (cluster_uri_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema_;
}

PgTestDatabase::~PgTestDatabase() {
    try {
        const Connection connection = connect_to_cluster(cluster_uri_);
        execute(connection.get(), "DROP SCHEMA " + schema_ + " CASCADE");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "PgTestDatabase: schema %s left behind: %s\n", schema_.c_str(),
                     e.what());
    }
}

}  // namespace ariadne::testing
