// The console's conversations show the gateway's own words about each survivor, unchanged:
// the channel with its security label, her case status and the unverified flag of an SMS
// thread. A real `ariadne serve` (with its SMS edge), a real console service logged in as her
// caseworker, and the gateway's `contacts` answer read by a second device of the same
// caseworker to compare against.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <fstream>

#include "accounts.h"
#include "ariadne/console/history.h"
#include "ariadne/console/service.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

const char* kSmsToken = "console_contacts_token_0123456789abcdefgh";

class ConsoleContacts : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto data = tmp_.path() / "data";
        // The SMS edge hands replies to a Kannel nobody runs: only inbound SMS matters here.
        const auto sms_config = tmp_.path() / "sms.json";
        gateway_ = std::make_unique<Gateway>(
            data, std::vector<std::string>{"--sms-config", sms_config.string()});
        cw_ = gateway_->add_caseworker("mara.k");
        std::ofstream(sms_config) << Json({{"kannel_port", 9},
                                           {"kannel_username", "ariadne"},
                                           {"kannel_password", "pw_unused"},
                                           {"sender", "7000"},
                                           {"inbound_token", kSmsToken},
                                           {"callback_base", "https://127.0.0.1:1"},
                                           {"on_duty", {cw_.account}}})
                                         .dump();
        app_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    /// Posts an SMS to /sms/inbound exactly as Kannel's smsbox does; returns the HTTP status.
    int inject_sms(const std::string& from, const std::string& text) {
        auto r = run_process(
            {"/usr/bin/curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
             "-u", std::string("kannel:") + kSmsToken, "-H", "X-Kannel-From: " + from, "-H",
             "Content-Type: text/plain; charset=UTF-8", "--data-binary", "@-",
             "https://127.0.0.1:" + std::to_string(gateway_->port()) + "/sms/inbound"},
            text);
        return std::atoi(r.out.c_str());
    }

    /// Sets her case status in the gateway's database, as an administrator's change would.
    void set_status(const std::string& case_code, const std::string& status) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((gateway_->data_dir() / "ariadne.db").c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        const std::string sql = "UPDATE policies_survivors SET status = '" + status +
                                "' WHERE case_code = '" + case_code + "'";
        EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db);
        EXPECT_EQ(sqlite3_changes(db), 1);
        sqlite3_close(db);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor app_;
};

// An empty object when the account is not listed (yet): the wait below polls it.
Json entry_of(const Json& list, const std::string& account) {
    if (!list.is_array()) return Json::object();
    for (const Json& e : list) {
        if (e.is_object() && e.value("account", "") == account) return e;
    }
    return Json::object();
}

TEST_F(ConsoleContacts, ConversationsShowTheGatewaysLabelStatusAndUnverifiedFlagUnchanged) {
    auto dir = tmp_.path() / "console";
    std::filesystem::create_directories(dir);
    console::ConsoleService service(register_console(*gateway_, cw_, dir / "device", 0),
                                    console::History::open(dir / "history.db", test_store_key()),
                                    nullptr, console::ConsoleSettings{});
    service.start();
    auto checker = register_console(*gateway_, cw_, tmp_.path() / "checker", 1);
    // A number not on file writes in: a new unverified SMS thread for the on-duty caseworker
    // (sealed for her devices, so after they exist).
    ASSERT_EQ(inject_sms("+393335550199", "Is this the right number?"), 202);
    set_status(app_.case_code, "closed");

    // Both survivors are listed with a case code once the console has read `contacts`.
    Json gateway_list, inbox;
    std::string sms_account;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
        gateway_list = checker->connection().call({{"type", "contacts"}})["contacts"];
        inbox = service.inbox()["conversations"];
        for (const Json& e : gateway_list) {
            if (e.value("unverified", false)) sms_account = e.value("account", "");
        }
        bool ready = !sms_account.empty() &&
                     entry_of(inbox, sms_account).value("case_code", "") != "" &&
                     entry_of(inbox, app_.account).value("case_code", "") != "" &&
                     // the console refreshes at once for her SMS, maybe before the status
                     entry_of(inbox, app_.account).value("status", "") == "closed";
        if (ready) break;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << inbox.dump();
        std::this_thread::sleep_for(200ms);
    }

    for (const std::string& account : {app_.account, sms_account}) {
        const Json gw = entry_of(gateway_list, account);
        const Json row = entry_of(inbox, account);
        const Json thread = service.thread(account);
        SCOPED_TRACE(gw.dump());
        ASSERT_TRUE(gw.contains("channel"));
        EXPECT_EQ(row["channel"], gw["channel"]);
        EXPECT_EQ(thread["channel"], gw["channel"]);
        EXPECT_EQ(row["status"], gw["status"]);
        EXPECT_EQ(thread["status"], gw["status"]);
        EXPECT_EQ(row["unverified"], gw.value("unverified", false));
        EXPECT_EQ(thread["unverified"], gw.value("unverified", false));
    }
    // What that is, in the gateway's words (policies::describe, docs/protocol.md 4.5).
    EXPECT_EQ(
        entry_of(inbox, sms_account)["channel"],
        Json({{"kind", "sms"}, {"security", "carrier_plaintext"}, {"label", "carrier plaintext"}}));
    EXPECT_EQ(entry_of(inbox, sms_account)["unverified"], true);
    EXPECT_EQ(
        entry_of(inbox, app_.account)["channel"],
        Json({{"kind", "app"}, {"security", "end_to_end"}, {"label", "end-to-end encrypted"}}));
    EXPECT_EQ(entry_of(inbox, app_.account)["status"], "closed");
    EXPECT_EQ(entry_of(inbox, app_.account)["unverified"], false);
    service.stop();
}

}  // namespace
}  // namespace ariadne::e2e
