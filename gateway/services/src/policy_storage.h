// Where the gateway's case, SMS-number, duress-word and channel-sender functions meet the
// storage layer (private to gateway/src). Their callers (admin CLI and API, SMS adapter,
// survivor page, policy service) handle policies::Error, so a storage::Error is translated
// here, once, keeping SQLite's reason and never a bound value.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "ariadne/policies/error.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::gateway {

/// Runs `f`; a storage::Error becomes policies::Error{storage, field} saying that `what`
/// cannot be used (e.g. what = "survivor case link table").
template <class F>
decltype(auto) policy_storage(std::string_view what, F&& f, std::string_view field = "") {
    try {
        return std::forward<F>(f)();
    } catch (const storage::Error& e) {
        throw policies::Error(policies::ErrorCode::storage, std::string(field),
                              "The " + std::string(what) + " cannot be used (" + e.what() + ")");
    }
}

}  // namespace ariadne::gateway
