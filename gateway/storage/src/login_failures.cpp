#include "ariadne/storage/login_failures.h"

#include <memory>
#include <utility>

namespace ariadne::storage {

std::vector<std::int64_t> LoginFailures::newest(std::string_view key, std::int64_t since_ms,
                                                std::size_t limit) const {
    return db_.read([&](Connection& db) {
        auto s = db.cached(
            "SELECT at_ms FROM gateway_login_failures WHERE key = ? AND at_ms >= ? "
            "ORDER BY at_ms DESC LIMIT ?");
        s.bind(1, key).bind(2, since_ms).bind(3, static_cast<std::int64_t>(limit));
        std::vector<std::int64_t> times;
        while (s.step()) times.push_back(s.integer(0));
        return times;
    });
}

void LoginFailures::record(std::vector<std::string> keys, std::int64_t at_ms,
                           std::int64_t forget_before_ms, std::size_t purge_limit,
                           std::function<void(CommitStatus)> done) {
    auto job = std::make_shared<Database::Job>();
    job->apply = [keys = std::move(keys), at_ms, forget_before_ms, purge_limit](Connection& db) {
        for (const auto& key : keys) {
            db.cached("INSERT INTO gateway_login_failures(key, at_ms) VALUES(?, ?)")
                .bind(1, key)
                .bind(2, at_ms)
                .run();
        }
        // Bounded, so a writer behind a long backlog of old rows never stalls a batch.
        db.cached(
              "DELETE FROM gateway_login_failures WHERE id IN (SELECT id FROM "
              "gateway_login_failures WHERE at_ms < ? ORDER BY at_ms LIMIT ?)")
            .bind(1, forget_before_ms)
            .bind(2, static_cast<std::int64_t>(purge_limit))
            .run();
    };
    job->done = [done = std::move(done)](CommitStatus status) {
        if (done) done(status);
    };
    db_.submit(std::move(job));
}

void LoginFailures::clear(std::string key, std::function<void(CommitStatus)> done) {
    auto job = std::make_shared<Database::Job>();
    job->apply = [key = std::move(key)](Connection& db) {
        db.cached("DELETE FROM gateway_login_failures WHERE key = ?").bind(1, key).run();
    };
    job->done = [done = std::move(done)](CommitStatus status) {
        if (done) done(status);
    };
    db_.submit(std::move(job));
}

}  // namespace ariadne::storage
