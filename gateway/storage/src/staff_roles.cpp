#include "ariadne/storage/staff_roles.h"

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

std::optional<std::string> StaffRoles::role(const std::string& account) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto st = db.prepare("SELECT role FROM gateway_account_roles WHERE account = ?");
    st.bind(1, account);
    if (!st.step()) return std::nullopt;
    return st.text(0);
}

void StaffRoles::set_role(const std::string& account, const std::string& role) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "INSERT INTO gateway_account_roles(account, role) VALUES(?, ?) "
          "ON CONFLICT(account) DO UPDATE SET role = excluded.role")
        .bind(1, account)
        .bind(2, role)
        .run();
}

}  // namespace ariadne::storage
