// Which channel a survivor's thread shows and which channel a reply is decided and audited as,
// through the real server: the thread shows the channel her last message came in on; a reply
// is decided as the weakest channel it actually reaches — never SMS when the gateway runs no
// SMS adapter, even if her case has a number on file.
#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

class ThreadChannel : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        mara_ = gateway_->add_caseworker("mara.k");
        her_ = gateway_->enrol_survivor(mara_.account);  // consents to app replies
        gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "web",
                         "--purpose", "replies", "--by", mara_.account});
        // A number on file (her SMS consent), though this gateway runs no SMS adapter.
        gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "sms",
                         "--purpose", "replies", "--by", mara_.account, "--address-stdin"},
                        "+393335550123\n");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path db() { return gateway_->data_dir() / "ariadne.db"; }

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
    /// The survivor page as a browser sees it: cookie jar, form token, redirects followed.
    HttpResult notes_post(const std::string& form) {
        const std::string base = "https://127.0.0.1:" + std::to_string(gateway_->port());
        const std::string jar = (tmp_.path() / "cookies.txt").string();
        auto page = curl({"-b", jar, "-c", jar, base + "/notes"});
        auto at = page.body.find("name=\"t\" value=\"");
        if (at == std::string::npos) {
            ADD_FAILURE() << "no form token on the page";
            return page;
        }
        std::string token = page.body.substr(at + 16, page.body.find('"', at + 16) - at - 16);
        return curl(
            {"-L", "-b", jar, "-c", jar, "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data-binary", "@-", base + "/notes"},
            "t=" + token + "&" + form);
    }
    static std::string form_value(const std::string& text) {
        std::string out;
        for (char c : text) {
            if (std::isalnum(static_cast<unsigned char>(c))) {
                out += c;
            } else {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
                out += hex;
            }
        }
        return out;
    }
    Json contact_of(client::Messenger& console) {
        Json answer = console.connection().call({{"type", "contacts"}});
        for (const Json& c : answer["contacts"]) {
            if (c.value("account", "") == her_.account) return c;
        }
        return Json::object();
    }
    /// The next message (not a receipt) `console` receives within 10 s.
    std::optional<client::ReceivedMessage> next_message(client::Messenger& console) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = console.receive(1s);
            if (m && !m->is_receipt) return m;
        }
        return std::nullopt;
    }
    long audited(const std::string& reason) {
        return count_rows(db(), "policies_audit",
                          "action = 'decision.replies' AND case_code = '" + her_.case_code +
                              "' AND reason = '" + reason + "'");
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker mara_;
    Gateway::Survivor her_;
};

TEST_F(ThreadChannel, HerThreadShowsTheChannelOfHerLastMessageAndRepliesNameTheChannelUsed) {
    gateway_->start();
    auto console = register_console(*gateway_, mara_, tmp_.path() / "console", 0);
    auto phone = recover_survivor(*gateway_, her_, tmp_.path() / "phone");

    // From her app: the thread is the app's, and so is a reply.
    phone->send_text(mara_.account, "From the app.");
    ASSERT_TRUE(next_message(*console));
    Json c = contact_of(*console);
    EXPECT_EQ(c["channel"]["kind"], "app") << c.dump();
    EXPECT_EQ(c["reply_channel"]["kind"], "app") << c.dump();
    console->send_text(her_.account, "Reply to the app.");
    EXPECT_EQ(audited("allowed:app"), 1);

    // From the web page (her number on file, no SMS adapter): the thread is web, not sms.
    auto page = notes_post("a=login&code=" + form_value(her_.recovery_code));
    ASSERT_NE(page.body.find("name=\"text\""), std::string::npos) << page.status << page.body;
    notes_post("a=send&text=" + form_value("From the page."));
    auto got = next_message(*console);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->from_device, 2u);
    c = contact_of(*console);
    EXPECT_EQ(c["channel"]["kind"], "web") << c.dump();
    EXPECT_EQ(c["channel"]["label"], "edge-encrypted") << c.dump();
    EXPECT_EQ(c["reply_channel"]["kind"], "web") << c.dump();
    EXPECT_FALSE(c.contains("unverified")) << c.dump();
    // The reply reaches her app and her page: decided and audited as web, never sms.
    console->send_text(her_.account, "Reply to the page.");
    EXPECT_EQ(audited("allowed:web"), 1);
    EXPECT_EQ(audited("allowed:sms"), 0);

    // Back in the app: the thread shows the app again; a reply still reaches her page too.
    phone->send_text(mara_.account, "Back in the app.");
    ASSERT_TRUE(next_message(*console));
    c = contact_of(*console);
    EXPECT_EQ(c["channel"]["kind"], "app") << c.dump();
    EXPECT_EQ(c["reply_channel"]["kind"], "web") << c.dump();
}

}  // namespace
}  // namespace ariadne::e2e
