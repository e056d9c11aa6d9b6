// Which channels a survivor can be contacted on, through the real `ariadne` binary: social
// networks are refused under every alias at configuration and denied at send time (even for a
// record stored before the alias was known); only accepted messengers are messengers, and the
// organisation accepts more only with evidence; a check-in plan that cannot reach her is
// refused, and a slot that no channel can carry alerts her caseworkers; consent records can
// be read back; the organisation's check-in defaults can be set and are used.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

// Spellings of social networks a caseworker might type for "the messenger she uses".
const std::vector<std::string> kSocialAliases = {
    "tg",
    "TG",
    "t.me",
    "telegram",
    "ig",
    "insta",
    "Instagram",
    "facebook-messenger",
    "fb",
    "FB.com",
    "meta",
    "weibo",
    "vkontakte",
    "x.com",
    "twitter",
    "tiktok",
    "snapchat",
    "wechat",
    "line",
    "discord",
    "threads",
    "bsky",
    "ok.ru",
    "t\xD0\xB5legram",           // a Cyrillic "е"
    "\xEF\xBD\x86\xEF\xBD\x82",  // full-width "ｆｂ"
};

class Channels : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data", std::vector<std::string>{"--checkin-interval-ms", "200"});
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account, /*consent_replies=*/true);
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }
    std::filesystem::path db() const { return gateway_->data_dir() / "ariadne.db"; }

    /// `ariadne admin <args>` that may fail: the whole result.
    ProcessResult admin_raw(std::vector<std::string> args, const std::string& input = "") {
        std::vector<std::string> argv = {server_binary(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--data-dir");
        argv.push_back(gateway_->data_dir().string());
        return run_process(argv, input);
    }

    void consent(const std::string& channel, const std::string& purpose,
                 const std::string& evidence = "") {
        std::vector<std::string> args = {"consent-record", "--case", survivor_.case_code,
                                         "--channel",      channel,  "--purpose",
                                         purpose,          "--by",   cw_.account};
        if (!evidence.empty()) {
            args.push_back("--evidence");
            args.push_back(evidence);
        }
        gateway_->admin(args);
    }

    ProcessResult plan(const std::vector<std::string>& channels) {
        std::vector<std::string> args = {
            "checkin-plan-set", "--case", survivor_.case_code, "--by",       cw_.account,
            "--every-days",     "1",      "--window",          "00:00-23:59"};
        for (const auto& c : channels) {
            args.push_back("--channel");
            args.push_back(c);
        }
        return admin_raw(args);
    }

    long rows(const std::string& table, const std::string& where) {
        return count_rows(db(), table, where);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(Channels, EveryAliasOfASocialNetworkIsRefusedAsSocialMediaThroughTheCli) {
    gateway_->start();
    for (const std::string& alias : kSocialAliases) {
        auto r = admin_raw({"consent-record", "--case", survivor_.case_code, "--channel",
                            "messenger:" + alias, "--purpose", "check_ins", "--by", cw_.account,
                            "--evidence", "FORM-17"});
        EXPECT_EQ(r.exit_code, 2) << alias << ": " << r.out << r.err;
        EXPECT_NE(r.err.find("social media"), std::string::npos) << alias << ": " << r.err;
        auto p = plan({"messenger:" + alias});
        EXPECT_EQ(p.exit_code, 2) << alias << ": " << p.out << p.err;
        EXPECT_NE(p.err.find("social media"), std::string::npos) << alias << ": " << p.err;
        auto o = admin_raw(
            {"policy-set", "--accept-messenger", alias, "--messenger-evidence", "DPIA-1"});
        EXPECT_EQ(o.exit_code, 2) << alias << ": " << o.out << o.err;
        EXPECT_NE(o.err.find("social media"), std::string::npos) << alias << ": " << o.err;
    }
    // Only her app consent for replies (from enrolment) exists; no plan was stored.
    EXPECT_EQ(rows("policies_consent", "channel_kind = 'messenger'"), 0);
    EXPECT_EQ(rows("policies_checkin_plans", "1"), 0);
    EXPECT_EQ(gateway_->admin({"policy-show"})["accepted_messengers"].size(), 4u);
}

TEST_F(Channels, AMessengerIsAcceptedOnlyFromTheListOrWhenTheOrganisationAddsItWithEvidence) {
    gateway_->start();
    auto refused = admin_raw({"consent-record", "--case", survivor_.case_code, "--channel",
                              "messenger:session", "--purpose", "replies", "--by", cw_.account,
                              "--evidence", "FORM-17"});
    EXPECT_EQ(refused.exit_code, 2) << refused.out;
    EXPECT_NE(refused.err.find("not an accepted messenger"), std::string::npos) << refused.err;
    // Ariadne's own messengers, under another spelling, are stored canonically.
    Json wa = gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel",
                               "messenger:Whats App", "--purpose", "replies", "--by", cw_.account,
                               "--evidence", "FORM-17", "--language", "ro"});
    EXPECT_EQ(wa["channel"], "messenger/whatsapp");

    auto no_evidence = admin_raw({"policy-set", "--accept-messenger", "session"});
    EXPECT_EQ(no_evidence.exit_code, 2);
    EXPECT_NE(no_evidence.err.find("messenger_evidence"), std::string::npos) << no_evidence.err;
    Json policy = gateway_->admin(
        {"policy-set", "--accept-messenger", "Session", "--messenger-evidence", "DPIA-2026-04"});
    ASSERT_EQ(policy["accepted_messengers"].size(), 5u) << policy.dump();
    EXPECT_EQ(policy["accepted_messengers"][4]["provider"], "session");
    EXPECT_EQ(policy["accepted_messengers"][4]["evidence_ref"], "DPIA-2026-04");
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel",
                     "messenger:session", "--purpose", "replies", "--by", cw_.account, "--evidence",
                     "FORM-18"});
    gateway_->admin({"policy-set", "--drop-messenger", "session"});
    EXPECT_EQ(gateway_->admin({"policy-show"})["accepted_messengers"].size(), 4u);
    auto audit = admin_raw({"audit-export"});
    EXPECT_NE(audit.out.find("\"action\":\"policy.messenger_accepted\""), std::string::npos);
    EXPECT_NE(audit.out.find("\"action\":\"policy.messenger_dropped\""), std::string::npos);
    EXPECT_NE(audit.out.find("\"reason\":\"session\""), std::string::npos);
}

TEST_F(Channels, ConsentRecordsAreReadBackWithEvidenceLanguageAndWhoRecordedThem) {
    consent("messenger:whatsapp", "check_ins", "FORM-2024-17");
    gateway_->admin({"consent-withdraw", "--case", survivor_.case_code, "--channel", "app",
                     "--purpose", "replies", "--by", cw_.account});
    gateway_->admin(
        {"consent-record", "--case", survivor_.case_code, "--channel", "sms", "--purpose",
         "replies", "--by", cw_.account, "--language", "ro", "--address-stdin"},
        "+40 712 345 678\n");
    Json list = gateway_->admin({"consent-list", "--case", survivor_.case_code});
    ASSERT_EQ(list["records"].size(), 4u) << list.dump();
    const Json& first = list["records"][0];
    EXPECT_EQ(first["channel"], "app");
    EXPECT_EQ(first["action"], "given");
    EXPECT_EQ(first["recorded_by"], cw_.account);
    EXPECT_TRUE(first["recorded_at"].get<std::string>().ends_with("Z"));
    const Json& wa = list["records"][1];
    EXPECT_EQ(wa["channel"], "messenger/whatsapp");
    EXPECT_EQ(wa["purpose"], "check_ins");
    EXPECT_EQ(wa["evidence_ref"], "FORM-2024-17");
    const Json& sms = list["records"][3];
    EXPECT_EQ(sms["form_language"], "ro");
    EXPECT_EQ(sms["address_on_file"], true);
    // The number itself is never shown.
    EXPECT_EQ(list.dump().find("712"), std::string::npos) << list.dump();
    bool app_withdrawn = false;
    for (const auto& e : list["in_effect"]) {
        if (e["channel"] == "app" && e["purpose"] == "replies") {
            app_withdrawn = e["action"] == "withdrawn";
        }
    }
    EXPECT_TRUE(app_withdrawn) << list.dump();
    auto unknown = admin_raw({"consent-list", "--case", "ZZZ-ZZZ"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("case"), std::string::npos) << unknown.err;
}

TEST_F(Channels, APlanIsRefusedOnChannelsThatCannotSendAndWaitsWhenNoChannelReachesHerYet) {
    gateway_->start();
    consent("app", "check_ins");
    consent("email", "check_ins");
    consent("messenger:whatsapp", "check_ins", "FORM-17");
    consent("sms", "check_ins");
    const std::vector<std::pair<std::string, std::string>> no_sender = {
        {"email", "cannot send e-mail"},
        {"messenger:whatsapp", "cannot send through a messenger"},
        {"sms", "no SMS gateway is configured"}};
    for (const auto& [channel, why] : no_sender) {
        auto r = plan({"app", channel});
        EXPECT_EQ(r.exit_code, 2) << channel << ": " << r.out;
        EXPECT_NE(r.err.find("plan.channels[1]: check-ins cannot be sent on"), std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    }
    // Her app is a channel with a sender, but she has not logged in with it yet: the plan is
    // accepted and says so; its first check-in waits for her (test_checkin_delivery.cpp).
    auto waiting = plan({"app"});
    ASSERT_EQ(waiting.exit_code, 0) << waiting.err;
    Json held = Json::parse(waiting.out);
    EXPECT_EQ(held.value("waiting_for_her", false), true) << waiting.out;
    EXPECT_EQ(held["channels"][0]["reaches_her"], false) << waiting.out;
    EXPECT_NE(held["channels"][0].value("why", "").find("not logged in with the app"),
              std::string::npos)
        << waiting.out;
    EXPECT_EQ(rows("policies_checkin_plans", "1"), 1);

    recover_survivor(*gateway_, survivor_, dir("phone")).reset();
    auto ok = plan({"app"});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    Json answer = Json::parse(ok.out);
    EXPECT_EQ(answer["channels"][0]["channel"], "app");
    EXPECT_EQ(answer["channels"][0]["reaches_her"], true);
    EXPECT_FALSE(answer.contains("waiting_for_her")) << ok.out;
}

TEST_F(Channels, ASlotNoChannelCanCarryAlertsHerCaseworkersInsteadOfEndingSilently) {
    // Her number is verified for SMS check-ins while the SMS gateway is configured...
    const auto config = tmp_.path() / "sms.json";
    std::ofstream(config) << Json({{"kannel_host", "127.0.0.1"},
                                   {"kannel_port", 9},
                                   {"kannel_username", "u"},
                                   {"kannel_password", "p"},
                                   {"inbound_token", "0123456789abcdef0123456789abcdef"},
                                   {"callback_base", "https://127.0.0.1:1"},
                                   {"on_duty", {cw_.account}}})
                                 .dump();
    auto sms_gateway = std::make_unique<Gateway>(
        gateway_->data_dir(),
        std::vector<std::string>{"--checkin-interval-ms", "200", "--sms-config", config.string()});
    sms_gateway->start();
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel", "sms",
                     "--purpose", "check_ins", "--by", cw_.account, "--address-stdin"},
                    "+40 712 345 678\n");
    // ... so a plan on SMS is accepted (a window that opened long ago today: due at once).
    ASSERT_EQ(sms_gateway->stop(), 0);
    auto accepted = plan({"sms"});
    ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
    EXPECT_EQ(Json::parse(accepted.out)["channels"][0]["reaches_her"], true) << accepted.out;

    // The server is then started without the SMS gateway: the slot cannot go out anywhere.
    gateway_->start();
    for (int i = 0; i < 100 && rows("policies_checkin_occurrences", "state != 'claimed'") == 0;
         ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(rows("policies_checkin_occurrences", "state = 'denied' AND reason = 'not_sent'"), 1);
    // Her caseworker's console lists it: a durable, non-urgent alert for her case.
    auto conn = gateway_->connect();
    Json r = register_raw(*conn, cw_, make_raw_device(dir("console")), totp_for(cw_));
    ASSERT_EQ(r.value("type", ""), "ok") << r.dump();
    Json alerts;
    for (int i = 0; i < 50; ++i) {
        alerts = conn->call({{"type", "alerts"}})["alerts"];
        if (!alerts.empty()) break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(alerts.size(), 1u) << alerts.dump();
    EXPECT_EQ(alerts[0]["kind"], "checkin_undeliverable");
    EXPECT_EQ(alerts[0]["urgent"], false);
    EXPECT_EQ(alerts[0]["case_code"], survivor_.case_code);
    // Her entry in the contacts list gives the slot's state and why, for the console's sentence.
    bool listed = false;
    const Json contacts = conn->call({{"type", "contacts"}})["contacts"];
    for (const auto& c : contacts) {
        if (c.value("case_code", "") != survivor_.case_code) continue;
        listed = true;
        EXPECT_EQ(c.value("checkin", ""), "denied") << c.dump();
        EXPECT_EQ(c.value("checkin_reason", ""), "not_sent") << c.dump();
    }
    EXPECT_TRUE(listed);
    // A later plan on SMS is refused now that no SMS gateway runs.
    auto later = plan({"sms"});
    EXPECT_EQ(later.exit_code, 2);
    EXPECT_NE(later.err.find("no SMS gateway is configured"), std::string::npos) << later.err;
}

TEST_F(Channels, AConsentAndPlanStoredUnderAnAliasBeforeAreDeniedAtSendTime) {
    gateway_->start();
    consent("app", "check_ins");
    recover_survivor(*gateway_, survivor_, dir("phone")).reset();
    ASSERT_EQ(gateway_->stop(), 0);
    ASSERT_EQ(plan({"app"}).exit_code, 0);
    // As an older version stored them: consent and plan on "messenger:tg", with evidence.
    const auto at = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() -
                    60'000'000;
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &raw), SQLITE_OK);
    const std::string sql =
        "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, purpose, "
        "action, evidence_ref, recorded_by, recorded_at) VALUES ('" +
        survivor_.case_code + "', 'messenger', 'tg', 'h:1', 'check_ins', 'given', 'FORM-9', '" +
        cw_.account + "', " + std::to_string(at) +
        "); UPDATE policies_checkin_plans SET "
        "channels_json = '[{\"kind\":\"messenger\",\"provider\":\"tg\"}]'";
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);

    gateway_->start();
    for (int i = 0; i < 100 && rows("policies_checkin_occurrences", "state != 'claimed'") == 0;
         ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(rows("policies_checkin_occurrences",
                   "state = 'denied' AND reason = 'banned_channel_class'"),
              1);
    auto audit = admin_raw({"audit-export"});
    EXPECT_NE(audit.out.find("\"reason\":\"banned_channel_class:messenger/tg\""), std::string::npos)
        << audit.out;
    // Read back, the record says how it is treated.
    Json list = gateway_->admin({"consent-list", "--case", survivor_.case_code});
    bool flagged = false;
    for (const auto& e : list["records"]) {
        flagged = flagged || (e["channel"] == "messenger/tg" &&
                              e.value("treated_as", "") == "social_media/telegram");
    }
    EXPECT_TRUE(flagged) << list.dump();
}

TEST_F(Channels, TheOrganisationsCheckinDefaultsAreSetAndGiveANewPlanItsValues) {
    gateway_->start();
    consent("app", "check_ins");
    recover_survivor(*gateway_, survivor_, dir("phone")).reset();
    auto bad = admin_raw({"policy-set", "--checkin-window", "18:00-10:00"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("checkin_defaults.window"), std::string::npos) << bad.err;
    Json p = gateway_->admin({"policy-set", "--checkin-window", "09:30-11:00",
                              "--checkin-every-days", "3", "--checkin-grace-minutes", "90"});
    EXPECT_EQ(p["checkin_defaults"]["window"], "09:30-11:00");
    EXPECT_EQ(p["checkin_defaults"]["every_days"], 3);
    EXPECT_EQ(p["checkin_defaults"]["grace_minutes"], 90);
    auto set = admin_raw({"checkin-plan-set", "--case", survivor_.case_code, "--by", cw_.account});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    EXPECT_EQ(rows("policies_checkin_plans",
                   "every_days = 3 AND window_start = 570 AND window_end = 660 AND "
                   "grace_minutes = 90"),
              1);
    // The alert target documented before this version, "partner", does not exist.
    auto partner = admin_raw({"checkin-plan-set", "--case", survivor_.case_code, "--by",
                              cw_.account, "--alert", "partner"});
    EXPECT_EQ(partner.exit_code, 2);
    EXPECT_NE(partner.err.find("plan.alert: Ariadne cannot alert a partner organisation"),
              std::string::npos)
        << partner.err;
}

}  // namespace
}  // namespace ariadne::e2e
