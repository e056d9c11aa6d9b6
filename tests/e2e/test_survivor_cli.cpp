// The reference survivor client, run as a program the way an app builder would run it:
// recover from a code on stdin, send to her team, print what arrives.
#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

#ifdef ARIADNE_SURVIVOR_BINARY

namespace ariadne::e2e {
namespace {

class SurvivorCli : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    ProcessResult run(std::vector<std::string> command, const std::string& input = "") {
        std::vector<std::string> argv = {ARIADNE_SURVIVOR_BINARY,
                                         "--server",
                                         gateway_->url(),
                                         "--fingerprint",
                                         gateway_->fingerprint(),
                                         "--store",
                                         (tmp_.path() / "phone").string()};
        argv.insert(argv.end(), command.begin(), command.end());
        return run_process(argv, input);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(SurvivorCli, RecoversSendsToHerTeamAndPrintsTheReply) {
    auto console = register_console(*gateway_, cw_, tmp_.path() / "console");

    ProcessResult rec = run({"recover"}, survivor_.recovery_code + "\n");
    ASSERT_EQ(rec.exit_code, 0) << rec.err;
    EXPECT_NE(rec.out.find(survivor_.account), std::string::npos) << rec.out;
    EXPECT_NE(rec.out.find("team of 1 caseworker"), std::string::npos) << rec.out;

    ProcessResult sent = run({"send", "is the office open on friday?"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    auto got = console->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "is the office open on friday?");

    console->send_text(survivor_.account, "yes, from 9 to 5");
    ProcessResult recv = run({"--json", "receive", "--wait", "1"});
    ASSERT_EQ(recv.exit_code, 0) << recv.err;
    Json line = Json::parse(recv.out.substr(0, recv.out.find('\n')));
    EXPECT_EQ(line["text"], "yes, from 9 to 5");
    EXPECT_EQ(line["from"], cw_.account);

    // Printed and acknowledged: a second receive prints nothing.
    ProcessResult again = run({"receive", "--wait", "1"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "");
}

TEST_F(SurvivorCli, AWrongCodeFailsWithAReasonAndAMalformedOneNeverReachesTheGateway) {
    ProcessResult wrong = run({"recover"}, crypto::generate_recovery_code() + "\n");
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("auth_failed"), std::string::npos) << wrong.err;

    ProcessResult malformed = run({"recover"}, "12345\n");
    EXPECT_EQ(malformed.exit_code, 1);
    EXPECT_NE(malformed.err.find("16 digits"), std::string::npos) << malformed.err;
    EXPECT_EQ(malformed.err.find("12345"), std::string::npos) << "the code was echoed";
}

TEST_F(SurvivorCli, UsageErrorsExitWithTwoAndHelpDescribesTheCommands) {
    ProcessResult none = run({});
    EXPECT_EQ(none.exit_code, 2);
    ProcessResult help = run_process({ARIADNE_SURVIVOR_BINARY, "--help"}, "");
    EXPECT_EQ(help.exit_code, 0);
    for (const char* word : {"recover", "send", "receive", "--fingerprint", "--store"}) {
        EXPECT_NE(help.out.find(word), std::string::npos) << word;
    }
    ProcessResult before = run({"send", "hi"});
    EXPECT_EQ(before.exit_code, 1);
    EXPECT_NE(before.err.find("recover"), std::string::npos) << before.err;
}

}  // namespace
}  // namespace ariadne::e2e

#endif
