// The HTTPS admin API on the gateway's port, driven with curl against the real server:
// authentication failures and throttling, session tokens, roles (admin vs caseworker),
// validation errors naming the field, social media refused, audit verify, and the limits
// and headers every HTTPS route gets.
#include <gtest/gtest.h>

#include <fstream>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

struct HttpResult {
    int status = 0;
    std::string head;
    Json body;
};

class AdminApi : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        Json a = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        survivor_ = gateway_->enrol_survivor(cw_.account, /*consent_replies=*/false);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    /// One request with curl (-k: the test certificate is self-signed).
    HttpResult http(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& token = "") {
        std::vector<std::string> argv = {"/usr/bin/curl", "-sk",        "-i", "-X",
                                         method,          "--max-time", "20"};
        if (!token.empty()) {
            argv.push_back("-H");
            argv.push_back("Authorization: Bearer " + token);
        }
        if (!body.empty()) {
            argv.insert(argv.end(),
                        {"-H", "Content-Type: application/json", "--data-binary", "@-"});
        }
        argv.push_back("https://127.0.0.1:" + std::to_string(gateway_->port()) + path);
        auto r = run_process(argv, body);
        HttpResult out;
        auto split = r.out.find("\r\n\r\n");
        out.head = r.out.substr(0, split);
        if (out.head.size() > 9) out.status = std::atoi(out.head.c_str() + 9);
        std::string rest = split == std::string::npos ? "" : r.out.substr(split + 4);
        out.body = Json::parse(rest, nullptr, false);
        return out;
    }

    std::string login(const Gateway::Caseworker& who, int step) {
        auto r = http("POST", "/v1/admin/session",
                      Json({{"username", who.username},
                            {"password", who.password},
                            {"totp", totp_for(who, step)}})
                          .dump());
        EXPECT_EQ(r.status, 200) << r.head << r.body.dump();
        return r.body.value("token", "");
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, admin_;
    Gateway::Survivor survivor_;
};

TEST_F(AdminApi, WrongCredentialsAreRefusedAlikeAndRepeatedAttemptsAreThrottled) {
    auto r = http("POST", "/v1/admin/session",
                  Json({{"username", "mara.k"}, {"password", "wrong"}, {"totp", "000000"}}).dump());
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body["error"], "auth_failed");
    r = http(
        "POST", "/v1/admin/session",
        Json({{"username", "mara.k"}, {"password", cw_.password}, {"totp", totp_for(cw_)}}).dump());
    EXPECT_EQ(r.status, 429) << r.body.dump();
    EXPECT_GT(r.body["retry_after_ms"].get<int>(), 0);
    // No token, a made-up token: 401.
    EXPECT_EQ(http("GET", "/v1/admin/policy").status, 401);
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", "forged-token").status, 401);
    // Malformed body names it.
    r = http("POST", "/v1/admin/session", "{\"username\": 7}");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "body");
}

TEST_F(AdminApi, RolesDecideWhatEachAccountMayChangeAndSocialMediaStaysBanned) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    ASSERT_FALSE(cw_token.empty());
    ASSERT_FALSE(admin_token.empty());

    auto r = http("GET", "/v1/admin/policy", "", cw_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["quiet_hours"], "21:00-08:00");
    r = http("PUT", "/v1/admin/policy", R"({"retention_days": 30})", cw_token);
    EXPECT_EQ(r.status, 403);
    r = http("GET", "/v1/admin/audit/verify", "", cw_token);
    EXPECT_EQ(r.status, 403);

    r = http("PUT", "/v1/admin/policy", R"({"unban": ["social_media"]})", admin_token);
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(r.body["message"].get<std::string>().find("social media is always banned"),
              std::string::npos);
    r = http("PUT", "/v1/admin/policy", R"({"quiet_hours": "25:00-08:00'; --"})", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "quiet_hours");
    r = http("PUT", "/v1/admin/policy", R"({"retention_days": 90})", admin_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["retention_days"], 90);

    // Canned replies per language; a bad tag is refused naming it.
    r = http("PUT", "/v1/admin/policy",
             R"({"canned_replies": {"en": [{"label": "Hi", "text": "Hello"}],
                 "ar": [{"label": "مرحبا", "text": "أنا هنا."}]}})",
             admin_token);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["canned_replies"].size(), 1u);
    EXPECT_EQ(r.body["canned_replies_by_language"]["ar"][0]["label"], "مرحبا");
    r = http("PUT", "/v1/admin/policy", R"({"canned_replies": {"a r": []}})", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "canned_replies.a r");
    r = http("PUT", "/v1/admin/policy",
             R"({"canned_replies": {"ar": [{"label": "x", "text": ""}]}})", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "canned_replies.ar[0].text");
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", cw_token)
                  .body["canned_replies_by_language"]["ar"]
                  .size(),
              1u);
    r = http("PUT", "/v1/admin/policy",
             R"({"canned_replies": {"ar": [{"label": "a", "text": "b"}], "AR": []}})", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "canned_replies.ar");  // the same language twice
    Json many = Json::object();
    for (int i = 0; i < 31; ++i) {
        many[std::string("a") + static_cast<char>('a' + i % 26) + (i < 26 ? "" : "x")] =
            Json::array({{{"label", "l"}, {"text", "t"}}});
    }
    r = http("PUT", "/v1/admin/policy", Json{{"canned_replies", many}}.dump(), admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "canned_replies");
    // A language with no replies is not listed; {} restores the built-in English set.
    r = http("PUT", "/v1/admin/policy",
             R"({"canned_replies": {"en": [{"label": "Hi", "text": "Hello"}], "ar": []}})",
             admin_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.body["canned_replies_by_language"].contains("ar")) << r.body.dump();
    r = http("PUT", "/v1/admin/policy", R"({"canned_replies": {}})", admin_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(r.body["canned_replies"].size(), 3u);
    EXPECT_EQ(r.body["canned_replies_by_language"].size(), 1u);

    // Consent through the API, recorded by the logged-in caseworker.
    Json consent = {{"case_code", survivor_.case_code},
                    {"channel", "messenger:telegram"},
                    {"purpose", "replies"},
                    {"evidence", "form-1"}};
    r = http("POST", "/v1/admin/consent", consent.dump(), cw_token);
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(r.body["message"].get<std::string>().find("social media"), std::string::npos);
    consent["channel"] = "app";
    consent["evidence"] = "<script>alert(1)</script>";
    r = http("POST", "/v1/admin/consent", consent.dump(), cw_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body["field"].get<std::string>().find("evidence_ref"), std::string::npos);
    consent["evidence"] = "form-2";
    r = http("POST", "/v1/admin/consent", consent.dump(), cw_token);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["action"], "given");

    r = http("GET", "/v1/admin/audit/verify", "", admin_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["ok"], true);
}

TEST_F(AdminApi, EveryRouteGetsNoStoreNosniffAndTheBodyLimit) {
    auto r = http("GET", "/v1/admin/policy");
    EXPECT_NE(r.head.find("Cache-Control: no-store"), std::string::npos) << r.head;
    EXPECT_NE(r.head.find("X-Content-Type-Options: nosniff"), std::string::npos) << r.head;
    r = http("POST", "/v1/admin/session", std::string(70 * 1024, 'x'));
    EXPECT_EQ(r.status, 413) << r.head;
}

TEST_F(AdminApi, DuressClearIsDoneByAnAssignedCaseworkerInHerOwnNameOnly) {
    Json other = gateway_->admin({"caseworker-add", "--username", "jon.p"}, "jon passphrase\n");
    Gateway::Caseworker jon{other["account"], "jon.p", "jon passphrase", other["totp_secret"]};
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    std::string jon_token = login(jon, 0);
    const std::string body = Json({{"case_code", survivor_.case_code}}).dump();

    auto r = http("POST", "/v1/admin/duress-clear", body);
    EXPECT_EQ(r.status, 401);
    r = http("GET", "/v1/admin/duress-clear", "", cw_token);
    EXPECT_EQ(r.status, 405);
    // Not assigned to her.
    r = http("POST", "/v1/admin/duress-clear", body, jon_token);
    EXPECT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(r.body["field"], "by");
    // A caseworker only in her own name.
    r = http("POST", "/v1/admin/duress-clear",
             Json({{"case_code", survivor_.case_code}, {"by", cw_.account}}).dump(), jon_token);
    EXPECT_EQ(r.status, 403);
    // An administrator never, with or without naming a caseworker.
    r = http("POST", "/v1/admin/duress-clear", body, admin_token);
    EXPECT_EQ(r.status, 403);
    r = http("POST", "/v1/admin/duress-clear",
             Json({{"case_code", survivor_.case_code}, {"by", cw_.account}}).dump(), admin_token);
    EXPECT_EQ(r.status, 403) << r.body.dump();
    r = http("POST", "/v1/admin/duress-clear",
             Json({{"case_code", "<script>"}, {"by", cw_.account}}).dump(), cw_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "case_code");
    r = http("POST", "/v1/admin/duress-clear",
             Json({{"case_code", survivor_.case_code}, {"x", 1}}).dump(), cw_token);
    EXPECT_EQ(r.status, 400);

    r = http("POST", "/v1/admin/duress-clear",
             Json({{"case_code", survivor_.case_code}, {"by", cw_.account}}).dump(), cw_token);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["duress"], false);
    r = http("POST", "/v1/admin/duress-clear", body, cw_token);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["by"], cw_.account);
}

TEST_F(AdminApi, DuressWordsAreSetByAnAdministratorAndOnlyTheirCountIsShown) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    const std::string body = Json({{"words", {"blue umbrella", "Rosso"}}}).dump();
    auto r = http("PUT", "/v1/admin/duress-words", body, cw_token);
    EXPECT_EQ(r.status, 403);
    r = http("PUT", "/v1/admin/duress-words", body, admin_token);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["duress_words"], 2);
    r = http("GET", "/v1/admin/duress-words", "", admin_token);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.dump(), R"({"duress_words":2})");
    for (const auto& [bad, field] : std::vector<std::pair<Json, std::string>>{
             {{{"words", "rosso"}}, "words"},
             {{{"words", {"ok", 3}}}, "duress_words[1]"},
             {{{"words", {"ok", "?!"}}}, "duress_words[1]"},
             {{{"words", {"one two three four five six seven"}}}, "duress_words[0]"},
             {{{"words", Json::array()}, {"extra", 1}}, "extra"}}) {
        r = http("PUT", "/v1/admin/duress-words", bad.dump(), admin_token);
        EXPECT_EQ(r.status, 400) << bad.dump();
        EXPECT_EQ(r.body["field"], field) << r.body.dump();
    }
    EXPECT_EQ(http("GET", "/v1/admin/duress-words", "", admin_token).body["duress_words"], 2);
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_audit",
                         "action = 'policy.duress_words' AND reason = '2'"),
              1);
}

}  // namespace
}  // namespace ariadne::e2e

namespace ariadne::e2e {
namespace {

TEST_F(AdminApi, AssignAddsTheCaseworkerAndSendsTheHandoverNoticeAdminOnlyWithNamedFields) {
    Json r2 = gateway_->admin({"caseworker-add", "--username", "rosa.t", "--initials", "R.T."},
                              "a long passphrase\n");
    const std::string cw2 = r2.at("account").get<std::string>();
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel", "app",
                     "--purpose", "case_updates", "--by", cw_.account});
    const std::string body = Json({{"survivor", survivor_.account}, {"caseworker", cw2}}).dump();

    EXPECT_EQ(http("POST", "/v1/admin/assign", body).status, 401);
    std::string cw_token = login(cw_, 0);
    EXPECT_EQ(http("POST", "/v1/admin/assign", body, cw_token).status, 403);
    std::string token = login(admin_, 0);
    EXPECT_EQ(http("GET", "/v1/admin/assign", "", token).status, 405);
    auto bad_json = http("POST", "/v1/admin/assign", "{\"survivor\":", token);
    EXPECT_EQ(bad_json.status, 400);
    for (const std::string& hostile :
         {std::string("'; DROP TABLE accounts; --"), std::string("<script>alert(1)</script>"),
          std::string("a_\u202eAAAAAAAAAAAAAAAAAAAAA"), std::string(5000, 'a')}) {
        auto r = http("POST", "/v1/admin/assign",
                      Json({{"survivor", hostile}, {"caseworker", cw2}}).dump(), token);
        EXPECT_EQ(r.status, 400) << hostile;
        EXPECT_EQ(r.body.value("field", ""), "survivor") << r.body.dump();
        r = http("POST", "/v1/admin/assign",
                 Json({{"survivor", survivor_.account}, {"caseworker", hostile}}).dump(), token);
        EXPECT_EQ(r.status, 400);
        EXPECT_EQ(r.body.value("field", ""), "caseworker") << r.body.dump();
    }
    auto unknown =
        http("POST", "/v1/admin/assign",
             Json({{"survivor", survivor_.account}, {"caseworker", cw2}, {"x", 1}}).dump(), token);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(unknown.body.value("field", ""), "x");
    auto wrong_role = http("POST", "/v1/admin/assign",
                           Json({{"survivor", cw2}, {"caseworker", cw_.account}}).dump(), token);
    EXPECT_EQ(wrong_role.status, 404);
    EXPECT_EQ(wrong_role.body.value("field", ""), "survivor");

    // Her app (device 1) will carry the notice once she has signed in on it.
    recover_survivor(*gateway_, survivor_, tmp_.path() / "phone").reset();
    auto ok = http("POST", "/v1/admin/assign", body, token);
    ASSERT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body["case_code"], survivor_.case_code);
    EXPECT_EQ(ok.body["handover_notice"]["sent"], true) << ok.body.dump();
    EXPECT_EQ(ok.body["handover_notice"]["channel"], "app") << ok.body.dump();
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "mailbox", "kind = 2"), 1);
    // Assigning again is a no-op: no second notice.
    auto again = http("POST", "/v1/admin/assign", body, token);
    EXPECT_EQ(again.status, 200);
    EXPECT_FALSE(again.body.contains("handover_notice"));
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "mailbox", "kind = 2"), 1);
}

}  // namespace
}  // namespace ariadne::e2e

namespace ariadne::e2e {
namespace {

TEST_F(AdminApi, CheckinPlansAreSetPausedResumedAndStoppedThroughTheApiWithNamedFields) {
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", cw_.account});
    Json plan = {{"case_code", survivor_.case_code},
                 {"every_days", 3},
                 {"window", "10:00-18:00"},
                 {"channels", {"app"}},
                 {"grace_minutes", 120},
                 {"alert", "caseworker"}};
    EXPECT_EQ(http("POST", "/v1/admin/checkin-plan", plan.dump()).status, 401);
    std::string cw_token = login(cw_, 0);
    std::string token = login(admin_, 0);
    EXPECT_EQ(http("GET", "/v1/admin/checkin-plan", "", cw_token).status, 405);
    auto bad = http("POST", "/v1/admin/checkin-plan", "{\"case_code\":", cw_token);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body.value("field", ""), "body");
    // An admin names the responsible caseworker; a caseworker acts only in her own name.
    auto no_by = http("POST", "/v1/admin/checkin-plan", plan.dump(), token);
    EXPECT_EQ(no_by.status, 400);
    EXPECT_EQ(no_by.body.value("field", ""), "by");
    Json other = plan;
    other["by"] = admin_.account;
    EXPECT_EQ(http("POST", "/v1/admin/checkin-plan", other.dump(), cw_token).status, 403);
    // Every field is checked and named; nothing is stored on a bad one.
    const std::vector<std::pair<std::string, Json>> wrong = {
        {"case_code", "'; DROP TABLE policies_checkin_plans; --"},
        {"case_code", 7},
        {"every_days", "three"},
        {"window", "25:00-18:00"},
        {"window", "<script>alert(1)</script>"},
        {"channels", {"messenger:telegram"}},
        {"channels", "app"},
        {"grace_minutes", -5},
        {"alert", "everyone"},
        {"x", 1}};
    for (const auto& [field, value] : wrong) {
        Json b = plan;
        b[field] = value;
        auto r = http("POST", "/v1/admin/checkin-plan", b.dump(), cw_token);
        EXPECT_GE(r.status, 400) << field << " " << value.dump();
        EXPECT_LT(r.status, 500) << field << " " << value.dump();
        EXPECT_NE(r.body.value("field", "").find(field == "channels" ? "channels" : field),
                  std::string::npos)
            << field << " " << r.body.dump();
    }
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans", "1"), 0);
    Json unknown_case = plan;
    unknown_case["case_code"] = "ZZZ-ZZZ";
    EXPECT_EQ(http("POST", "/v1/admin/checkin-plan", unknown_case.dump(), cw_token).status, 404);

    // She has not logged in with the app yet: no channel of the plan can reach her, so the
    // plan is accepted with its first check-in waiting for her (this one is then stopped).
    auto unreachable = http("POST", "/v1/admin/checkin-plan", plan.dump(), cw_token);
    ASSERT_EQ(unreachable.status, 200) << unreachable.body.dump();
    EXPECT_EQ(unreachable.body.value("waiting_for_her", false), true) << unreachable.body.dump();
    EXPECT_NE(unreachable.body["channels"][0].value("why", "").find("not logged in with the app"),
              std::string::npos)
        << unreachable.body.dump();
    ASSERT_EQ(http("POST", "/v1/admin/checkin-plan/status",
                   Json({{"plan_id", unreachable.body["plan_id"]}, {"status", "stopped"}}).dump(),
                   cw_token)
                  .status,
              200);
    recover_survivor(*gateway_, survivor_, tmp_.path() / "phone").reset();

    auto set = http("POST", "/v1/admin/checkin-plan", plan.dump(), cw_token);
    ASSERT_EQ(set.status, 200) << set.body.dump();
    EXPECT_EQ(set.body["channels"][0]["reaches_her"], true) << set.body.dump();
    EXPECT_EQ(set.body["case_code"], survivor_.case_code);
    std::int64_t id = set.body["plan_id"];
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans",
                         "status = 'active'"),
              1);

    auto status = [&](const Json& body, const std::string& t) {
        return http("POST", "/v1/admin/checkin-plan/status", body.dump(), t);
    };
    auto r = status({{"plan_id", id}, {"status", "sleeping"}}, cw_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.value("field", ""), "status");
    r = status({{"plan_id", "1; DROP"}, {"status", "paused"}}, cw_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.value("field", ""), "plan_id");
    r = status({{"plan_id", id + 100}, {"status", "paused"}}, cw_token);
    EXPECT_EQ(r.status, 404);
    r = status({{"plan_id", id}, {"status", "paused"}}, "");
    EXPECT_EQ(r.status, 401);

    r = status({{"plan_id", id}, {"status", "paused"}}, cw_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans",
                         "status = 'paused'"),
              1);
    r = status({{"plan_id", id}, {"status", "active"}, {"by", cw_.account}}, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans",
                         "status = 'active'"),
              1);
    r = status({{"plan_id", id}, {"status", "stopped"}}, cw_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    // A stopped plan stays stopped.
    r = status({{"plan_id", id}, {"status", "active"}}, cw_token);
    EXPECT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans",
                         "status = 'stopped' AND plan_id = " + std::to_string(id)),
              1);
}

}  // namespace
}  // namespace ariadne::e2e

namespace ariadne::e2e {
namespace {

TEST_F(AdminApi, CaseworkerCreateIsAdminOnlyNamesEveryBadFieldAndTheNewAccountLogsIn) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    ASSERT_FALSE(admin_token.empty());
    Json good = {{"username", "lena.o"},
                 {"password", "lena passphrase"},
                 {"role", "caseworker"},
                 {"initials", "LO"}};
    EXPECT_EQ(http("POST", "/v1/admin/caseworker", good.dump()).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/caseworker", good.dump(), cw_token).status, 403);
    long before = count_rows(gateway_->data_dir() / "ariadne.db", "accounts");

    auto r = http("POST", "/v1/admin/caseworker", "{\"username\": ", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "body");
    const std::string hostile = "'; DROP TABLE accounts; --";
    std::vector<std::pair<Json, std::string>> bad = {
        {{{"password", "x"}}, "username"},
        {{{"username", "u1"}}, "password"},
        {{{"username", 7}, {"password", "x"}}, "username"},
        {{{"username", std::string(65, 'u')}, {"password", "x"}}, "username"},
        {{{"username", "u1"}, {"password", ""}}, "password"},
        {{{"username", "u1"}, {"password", std::string(1025, 'p')}}, "password"},
        {{{"username", "u1"}, {"password", "x"}, {"role", "root"}}, "role"},
        {{{"username", "u1"}, {"password", "x"}, {"role", hostile}}, "role"},
        {{{"username", "u1"}, {"password", "x"}, {"initials", "Lena Olsen"}}, "initials"},
        {{{"username", "u1"}, {"password", "x"}, {"initials", "42"}}, "initials"},
        {{{"username", "u1"}, {"password", "x"}, {"initials", hostile}}, "initials"},
        {{{"username", "u1"}, {"password", "x"}, {"admin", true}}, "admin"},
        {{{"username", "mara.k"}, {"password", "x"}}, "username"},  // taken
    };
    for (const auto& [body, field] : bad) {
        r = http("POST", "/v1/admin/caseworker", body.dump(), admin_token);
        EXPECT_GE(r.status, 400) << body.dump();
        EXPECT_EQ(r.body["field"], field) << body.dump() << r.body.dump();
        EXPECT_NE(r.body.value("message", "").find(field), std::string::npos) << r.body.dump();
    }
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "accounts"), before);

    r = http("POST", "/v1/admin/caseworker", good.dump(), admin_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["role"], "caseworker");
    EXPECT_EQ(r.body["otpauth_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u);
    Gateway::Caseworker lena = {r.body["account"], "lena.o", "lena passphrase",
                                r.body["totp_secret"]};
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "accounts"), before + 1);
    EXPECT_FALSE(login(lena, 0).empty());
    EXPECT_EQ(gateway_->log().find("lena passphrase"), std::string::npos);
}

TEST_F(AdminApi, ShortFirstNamesAreRefusedAsInitialsInEveryScriptByCliAndApi) {
    // Common short first names: with case (Latin, Greek, Cyrillic) they are not capitals;
    // without case (Arabic, Hebrew, Chinese, Japanese, Devanagari, Thai) the letters run
    // together. Each is refused with the rule, by the CLI (exit 2) and the API (400), and
    // never stored.
    const std::vector<std::pair<std::string, std::string>> names = {
        {"Ana", "initials are capitals"},  {"Eva", "initials are capitals"},
        {"Li", "initials are capitals"},   {"Jo", "initials are capitals"},
        {"Νίκη", "initials are capitals"}, {"Аня", "initials are capitals"},
        {"سارة", "separate the letters"},  {"علي", "separate the letters"},
        {"דנה", "separate the letters"},   {"李娜", "separate the letters"},
        {"ゆき", "separate the letters"},  {"सीता", "separate the letters"},
        {"นก", "separate the letters"}};
    std::string admin_token = login(admin_, 0);
    ASSERT_FALSE(admin_token.empty());
    auto db = gateway_->data_dir() / "ariadne.db";
    long before = count_rows(db, "accounts");
    for (const auto& [name, rule] : names) {
        std::vector<std::string> argv = {server_binary(),
                                         "admin",
                                         "survivor-enrol",
                                         "--caseworker",
                                         cw_.account,
                                         "--initials",
                                         name,
                                         "--language",
                                         "en",
                                         "--time-zone",
                                         "UTC",
                                         "--data-dir",
                                         gateway_->data_dir().string()};
        auto cli = run_process(argv, "");
        EXPECT_EQ(cli.exit_code, 2) << name;
        EXPECT_NE(cli.err.find("initials only are allowed"), std::string::npos) << cli.err;
        EXPECT_NE(cli.err.find(rule), std::string::npos) << cli.err;
        auto api = http("POST", "/v1/admin/survivor",
                        Json({{"caseworker", cw_.account},
                              {"initials", name},
                              {"language", "en"},
                              {"time_zone", "UTC"}})
                            .dump(),
                        admin_token);
        EXPECT_EQ(api.status, 400) << name << api.body.dump();
        EXPECT_EQ(api.body["field"], "initials") << api.body.dump();
        EXPECT_NE(api.body.value("message", "").find(rule), std::string::npos) << api.body.dump();
        auto cw = http("POST", "/v1/admin/caseworker",
                       Json({{"username", "new.cw"}, {"password", "x"}, {"initials", name}}).dump(),
                       admin_token);
        EXPECT_EQ(cw.body["field"], "initials") << name << cw.body.dump();
    }
    EXPECT_EQ(count_rows(db, "accounts"), before);
    // Initials themselves pass in every script.
    for (std::string ok : {"A.N.", "AN", "Ν.Κ.", "А.Н.", "س.ع.", "ד נ", "李 娜", "स.र."}) {
        auto r = http("POST", "/v1/admin/survivor",
                      Json({{"caseworker", cw_.account},
                            {"initials", ok},
                            {"language", "en"},
                            {"time_zone", "UTC"}})
                          .dump(),
                      admin_token);
        EXPECT_EQ(r.status, 200) << ok << r.body.dump();
    }
}

TEST_F(AdminApi, SurvivorEnrolIsAdminOnlyNamesEveryBadFieldAndTheCodeIsShownOnceOnly) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    ASSERT_FALSE(admin_token.empty());
    Json good = {{"caseworker", cw_.account},
                 {"initials", "C.D."},
                 {"language", "en"},
                 {"time_zone", "Europe/Berlin"},
                 {"with_duress_code", true}};
    EXPECT_EQ(http("POST", "/v1/admin/survivor", good.dump()).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/survivor", good.dump(), cw_token).status, 403);
    auto db = gateway_->data_dir() / "ariadne.db";
    long before = count_rows(db, "accounts");

    auto r = http("POST", "/v1/admin/survivor", "[1,", admin_token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["field"], "body");
    const std::string hostile = "'; DROP TABLE accounts; --";
    auto with = [&](const std::string& k, Json v) {
        Json b = good;
        if (v.is_null()) {
            b.erase(k);
        } else {
            b[k] = v;
        }
        return b;
    };
    std::vector<std::pair<Json, std::string>> bad = {
        {with("caseworker", nullptr), "caseworker"},
        {with("caseworker", 7), "caseworker"},
        {with("caseworker", hostile), "caseworker"},
        {with("caseworker", "a_AAAAAAAAAAAAAAAAAAAAAA"), "caseworker"},
        {with("caseworker", Json::array()), "caseworker"},
        {with("initials", nullptr), "initials"},
        {with("initials", "Anna Berg"), "initials"},
        {with("initials", "12"), "initials"},
        {with("initials", hostile), "initials"},
        {with("language", nullptr), "language"},
        {with("language", hostile), "language"},
        {with("time_zone", nullptr), "time_zone"},
        {with("time_zone", "Mars/Olympus"), "time_zone"},
        {with("time_zone", hostile), "time_zone"},
        {with("with_duress_code", "yes"), "with_duress_code"},
        {with("name", "Anna Berg"), "name"},
    };
    for (const auto& [body, field] : bad) {
        r = http("POST", "/v1/admin/survivor", body.dump(), admin_token);
        EXPECT_GE(r.status, 400) << body.dump();
        EXPECT_EQ(r.body["field"], field) << body.dump() << r.body.dump();
        EXPECT_NE(r.body.value("message", "").find(field), std::string::npos) << r.body.dump();
    }
    EXPECT_EQ(count_rows(db, "accounts"), before);

    r = http("POST", "/v1/admin/survivor", good.dump(), admin_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    std::string code = r.body["recovery_code"];
    std::string duress = r.body["duress_code"];
    EXPECT_EQ(r.body["case_code"].get<std::string>().size() > 0, true);
    EXPECT_EQ(count_rows(db, "accounts"), before + 2);  // her account and the duress decoy

    auto conn = gateway_->connect();
    SurvivorLogin sl = derive_survivor_login(*conn, code, tmp_.path() / "s");
    Json ok = auth_survivor_raw(*conn, sl);
    ASSERT_EQ(ok["type"], "ok") << ok.dump();
    EXPECT_EQ(ok["account"], r.body["account"]);

    // Shown once: never in the server's log, never in the database file.
    gateway_->stop();
    std::string log = gateway_->log();
    std::string file;
    for (auto suffix : {"", "-wal"}) {
        std::ifstream f(db.string() + suffix, std::ios::binary);
        file += std::string(std::istreambuf_iterator<char>(f), {});
    }
    for (const auto& c : {code, duress}) {
        EXPECT_EQ(log.find(c), std::string::npos);
        EXPECT_EQ(file.find(c), std::string::npos);
    }
}

/// Her browser on the survivor page (/notes), with curl and a cookie jar.
class NotesBrowser {
  public:
    NotesBrowser(const Gateway& gateway, std::filesystem::path jar)
        : base_("https://127.0.0.1:" + std::to_string(gateway.port())), jar_(std::move(jar)) {}

    std::string get() { return curl({}); }

    /// Posts a form from the current page (with its CSRF token).
    void post(const std::string& form) {
        std::string page = get();
        auto at = page.find("name=\"t\" value=\"");
        ASSERT_NE(at, std::string::npos) << page;
        std::string token = page.substr(at + 16, page.find('"', at + 16) - at - 16);
        curl({"-X", "POST", "-H", "Origin: " + base_, "--data-binary", "t=" + token + "&" + form});
    }

  private:
    std::string curl(std::vector<std::string> extra) {
        std::vector<std::string> argv = {"/usr/bin/curl", "-sk", "--max-time", "20", "-c",
                                         jar_.string(),   "-b",  jar_.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back(base_ + "/notes");
        return run_process(argv, "").out;
    }
    std::string base_;
    std::filesystem::path jar_;
};

std::string form_code(std::string code) {
    for (char& c : code) {
        if (c == ' ') c = '+';
    }
    return "a=login&code=" + code;
}

TEST_F(AdminApi, AHandoverNoticeIsDecidedOnTheChannelThatCarriesItAndSaysWhenNothingCan) {
    const auto db = gateway_->data_dir() / "ariadne.db";
    std::string token = login(admin_, 0);
    auto add = [&](const std::string& username, const std::string& initials) {
        return gateway_
            ->admin({"caseworker-add", "--username", username, "--initials", initials},
                    "a long passphrase\n")
            .at("account")
            .get<std::string>();
    };
    auto assign_api = [&](const std::string& survivor, const std::string& caseworker) {
        auto r = http("POST", "/v1/admin/assign",
                      Json({{"survivor", survivor}, {"caseworker", caseworker}}).dump(), token);
        EXPECT_EQ(r.status, 200) << r.body.dump();
        return r.body["handover_notice"];
    };
    // Consent would allow it on the app, but she has never signed in anywhere: nothing can
    // carry it, through the API or the CLI, and nothing is queued.
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel", "app",
                     "--purpose", "case_updates", "--by", cw_.account});
    Json n = assign_api(survivor_.account, add("rosa.t", "R.T."));
    EXPECT_EQ(n["sent"], false) << n.dump();
    EXPECT_EQ(n["reason"], "no_channel") << n.dump();
    EXPECT_NE(n.value("message", "").find("never signed in"), std::string::npos) << n.dump();
    Json cli = gateway_->admin(
        {"assign", "--survivor", survivor_.account, "--caseworker", add("ion.p", "I.P.")});
    EXPECT_EQ(cli["handover_notice"]["sent"], false) << cli.dump();
    EXPECT_EQ(cli["handover_notice"]["reason"], "no_channel") << cli.dump();
    EXPECT_EQ(count_rows(db, "mailbox", "kind = 2"), 0);
    EXPECT_EQ(count_rows(db, "policies_audit",
                         "action = 'notice.handover' AND decision = 'deny' AND reason = "
                         "'no_channel'"),
              2);

    // A web-only survivor: the page carries it, so it is decided on `web`, not `app`.
    Json out = gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials", "W.O.",
                                "--language", "en", "--time-zone", Gateway::daytime_zone(),
                                "--recovery-m-kib", "8192", "--insecure-test-params"});
    const std::string web_account = out["account"], web_case = out["case_code"];
    gateway_->admin({"consent-record", "--case", web_case, "--channel", "app", "--purpose",
                     "case_updates", "--by", cw_.account});
    NotesBrowser browser(*gateway_, tmp_.path() / "jar");
    browser.post(form_code(out["recovery_code"].get<std::string>()));
    ASSERT_NE(browser.get().find("name=\"text\""), std::string::npos) << "not signed in";
    n = assign_api(web_account, add("ana.v", "A.V."));
    EXPECT_EQ(n["sent"], false) << n.dump();
    EXPECT_EQ(n["reason"], "no_consent") << n.dump();
    EXPECT_EQ(n["channel"], "web") << n.dump();

    // With her consent on the page it goes, and she reads it there (API and CLI alike).
    gateway_->admin({"consent-record", "--case", web_case, "--channel", "web", "--purpose",
                     "case_updates", "--by", cw_.account});
    n = assign_api(web_account, add("eva.m", "E.M."));
    EXPECT_EQ(n["sent"], true) << n.dump();
    EXPECT_EQ(n["channel"], "web") << n.dump();
    std::string page;
    for (int i = 0; i < 100; ++i) {
        page = browser.get();
        if (page.find("E.M.") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_NE(page.find("Hi, from now on E.M. will be your contact. Reply any time."),
              std::string::npos)
        << page;
    // The CLI queues it for her edge device, which fetches it at its next connection.
    const std::string code = out["recovery_code"];
    cli = gateway_->admin(
        {"assign", "--survivor", web_account, "--caseworker", add("zoe.k", "Z.K.")});
    EXPECT_EQ(cli["handover_notice"]["sent"], true) << cli.dump();
    EXPECT_EQ(cli["handover_notice"]["channel"], "web") << cli.dump();
    ASSERT_EQ(gateway_->stop(), 0);
    gateway_->start();
    NotesBrowser again(*gateway_, tmp_.path() / "jar2");
    again.post(form_code(code));
    for (int i = 0; i < 100; ++i) {
        page = again.get();
        if (page.find("Z.K.") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_NE(page.find("Hi, from now on Z.K. will be your contact. Reply any time."),
              std::string::npos)
        << page;
}

TEST_F(AdminApi, HerChoiceToBeToldOfANewPhoneIsSetByAnAdminOrHerCaseworkerAndAudited) {
    const auto db = gateway_->data_dir() / "ariadne.db";
    auto set = [&](const Json& body, const std::string& token) {
        return http("POST", "/v1/admin/new-device-notice", body.dump(), token);
    };
    const Json on = {{"case_code", survivor_.case_code}, {"notify", true}};
    EXPECT_EQ(set(on, "").status, 401);
    Json other = gateway_->admin({"caseworker-add", "--username", "jon.p"}, "a long passphrase\n");
    Gateway::Caseworker jon{other["account"], "jon.p", "a long passphrase", other["totp_secret"]};
    EXPECT_EQ(set(on, login(jon, 0)).status, 403);  // not her caseworker

    std::string token = login(admin_, 0);
    auto bad = set({{"case_code", survivor_.case_code}, {"notify", "yes"}}, token);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body.value("field", ""), "notify");
    bad = set({{"case_code", survivor_.case_code}, {"notify", true}, {"x", 1}}, token);
    EXPECT_EQ(bad.body.value("field", ""), "x");
    EXPECT_EQ(set({{"case_code", "ZZZ-9Z9"}, {"notify", true}}, token).status, 404);
    EXPECT_EQ(count_rows(db, "policies_audit", "action = 'survivor.new_device_notice'"), 0);

    auto ok = set(on, token);
    ASSERT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body["new_device_notice"], true);
    ok = set({{"case_code", survivor_.case_code}, {"notify", false}}, login(cw_, 0));
    ASSERT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body["new_device_notice"], false);
    EXPECT_EQ(count_rows(db, "policies_audit",
                         "action = 'survivor.new_device_notice' AND decision = 'on' AND actor = '" +
                             admin_.account + "'"),
              1);
    EXPECT_EQ(
        count_rows(db, "policies_audit",
                   "action = 'survivor.new_device_notice' AND decision = 'off' AND actor = '" +
                       cw_.account + "'"),
        1);
}

}  // namespace
}  // namespace ariadne::e2e

namespace ariadne::e2e {
namespace {

TEST_F(AdminApi, EveryAliasOfASocialNetworkIsRefusedAsSocialMediaThroughTheApi) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    for (std::string alias : {"tg", "ig", "insta", "facebook-messenger", "weibo", "fb", "meta",
                              "vkontakte", "x.com", "t\xD0\xB5legram", "Snap Chat"}) {
        auto c = http("POST", "/v1/admin/consent",
                      Json({{"case_code", survivor_.case_code},
                            {"channel", "messenger:" + alias},
                            {"purpose", "check_ins"},
                            {"evidence", "FORM-17"}})
                          .dump(),
                      cw_token);
        EXPECT_EQ(c.status, 422) << alias << " " << c.body.dump();
        EXPECT_NE(c.body.value("message", "").find("social media"), std::string::npos)
            << alias << " " << c.body.dump();
        auto p = http(
            "POST", "/v1/admin/checkin-plan",
            Json({{"case_code", survivor_.case_code}, {"channels", {"messenger:" + alias}}}).dump(),
            cw_token);
        EXPECT_EQ(p.status, 422) << alias << " " << p.body.dump();
        EXPECT_NE(p.body.value("message", "").find("social media"), std::string::npos)
            << alias << " " << p.body.dump();
        auto o =
            http("PUT", "/v1/admin/policy",
                 Json({{"accept_messenger", {{"provider", alias}, {"evidence", "DPIA-1"}}}}).dump(),
                 admin_token);
        EXPECT_EQ(o.status, 422) << alias << " " << o.body.dump();
        EXPECT_NE(o.body.value("message", "").find("social media"), std::string::npos)
            << alias << " " << o.body.dump();
    }
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_consent", "1"), 0);
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "policies_checkin_plans", "1"), 0);
}

TEST_F(AdminApi, MessengersCheckinDefaultsAndConsentRecordsAreSetAndReadThroughTheApi) {
    std::string cw_token = login(cw_, 0);
    std::string admin_token = login(admin_, 0);
    Json session = {{"case_code", survivor_.case_code},
                    {"channel", "messenger:session"},
                    {"purpose", "replies"},
                    {"evidence", "FORM-17"},
                    {"language", "ro"}};
    auto refused = http("POST", "/v1/admin/consent", session.dump(), cw_token);
    EXPECT_EQ(refused.status, 422) << refused.body.dump();
    EXPECT_NE(refused.body.value("message", "").find("not an accepted messenger"),
              std::string::npos);
    auto no_evidence = http("PUT", "/v1/admin/policy",
                            R"({"accept_messenger": {"provider": "session"}})", admin_token);
    EXPECT_EQ(no_evidence.status, 400) << no_evidence.body.dump();
    EXPECT_EQ(no_evidence.body.value("field", ""), "messenger_evidence");
    auto accepted = http("PUT", "/v1/admin/policy",
                         R"({"accept_messenger": {"provider": "session", "evidence": "DPIA-7"},
                             "checkin_defaults": {"window": "09:00-12:00", "every_days": 2,
                                                  "grace_minutes": 60}})",
                         admin_token);
    ASSERT_EQ(accepted.status, 200) << accepted.body.dump();
    EXPECT_EQ(accepted.body["checkin_defaults"]["window"], "09:00-12:00");
    EXPECT_EQ(accepted.body["checkin_defaults"]["every_days"], 2);
    EXPECT_EQ(accepted.body["accepted_messengers"].back()["evidence_ref"], "DPIA-7");
    auto bad =
        http("PUT", "/v1/admin/policy", R"({"checkin_defaults": {"every_days": 0}})", admin_token);
    EXPECT_EQ(bad.status, 400) << bad.body.dump();
    EXPECT_EQ(bad.body.value("field", ""), "checkin_defaults.every_days");
    ASSERT_EQ(http("POST", "/v1/admin/consent", session.dump(), cw_token).status, 200);

    auto list = http("GET", "/v1/admin/consent?case=" + survivor_.case_code, "", cw_token);
    ASSERT_EQ(list.status, 200) << list.body.dump();
    ASSERT_EQ(list.body["records"].size(), 1u) << list.body.dump();
    const Json& r = list.body["records"][0];
    EXPECT_EQ(r["channel"], "messenger/session");
    EXPECT_EQ(r["evidence_ref"], "FORM-17");
    EXPECT_EQ(r["form_language"], "ro");
    EXPECT_EQ(r["recorded_by"], cw_.account);
    EXPECT_EQ(list.body["in_effect"][0]["action"], "given");
    EXPECT_EQ(http("GET", "/v1/admin/consent?case=" + survivor_.case_code, "", admin_token).status,
              200);
    EXPECT_EQ(http("GET", "/v1/admin/consent", "", cw_token).status, 400);
    EXPECT_EQ(http("GET", "/v1/admin/consent?case=ZZZ-ZZZ", "", cw_token).status, 404);
    EXPECT_EQ(http("GET", "/v1/admin/consent?case=" + survivor_.case_code).status, 401);
    // A caseworker not assigned to her may not read her records.
    auto other = gateway_->add_caseworker("jon.p");
    EXPECT_EQ(
        http("GET", "/v1/admin/consent?case=" + survivor_.case_code, "", login(other, 0)).status,
        403);
    // "partner" is not an alert target Ariadne can deliver to.
    auto partner =
        http("POST", "/v1/admin/checkin-plan",
             Json({{"case_code", survivor_.case_code}, {"alert", "partner"}}).dump(), cw_token);
    EXPECT_EQ(partner.status, 400);
    EXPECT_EQ(partner.body.value("field", ""), "plan.alert");
    EXPECT_NE(partner.body.value("message", "").find("partner organisation"), std::string::npos);
}

}  // namespace
}  // namespace ariadne::e2e

namespace ariadne::e2e {
namespace {

TEST_F(AdminApi, TheCliAndTheApiRefuseTheSameAssignmentAndEnrolmentWithTheSameSentence) {
    // Both run one enrolment and one assign-with-handover use case: the same bad input gets
    // the same sentence (CLI: "ariadne admin: <sentence>"; API: the JSON message) and nothing
    // is stored by either.
    std::string token = login(admin_, 0);
    ASSERT_FALSE(token.empty());
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {server_binary(), "admin"});
        args.insert(args.end(), {"--data-dir", gateway_->data_dir().string()});
        return run_process(args, "");
    };
    auto sentence = [](const ProcessResult& r) {
        const std::string prefix = "ariadne admin: ";
        EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
        auto end = r.err.find('\n');
        return r.err.substr(prefix.size(), end == std::string::npos ? end : end - prefix.size());
    };
    const std::string unknown_cw = "a_AAAAAAAAAAAAAAAAAAAAAA";
    struct Case {
        std::string survivor, caseworker;
        int status, exit_code;
        std::string field;
    };
    const std::vector<Case> assigns = {
        {cw_.account, cw_.account, 404, 1, "survivor"},  // a caseworker is no survivor
        {survivor_.account, survivor_.account, 404, 1, "caseworker"},
        {survivor_.account, unknown_cw, 404, 1, "caseworker"},
        {"not-an-id", cw_.account, 400, 2, "survivor"},
        {survivor_.account, "a_short", 400, 2, "caseworker"},
    };
    auto db = gateway_->data_dir() / "ariadne.db";
    const long assignments = count_rows(db, "assignments");
    for (const auto& c : assigns) {
        auto api =
            http("POST", "/v1/admin/assign",
                 Json({{"survivor", c.survivor}, {"caseworker", c.caseworker}}).dump(), token);
        EXPECT_EQ(api.status, c.status) << api.body.dump();
        EXPECT_EQ(api.body.value("field", ""), c.field) << api.body.dump();
        auto r = cli({"assign", "--survivor", c.survivor, "--caseworker", c.caseworker});
        EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
        EXPECT_EQ(sentence(r), api.body.value("message", "")) << r.err;
    }
    EXPECT_EQ(count_rows(db, "assignments"), assignments);

    const long accounts = count_rows(db, "accounts");
    const std::vector<std::pair<Json, int>> enrolments = {
        {Json({{"caseworker", unknown_cw},
               {"initials", "A.N."},
               {"language", "en"},
               {"time_zone", "UTC"}}),
         1},
        {Json({{"caseworker", cw_.account},
               {"initials", "A.N."},
               {"language", "en"},
               {"time_zone", "Mars/Olympus"}}),
         2},
        {Json({{"caseworker", cw_.account},
               {"initials", "A.N."},
               {"language", "no such tag"},
               {"time_zone", "UTC"}}),
         2},
    };
    for (const auto& [body, exit_code] : enrolments) {
        auto api = http("POST", "/v1/admin/survivor", body.dump(), token);
        EXPECT_GE(api.status, 400) << api.body.dump();
        auto r = cli({"survivor-enrol", "--caseworker", body["caseworker"], "--initials",
                      body["initials"], "--language", body["language"], "--time-zone",
                      body["time_zone"]});
        EXPECT_EQ(r.exit_code, exit_code) << r.err;
        EXPECT_EQ(sentence(r), api.body.value("message", "")) << r.err;
    }
    EXPECT_EQ(count_rows(db, "accounts"), accounts);
}

}  // namespace
}  // namespace ariadne::e2e
