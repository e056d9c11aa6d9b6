// StaffRoles: the role of each staff account (admin or caseworker) in the table
// `gateway_account_roles` of the gateway database. An account without a row is a
// caseworker; the caller decides that default.
//
// Thread safety: safe from any thread; every call holds the PolicyStore's lock (the store
// must outlive this object). Errors: storage::Error when the database cannot be read or
// written; a role other than "admin" or "caseworker" is the caller's to refuse.
#pragma once

#include <optional>
#include <string>

#include "ariadne/policies/store.h"

namespace ariadne::storage {

class StaffRoles {
  public:
    /// Roles are gateway tables sharing the store's connection, not the store's own state:
    /// a const store is enough to change them.
    explicit StaffRoles(const policies::PolicyStore& store) : store_(store) {}

    /// The stored role of `account`, or none if no role was ever stored for it.
    std::optional<std::string> role(const std::string& account) const;
    /// Stores `role` for `account`, replacing any earlier one.
    void set_role(const std::string& account, const std::string& role);

  private:
    const policies::PolicyStore& store_;
};

}  // namespace ariadne::storage
