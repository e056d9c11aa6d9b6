// The LoginLedger (core/login_ledger.h) of nodes that share one database: failures are rows
// of gateway_login_failures (storage/login_failures.h), written by the store's group-committing
// writer and read on its read pool. Each write also deletes a bounded number of rows older
// than the longest window, so the table holds about an hour of failures.
//
// Thread safety: every method may be called from any thread. `database` must outlive it.
// Errors: failures() throws storage::Error when the table cannot be read; a write that fails
// is logged (once per episode, without its keys) and otherwise dropped.
#pragma once

#include <atomic>

#include "ariadne/core/login_ledger.h"
#include "ariadne/storage/login_failures.h"

namespace ariadne::gateway {

class StoredLoginLedger final : public LoginLedger {
  public:
    explicit StoredLoginLedger(storage::Database& database) : failures_(database) {}

    std::vector<std::int64_t> failures(std::string_view key, std::int64_t since_ms,
                                       std::size_t limit) const override;
    void record_failure(std::vector<std::string> keys, std::int64_t at_ms) noexcept override;
    void clear(std::string key) noexcept override;

  private:
    void note(storage::CommitStatus status) noexcept;

    storage::LoginFailures failures_;
    std::atomic<bool> failing_{false};
};

}  // namespace ariadne::gateway
