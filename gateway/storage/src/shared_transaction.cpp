#include "ariadne/storage/shared_transaction.h"

namespace ariadne::storage {

SharedTransaction::SharedTransaction(const policies::PolicyStore& store)
    : lock_(store.lock()), connection_(store.connection()), transaction_(connection_) {}

}  // namespace ariadne::storage
