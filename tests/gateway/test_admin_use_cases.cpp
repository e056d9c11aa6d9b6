// The admin layer's contracts on a real data directory: every command of the table
// (admin_commands.h) runs and the usage is that table; the one enrolment use case covers
// what the SMS adapter needs (her number linked unverified, never-confirm, on-duty team);
// the one assign-with-handover use case keeps her duress login without caseworkers.
#include <sstream>

#include "ariadne/admin/admin.h"
#include "ariadne/admin/admin_commands.h"
#include "ariadne/admin/operations.h"
#include "ariadne/policies/clock.h"
#include "ariadne/policies/error.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/enrolment.h"
#include "ariadne/services/handover.h"
#include "ariadne/services/sms_numbers.h"
#include "harness.h"

namespace ariadne::gateway::test {
namespace {

std::vector<std::string> names_of(const AdminCommand& c) {
    std::vector<std::string> out;
    std::string names(c.names);
    for (std::size_t pos = 0;;) {
        auto bar = names.find('|', pos);
        out.push_back(names.substr(pos, bar == std::string::npos ? bar : bar - pos));
        if (bar == std::string::npos) return out;
        pos = bar + 1;
    }
}

TEST(AdminCli, EveryDocumentedCommandRunsAndTheUsageIsTheTable) {
    std::istringstream none;
    std::ostringstream help, err;
    ASSERT_EQ(run_admin({"--help"}, none, help, err), 0);
    std::size_t lines = 0;
    for (const auto& c : kAdminCommands) {
        EXPECT_NE(help.str().find("  ariadne admin " + std::string(c.synopsis) + "\n"),
                  std::string::npos)
            << c.names;
        EXPECT_FALSE(c.output.empty()) << c.names;
        EXPECT_FALSE(c.errors.empty()) << c.names;
        for (const auto& name : names_of(c)) {
            ++lines;
            // Without --data-dir every command refuses, but as itself, never as unknown.
            std::ostringstream out, e;
            int status = run_admin({name}, none, out, e);
            EXPECT_NE(status, 0) << name;
            EXPECT_EQ(e.str().find("unknown subcommand"), std::string::npos) << name << e.str();
        }
    }
    EXPECT_GE(lines, 25u);
    std::ostringstream out, e;
    EXPECT_EQ(run_admin({"no-such-command"}, none, out, e), 2);
    EXPECT_NE(e.str().find("unknown subcommand 'no-such-command'"), std::string::npos);
    EXPECT_NE(e.str().find(help.str()), std::string::npos);
}

class UseCases : public ::testing::Test {
  protected:
    void SetUp() override {
        data_ = dir_.path / "data";
        ensure_data_dir(data_);
        StoreOptions o;
        o.path = database_path(data_);
        o.max_delay = std::chrono::microseconds(0);
        store_ = std::make_unique<Store>(o);
        key_ = std::make_unique<ServerKey>(ServerKey::load_or_create(data_));
        policies_ = policies::PolicyStore::open(database_path(data_).string());
        params_ = load_or_create_recovery_params(*store_, 8192, true);
        for (const char* name : {"mara.k", "rosa.t"}) {
            caseworkers_.push_back(
                create_caseworker_account(*store_, *key_, *policies_,
                                          {name, "a long passphrase", "caseworker", "M.K."},
                                          "admin-cli")
                    .at("account")
                    .get<std::string>());
        }
    }
    EnrolledSurvivor enrol(SurvivorEnrolment args) {
        return enrol_survivor(
            *store_, *policies_, *key_, args, [this] { return params_; }, admin_,
            policies::now_utc());
    }

    TempDir dir_;
    std::filesystem::path data_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<ServerKey> key_;
    std::unique_ptr<policies::PolicyStore> policies_;
    crypto::RecoveryParams params_;
    std::vector<std::string> caseworkers_;
    const policies::Actor admin_{policies::AccountId("sms-gateway"), policies::Role::admin};
};

TEST_F(UseCases, TheSmsAdaptersEnrolmentLinksHerNumberUnverifiedUnderTheOnDutyTeam) {
    auto her = enrol({.caseworkers = {caseworkers_[0]},
                      .caseworker_field = "on_duty",
                      .initials = "U",
                      .language = "en",
                      .time_zone = "UTC",
                      .never_confirm_client = true,
                      .sms_number = "+4915112345678"});
    auto link = find_sms_link(*policies_, address_ref_of(*key_, "+4915112345678"));
    ASSERT_TRUE(link);
    EXPECT_EQ(link->case_code, her.case_code);
    EXPECT_FALSE(link->verified);
    auto record = policies_->find_survivor(her.case_code);
    ASSERT_TRUE(record);
    EXPECT_TRUE(record->flags.never_confirm_client);
    ASSERT_EQ(record->caseworkers.size(), 1u);
    EXPECT_EQ(record->caseworkers[0].str(), caseworkers_[0]);
    EXPECT_EQ(find_case_account(*policies_, her.case_code), her.account.id);
    EXPECT_TRUE(her.duress_code.empty());

    // An on-duty id that is no caseworker is refused under the field the caller names,
    // before anything is stored.
    const long before = static_cast<long>(policies_->audit_entries(1, 100000).size());
    try {
        enrol({.caseworkers = {her.account.id},
               .caseworker_field = "on_duty",
               .initials = "U",
               .language = "en",
               .time_zone = "UTC"});
        ADD_FAILURE() << "a survivor account was accepted as on duty";
    } catch (const policies::Error& e) {
        EXPECT_EQ(e.code(), policies::ErrorCode::not_found);
        EXPECT_EQ(e.field(), "on_duty");
    }
    EXPECT_EQ(static_cast<long>(policies_->audit_entries(1, 100000).size()), before);
}

TEST_F(UseCases, AssigningKeepsHerDuressLoginWithoutCaseworkersAndAHandoverOnlyForANewOne) {
    auto her = enrol({.caseworkers = {caseworkers_[0]},
                      .initials = "A.N.",
                      .language = "en",
                      .time_zone = "UTC",
                      .with_duress_code = true});
    ASSERT_FALSE(her.duress_code.empty());
    auto decoy_secrets = crypto::derive_recovery_secrets(her.duress_code, params_);
    auto decoy = store_->find_survivor(decoy_secrets.locator);
    ASSERT_TRUE(decoy);
    ASSERT_NE(decoy->account.id, her.account.id);

    NoticeCarriers none{[](NewNotice) { return false; }, {}};
    const policies::Actor admin{policies::AccountId("admin-cli"), policies::Role::admin};
    try {
        assign_caseworker(*store_, *policies_, decoy->account.id, caseworkers_[1], admin, none,
                          policies::now_utc());
        ADD_FAILURE() << "her duress login was given a caseworker";
    } catch (const policies::Error& e) {
        EXPECT_EQ(e.code(), policies::ErrorCode::not_found);
        EXPECT_EQ(e.field(), "survivor");
    }
    auto mara = store_->find_account(caseworkers_[1]);
    EXPECT_FALSE(store_->shares_assignment(decoy->account, *mara));

    // Her own account: the new caseworker joins her team; a notice is attempted (she never
    // signed in, so nothing can carry it), and assigning again changes nothing.
    auto line = assign_caseworker(*store_, *policies_, her.account.id, caseworkers_[1], admin, none,
                                  policies::now_utc());
    EXPECT_EQ(line.at("case_code"), her.case_code.str());
    ASSERT_TRUE(line.contains("handover_notice")) << line.dump();
    EXPECT_EQ(line["handover_notice"]["reason"], "no_channel") << line.dump();
    EXPECT_EQ(policies_->find_survivor(her.case_code)->caseworkers.size(), 2u);
    auto again = assign_caseworker(*store_, *policies_, her.account.id, caseworkers_[1], admin,
                                   none, policies::now_utc());
    EXPECT_FALSE(again.contains("handover_notice"));
}

}  // namespace
}  // namespace ariadne::gateway::test
