#include "ariadne/storage/policy_connection.h"

namespace ariadne::storage {

PolicyConnection::PolicyConnection(const policies::PolicyStore& store) : store_(store) {}

PolicyConnection::~PolicyConnection() {
    auto guard = store_.lock();
    db_.reset();
}

PolicyConnection::Locked PolicyConnection::lock() const {
    auto guard = store_.lock();
    if (!db_) db_.emplace(store_.connection());
    return Locked(std::move(guard), *db_);
}

}  // namespace ariadne::storage
