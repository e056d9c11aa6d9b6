// The organisation's duress words and the duress lock, through the real server. An
// administrator sets the words (stored as keyed digests, never in clear); every caseworker
// console receives them with `settings`. A console that finds one in a survivor's app message
// (only it can read it) reports it with `duress_report`: her replies are locked and her whole
// team gets the urgent alert. On the /notes page the gateway checks her text itself before
// encrypting it. Only a caseworker assigned to her, logged in as herself, lifts the lock —
// never an administrator, by CLI or API, in anyone's name.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

const std::string kWords = "blue umbrella\nrosso\n";

class DuressWords : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        mara_ = gateway_->add_caseworker("mara.k");
        rosa_ = gateway_->add_caseworker("rosa.t");
        jon_ = gateway_->add_caseworker("jon.p");
        Json out = gateway_->admin({"survivor-enrol", "--caseworker", mara_.account, "--caseworker",
                                    rosa_.account, "--initials", "M.K.", "--language", "en",
                                    "--time-zone", Gateway::daytime_zone(), "--recovery-m-kib",
                                    "8192", "--insecure-test-params"});
        her_ = {out["account"], out["recovery_code"], out["case_code"]};
        for (const char* channel : {"app", "web"}) {
            gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", channel,
                             "--purpose", "replies", "--by", mara_.account});
        }
        Json set = gateway_->admin({"duress-words-set", "--file", "-"}, kWords);
        EXPECT_EQ(set["duress_words"], 2);
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }
    std::filesystem::path db() { return gateway_->data_dir() / "ariadne.db"; }

    std::unique_ptr<client::Connection> caseworker(const Gateway::Caseworker& cw, int step) {
        auto conn = gateway_->connect();
        auto device = make_raw_device(dir(cw.username + std::to_string(step)));
        Json r = register_raw(*conn, cw, device, totp_for(cw, step));
        EXPECT_EQ(r.value("type", ""), "ok") << r.dump();
        return conn;
    }

    /// The next pushed `alert` frame on `watcher` (fails the test after 10 s).
    Json alert_pushed_to(client::Connection& watcher) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto frame = watcher.next_unsolicited(500ms);
            if (frame && frame->value("type", "") == "alert") return (*frame)["alert"];
        }
        ADD_FAILURE() << "no alert frame was pushed";
        return Json::object();
    }

    /// Expects `console`'s reply to her to be refused with duress_lock.
    void expect_locked(client::Messenger& console) {
        try {
            console.send_text(her_.account, "are you ok?");
            ADD_FAILURE() << "a reply under the duress lock was sent";
        } catch (const client::ServerError& e) {
            EXPECT_EQ(e.frame().value("reason", ""), "duress_lock") << e.frame().dump();
        }
    }

    struct HttpResult {
        int status = 0;
        std::string body;
    };
    HttpResult curl(std::vector<std::string> args, const std::string& input = "") {
        std::vector<std::string> argv = {"/usr/bin/curl", "-sk", "--max-time", "30", "-w",
                                         "\n%{http_code}"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run_process(argv, input);
        HttpResult out;
        auto nl = r.out.rfind('\n');
        out.status = std::atoi(r.out.c_str() + nl + 1);
        out.body = r.out.substr(0, nl);
        return out;
    }
    std::string base() { return "https://127.0.0.1:" + std::to_string(gateway_->port()); }
    HttpResult api(const std::string& method, const std::string& path, const Json& body,
                   const std::string& token = "") {
        std::vector<std::string> args = {
            "-X", method, "-H", "Content-Type: application/json", "--data-binary", "@-"};
        if (!token.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + token});
        args.push_back(base() + path);
        return curl(args, body.dump());
    }
    std::string api_login(const Gateway::Caseworker& who, int step) {
        auto r = api("POST", "/v1/admin/session",
                     {{"username", who.username},
                      {"password", who.password},
                      {"totp", totp_for(who, step)}});
        EXPECT_EQ(r.status, 200) << r.body;
        return Json::parse(r.body, nullptr, false).value("token", "");
    }
    /// The survivor page as a browser sees it: cookie jar, CSRF token, redirects followed.
    HttpResult notes_post(const std::string& form) {
        const std::string jar = (tmp_.path() / "cookies.txt").string();
        auto page = curl({"-b", jar, "-c", jar, base() + "/notes"});
        auto at = page.body.find("name=\"t\" value=\"");
        if (at == std::string::npos) {
            ADD_FAILURE() << "no form token on the page";
            return page;
        }
        std::string token = page.body.substr(at + 16, page.body.find('"', at + 16) - at - 16);
        return curl(
            {"-L", "-b", jar, "-c", jar, "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data-binary", "@-", base() + "/notes"},
            "t=" + token + "&" + form);
    }
    static std::string form_value(std::string text) {
        std::string out;
        for (char c : text) {
            if (std::isalnum(static_cast<unsigned char>(c))) {
                out += c;
            } else if (c == ' ') {
                out += '+';
            } else {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
                out += hex;
            }
        }
        return out;
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker mara_, rosa_, jon_;
    Gateway::Survivor her_;
};

TEST_F(DuressWords, ConsolesReceiveTheWordsAsDigestsOnlyAndNeverInClear) {
    gateway_->start();
    auto cw = caseworker(mara_, 0);
    Json settings = cw->call({{"type", "settings"}});
    ASSERT_TRUE(settings.contains("duress_words")) << settings.dump();
    const Json& words = settings["duress_words"];
    EXPECT_EQ(words["digests"].size(), 2u);
    EXPECT_EQ(words["max_words"], 2);
    EXPECT_EQ(words["key"].get<std::string>().size(), 44u);  // base64 of 32 bytes
    EXPECT_EQ(settings.dump().find("umbrella"), std::string::npos);
    EXPECT_EQ(gateway_->admin({"duress-words-show"})["duress_words"], 2);
    // A phrase that is not words, or too long, is refused naming it; nothing changes.
    auto bad = run_process({server_binary(), "admin", "duress-words-set", "--file", "-",
                            "--data-dir", gateway_->data_dir().string()},
                           "fine\n  !!  \n");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("duress_words[1]"), std::string::npos) << bad.err;
    EXPECT_EQ(gateway_->admin({"duress-words-show"})["duress_words"], 2);
    // The words are nowhere on disk in clear.
    gateway_->stop();
    for (const auto& f : std::filesystem::recursive_directory_iterator(gateway_->data_dir())) {
        if (!f.is_regular_file()) continue;
        std::ifstream in(f.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(bytes.find("umbrella"), std::string::npos) << f.path();
        EXPECT_EQ(bytes.find("rosso"), std::string::npos) << f.path();
    }
}

TEST_F(DuressWords, AConsolesReportLocksRepliesAndAlertsHerWholeTeamUntilHerCaseworkerClearsIt) {
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = register_console(*gateway_, mara_, dir("console"), 0);
    auto rosa = caseworker(rosa_, 0);
    auto jon = caseworker(jon_, 0);

    // Not hers to report: a caseworker of other cases, a survivor, a malformed frame.
    Json r = jon->request({{"type", "duress_report"}, {"survivor", her_.account}});
    EXPECT_EQ(r["code"], "forbidden") << r.dump();
    r = phone->connection().request({{"type", "duress_report"}, {"survivor", her_.account}});
    EXPECT_EQ(r["code"], "forbidden") << r.dump();
    for (const Json& frame :
         {Json{{"type", "duress_report"}}, Json{{"type", "duress_report"}, {"survivor", "M.K."}},
          Json{{"type", "duress_report"}, {"survivor", 7}},
          Json{{"type", "duress_report"}, {"survivor", her_.account}, {"word", "x"}}}) {
        r = rosa->request(frame);
        EXPECT_EQ(r["code"], "invalid_frame") << frame.dump();
    }
    r = rosa->request({{"type", "duress_report"}, {"survivor", "M.K."}});
    EXPECT_NE(r.value("message", "").find("survivor"), std::string::npos) << r.dump();
    // Still unlocked: a reply goes through.
    console->send_text(her_.account, "hello");
    ASSERT_TRUE(phone->receive(10s));

    // Her console found her duress word: it reports over its own connection.
    Json ok = console->connection().call({{"type", "duress_report"}, {"survivor", her_.account}});
    EXPECT_EQ(ok["duress"], true) << ok.dump();
    Json alert = alert_pushed_to(*rosa);  // the other caseworker of her team sees it
    EXPECT_EQ(alert["kind"], "duress");
    EXPECT_EQ(alert["urgent"], true);
    EXPECT_EQ(alert["case_code"], her_.case_code);
    expect_locked(*console);
    EXPECT_TRUE(jon->call({{"type", "alerts"}})["alerts"].empty());
    EXPECT_EQ(count_rows(db(), "policies_audit",
                         "action = 'duress.reported' AND actor = '" + mara_.account +
                             "' AND case_code = '" + her_.case_code + "'"),
              1);

    // Her other caseworker checks on her and clears it: replies resume.
    Json cleared = rosa->call({{"type", "alert_clear"}, {"alert_id", alert["alert_id"]}});
    EXPECT_EQ(cleared["alert"]["cleared_by"], rosa_.account);
    console->send_text(her_.account, "I am here.");
    auto got = phone->receive(10s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->plaintext, "I am here.");
    EXPECT_EQ(count_rows(db(), "policies_audit",
                         "action = 'duress.cleared' AND actor = '" + rosa_.account + "'"),
              1);
}

TEST_F(DuressWords, AnAdministratorCannotLiftTheLockByCliOrApiNorInACaseworkersName) {
    Json admin = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
    Gateway::Caseworker ada{admin["account"], "ada.admin", "admin passphrase",
                            admin["totp_secret"]};
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = register_console(*gateway_, mara_, dir("console"), 0);
    console->connection().call({{"type", "duress_report"}, {"survivor", her_.account}});
    expect_locked(*console);

    // The CLI has no caseworker login: it refuses, in her name or anyone's.
    auto cli = run_process({server_binary(), "admin", "duress-clear", "--case", her_.case_code,
                            "--by", mara_.account, "--data-dir", gateway_->data_dir().string()},
                           "");
    EXPECT_NE(cli.exit_code, 0);
    EXPECT_NE(cli.err.find("administrator cannot"), std::string::npos) << cli.err;
    // The API refuses an administrator's token, with or without "by".
    std::string ada_token = api_login(ada, 0);
    auto r = api("POST", "/v1/admin/duress-clear",
                 {{"case_code", her_.case_code}, {"by", mara_.account}}, ada_token);
    EXPECT_EQ(r.status, 403) << r.body;
    r = api("POST", "/v1/admin/duress-clear", {{"case_code", her_.case_code}}, ada_token);
    EXPECT_EQ(r.status, 403) << r.body;
    // A caseworker not assigned to her, in her own name or in Mara's: refused.
    std::string jon_token = api_login(jon_, 0);
    r = api("POST", "/v1/admin/duress-clear", {{"case_code", her_.case_code}}, jon_token);
    EXPECT_EQ(r.status, 422) << r.body;
    r = api("POST", "/v1/admin/duress-clear",
            {{"case_code", her_.case_code}, {"by", mara_.account}}, jon_token);
    EXPECT_EQ(r.status, 403) << r.body;
    expect_locked(*console);
    EXPECT_EQ(count_rows(db(), "policies_audit", "action = 'duress.cleared'"), 0);

    // Mara, with her own token: cleared, and the audit names her.
    std::string mara_token = api_login(mara_, 1);
    r = api("POST", "/v1/admin/duress-clear", {{"case_code", her_.case_code}}, mara_token);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json::parse(r.body)["by"], mara_.account);
    EXPECT_EQ(count_rows(db(), "policies_audit",
                         "action = 'duress.cleared' AND actor = '" + mara_.account + "'"),
              1);
    console->send_text(her_.account, "hello again");
    auto got = phone->receive(10s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->plaintext, "hello again");
}

TEST_F(DuressWords, HerDuressWordOnTheNotesPageLocksRepliesAndAlertsHerTeamAndStillArrives) {
    gateway_->start();
    auto console = register_console(*gateway_, mara_, dir("console"), 0);
    auto rosa = caseworker(rosa_, 0);

    auto page = notes_post("a=login&code=" + form_value(her_.recovery_code));
    ASSERT_NE(page.body.find("name=\"text\""), std::string::npos) << page.status << page.body;
    // An ordinary message (a word that merely contains hers) locks nothing.
    notes_post("a=send&text=" + form_value("It rains, I took two umbrellas."));
    auto first = console->receive(10s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->plaintext, "It rains, I took two umbrellas.");
    console->send_text(her_.account, "Stay dry.");

    const std::string text = "Sorry, cannot talk now. BLUE  Umbrella!";
    page = notes_post("a=send&text=" + form_value(text));
    EXPECT_NE(page.body.find("Sent."), std::string::npos) << page.body;  // nothing differs
    auto got = console->receive(10s);  // her message is delivered all the same
    ASSERT_TRUE(got);
    EXPECT_EQ(got->plaintext, text);
    Json alert = alert_pushed_to(*rosa);
    EXPECT_EQ(alert["kind"], "duress");
    EXPECT_EQ(alert["case_code"], her_.case_code);
    expect_locked(*console);
    EXPECT_EQ(count_rows(db(), "policies_audit",
                         "action = 'duress.word' AND reason = 'web' AND case_code = '" +
                             her_.case_code + "'"),
              1);
    // Neither the word nor her message is in the server's log.
    EXPECT_EQ(gateway_->log().find("mbrella"), std::string::npos);
}

}  // namespace
}  // namespace ariadne::e2e
