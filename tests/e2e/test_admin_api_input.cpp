// Bad input to the HTTPS admin API is refused, never silently accepted: unknown JSON fields
// are named, query values out of range are refused, and oversized headers get 431.
#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

struct HttpResult {
    int status = 0;
    std::string head;
    Json body;
};

class AdminApiInput : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        Json a = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        survivor_ = gateway_->enrol_survivor(cw_.account, /*consent_replies=*/false);
        gateway_->start();
        token_ = login(admin_, 0);
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    /// One request with curl (-k: the test certificate is self-signed).
    HttpResult http(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& token = "",
                    const std::vector<std::string>& headers = {}) {
        std::vector<std::string> argv = {"/usr/bin/curl", "-sk",        "-i", "-X",
                                         method,          "--max-time", "20"};
        if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
        for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
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

    static void expect_refused(const HttpResult& r, const std::string& field) {
        EXPECT_EQ(r.status, 400) << r.head << r.body.dump();
        EXPECT_EQ(r.body.value("error", ""), "invalid_field") << r.body.dump();
        EXPECT_EQ(r.body.value("field", ""), field) << r.body.dump();
        EXPECT_NE(r.body.value("message", "").find(field), std::string::npos) << r.body.dump();
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, admin_;
    Gateway::Survivor survivor_;
    std::string token_;
};

TEST_F(AdminApiInput, AMisspeltPolicyFieldIsRefusedByNameAndChangesNothing) {
    auto before = http("GET", "/v1/admin/policy", "", token_);
    ASSERT_EQ(before.status, 200);
    expect_refused(http("PUT", "/v1/admin/policy", R"({"retention_day":7})", token_),
                   "retention_day");
    // A known field next to an unknown one is not applied either.
    expect_refused(http("PUT", "/v1/admin/policy",
                        R"({"retention_days":7,"quiet_hour":"22:00-07:00"})", token_),
                   "quiet_hour");
    auto after = http("GET", "/v1/admin/policy", "", token_);
    EXPECT_EQ(after.body, before.body);
    // The right spelling works.
    auto ok = http("PUT", "/v1/admin/policy", R"({"retention_days":7})", token_);
    EXPECT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body.value("retention_days", 0), 7);
}

TEST_F(AdminApiInput, UnknownFieldsInConsentAndLoginBodiesAreRefusedByName) {
    expect_refused(http("POST", "/v1/admin/consent",
                        Json({{"case_code", survivor_.case_code},
                              {"channel", "app"},
                              {"purpose", "replies"},
                              {"evidense", "FORM-17"}})
                            .dump(),
                        login(cw_, 1)),
                   "evidense");
    expect_refused(
        http(
            "POST", "/v1/admin/session",
            Json(
                {{"username", "mara.k"}, {"password", "x"}, {"totp", "000000"}, {"remember", true}})
                .dump()),
        "remember");
}

TEST_F(AdminApiInput, AuditQueryValuesOutOfRangeAreRefused) {
    expect_refused(http("GET", "/v1/admin/audit?from=-1", "", token_), "from");
    expect_refused(http("GET", "/v1/admin/audit?from=0", "", token_), "from");
    expect_refused(http("GET", "/v1/admin/audit?limit=999999999", "", token_), "limit");
    expect_refused(http("GET", "/v1/admin/audit?limit=0", "", token_), "limit");
    expect_refused(http("GET", "/v1/admin/audit?limit=1e3", "", token_), "limit");
    expect_refused(http("GET", "/v1/admin/audit?from=1&count=5", "", token_), "count");
    auto ok = http("GET", "/v1/admin/audit?from=1&limit=10000", "", token_);
    EXPECT_EQ(ok.status, 200) << ok.head;
}

TEST_F(AdminApiInput, OversizedHeadersAreAnswered431) {
    auto r = http("GET", "/v1/admin/policy", "", token_, {"X-Pad: " + std::string(9 * 1024, 'a')});
    EXPECT_EQ(r.status, 431) << r.head;
    // The server is fine afterwards.
    EXPECT_EQ(http("GET", "/v1/admin/policy", "", token_).status, 200);
}

}  // namespace
}  // namespace ariadne::e2e
