// Alerts (issue 5) through the real server: her duress login raises a durable, urgent alert
// that is pushed to her caseworker's connected device, listed by `alerts` and cleared with
// `alert_clear` only by a caseworker assigned to her case — which lifts the duress lock so
// replies flow again, audited. Refused: unauthenticated calls, survivors, caseworkers of
// other cases, malformed and unknown ids; a replayed clear changes nothing. The CLI's
// `duress-clear` refuses: an administrator never lifts the lock.
#include <gtest/gtest.h>

#include <fstream>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

class Alerts : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        other_ = gateway_->add_caseworker("jon.p");
        Json out = gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials",
                                    "M.K.", "--language", "en", "--time-zone",
                                    Gateway::daytime_zone(), "--with-duress-code",
                                    "--recovery-m-kib", "8192", "--insecure-test-params"});
        real_ = {out["account"], out["recovery_code"], out["case_code"]};
        duress_ = {"", out["duress_code"], out["case_code"]};
        gateway_->admin({"consent-record", "--case", real_.case_code, "--channel", "app",
                         "--purpose", "replies", "--by", cw_.account});
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }

    /// A logged-in raw caseworker connection (register_device with the given TOTP step).
    std::unique_ptr<client::Connection> caseworker(const Gateway::Caseworker& cw, int step) {
        auto conn = gateway_->connect();
        auto device = make_raw_device(dir(cw.username + std::to_string(step)));
        Json r = register_raw(*conn, cw, device, totp_for(cw, step));
        EXPECT_EQ(r.value("type", ""), "ok") << r.dump();
        return conn;
    }

    /// Logs in with her duress code and waits for the pushed `alert` frame on `watcher`.
    Json duress_alert_pushed_to(client::Connection& watcher) {
        auto decoy = recover_survivor(*gateway_, duress_, dir("decoy"));
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto frame = watcher.next_unsolicited(500ms);
            if (frame && frame->value("type", "") == "alert") return *frame;
        }
        ADD_FAILURE() << "no alert frame was pushed";
        return Json::object();
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, other_;
    Gateway::Survivor real_, duress_;
};

TEST_F(Alerts, HerDuressLoginIsPushedListedAndClearedByHerCaseworkerWhichLiftsTheLock) {
    gateway_->start();
    auto phone = recover_survivor(*gateway_, real_, dir("phone"));
    auto watcher = caseworker(cw_, 0);
    auto stranger = caseworker(other_, 0);

    Json pushed = duress_alert_pushed_to(*watcher);
    const Json& a = pushed["alert"];
    EXPECT_EQ(a["kind"], "duress");
    EXPECT_EQ(a["urgent"], true);
    EXPECT_EQ(a["case_code"], real_.case_code);
    EXPECT_EQ(a["initials"], "M.K.");
    EXPECT_EQ(a["account"], real_.account);
    const std::int64_t alert_id = a["alert_id"];
    // A caseworker of other cases is not told.
    auto other_frame = stranger->next_unsolicited(300ms);
    EXPECT_FALSE(other_frame && other_frame->value("type", "") == "alert");

    // Listed for her caseworker only.
    Json list = watcher->call({{"type", "alerts"}});
    ASSERT_EQ(list["alerts"].size(), 1u) << list.dump();
    EXPECT_EQ(list["alerts"][0]["alert_id"], alert_id);
    EXPECT_TRUE(stranger->call({{"type", "alerts"}})["alerts"].empty());

    // While it is open, replies are refused with duress_lock.
    auto console = register_console(*gateway_, cw_, dir("console"), 1);
    try {
        console->send_text(real_.account, "are you ok?");
        ADD_FAILURE() << "a reply under duress lock was sent";
    } catch (const client::ServerError& e) {
        EXPECT_EQ(e.frame().value("reason", ""), "duress_lock");
    }

    // Not hers to clear.
    Json refused = stranger->request({{"type", "alert_clear"}, {"alert_id", alert_id}});
    EXPECT_EQ(refused["code"], "forbidden") << refused.dump();

    Json cleared = watcher->call({{"type", "alert_clear"}, {"alert_id", alert_id}});
    EXPECT_EQ(cleared["alert"]["already_cleared"], false);
    EXPECT_EQ(cleared["alert"]["cleared_by"], cw_.account);
    EXPECT_TRUE(cleared["alert"].contains("cleared_at"));
    EXPECT_TRUE(watcher->call({{"type", "alerts"}})["alerts"].empty());

    // The lock is lifted: her reply goes through.
    console->send_text(real_.account, "I am here when you want.");
    auto got = phone->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "I am here when you want.");

    // A replay changes nothing and says so.
    Json again = watcher->call({{"type", "alert_clear"}, {"alert_id", alert_id}});
    EXPECT_EQ(again["alert"]["already_cleared"], true);
    EXPECT_EQ(again["alert"]["cleared_at"], cleared["alert"]["cleared_at"]);

    // Audited: raised, cleared, lock lifted — once each.
    auto audit = gateway_->admin({"audit-verify"});
    EXPECT_EQ(audit["ok"], true);
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_audit",
                         "action = 'alert.cleared'"),
              1);
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_audit",
                         "action = 'duress.cleared'"),
              1);
}

TEST_F(Alerts, AlertRequestsAreRefusedToTheUnauthenticatedToSurvivorsAndForBadIds) {
    gateway_->start();
    auto anonymous = gateway_->connect();
    EXPECT_EQ(anonymous->request({{"type", "alerts"}})["code"], "not_authenticated");
    EXPECT_EQ(anonymous->request({{"type", "alert_clear"}, {"alert_id", 1}})["code"],
              "not_authenticated");

    auto phone = recover_survivor(*gateway_, real_, dir("phone"));
    Json r = phone->connection().request({{"type", "alerts"}});
    EXPECT_EQ(r["code"], "forbidden") << r.dump();
    r = phone->connection().request({{"type", "alert_clear"}, {"alert_id", 1}});
    EXPECT_EQ(r["code"], "forbidden") << r.dump();

    auto cw = caseworker(cw_, 0);
    for (const Json& bad :
         {Json(0), Json(-1), Json("1"), Json(1.5), Json(nullptr), Json(9007199254740992LL)}) {
        r = cw->request({{"type", "alert_clear"}, {"alert_id", bad}});
        EXPECT_EQ(r["code"], "invalid_frame") << bad.dump();
        EXPECT_NE(r["message"].get<std::string>().find("alert_id"), std::string::npos);
    }
    r = cw->request({{"type", "alert_clear"}});
    EXPECT_EQ(r["code"], "invalid_frame");
    r = cw->request({{"type", "alert_clear"}, {"alert_id", 1}, {"force", true}});
    EXPECT_EQ(r["code"], "invalid_frame");
    r = cw->request({{"type", "alerts"}, {"case_code", "' OR 1=1 --"}});
    EXPECT_EQ(r["code"], "invalid_frame");
    r = cw->request({{"type", "alert_clear"}, {"alert_id", 4242}});
    EXPECT_EQ(r["code"], "not_found");
    // The connection is still usable.
    EXPECT_EQ(cw->call({{"type", "alerts"}})["alerts"].size(), 0u);
}

TEST_F(Alerts, TheCliCannotLiftTheDuressLockInAnyonesName) {
    gateway_->start();
    auto phone = recover_survivor(*gateway_, real_, dir("phone"));
    auto watcher = caseworker(cw_, 0);
    duress_alert_pushed_to(*watcher);

    // Not even naming her own assigned caseworker: the CLI has no caseworker login.
    for (const auto& by : {other_.account, cw_.account}) {
        auto refused =
            run_process({server_binary(), "admin", "duress-clear", "--case", real_.case_code,
                         "--by", by, "--data-dir", gateway_->data_dir().string()},
                        "");
        EXPECT_EQ(refused.exit_code, 2);
        EXPECT_NE(refused.err.find("administrator cannot"), std::string::npos) << refused.err;
    }
    EXPECT_EQ(watcher->call({{"type", "alerts"}})["alerts"].size(), 1u);
    auto console = register_console(*gateway_, cw_, dir("console"), 1);
    try {
        console->send_text(real_.account, "hello");
        ADD_FAILURE() << "the lock was lifted";
    } catch (const client::ServerError& e) {
        EXPECT_EQ(e.frame().value("reason", ""), "duress_lock");
    }
}

TEST_F(Alerts, ANewRecoveryCodeGivesHerANewIdentityAndAlertsHerCaseworkers) {
    gateway_->start();
    auto old_phone = recover_survivor(*gateway_, real_, dir("old-phone"));
    auto old_identity = old_phone->identity_key();
    old_phone.reset();

    Json out =
        gateway_->admin({"survivor-recode", "--survivor", real_.account, "--insecure-test-params"});
    EXPECT_EQ(out["account"], real_.account);
    EXPECT_EQ(out["case_code"], real_.case_code);
    Gateway::Survivor renewed{real_.account, out["recovery_code"], real_.case_code};
    EXPECT_NE(renewed.recovery_code, real_.recovery_code);

    // The old code no longer logs in; the new one does, with a new identity.
    EXPECT_THROW(recover_survivor(*gateway_, real_, dir("stolen-phone")), client::ServerError);
    auto new_phone = recover_survivor(*gateway_, renewed, dir("new-phone"));
    EXPECT_EQ(new_phone->account(), real_.account);
    EXPECT_NE(new_phone->identity_key(), old_identity);

    auto cw = caseworker(cw_, 0);
    Json list = cw->call({{"type", "alerts"}});
    ASSERT_EQ(list["alerts"].size(), 1u) << list.dump();
    EXPECT_EQ(list["alerts"][0]["kind"], "identity_changed");
    EXPECT_EQ(list["alerts"][0]["urgent"], false);
    EXPECT_EQ(list["alerts"][0]["account"], real_.account);

    // An unknown or duress account cannot be recoded.
    std::vector<std::string> argv = {server_binary(),   "admin",
                                     "survivor-recode", "--survivor",
                                     cw_.account,       "--insecure-test-params",
                                     "--data-dir",      gateway_->data_dir().string()};
    EXPECT_NE(run_process(argv, "").exit_code, 0);
}

/// The alerts her caseworker `cw` sees, of one kind.
std::vector<Json> alerts_of_kind(client::Connection& cw, const std::string& kind) {
    std::vector<Json> out;
    const Json list = cw.call({{"type", "alerts"}});
    for (const Json& a : list["alerts"]) {
        if (a.value("kind", "") == kind) out.push_back(a);
    }
    return out;
}

TEST_F(Alerts, HerCodeOnASecondPhoneRaisesANewDeviceAlertButHerOwnPhoneAgainDoesNot) {
    gateway_->start();
    const auto db = gateway_->data_dir() / "ariadne.db";
    // Her first login after enrolment is not "new"; nor is the same phone again, whether
    // it reopens its store or she types her code on it once more.
    recover_survivor(*gateway_, real_, dir("phone")).reset();
    client::Messenger::open(messenger_options(*gateway_, dir("phone")), test_store_key()).reset();
    recover_survivor(*gateway_, real_, dir("phone")).reset();
    auto watcher = caseworker(cw_, 0);
    EXPECT_TRUE(watcher->call({{"type", "alerts"}})["alerts"].empty());

    // Her code on a second, fresh phone: the same identity, but another installation.
    auto second = recover_survivor(*gateway_, real_, dir("second-phone"));
    EXPECT_EQ(second->account(), real_.account);
    std::optional<Json> pushed;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         !pushed && std::chrono::steady_clock::now() < deadline;) {
        auto frame = watcher->next_unsolicited(500ms);
        if (frame && frame->value("type", "") == "alert") pushed = (*frame)["alert"];
    }
    ASSERT_TRUE(pushed) << "no alert was pushed";
    EXPECT_EQ((*pushed)["kind"], "new_device");
    EXPECT_EQ((*pushed)["urgent"], false);
    EXPECT_EQ((*pushed)["case_code"], real_.case_code);
    EXPECT_EQ((*pushed)["account"], real_.account);
    auto listed = alerts_of_kind(*watcher, "new_device");
    ASSERT_EQ(listed.size(), 1u);
    // Only her team is told.
    auto stranger = caseworker(other_, 0);
    EXPECT_TRUE(stranger->call({{"type", "alerts"}})["alerts"].empty());

    // The second phone again: nothing new, one alert, one audited installation change.
    second.reset();
    client::Messenger::open(messenger_options(*gateway_, dir("second-phone")), test_store_key())
        .reset();
    EXPECT_EQ(alerts_of_kind(*watcher, "new_device").size(), 1u);
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'survivor.new_installation'"), 1);
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'alert.raised' AND reason = 'new_device'"),
              1);

    // Durable until her caseworker clears it; her first phone coming back is a change again.
    Json cleared = watcher->call({{"type", "alert_clear"}, {"alert_id", listed[0]["alert_id"]}});
    EXPECT_EQ(cleared["alert"]["cleared_by"], cw_.account);
    client::Messenger::open(messenger_options(*gateway_, dir("phone")), test_store_key()).reset();
    for (int i = 0; i < 50 && alerts_of_kind(*watcher, "new_device").empty(); ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(alerts_of_kind(*watcher, "new_device").size(), 1u);
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'survivor.new_installation'"), 2);
    EXPECT_EQ(gateway_->admin({"audit-verify"})["ok"], true);
    // No notice unless she asked for one.
    EXPECT_EQ(count_rows(db, "mailbox", "kind = 2"), 0);

    // Her duress code on two phones raises the duress alert only: nothing about devices.
    watcher->call({{"type", "alert_clear"},
                   {"alert_id", alerts_of_kind(*watcher, "new_device").at(0)["alert_id"]}});
    recover_survivor(*gateway_, duress_, dir("decoy-1")).reset();
    recover_survivor(*gateway_, duress_, dir("decoy-2")).reset();
    for (int i = 0; i < 50 && alerts_of_kind(*watcher, "duress").empty(); ++i) {
        std::this_thread::sleep_for(100ms);
    }
    std::this_thread::sleep_for(500ms);
    Json list = watcher->call({{"type", "alerts"}});
    ASSERT_EQ(list["alerts"].size(), 1u) << list.dump();
    EXPECT_EQ(list["alerts"][0]["kind"], "duress");
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'survivor.new_installation'"), 2);
}

TEST_F(Alerts, AnInstallationKeyMustBeProvenAndALoginLooksTheSameWhetherItIsNewOrNot) {
    gateway_->start();
    auto conn = gateway_->connect();
    SurvivorLogin login = derive_survivor_login(*conn, real_.recovery_code, dir("raw"));
    auto with_installation = [&](client::Connection& c, const crypto::SecretBytes& installation,
                                 bool forge) {
        crypto::Bytes challenge = fresh_challenge(c);
        crypto::Bytes other = fresh_challenge(*gateway_->connect());
        Json frame = {
            {"type", "auth_survivor"},
            {"locator", crypto::base64_encode(login.secrets.locator)},
            {"signature", crypto::base64_encode(
                              crypto::sign_login_challenge(login.secrets.auth_key, challenge))},
            {"identity_key", crypto::base64_encode(login.identity.identity_key)},
            {"registration_id", login.identity.registration_id},
            {"installation_key", crypto::base64_encode(crypto::login_public_key(installation))},
            {"installation_signature", crypto::base64_encode(crypto::sign_login_challenge(
                                           installation, forge ? other : challenge))}};
        return c.request(frame);
    };
    crypto::SecretBytes mine(crypto::random_bytes(32)), theirs(crypto::random_bytes(32));
    Json first = with_installation(*conn, mine, false);
    ASSERT_EQ(first["type"], "ok") << first.dump();

    // Someone who copied her installation's public key cannot pass for her phone.
    auto forged = gateway_->connect();
    EXPECT_EQ(with_installation(*forged, theirs, true)["code"], "auth_failed");
    // Only one of the two fields is a malformed frame.
    auto half = gateway_->connect();
    Json r = half->request({{"type", "auth_survivor"},
                            {"locator", crypto::base64_encode(login.secrets.locator)},
                            {"signature", crypto::base64_encode(crypto::Bytes(64, 1))},
                            {"identity_key", crypto::base64_encode(login.identity.identity_key)},
                            {"registration_id", login.identity.registration_id},
                            {"installation_key", crypto::base64_encode(crypto::Bytes(33, 5))}});
    EXPECT_EQ(r["code"], "invalid_frame") << r.dump();
    EXPECT_NE(r.value("message", "").find("installation_signature"), std::string::npos);

    // A new installation gets the very same answer as a known one.
    std::this_thread::sleep_for(1100ms);  // past the failed attempt's back-off
    auto other_phone = gateway_->connect();
    Json second = with_installation(*other_phone, theirs, false);
    ASSERT_EQ(second["type"], "ok") << second.dump();
    first.erase("id");
    second.erase("id");
    EXPECT_EQ(first, second);
    auto watcher = caseworker(cw_, 0);
    for (int i = 0; i < 50 && alerts_of_kind(*watcher, "new_device").empty(); ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(alerts_of_kind(*watcher, "new_device").size(), 1u);
}

TEST_F(Alerts, IfSheChoseItANewPhoneTellsHerInNeutralWordsOnHerOwnChannel) {
    gateway_->start();
    const auto db = gateway_->data_dir() / "ariadne.db";
    gateway_->admin({"consent-record", "--case", real_.case_code, "--channel", "app", "--purpose",
                     "case_updates", "--by", cw_.account});
    // Bad input is refused naming the field; nothing is recorded.
    std::vector<std::string> bad = {
        server_binary(), "admin",         "new-device-notice",
        "--case",        real_.case_code, "--notify",
        "maybe",         "--data-dir",    gateway_->data_dir().string()};
    auto refused = run_process(bad, "");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("--notify"), std::string::npos) << refused.err;
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'survivor.new_device_notice'"), 0);

    Json set = gateway_->admin({"new-device-notice", "--case", real_.case_code, "--notify", "on"});
    EXPECT_EQ(set["new_device_notice"], true);
    EXPECT_EQ(count_rows(db, "policies_audit",
                         "action = 'survivor.new_device_notice' AND decision = 'on' AND "
                         "actor = 'admin-cli'"),
              1);

    recover_survivor(*gateway_, real_, dir("phone")).reset();
    EXPECT_EQ(count_rows(db, "mailbox", "kind = 2"), 0);  // her first phone: nothing to tell
    auto second = recover_survivor(*gateway_, real_, dir("second-phone"));
    std::optional<client::ReceivedMessage> notice;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         !notice && std::chrono::steady_clock::now() < deadline;) {
        auto m = second->receive(200ms);
        if (m && m->is_notice) notice = m;
    }
    ASSERT_TRUE(notice) << "no notice arrived";
    EXPECT_EQ(notice->notice, "new_device");
    EXPECT_EQ(notice->plaintext,
              "Hi, a new phone just signed in. If that wasn't you, reply any time.");
    EXPECT_TRUE(notice->from.empty());
    EXPECT_EQ(count_rows(db, "policies_audit",
                         "action = 'notice.new_device' AND decision = 'sent' AND reason = 'app'"),
              1);
}

TEST_F(Alerts, SettingsGiveConsolesTheOrganisationsRetentionAndCannedReplies) {
    gateway_->start();
    auto cw = caseworker(cw_, 0);
    Json defaults = cw->call({{"type", "settings"}});
    EXPECT_EQ(defaults["retention_days"], 365);
    ASSERT_GE(defaults["canned_replies"].size(), 3u);
    EXPECT_FALSE(defaults["canned_replies"][0]["text"].get<std::string>().empty());

    auto file = dir("replies.json");
    std::ofstream(file) << R"([{"label":"Here","text":"I'm here whenever you want to write."}])";
    gateway_->admin(
        {"policy-set", "--retention-days", "90", "--canned-replies-file", file.string()});
    Json set = cw->call({{"type", "settings"}});
    EXPECT_EQ(set["retention_days"], 90);
    ASSERT_EQ(set["canned_replies"].size(), 1u);
    EXPECT_EQ(set["canned_replies"][0]["label"], "Here");

    // Bad replies are refused naming the element, and change nothing.
    {
        std::ofstream out(file, std::ios::trunc);
        out << Json::array({{{"label", "ok"}, {"text", "fine"}},
                            {{"label", "bad"}, {"text", std::string("a\ab")}}})
                   .dump();
    }
    std::vector<std::string> argv = {server_binary(),
                                     "admin",
                                     "policy-set",
                                     "--canned-replies-file",
                                     file.string(),
                                     "--data-dir",
                                     gateway_->data_dir().string()};
    auto refused = run_process(argv, "");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("canned_replies[1].text"), std::string::npos) << refused.err;
    EXPECT_EQ(cw->call({{"type", "settings"}})["canned_replies"].size(), 1u);

    auto phone = recover_survivor(*gateway_, real_, dir("phone"));
    EXPECT_EQ(phone->connection().request({{"type", "settings"}})["code"], "forbidden");
    auto anonymous = gateway_->connect();
    EXPECT_EQ(anonymous->request({{"type", "settings"}})["code"], "not_authenticated");
}

TEST_F(Alerts, SettingsGiveConsolesTheCannedRepliesOfEveryLanguageAndContactsHerLanguage) {
    gateway_->start();
    auto cw = caseworker(cw_, 0);
    Json defaults = cw->call({{"type", "settings"}});
    EXPECT_EQ(defaults["default_language"], "en");
    ASSERT_TRUE(defaults["canned_replies_by_language"].is_object()) << defaults.dump();
    EXPECT_EQ(defaults["canned_replies_by_language"]["en"], defaults["canned_replies"]);

    auto file = dir("replies.json");
    std::ofstream(file) << R"({"en":[{"label":"Here","text":"I'm here whenever you want."}],
        "ar":[{"label":"أنا هنا","text":"أنا هنا متى أردتِ الكتابة."},
              {"label":"لا عجلة","text":"خذي وقتك."}]})";
    gateway_->admin({"policy-set", "--canned-replies-file", file.string()});
    Json set = cw->call({{"type", "settings"}});
    // Consoles that know only one list keep getting the default language's.
    ASSERT_EQ(set["canned_replies"].size(), 1u);
    EXPECT_EQ(set["canned_replies"][0]["label"], "Here");
    const Json& by = set["canned_replies_by_language"];
    ASSERT_EQ(by.size(), 2u) << set.dump();
    ASSERT_EQ(by["en"].size(), 1u);
    ASSERT_EQ(by["ar"].size(), 2u);
    EXPECT_EQ(by["ar"][0]["label"], "أنا هنا");
    EXPECT_EQ(by["ar"][1]["text"], "خذي وقتك.");
    EXPECT_EQ(gateway_->admin({"policy-show"})["canned_replies_by_language"], by);

    // A bad language tag is refused naming it, and changes nothing.
    std::ofstream(file, std::ios::trunc) << R"({"ar":[{"label":"a","text":"b"}],"x!":[]})";
    auto refused = run_process({server_binary(), "admin", "policy-set", "--canned-replies-file",
                                file.string(), "--data-dir", gateway_->data_dir().string()},
                               "");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("canned_replies.x!"), std::string::npos) << refused.err;
    EXPECT_EQ(cw->call({{"type", "settings"}})["canned_replies_by_language"], by);

    // Only Arabic: English falls back to the built-in set, still given.
    std::ofstream(file, std::ios::trunc) << R"({"ar":[{"label":"مرحبا","text":"أنا هنا."}]})";
    gateway_->admin({"policy-set", "--canned-replies-file", file.string()});
    Json only = cw->call({{"type", "settings"}});
    EXPECT_EQ(only["canned_replies_by_language"]["ar"].size(), 1u);
    EXPECT_EQ(only["canned_replies_by_language"]["en"], defaults["canned_replies"]);

    // Her case's language reaches the console with her contact entry.
    gateway_->admin({"survivor-update", "--case", real_.case_code, "--language", "ar"});
    Json contacts = cw->call({{"type", "contacts"}})["contacts"];
    bool found = false;
    for (const Json& c : contacts) {
        if (c["account"] == real_.account) {
            found = true;
            EXPECT_EQ(c["language"], "ar") << c.dump();
        }
    }
    EXPECT_TRUE(found) << contacts.dump();
}

}  // namespace
}  // namespace ariadne::e2e
