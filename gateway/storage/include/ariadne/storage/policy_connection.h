// The policy store's database connection as the gateway-side repositories share it: the
// PolicyStore (policies/store.h) opens and owns the handle and serialises every use of it with
// its recursive lock; the tables of cases, SMS numbers, duress words and channel senders live
// in the same file and are written on the same connection, so a use case can change several
// of them and the policy tables in one transaction (shared_transaction.h).
//
// Thread safety: safe from any thread; every access holds the store's lock.
// Errors: storage::Error (sqlite.h).
#pragma once

#include <mutex>
#include <optional>
#include <utility>

#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

/// A borrowed connection to `store`'s handle with its own statement cache. Must not outlive
/// the store. Only the store's lock() and connection() are used, so a const store is enough.
class PolicyConnection {
  public:
    explicit PolicyConnection(const policies::PolicyStore& store);
    /// Finalizes the cached statements under the store's lock.
    ~PolicyConnection();
    PolicyConnection(const PolicyConnection&) = delete;
    PolicyConnection& operator=(const PolicyConnection&) = delete;

    /// The connection with the store's lock held for as long as this object lives.
    class Locked {
      public:
        Connection* operator->() const noexcept { return &db_; }
        Connection& operator*() const noexcept { return db_; }

      private:
        friend class PolicyConnection;
        Locked(std::unique_lock<std::recursive_mutex> lock, Connection& db)
            : lock_(std::move(lock)), db_(db) {}
        std::unique_lock<std::recursive_mutex> lock_;
        Connection& db_;
    };
    Locked lock() const;

  private:
    const policies::PolicyStore& store_;
    mutable std::optional<Connection> db_;
};

}  // namespace ariadne::storage
