// A write transaction on the PolicyStore's connection, for a change that spans a
// repository and the PolicyStore (an alert cleared and its audit entry, canned replies
// replaced and audited): both commit or neither does.
//
// Thread safety: holds the store's (recursive) lock from construction to destruction, so
// the thread that owns it may call the store and repositories on the same store freely;
// other threads wait. Inside an open transaction it becomes a savepoint.
// Errors: throws storage::Error if the transaction cannot begin or commit (a busy or full
// database). Rolls back on destruction unless committed.
#pragma once

#include <mutex>

#include "ariadne/policies/store.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

class SharedTransaction {
  public:
    explicit SharedTransaction(const policies::PolicyStore& store);
    SharedTransaction(const SharedTransaction&) = delete;
    SharedTransaction& operator=(const SharedTransaction&) = delete;
    void commit() { transaction_.commit(); }

  private:
    std::unique_lock<std::recursive_mutex> lock_;
    Connection connection_;
    Transaction transaction_;
};

}  // namespace ariadne::storage
