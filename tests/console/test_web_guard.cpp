// The console's local web server refuses everyone but the caseworker's own browser tab:
// real server on 127.0.0.1, real sockets, headers chosen by the test.
#include <dirent.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ariadne/console/http_server.h"
#include "ariadne/console/web_guard.h"
#include "http_client.h"

namespace ariadne::console {
namespace {

using test::Headers;
using test::http_request;
using test::Reply;

class WebGuardTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server_ = HttpServer::bind();
        port_ = server_->port();
        guard_ = std::make_unique<WebGuard>(port_);
        server_->serve(guard_->protect([](const HttpRequest& r) {
            HttpResponse out{200, "application/json", {}, R"({"ok":true})"};
            if (r.method == "POST") out.body = R"({"changed":true})";
            return out;
        }));
        host_ = "127.0.0.1:" + std::to_string(port_);
        origin_ = "http://" + host_;
    }

    std::string token() const {
        std::string url = guard_->start_url();
        return url.substr(url.find("token=") + 6);
    }

    // Exchanges the token like a browser opening the printed link; returns "name=value".
    std::string sign_in() {
        Reply r = http_request(port_, "GET", "/?token=" + token(),
                               {{"Host", host_}, {"Sec-Fetch-Site", "none"}});
        EXPECT_EQ(r.status, 303);
        std::string cookie = r.header("set-cookie");
        return cookie.substr(0, cookie.find(';'));
    }

    Reply get(const std::string& target, const Headers& headers) {
        return http_request(port_, "GET", target, headers);
    }

    std::unique_ptr<HttpServer> server_;
    std::unique_ptr<WebGuard> guard_;
    std::uint16_t port_ = 0;
    std::string host_, origin_;
};

TEST_F(WebGuardTest, StartUrlIsLoopbackWithLongRandomToken) {
    std::string url = guard_->start_url();
    EXPECT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(port_) + "/?token=", 0), 0u);
    EXPECT_EQ(token().size(), 64u);
    EXPECT_NE(WebGuard(port_).start_url(), url);
}

TEST_F(WebGuardTest, RequestWithoutTokenOrCookieIsRefusedAndThePageGoesToSignIn) {
    for (const char* path : {"/api/inbox", "/app.js", "/api/thread/a_x"}) {
        Reply r = get(path, {{"Host", host_}});
        EXPECT_EQ(r.status, 401) << path;
        EXPECT_NE(r.body.find("sign in again"), std::string::npos) << r.body;
    }
    // An old tab or a bookmark of the page itself: the styled sign-in page.
    for (const char* path : {"/", "/index.html"}) {
        Reply r = get(path, {{"Host", host_}});
        EXPECT_EQ(r.status, 303) << path;
        EXPECT_EQ(r.header("location"), "/signin") << path;
        EXPECT_TRUE(r.header("set-cookie").empty());
    }
}

TEST_F(WebGuardTest, TheSignInPageLoadsWithoutASessionAndNothingElseDoes) {
    Reply page = get("/signin", {{"Host", host_}});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
    EXPECT_NE(page.body.find("id=\"passphrase\""), std::string::npos);
    EXPECT_NE(page.body.find("/app.css"), std::string::npos);  // styled
    EXPECT_EQ(get("/signin.js", {{"Host", host_}}).status, 200);
    EXPECT_EQ(get("/app.css", {{"Host", host_}}).status, 200);
    EXPECT_EQ(get("/signin", {{"Host", "evil.example:" + std::to_string(port_)}}).status, 403);
}

TEST_F(WebGuardTest, ThePassphraseTypedInThePageStartsASessionAndAWrongOneDoesNot) {
    std::vector<std::string> tried;
    guard_->set_sign_in([&tried](const std::string& passphrase) {
        tried.push_back(passphrase);
        return passphrase == "the right passphrase";
    });
    Headers h = {{"Host", host_}, {"Origin", origin_}, {"Content-Type", "application/json"}};
    Reply wrong = http_request(port_, "POST", "/api/signin", h, R"({"passphrase":"wrong"})");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_NE(wrong.body.find("does not open"), std::string::npos) << wrong.body;
    EXPECT_TRUE(wrong.header("set-cookie").empty());
    Reply empty = http_request(port_, "POST", "/api/signin", h, R"({"passphrase":""})");
    EXPECT_EQ(empty.status, 400);
    // From another site, or not as JSON: refused before the passphrase is tried.
    Reply forged = http_request(
        port_, "POST", "/api/signin",
        {{"Host", host_}, {"Origin", "http://evil.example"}, {"Content-Type", "application/json"}},
        R"({"passphrase":"the right passphrase"})");
    EXPECT_EQ(forged.status, 403);
    Reply form = http_request(port_, "POST", "/api/signin",
                              {{"Host", host_},
                               {"Origin", origin_},
                               {"Content-Type", "application/x-www-form-urlencoded"}},
                              "passphrase=x");
    EXPECT_EQ(form.status, 415);
    EXPECT_EQ(tried, std::vector<std::string>{"wrong"});

    Reply ok =
        http_request(port_, "POST", "/api/signin", h, R"({"passphrase":"the right passphrase"})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    std::string cookie = ok.header("set-cookie");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    cookie = cookie.substr(0, cookie.find(';'));
    EXPECT_EQ(get("/api/inbox", {{"Host", host_}, {"Cookie", cookie}}).status, 200);

    // One session at a time: signing in again ends the first one.
    Reply again =
        http_request(port_, "POST", "/api/signin", h, R"({"passphrase":"the right passphrase"})");
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(get("/api/inbox", {{"Host", host_}, {"Cookie", cookie}}).status, 401);
}

TEST_F(WebGuardTest, WithoutAnUnlockFunctionThePageSaysToRestart) {
    Reply r =
        http_request(port_, "POST", "/api/signin",
                     {{"Host", host_}, {"Origin", origin_}, {"Content-Type", "application/json"}},
                     R"({"passphrase":"anything at all"})");
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("restart"), std::string::npos) << r.body;
}

TEST_F(WebGuardTest, WrongTokenIsRefusedAndDoesNotSpendTheRealOne) {
    Reply r = get("/?token=" + std::string(64, 'a'), {{"Host", host_}});
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/signin#link-used");
    EXPECT_TRUE(r.header("set-cookie").empty());
    std::string cookie = sign_in();
    EXPECT_FALSE(cookie.empty());
}

TEST_F(WebGuardTest, TokenExchangeSetsHttpOnlyStrictCookieAndRedirectsWithoutToken) {
    Reply r = get("/?token=" + token(), {{"Host", host_}});
    ASSERT_EQ(r.status, 303);
    EXPECT_EQ(r.header("location"), "/");
    std::string cookie = r.header("set-cookie");
    EXPECT_EQ(cookie.rfind(guard_->cookie_name() + "=", 0), 0u) << cookie;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(cookie.find("Path=/"), std::string::npos);

    Reply ok = get("/api/inbox", {{"Host", host_}, {"Cookie", cookie.substr(0, cookie.find(';'))}});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, R"({"ok":true})");
}

TEST_F(WebGuardTest, TokenIsSpentByTheFirstExchange) {
    std::string t = token();
    std::string cookie = sign_in();
    Reply again = get("/?token=" + t, {{"Host", host_}});
    EXPECT_EQ(again.status, 303);  // the sign-in page says the link was used
    EXPECT_EQ(again.header("location"), "/signin#link-used");
    EXPECT_TRUE(again.header("set-cookie").empty());
    // The browser that holds the cookie is simply sent home.
    Reply with_cookie = get("/?token=" + t, {{"Host", host_}, {"Cookie", cookie}});
    EXPECT_EQ(with_cookie.status, 303);
}

TEST_F(WebGuardTest, ForgedCookieIsRefused) {
    sign_in();
    Reply r = get("/api/inbox", {{"Host", host_},
                                 {"Cookie", guard_->cookie_name() + "=" + std::string(64, '0')}});
    EXPECT_EQ(r.status, 401);
}

TEST_F(WebGuardTest, WrongHostIsRefusedEvenWithAValidCookie) {
    std::string cookie = sign_in();
    for (std::string host : {std::string("evil.example"), "evil.example:" + std::to_string(port_),
                             std::string("127.0.0.1"), std::string("127.0.0.1:1"),
                             "10.0.0.1:" + std::to_string(port_), std::string("")}) {
        Reply r = get("/api/inbox", {{"Host", host}, {"Cookie", cookie}});
        EXPECT_EQ(r.status, 403) << host;
    }
    EXPECT_EQ(
        get("/api/inbox", {{"Host", "localhost:" + std::to_string(port_)}, {"Cookie", cookie}})
            .status,
        200);
}

TEST_F(WebGuardTest, DuplicateHostHeaderIsRefused) {
    std::string cookie = sign_in();
    Reply r = get("/api/inbox", {{"Host", host_}, {"Host", "evil.example"}, {"Cookie", cookie}});
    EXPECT_EQ(r.status, 400);
}

TEST_F(WebGuardTest, PostFromAnotherOriginIsRefused) {
    std::string cookie = sign_in();
    for (std::string origin : {std::string("http://evil.example"), std::string("null"),
                               std::string("http://127.0.0.1:1"),
                               "https://127.0.0.1:" + std::to_string(port_), std::string("")}) {
        Headers h{{"Host", host_}, {"Cookie", cookie}, {"Content-Type", "application/json"}};
        if (!origin.empty()) h.emplace_back("Origin", origin);
        Reply r = http_request(port_, "POST", "/api/thread/a_x/reply", h, R"({"text":"hi"})");
        EXPECT_EQ(r.status, 403) << origin;
        EXPECT_EQ(r.body.find("changed"), std::string::npos);
    }
    Reply ok = http_request(port_, "POST", "/api/thread/a_x/reply",
                            {{"Host", host_},
                             {"Cookie", cookie},
                             {"Origin", origin_},
                             {"Content-Type", "application/json"}},
                            R"({"text":"hi"})");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, R"({"changed":true})");
}

TEST_F(WebGuardTest, PostThatIsNotJsonIsRefused) {
    std::string cookie = sign_in();
    Reply r = http_request(port_, "POST", "/api/verify/a_x",
                           {{"Host", host_},
                            {"Cookie", cookie},
                            {"Origin", origin_},
                            {"Content-Type", "application/x-www-form-urlencoded"}},
                           "verified=true");
    EXPECT_EQ(r.status, 415);
}

TEST_F(WebGuardTest, CrossSiteFetchMetadataIsRefused) {
    std::string cookie = sign_in();
    for (const char* site : {"cross-site", "same-site"}) {
        Reply r =
            get("/api/inbox", {{"Host", host_}, {"Cookie", cookie}, {"Sec-Fetch-Site", site}});
        EXPECT_EQ(r.status, 403) << site;
    }
    EXPECT_EQ(
        get("/api/inbox", {{"Host", host_}, {"Cookie", cookie}, {"Sec-Fetch-Site", "same-origin"}})
            .status,
        200);
}

TEST_F(WebGuardTest, EveryResponseCarriesCspAndSecurityHeadersRefusalsIncluded) {
    std::string cookie = sign_in();
    std::vector<Reply> replies = {
        get("/api/inbox", {{"Host", host_}, {"Cookie", cookie}}),   // served
        get("/api/inbox", {{"Host", host_}}),                       // no cookie
        get("/api/inbox", {{"Host", "evil.example"}}),              // wrong host
        get("/?token=" + std::string(64, 'b'), {{"Host", host_}}),  // bad token
    };
    for (const Reply& r : replies) {
        EXPECT_EQ(r.header("content-security-policy"), kContentSecurityPolicy) << r.status;
        EXPECT_NE(r.header("content-security-policy").find("default-src 'none'"),
                  std::string::npos);
        EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
        EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
        EXPECT_EQ(r.header("cache-control"), "no-store");
        EXPECT_EQ(r.header("x-frame-options"), "DENY");
    }
}

// Inodes of this process's sockets, from /proc/self/fd.
std::set<std::string> own_socket_inodes() {
    std::set<std::string> inodes;
    DIR* d = opendir("/proc/self/fd");
    if (!d) return inodes;
    while (dirent* e = readdir(d)) {
        char target[256];
        std::string link = std::string("/proc/self/fd/") + e->d_name;
        ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        std::string t(target, static_cast<std::size_t>(n));
        if (t.rfind("socket:[", 0) == 0) inodes.insert(t.substr(8, t.size() - 9));
    }
    closedir(d);
    return inodes;
}

// Local addresses ("0100007F:1F90") of listening sockets owned by this process in `table`.
std::vector<std::string> own_listeners(const char* table, const std::set<std::string>& inodes) {
    std::vector<std::string> out;
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
        fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
            inode;
        if (state == "0A" && inodes.count(inode)) out.push_back(local);
    }
    return out;
}

TEST_F(WebGuardTest, ListensOnlyOn127001) {
    auto inodes = own_socket_inodes();
    auto v4 = own_listeners("/proc/net/tcp", inodes);
    auto v6 = own_listeners("/proc/net/tcp6", inodes);
    char port_hex[8];
    std::snprintf(port_hex, sizeof port_hex, "%04X", port_);
    ASSERT_EQ(v4.size(), 1u);
    EXPECT_EQ(v4[0], std::string("0100007F:") + port_hex);
    EXPECT_TRUE(v6.empty());
}

TEST_F(WebGuardTest, OversizedBodyIsRefused) {
    std::string cookie = sign_in();
    Reply r = http_request(port_, "POST", "/api/thread/a_x/reply",
                           {{"Host", host_},
                            {"Cookie", cookie},
                            {"Origin", origin_},
                            {"Content-Type", "application/json"}},
                           std::string(100 * 1024, 'x'));
    EXPECT_EQ(r.status, 413);
}

TEST(PercentDecode, DecodesEscapesAndKeepsInvalidOnes) {
    EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
    EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
    HttpRequest r;
    r.target = "/?x=1&token=ab%63&y";
    EXPECT_EQ(r.query("token"), "abc");
    EXPECT_EQ(r.query("y"), "");
    EXPECT_EQ(r.query("z"), "");
    EXPECT_EQ(r.path(), "/");
}

}  // namespace
}  // namespace ariadne::console
