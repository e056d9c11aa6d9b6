// Check-in reminders delivered through the real server: the scheduler in `ariadne serve`
// decides a due slot, queues a content-free `notice` to her mailbox, and her app receives the
// organisation's neutral text rendered in her language; her reply answers the check-in.
// Outside the plan's window nothing is sent, and a withdrawal recorded just before the slot
// is due stops it (denied consent_withdrawn, audited). The server runs its scheduler every
// --checkin-interval-ms.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;

class CheckinDelivery : public ::testing::Test {
  protected:
    void start(const std::string& interval_ms) {
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data", std::vector<std::string>{"--checkin-interval-ms", interval_ms});
        cw_ = gateway_->add_caseworker("mara.k");
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }
    std::filesystem::path db() const { return gateway_->data_dir() / "ariadne.db"; }

    /// Enrols her in Romanian, in a zone where it is about noon, with app consent for
    /// replies and check-ins.
    Gateway::Survivor enrol_romanian() {
        Json out =
            gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials", "M.K.",
                             "--language", "ro", "--time-zone", Gateway::daytime_zone(),
                             "--recovery-m-kib", "8192", "--insecure-test-params"});
        Gateway::Survivor s{out.at("account").get<std::string>(),
                            out.at("recovery_code").get<std::string>(),
                            out.at("case_code").get<std::string>()};
        for (const char* purpose : {"replies", "check_ins"}) {
            gateway_->admin({"consent-record", "--case", s.case_code, "--channel", "app",
                             "--purpose", purpose, "--by", cw_.account});
        }
        return s;
    }

    void set_plan(const Gateway::Survivor& s, const std::string& window) {
        gateway_->admin({"checkin-plan-set", "--case", s.case_code, "--by", cw_.account,
                         "--every-days", "1", "--window", window, "--channel", "app"});
    }

    /// The first notice within `timeout` (other deliveries are acknowledged and skipped).
    static std::optional<ReceivedMessage> next_notice(Messenger& m,
                                                      std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(200ms);
            if (msg && msg->is_notice) return msg;
        }
        return std::nullopt;
    }

    long occurrences(const std::string& where) {
        return count_rows(db(), "policies_checkin_occurrences", where);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
};

TEST_F(CheckinDelivery, ADueCheckInReachesHerAppInHerLanguageAndHerReplyAnswersIt) {
    start("200");
    auto survivor = enrol_romanian();
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));  // her device 1 exists
    set_plan(survivor, "00:00-23:59");

    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice) << "no check-in notice arrived";
    EXPECT_EQ(notice->notice, "checkin");
    EXPECT_EQ(notice->language, "ro");
    EXPECT_EQ(notice->plaintext, "Bună, doar voiam să te salut. Răspunde oricând.");
    EXPECT_TRUE(notice->from.empty());
    EXPECT_NE(notice->reference.find(':'), std::string::npos) << notice->reference;
    EXPECT_EQ(occurrences("state = 'sent' AND channel = 'app'"), 1);
    // Acknowledged, so removed from her mailbox; the row never held text.
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2"), 0);

    auto console = register_console(*gateway_, cw_, dir("console"));
    phone->send_text(cw_.account, "ok");
    for (int i = 0; i < 100 && occurrences("state = 'responded'") == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(occurrences("state = 'responded'"), 1);
    auto audit = gateway_->admin({"audit-verify"});
    EXPECT_EQ(audit.value("ok", false), true);
}

TEST_F(CheckinDelivery, APlanSetBeforeSheSignsInWaitsForHerAndItsFirstCheckInArrivesThen) {
    start("200");
    auto survivor = enrol_romanian();
    // No device of hers yet: the plan is accepted, saying no channel reaches her so far.
    Json answer =
        gateway_->admin({"checkin-plan-set", "--case", survivor.case_code, "--by", cw_.account,
                         "--every-days", "1", "--window", "00:00-23:59", "--channel", "app"});
    EXPECT_EQ(answer.value("waiting_for_her", false), true) << answer.dump();
    EXPECT_EQ(answer["channels"][0]["reaches_her"], false) << answer.dump();
    EXPECT_NE(answer["channels"][0].value("why", "").find("not logged in with the app"),
              std::string::npos)
        << answer.dump();

    // Its window is open, yet over many scheduler runs nothing is sent, recorded or lost.
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(occurrences("1"), 0);
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2"), 0);
    EXPECT_EQ(count_rows(db(), "gateway_alerts", "1"), 0);
    EXPECT_EQ(count_rows(db(), "policies_checkin_plans", "next_due_at IS NOT NULL"), 1);

    // She signs in with the app: the first check-in comes in the window open now.
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice) << "no check-in notice arrived after she signed in";
    EXPECT_EQ(notice->notice, "checkin");
    EXPECT_EQ(occurrences("1"), 1);
    EXPECT_EQ(occurrences("state = 'sent' AND channel = 'app'"), 1);
}

/// Her entry in `console`'s `contacts` answer (an empty object when she is not listed).
Json contact_of(client::Messenger& console, const std::string& account) {
    Json answer = console.connection().call({{"type", "contacts"}});
    for (const auto& c : answer.value("contacts", Json::array())) {
        if (c.value("account", "") == account) return c;
    }
    return Json::object();
}

TEST_F(CheckinDelivery, WhileTheFirstCheckInWaitsForHerHerCaseworkerIsToldWaitingAndWhy) {
    start("200");
    auto survivor = enrol_romanian();
    auto console = register_console(*gateway_, cw_, dir("console"));
    EXPECT_FALSE(contact_of(*console, survivor.account).contains("checkin"))
        << "no plan: no check-in state";
    set_plan(survivor, "00:00-23:59");  // no device of hers yet

    std::this_thread::sleep_for(1000ms);  // several scheduler runs hold it
    Json c = contact_of(*console, survivor.account);
    EXPECT_EQ(c.value("checkin", ""), "waiting") << c.dump();
    EXPECT_EQ(c.value("checkin_reason", ""), "unreachable") << c.dump();
    EXPECT_FALSE(c.contains("checkin_next")) << c.dump();

    // She signs in: the first check-in goes out, and the state is that slot's.
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    ASSERT_TRUE(next_notice(*phone, 10s)) << "no check-in notice arrived after she signed in";
    c = contact_of(*console, survivor.account);
    EXPECT_EQ(c.value("checkin", ""), "sent") << c.dump();
    EXPECT_FALSE(c.contains("checkin_reason")) << c.dump();
}

TEST_F(CheckinDelivery, APlanThatCanReachHerButWhoseFirstWindowIsLaterIsScheduledWithItsTime) {
    start("200");
    auto survivor = enrol_romanian();
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    auto console = register_console(*gateway_, cw_, dir("console"));
    // Her zone is at about noon: a night window opens many hours from now.
    set_plan(survivor, "02:00-03:00");
    std::this_thread::sleep_for(600ms);
    Json c = contact_of(*console, survivor.account);
    EXPECT_EQ(c.value("checkin", ""), "scheduled") << c.dump();
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ASSERT_TRUE(c.contains("checkin_next") && c["checkin_next"].is_number_integer()) << c.dump();
    EXPECT_GT(c["checkin_next"].get<std::int64_t>(), now_ms + 3600 * 1000) << c.dump();
    EXPECT_LT(c["checkin_next"].get<std::int64_t>(), now_ms + 26 * 3600 * 1000) << c.dump();
    EXPECT_EQ(occurrences("1"), 0);
}

TEST_F(CheckinDelivery, ANoticeQueuedWhileSheIsOfflineWaitsInHerMailboxWithoutText) {
    start("200");
    auto survivor = enrol_romanian();
    recover_survivor(*gateway_, survivor, dir("phone")).reset();  // device 1, then offline
    set_plan(survivor, "00:00-23:59");
    for (int i = 0; i < 100 && occurrences("state = 'sent'") == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(occurrences("state = 'sent'"), 1);
    ASSERT_EQ(count_rows(db(), "mailbox", "kind = 2"), 1);
    // The stored row: tokens only (kind, reference, language, template), never the text.
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2 AND instr(CAST(body AS TEXT), 'Bun') > 0"), 0);
    EXPECT_EQ(count_rows(db(), "mailbox",
                         "kind = 2 AND CAST(body AS TEXT) LIKE 'checkin%ro%neutral_checkin'"),
              1);
    auto phone = Messenger::open(messenger_options(*gateway_, dir("phone")), test_store_key());
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->plaintext, "Bună, doar voiam să te salut. Răspunde oricând.");
}

TEST_F(CheckinDelivery, OutsideTheWindowNothingIsSent) {
    start("200");
    auto survivor = enrol_romanian();
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    set_plan(survivor, "01:00-02:00");  // it is about noon in her zone
    EXPECT_FALSE(next_notice(*phone, 2s));
    EXPECT_EQ(occurrences(""), 0);
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2"), 0);
}

TEST_F(CheckinDelivery, AWithdrawalJustBeforeTheSlotIsDueStopsIt) {
    // The scheduler runs at start and then every 6 s: the plan and the withdrawal land
    // between two runs, so the run that finds the slot due sees the withdrawal.
    start("6000");
    auto survivor = enrol_romanian();
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    set_plan(survivor, "00:00-23:59");
    gateway_->admin({"consent-withdraw", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", cw_.account});
    for (int i = 0; i < 150 && occurrences("state != 'claimed'") == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(occurrences("state = 'denied' AND reason = 'consent_withdrawn'"), 1);
    EXPECT_FALSE(next_notice(*phone, 1s));
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2"), 0);
    auto export_run = run_process(
        {server_binary(), "admin", "audit-export", "--data-dir", gateway_->data_dir().string()},
        "");
    EXPECT_NE(export_run.out.find("\"reason\":\"consent_withdrawn:app\""), std::string::npos)
        << export_run.out;
}

TEST_F(CheckinDelivery, AReassignmentSendsAHandoverNoticeByInitialsOnlyAndNoTextReachesTheDisk) {
    start("200");
    auto survivor = enrol_romanian();
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    // A full name where initials belong is refused before the account exists.
    auto refused = run_process(
        {server_binary(), "admin", "caseworker-add", "--data-dir", gateway_->data_dir().string(),
         "--username", "rosa.t", "--initials", "Rosalind Travers"},
        "a long passphrase\n");
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_NE(refused.err.find("initials"), std::string::npos) << refused.err;
    Json cw2 = gateway_->admin({"caseworker-add", "--username", "rosa.t", "--initials", "R.T."},
                               "a long passphrase\n");
    const std::string cw2_account = cw2.at("account").get<std::string>();

    // Without her case_updates consent the notice is denied (fail closed), the team still grows.
    Json denied =
        gateway_->admin({"assign", "--survivor", survivor.account, "--caseworker", cw2_account});
    EXPECT_EQ(denied["handover_notice"]["sent"], false) << denied.dump();
    EXPECT_EQ(denied["handover_notice"]["reason"], "no_consent") << denied.dump();

    // With it, a third caseworker's assignment queues the notice in her language.
    gateway_->admin({"consent-record", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "case_updates", "--by", cw_.account});
    Json cw3 = gateway_->admin({"caseworker-add", "--username", "ion.p", "--initials", "I.P."},
                               "a long passphrase\n");
    const std::string cw3_account = cw3.at("account").get<std::string>();
    Json sent =
        gateway_->admin({"assign", "--survivor", survivor.account, "--caseworker", cw3_account});
    EXPECT_EQ(sent["handover_notice"]["sent"], true) << sent.dump();
    phone->disconnect();  // the CLI cannot push: it arrives on her next connection
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->notice, "handover");
    EXPECT_EQ(notice->from, cw3_account);
    EXPECT_EQ(notice->plaintext,
              "Bună, de acum I.P. va fi persoana ta de contact. Răspunde oricând.");

    // A check-in delivered too, then the canary: neither text is on disk or in the log.
    set_plan(survivor, "00:00-23:59");
    ASSERT_TRUE(next_notice(*phone, 10s));
    phone.reset();
    ASSERT_EQ(gateway_->stop(), 0);
    auto bytes = [](const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream out;
        out << in.rdbuf();
        return out.str();
    };
    for (const auto& [where, content] :
         std::vector<std::pair<std::string, std::string>>{{"database", bytes(db())},
                                                          {"wal", bytes(db().string() + "-wal")},
                                                          {"server log", gateway_->log()}}) {
        for (const char* secret : {"Rosalind", "Travers", "va fi persoana", "voiam s"}) {
            EXPECT_EQ(content.find(secret), std::string::npos) << secret << " in " << where;
        }
    }
    auto audit = run_process(
        {server_binary(), "admin", "audit-export", "--data-dir", gateway_->data_dir().string()},
        "");
    EXPECT_NE(audit.out.find("notice.handover"), std::string::npos);
    EXPECT_NE(audit.out.find("no_consent:app"), std::string::npos);
}

}  // namespace
}  // namespace ariadne::e2e
