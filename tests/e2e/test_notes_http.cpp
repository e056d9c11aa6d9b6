// The survivor page (/notes) and the admin API on the real server, over real TLS from
// several 127.0.0.x addresses: a flood of sign-in guesses does not hold up the admin API
// (each route class has its own workers), simultaneous guesses from one address are checked
// only as often as the limit allows, and requests without a session never sign anyone out.
// A reply to her page is reported kept, then read once the page shows it to her.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"
#include "notes_page.h"

namespace ariadne::e2e {
namespace {

/// A well-formed recovery code that is nobody's (each one costs the server an Argon2id).
std::string wrong_code(int n) {
    std::string digits = std::to_string(1000000 + n);
    return std::string(16 - digits.size(), '0') + digits;
}

const std::string kFailed = "That did not work.";
const std::string kWait = "Please wait";
const std::string kFull = "cannot open more conversations";

TEST(NotesHttp, AdminApiAnswersWhileSignInGuessesFromManyAddressesAreStillQueued) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    Json a = gateway.admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                           "admin passphrase\n");
    Gateway::Caseworker admin{a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
    gateway.start();

    Https admin_conn(gateway.port(), "127.0.0.1");
    HttpAnswer session = admin_conn.request("POST", "/v1/admin/session",
                                            Json({{"username", admin.username},
                                                  {"password", admin.password},
                                                  {"totp", totp_for(admin, 0)}})
                                                .dump(),
                                            {"Content-Type: application/json"});
    ASSERT_EQ(session.status, 200) << session.body;
    const std::string bearer =
        "Authorization: Bearer " + Json::parse(session.body).at("token").get<std::string>();

    // 40 addresses, one guess each (every one is checked: a different address and code).
    constexpr int kGuessers = 40;
    std::vector<std::unique_ptr<PageVisit>> guessers;
    for (int i = 0; i < kGuessers; ++i) {
        guessers.push_back(
            std::make_unique<PageVisit>(gateway.port(), "127.0.0." + std::to_string(10 + i)));
    }
    for (int i = 0; i < kGuessers; ++i) guessers[i]->write_post(login_form(wrong_code(i)));
    // The first answer: the guesses are with the server's workers.
    auto answered = [&] {
        int n = 0;
        for (auto& g : guessers) n += g->conn->answered() ? 1 : 0;
        return n;
    };
    for (int spin = 0; answered() == 0 && spin < 30000; ++spin) ::usleep(1000);
    ASSERT_GT(answered(), 0);

    HttpAnswer policy = admin_conn.request("GET", "/v1/admin/policy", "", {bearer});
    const int done_when_admin_answered = answered();
    EXPECT_EQ(policy.status, 200) << policy.body;
    std::cout << "[ measure ] admin API answered with " << kGuessers - done_when_admin_answered
              << " of " << kGuessers << " sign-in guesses still unanswered\n";
    // With one queue for everything the admin request waits behind every guess queued before
    // it (at most the two in progress would be left); with its own workers it does not.
    EXPECT_GE(kGuessers - done_when_admin_answered, 10)
        << "the admin API answered only after " << done_when_admin_answered << " of " << kGuessers
        << " sign-in guesses";
    for (auto& g : guessers) {
        g->finish_post();
        EXPECT_NE(g->last_body.find(kFailed), std::string::npos);
    }
}

TEST(NotesHttp, SimultaneousGuessesFromOneAddressAreCheckedOnlyAsOftenAsTheLimitAllows) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    gateway.start();
    constexpr int kGuesses = 16;
    std::vector<std::unique_ptr<PageVisit>> tabs;
    for (int i = 0; i < kGuesses; ++i) {
        tabs.push_back(std::make_unique<PageVisit>(gateway.port(), "127.0.0.77"));
    }
    for (int i = 0; i < kGuesses; ++i) tabs[i]->write_post(login_form(wrong_code(100 + i)));
    int checked = 0, told_to_wait = 0;
    for (auto& t : tabs) {
        t->finish_post();
        checked += t->last_body.find(kFailed) != std::string::npos ? 1 : 0;
        told_to_wait += t->last_body.find(kWait) != std::string::npos ? 1 : 0;
    }
    // The first guess is counted before it is checked; the others find the delay running.
    EXPECT_EQ(checked, 1);
    EXPECT_EQ(told_to_wait, kGuesses - 1);
}

TEST(NotesHttp, RequestsWithoutASessionNeverSignHerOutAndAFullPageRefusesNewSignInsOnly) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data", {"--notes-max-sessions", "3"});
    auto cw = gateway.add_caseworker("mara.k");
    auto her = gateway.enrol_survivor(cw.account);
    gateway.start();

    PageVisit she(gateway.port(), "127.0.0.1");
    she.post(login_form(her.recovery_code));
    ASSERT_TRUE(she.signed_in()) << she.last_body;

    // 300 requests without a cookie, and form posts with a stranger's page token.
    Https flood(gateway.port(), "127.0.0.2");
    for (int i = 0; i < 300; ++i) ASSERT_EQ(flood.request("GET", "/notes").status, 200);
    PageVisit stranger(gateway.port(), "127.0.0.3");
    for (int i = 0; i < 20; ++i) {
        stranger.cookie.clear();
        stranger.post("a=lang&lang=fr");
    }
    she.get();
    ASSERT_TRUE(she.signed_in()) << "signed out by requests without a session";

    // Two more sign-ins fill the page (3); the next one is refused, hers stays.
    PageVisit second(gateway.port(), "127.0.0.4"), third(gateway.port(), "127.0.0.5");
    second.post(login_form(her.recovery_code));
    third.post(login_form(her.recovery_code));
    ASSERT_TRUE(second.signed_in() && third.signed_in());
    PageVisit fourth(gateway.port(), "127.0.0.6");
    fourth.post(login_form(her.recovery_code));
    EXPECT_FALSE(fourth.signed_in());
    EXPECT_NE(fourth.last_body.find(kFull), std::string::npos) << fourth.last_body;
    // A guess on a full page is not checked either (same sentence, no "did not work").
    PageVisit guesser(gateway.port(), "127.0.0.7");
    guesser.post(login_form(wrong_code(7)));
    EXPECT_NE(guesser.last_body.find(kFull), std::string::npos);

    // What she writes after all this is still taken in her session (not a sign-in form).
    she.post("a=send&text=still+here");
    EXPECT_TRUE(she.signed_in()) << she.last_body;

    // One of them closes: the place is free again.
    second.post("a=logout");
    fourth.post(login_form(her.recovery_code));
    EXPECT_TRUE(fourth.signed_in()) << fourth.last_body;
}

TEST(NotesHttp, AReplyToHerPageIsReportedKeptThenReadOnlyOnceThePageShowsItToHer) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    auto cw = gateway.add_caseworker("mara.k");
    auto her = gateway.enrol_survivor(cw.account, false);
    gateway.admin({"consent-record", "--case", her.case_code, "--channel", "web", "--purpose",
                   "replies", "--by", cw.account});
    gateway.start();

    PageVisit she(gateway.port(), "127.0.0.1");
    she.post(login_form(her.recovery_code));
    ASSERT_TRUE(she.signed_in()) << she.last_body;
    she.post("a=send&text=hello+from+the+page");
    auto console = register_console(gateway, cw, tmp.path() / "console");
    for (int i = 0; i < 50; ++i) {
        auto m = console->receive(std::chrono::milliseconds(200));
        if (m && !m->is_receipt && !m->is_notice) break;
    }

    auto sent = console->send_text(her.account, "Thank you, I read it.", true);
    ASSERT_EQ(sent.server_ids.size(), 1u) << "her only device is the page's edge device";
    ASSERT_EQ(sent.server_ids[0].first, 2u);
    const std::int64_t ref = sent.server_ids[0].second;

    // Taken into her page's history: "kept", never a plain "delivered" (her phone).
    auto kept = receipt_for(*console, ref, std::chrono::seconds(10));
    ASSERT_TRUE(kept) << "no receipt for the reply kept for her page\n" << gateway.log();
    EXPECT_EQ(kept->from_device, 2u);
    EXPECT_EQ(kept->receipt_status, "kept");
    EXPECT_TRUE(kept->failure.empty());
    EXPECT_EQ(count_rows(gateway.data_dir() / "ariadne.db", "mailbox", "kind = 3 AND body IS NULL"),
              1);
    // She has not looked at the page since: nothing more.
    EXPECT_FALSE(receipt_for(*console, ref, std::chrono::milliseconds(1500)));

    // She opens the page: it shows the reply, and its sender learns she has read it.
    she.get();
    ASSERT_NE(she.last_body.find("Thank you, I read it."), std::string::npos) << she.last_body;
    auto read = receipt_for(*console, ref, std::chrono::seconds(10));
    ASSERT_TRUE(read) << "no read receipt after the page showed the reply\n" << gateway.log();
    EXPECT_EQ(read->from_device, 2u);
    EXPECT_EQ(read->receipt_status, "read");
    EXPECT_EQ(count_rows(gateway.data_dir() / "ariadne.db", "mailbox", "kind = 3"), 0);
    // Shown again: no second read receipt.
    she.get();
    EXPECT_FALSE(receipt_for(*console, ref, std::chrono::milliseconds(1500)));
}

TEST(NotesHttp, OnlyTheGatewaysEdgeDeviceMayReportAReplyKeptOrRead) {
    TempDir tmp;
    Gateway gateway(tmp.path() / "data");
    auto cw = gateway.add_caseworker("mara.k");
    auto her = gateway.enrol_survivor(cw.account);
    gateway.start();
    auto phone = recover_survivor(gateway, her, tmp.path() / "phone");
    auto console = register_console(gateway, cw, tmp.path() / "console");
    auto sent = console->send_text(her.account, "Hello", true);
    ASSERT_EQ(sent.server_ids.size(), 1u);
    for (const char* status : {"kept", "read"}) {
        try {
            phone->connection().call(
                {{"type", "ack"}, {"server_id", sent.server_ids[0].second}, {"status", status}});
            ADD_FAILURE() << "her app's '" << status << "' ack was accepted";
        } catch (const client::ServerError& e) {
            EXPECT_EQ(e.server_code(), "forbidden") << status;
        }
    }
    // Nothing was deleted: her app still receives it, and its receipt is a plain delivery.
    bool got = false;
    for (int i = 0; i < 50 && !got; ++i) {
        auto m = phone->receive(std::chrono::milliseconds(200));
        got = m && !m->is_receipt && !m->is_notice && m->plaintext == "Hello";
    }
    EXPECT_TRUE(got);
    auto delivered = receipt_for(*console, sent.server_ids[0].second, std::chrono::seconds(10));
    ASSERT_TRUE(delivered);
    EXPECT_EQ(delivered->from_device, 1u);
    EXPECT_TRUE(delivered->receipt_status.empty());
}

}  // namespace
}  // namespace ariadne::e2e
