// Disabling a caseworker account (issue #4) against the real server, through the CLI (a
// separate process: the server reads the flag on every login and every request of hers) and
// through the HTTPS admin API: her logins are refused with account_disabled, her live
// connection ends at its next request, her admin-API token stops working; enabling her again
// restores everything. Adversarial: no login, wrong role, unknown/malformed/hostile ids.
#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

struct HttpResult {
    int status = 0;
    Json body;
};

class CaseworkerDisable : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        Json a = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        survivor_ = gateway_->enrol_survivor(cw_.account, /*consent_replies=*/false);
        gateway_->start();
        device_ = make_raw_device(tmp_.path() / "device");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

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
        std::string head = r.out.substr(0, split);
        if (head.size() > 9) out.status = std::atoi(head.c_str() + 9);
        out.body =
            Json::parse(split == std::string::npos ? "" : r.out.substr(split + 4), nullptr, false);
        return out;
    }

    HttpResult api_login(const Gateway::Caseworker& who, int step) {
        return http("POST", "/v1/admin/session",
                    Json({{"username", who.username},
                          {"password", who.password},
                          {"totp", totp_for(who, step)}})
                        .dump());
    }

    /// `ariadne admin <args>` expected to fail: returns stderr, checks the exit code.
    std::string admin_fails(std::vector<std::string> args, int exit_code,
                            const std::string& input = "") {
        std::vector<std::string> argv = {server_binary(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--data-dir", gateway_->data_dir().string()});
        auto r = run_process(argv, input);
        EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
        return r.err;
    }

    static void expect_disabled(const Json& r) {
        EXPECT_EQ(r["type"], "error") << r.dump();
        EXPECT_EQ(r["code"], "account_disabled") << r.dump();
        EXPECT_EQ(r["message"], "This account is disabled; ask your organisation's administrator.")
            << r.dump();
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, admin_;
    Gateway::Survivor survivor_;
    RawDevice device_;
};

TEST_F(CaseworkerDisable, TheCliDisablesHerLoginsAndEndsHerLiveSessionThenEnablesHerAgain) {
    auto live = gateway_->connect();
    Json reg = register_raw(*live, cw_, device_, totp_for(cw_, 0));
    ASSERT_EQ(reg["type"], "ok") << reg.dump();
    auto device_id = reg["device_id"].get<std::uint32_t>();
    ASSERT_EQ(live->request({{"type", "keys_count"}})["type"], "ok");

    Json d = gateway_->admin({"caseworker-disable", "--id", cw_.account, "--by", admin_.account});
    EXPECT_EQ(d["account"], cw_.account);
    EXPECT_EQ(d["disabled"], true);
    EXPECT_EQ(d["changed"], true);
    // Twice: nothing changes, still fine.
    EXPECT_EQ(gateway_->admin(
                  {"caseworker-disable", "--id", cw_.account, "--by", admin_.account})["changed"],
              false);

    // Her live connection: the next request is refused and the connection ends.
    bool ended = false;
    try {
        expect_disabled(live->request({{"type", "keys_count"}}));
        live->request({{"type", "keys_count"}});
    } catch (const std::exception&) {
        ended = true;
    }
    EXPECT_TRUE(ended) << "the connection of a disabled account stayed open";

    // New logins: with her device key and with password + TOTP.
    auto again = gateway_->connect();
    expect_disabled(auth_device_raw(*again, cw_.account, device_id, device_));
    auto fresh = gateway_->connect();
    RawDevice other = make_raw_device(tmp_.path() / "other");
    expect_disabled(register_raw(*fresh, cw_, other, totp_for(cw_, 1)));
    // A wrong password still gets the uniform auth_failed (no account oracle).
    auto wrong = gateway_->connect();
    EXPECT_EQ(register_raw(*wrong, cw_, other, totp_for(cw_, 1), "not it")["code"], "auth_failed");
    // The admin API too.
    auto api = api_login(cw_, 0);
    EXPECT_EQ(api.status, 403) << api.body.dump();
    EXPECT_EQ(api.body["error"], "account_disabled");

    Json e = gateway_->admin({"caseworker-enable", "--id", cw_.account, "--by", admin_.account});
    EXPECT_EQ(e["disabled"], false);
    EXPECT_EQ(e["changed"], true);
    auto back = gateway_->connect();
    Json ok = auth_device_raw(*back, cw_.account, device_id, device_);
    EXPECT_EQ(ok["type"], "ok") << ok.dump();
    EXPECT_EQ(back->request({{"type", "keys_count"}})["type"], "ok");

    // Audited with ids only: who, what, whose account; never her username.
    auto audit = gateway_->admin({"audit-export"});
    std::string text = audit.is_string() ? audit.get<std::string>() : audit.dump();
    EXPECT_NE(text.find("caseworker.disabled"), std::string::npos) << text;
    EXPECT_NE(text.find("caseworker.enabled"), std::string::npos) << text;
    EXPECT_EQ(text.find("mara.k"), std::string::npos) << text;
    EXPECT_EQ(gateway_->admin({"audit-verify"})["ok"], true);
}

TEST_F(CaseworkerDisable, TheCliNamesTheBadFieldAndChangesNothing) {
    EXPECT_NE(admin_fails({"caseworker-disable", "--id", cw_.account}, 2).find("by"),
              std::string::npos);
    // --by must be an admin account (a caseworker, a survivor, garbage: refused).
    EXPECT_NE(admin_fails({"caseworker-disable", "--id", cw_.account, "--by", cw_.account}, 1)
                  .find("--by: no admin account"),
              std::string::npos);
    EXPECT_NE(admin_fails({"caseworker-disable", "--id", cw_.account, "--by", "'; DROP TABLE x"}, 1)
                  .find("--by"),
              std::string::npos);
    for (const std::string& hostile :
         {std::string("'; DROP TABLE accounts; --"), std::string("<script>alert(1)</script>"),
          std::string("a_\u202eAAAAAAAAAAAAAAAAAAAAA"), std::string(5000, 'a')}) {
        EXPECT_NE(admin_fails({"caseworker-disable", "--id", hostile, "--by", admin_.account}, 2)
                      .find("--id: must be an account id"),
                  std::string::npos)
            << hostile.substr(0, 40);
    }
    EXPECT_NE(
        admin_fails({"caseworker-disable", "--id", survivor_.account, "--by", admin_.account}, 1)
            .find("--id: no caseworker account"),
        std::string::npos);
    EXPECT_NE(admin_fails({"caseworker-disable", "--id", admin_.account, "--by", admin_.account}, 2)
                  .find("own account"),
              std::string::npos);
    // Nothing was disabled.
    auto conn = gateway_->connect();
    EXPECT_EQ(register_raw(*conn, cw_, device_, totp_for(cw_))["type"], "ok");
}

TEST_F(CaseworkerDisable, TheApiIsAdminOnlyNamesTheFieldAndEndsHerTokenAtOnce) {
    const std::string body = Json({{"caseworker", cw_.account}}).dump();
    EXPECT_EQ(http("POST", "/v1/admin/caseworker/disable", body).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/caseworker/disable", body, "forged").status, 401);
    auto cw_login = api_login(cw_, 0);
    ASSERT_EQ(cw_login.status, 200);
    std::string cw_token = cw_login.body["token"];
    EXPECT_EQ(http("POST", "/v1/admin/caseworker/disable", body, cw_token).status, 403);
    auto admin_login = api_login(admin_, 0);
    ASSERT_EQ(admin_login.status, 200);
    std::string token = admin_login.body["token"];
    EXPECT_EQ(http("GET", "/v1/admin/caseworker/disable", "", token).status, 405);
    auto bad = http("POST", "/v1/admin/caseworker/disable", "{\"caseworker\":", token);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body.value("field", ""), "body");
    auto unknown = http("POST", "/v1/admin/caseworker/disable",
                        Json({{"caseworker", cw_.account}, {"x", 1}}).dump(), token);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(unknown.body.value("field", ""), "x");
    for (const Json& hostile :
         {Json("'; DROP TABLE accounts; --"), Json("<script>alert(1)</script>"),
          Json("a_\u202eAAAAAAAAAAAAAAAAAAAAA"), Json(std::string(5000, 'a')), Json(7), Json()}) {
        auto r = http("POST", "/v1/admin/caseworker/disable",
                      Json({{"caseworker", hostile}}).dump(), token);
        EXPECT_EQ(r.status, 400) << hostile.dump().substr(0, 40);
        EXPECT_EQ(r.body.value("field", ""), "caseworker") << r.body.dump();
    }
    auto survivor = http("POST", "/v1/admin/caseworker/disable",
                         Json({{"caseworker", survivor_.account}}).dump(), token);
    EXPECT_EQ(survivor.status, 404);
    EXPECT_EQ(survivor.body.value("field", ""), "caseworker");
    auto self = http("POST", "/v1/admin/caseworker/disable",
                     Json({{"caseworker", admin_.account}}).dump(), token);
    EXPECT_EQ(self.status, 422);
    // Her token still works before...
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", cw_token).status, 200);

    auto ok = http("POST", "/v1/admin/caseworker/disable", body, token);
    ASSERT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body["disabled"], true);
    // ...and not after: her token, her new logins (API and gateway).
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", cw_token).status, 401);
    auto refused = api_login(cw_, 1);  // a refused login does not use up the code
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.body["error"], "account_disabled");
    auto conn = gateway_->connect();
    expect_disabled(register_raw(*conn, cw_, device_, totp_for(cw_, 0)));

    auto enabled = http("POST", "/v1/admin/caseworker/enable", body, token);
    ASSERT_EQ(enabled.status, 200) << enabled.body.dump();
    EXPECT_EQ(enabled.body["disabled"], false);
    EXPECT_EQ(api_login(cw_, 1).status, 200);
    auto conn2 = gateway_->connect();
    EXPECT_EQ(register_raw(*conn2, cw_, device_, totp_for(cw_, 1))["type"], "ok");
}

TEST_F(CaseworkerDisable, AResetGivesANewPasswordAndTotpSecretOnceAndTheOldOnesStopWorking) {
    auto first = gateway_->connect();
    ASSERT_EQ(register_raw(*first, cw_, device_, totp_for(cw_, 0))["type"], "ok");

    // Refusals first: nothing changes.
    EXPECT_NE(admin_fails({"caseworker-reset", "--id", cw_.account, "--by", admin_.account}, 2)
                  .find("password"),
              std::string::npos);
    EXPECT_NE(
        admin_fails({"caseworker-reset", "--id", cw_.account, "--by", cw_.account}, 1, "not used\n")
            .find("--by: no admin account"),
        std::string::npos);

    Json r = gateway_->admin({"caseworker-reset", "--id", cw_.account, "--by", admin_.account},
                             "a new passphrase\n");
    EXPECT_EQ(r["account"], cw_.account);
    ASSERT_TRUE(r["totp_secret"].is_string()) << r.dump();
    EXPECT_EQ(r["otpauth_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u) << r.dump();
    EXPECT_NE(r["totp_secret"], cw_.totp_secret);
    Gateway::Caseworker renewed{cw_.account, cw_.username, "a new passphrase", r["totp_secret"]};
    Gateway::Caseworker old_password = renewed;
    old_password.password = cw_.password;
    Gateway::Caseworker old_totp = renewed;
    old_totp.totp_secret = cw_.totp_secret;

    RawDevice other = make_raw_device(tmp_.path() / "other");
    for (const auto* who : {&old_password, &old_totp}) {
        auto conn = gateway_->connect();
        Json f = register_raw(*conn, *who, other, totp_for(*who, 1));
        EXPECT_EQ(f["code"], "auth_failed") << f.dump();
        std::this_thread::sleep_for(std::chrono::milliseconds(f.value("retry_after_ms", 0) + 30));
    }
    auto conn = gateway_->connect();
    Json ok = register_raw(*conn, renewed, other, totp_for(renewed, 1));
    EXPECT_EQ(ok["type"], "ok") << ok.dump();
    // The admin API follows the same credentials.
    EXPECT_EQ(api_login(renewed, 0).status, 200);
    EXPECT_EQ(api_login(old_password, 1).status, 401);

    auto audit = gateway_->admin({"audit-export"});
    std::string text = audit.is_string() ? audit.get<std::string>() : audit.dump();
    EXPECT_NE(text.find("caseworker.reset"), std::string::npos) << text;
    EXPECT_EQ(text.find("new passphrase"), std::string::npos);
    EXPECT_EQ(gateway_->log().find("new passphrase"), std::string::npos);
}

TEST_F(CaseworkerDisable, TheApiResetIsAdminOnlyNamesTheFieldAndEndsHerTokens) {
    auto cw_login = api_login(cw_, 0);
    ASSERT_EQ(cw_login.status, 200);
    std::string cw_token = cw_login.body["token"];
    const std::string body =
        Json({{"caseworker", cw_.account}, {"password", "api passphrase"}}).dump();
    EXPECT_EQ(http("POST", "/v1/admin/caseworker/reset", body).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/caseworker/reset", body, cw_token).status, 403);
    auto admin_login = api_login(admin_, 0);
    ASSERT_EQ(admin_login.status, 200);
    std::string token = admin_login.body["token"];
    for (const auto& [b, field] : std::vector<std::pair<Json, std::string>>{
             {Json({{"caseworker", cw_.account}}), "password"},
             {Json({{"caseworker", cw_.account}, {"password", ""}}), "password"},
             {Json({{"caseworker", cw_.account}, {"password", std::string(2000, 'p')}}),
              "password"},
             {Json({{"caseworker", cw_.account}, {"password", 7}}), "password"},
             {Json({{"caseworker", "'; DROP TABLE caseworkers; --"}, {"password", "x"}}),
              "caseworker"},
             {Json({{"caseworker", "<script>"}, {"password", "x"}}), "caseworker"},
             {Json({{"caseworker", cw_.account}, {"password", "x"}, {"totp", "1"}}), "totp"}}) {
        auto r = http("POST", "/v1/admin/caseworker/reset", b.dump(), token);
        EXPECT_EQ(r.status, 400) << b.dump().substr(0, 80);
        EXPECT_EQ(r.body.value("field", ""), field) << r.body.dump();
    }
    auto survivor =
        http("POST", "/v1/admin/caseworker/reset",
             Json({{"caseworker", survivor_.account}, {"password", "x"}}).dump(), token);
    EXPECT_EQ(survivor.status, 404);
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", cw_token).status, 200);

    auto r = http("POST", "/v1/admin/caseworker/reset", body, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["otpauth_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u);
    // Her token ends; the old credentials fail; the new ones work.
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", cw_token).status, 401);
    Gateway::Caseworker renewed{cw_.account, cw_.username, "api passphrase", r.body["totp_secret"]};
    EXPECT_EQ(api_login(renewed, 1).status, 200);
    Gateway::Caseworker old = renewed;
    old.totp_secret = cw_.totp_secret;
    EXPECT_EQ(api_login(old, 1).status, 401);
    auto conn = gateway_->connect();
    EXPECT_EQ(register_raw(*conn, renewed, device_, totp_for(renewed, 0))["type"], "ok");
}

}  // namespace
}  // namespace ariadne::e2e
