// Internal to PolicyStore's source files: the lock-and-translate wrapper, shared error
// helpers and the check-in tables.
#pragma once

#include <mutex>
#include <string>

#include "ariadne/policies/error.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

// Callers of PolicyStore handle policies::Error; a database failure reaches them as its
// `storage` code, with SQLite's reason (never a bound value).
template <class F>
decltype(auto) PolicyStore::locked(F&& f) const {
    std::lock_guard lock(mutex_);
    try {
        return f();
    } catch (const storage::Error& e) {
        throw policies::Error(policies::ErrorCode::storage, "",
                              std::string("storage: ") + e.what());
    }
}

namespace detail {

[[noreturn]] inline void refused(const std::string& field, const std::string& what) {
    throw policies::Error(policies::ErrorCode::refused, field, field + ": " + what);
}


}  // namespace detail

}  // namespace ariadne::storage
