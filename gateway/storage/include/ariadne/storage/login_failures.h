// Recent failed logins as every gateway node sharing the database recorded them (table
// gateway_login_failures): one row per failure and key, with its time. Keys are opaque to
// this class; the gateway stores keyed hashes there, never a name, code or address.
//
// Thread safety: every method may be called from any thread. Reads run on the database's
// read pool and throw storage::Error when they fail; writes are group-committed on its
// writer and report through their completion (database.h), which runs on the writer thread.
// `database` must outlive this object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/storage/database.h"

namespace ariadne::storage {

class LoginFailures {
  public:
    explicit LoginFailures(Database& database) : db_(database) {}

    /// The times (Unix ms) of up to `limit` failures recorded under `key` at or after
    /// `since_ms`, newest first. Throws storage::Error if they cannot be read.
    std::vector<std::int64_t> newest(std::string_view key, std::int64_t since_ms,
                                     std::size_t limit) const;

    /// Records one failure at `at_ms` under each of `keys`, and deletes up to
    /// `purge_limit` rows older than `forget_before_ms` in the same job (so the table stays
    /// bounded without a timer of its own). `done` (may be empty) gets the commit's status.
    void record(std::vector<std::string> keys, std::int64_t at_ms, std::int64_t forget_before_ms,
                std::size_t purge_limit, std::function<void(CommitStatus)> done);

    /// Deletes every failure recorded under `key` (a successful login). `done` as above.
    void clear(std::string key, std::function<void(CommitStatus)> done);

  private:
    Database& db_;
};

}  // namespace ariadne::storage
