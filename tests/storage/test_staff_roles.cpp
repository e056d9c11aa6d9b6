// StaffRoles: the admin/caseworker role of staff accounts, on the PolicyStore's connection.
#include "ariadne/storage/staff_roles.h"

#include "shared_db_fixture.h"

namespace ariadne::storage {
namespace {

using StaffRolesTest = testing::SharedDbTest;

TEST_F(StaffRolesTest, AnAccountHasNoRoleBeforeAnyIsStored) {
    StaffRoles roles(store());
    EXPECT_EQ(roles.role("a_AAAAAAAAAAAAAAAAAAAAAA"), std::nullopt);
}

TEST_F(StaffRolesTest, ARoleIsStoredPerAccountReplacedAndKeptAcrossARestart) {
    {
        StaffRoles roles(store());
        roles.set_role("a_admin", "admin");
        roles.set_role("a_worker", "caseworker");
        roles.set_role("a_worker", "admin");
        roles.set_role("a_admin", "caseworker");
    }
    reopen();
    StaffRoles roles(store());
    EXPECT_EQ(roles.role("a_admin"), "caseworker");
    EXPECT_EQ(roles.role("a_worker"), "admin");
    EXPECT_EQ(roles.role("a_other"), std::nullopt);
}

TEST_F(StaffRolesTest, AConstStoreIsEnoughToReadRoles) {
    StaffRoles(store()).set_role("a_admin", "admin");
    const policies::PolicyStore& read_only = store();
    EXPECT_EQ(StaffRoles(read_only).role("a_admin"), "admin");
}

}  // namespace
}  // namespace ariadne::storage
