// Translation of lower layers' errors into AdminError at the admin layer's boundary
// (private to gateway/admin).
#pragma once

#include <string>

#include "ariadne/admin/admin_error.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::gateway {

/// The AdminError that says what `e` says (same code name, field and sentence).
AdminError to_admin_error(const policies::Error& e);
/// A failed store: AdminError{storage}, naming what failed without SQL details.
AdminError to_admin_error(const storage::Error& e);

/// Runs `f`, throwing AdminError for a policies::Error or storage::Error it throws; other
/// exceptions pass unchanged.
template <typename F>
auto translating_errors(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const policies::Error& e) {
        throw to_admin_error(e);
    } catch (const storage::Error& e) {
        throw to_admin_error(e);
    }
}

}  // namespace ariadne::gateway
