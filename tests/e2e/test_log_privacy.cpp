// What the server log says at the default level when something sensitive happens: that a
// duress login raised an alert, never for whom (no account id, no case code), since a log
// line naming her next to "duress" tells whoever reads the log who is in danger.
#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

TEST(LogPrivacy, ADuressLoginAndItsAlertAreLoggedWithoutHerAccountOrCase) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");  // default log level (info)
    auto cw = gateway.add_caseworker("mara.k");
    Json out =
        gateway.admin({"survivor-enrol", "--caseworker", cw.account, "--initials", "M.K.",
                       "--language", "en", "--time-zone", Gateway::daytime_zone(),
                       "--with-duress-code", "--recovery-m-kib", "8192", "--insecure-test-params"});
    Gateway::Survivor real{out["account"], out["recovery_code"], out["case_code"]};
    Gateway::Survivor duress{"", out["duress_code"], out["case_code"]};
    gateway.start();

    auto watcher = gateway.connect();
    auto device = make_raw_device(tmp.path() / "watcher");
    ASSERT_EQ(register_raw(*watcher, cw, device, totp_for(cw))["type"], "ok");
    auto decoy = recover_survivor(gateway, duress, tmp.path() / "decoy");
    bool alerted = false;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!alerted && std::chrono::steady_clock::now() < deadline) {
        auto frame = watcher->next_unsolicited(500ms);
        alerted = frame && frame->value("type", "") == "alert";
    }
    ASSERT_TRUE(alerted);
    std::this_thread::sleep_for(200ms);  // let the log line be written

    std::string log = gateway.log();
    EXPECT_NE(log.find("alert duress raised"), std::string::npos) << log;
    EXPECT_EQ(log.find(real.case_code), std::string::npos) << log;
    EXPECT_EQ(log.find(real.account), std::string::npos) << log;
    EXPECT_EQ(log.find(decoy->account()), std::string::npos) << log;
}

}  // namespace
}  // namespace ariadne::e2e
