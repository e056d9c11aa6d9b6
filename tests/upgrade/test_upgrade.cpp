// A data directory written by an earlier release (fixtures/release-*/, see README.md there)
// opened by the `ariadne` built here, as an upgrade in place does it: every account logs in,
// the messages queued for offline devices arrive in the order sent and decrypt with the
// devices' own saved stores, the survivor page shows her thread, consent history, the
// organisation's policy, the check-in plan and the open alerts read back as they were
// written, and the audit chain verifies against the checkpoint taken by the old release.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"
#include "surfaces.h"

namespace ariadne::upgrade {
namespace {

namespace fs = std::filesystem;
using e2e::Gateway;
using namespace std::chrono_literals;

Gateway::Caseworker caseworker(const Json& c) {
    return {c.at("account"), c.at("username"), c.at("password"), c.at("totp_secret")};
}
Gateway::Survivor survivor(const Json& s) {
    return {s.at("account"), s.at("recovery_code"), s.at("case_code")};
}

class Upgrade : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        // The environment may name another copy (e.g. one edited to check that this test fails).
        const char* env = std::getenv("ARIADNE_UPGRADE_FIXTURES");
        const fs::path fixture =
            fs::path(env && *env ? env : ARIADNE_UPGRADE_FIXTURES) / GetParam();
        secrets_ = Json::parse(read_binary(fixture / "secrets.json"));
        fs::copy(fixture / "data", data(), fs::copy_options::recursive);
        // Git keeps no modes: the gateway's data directory is private, as a real one is.
        for (const auto& e : fs::recursive_directory_iterator(data())) {
            fs::permissions(e.path(), e.is_directory()
                                          ? fs::perms::owner_all
                                          : fs::perms::owner_read | fs::perms::owner_write);
        }
        fs::permissions(data(), fs::perms::owner_all);
        // Each client's saved device store, as it was on her phone or his console.
        for (const auto& [name, files] : secrets_.at("clients").items()) {
            for (const auto& [file, bytes] : files.items()) {
                write_binary(client(name) / file, unbase64(bytes));
            }
            fs::permissions(client(name), fs::perms::owner_all);
        }
        gateway_ = std::make_unique<Gateway>(
            data(), std::vector<std::string>{"--checkin-interval-ms", "200"});
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    fs::path data() const { return tmp_.path() / "data"; }
    fs::path db() const { return data() / "ariadne.db"; }
    fs::path client(const std::string& name) const { return tmp_.path() / "clients" / name; }
    Gateway::Caseworker cw(const std::string& name) const {
        return caseworker(secrets_.at("caseworkers").at(name));
    }
    const Json& her(const std::string& name) const { return secrets_.at("survivors").at(name); }

    std::unique_ptr<client::Messenger> open(const std::string& name) {
        return client::Messenger::open(e2e::messenger_options(*gateway_, client(name)),
                                       e2e::test_store_key());
    }

    /// Receives what `m` is sent until `n` messages (not receipts or notices) arrived or
    /// `wait` passed.
    static std::vector<client::ReceivedMessage> receive_n(client::Messenger& m, std::size_t n,
                                                          std::chrono::seconds wait = 20s) {
        std::vector<client::ReceivedMessage> out;
        auto deadline = std::chrono::steady_clock::now() + wait;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(500ms);
            if (msg && !msg->is_receipt && !msg->is_notice) out.push_back(*msg);
        }
        return out;
    }

    /// The messages queued for `name` in the fixture arrive in the order sent, decrypted with
    /// its saved store, and nothing else after them.
    void expect_queued_delivered(const std::string& name) {
        SCOPED_TRACE(name);
        const Json& expected = secrets_.at("queued").at(name);
        auto device = open(name);
        auto got = receive_n(*device, expected.size());
        ASSERT_EQ(got.size(), expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_FALSE(got[i].decrypt_error.has_value()) << got[i].decrypt_error.value_or("");
            EXPECT_EQ(got[i].plaintext, expected[i].at("text"));
            EXPECT_EQ(got[i].from, expected[i].at("from"));
            EXPECT_EQ(got[i].from_device, expected[i].at("from_device"));
            if (i > 0) {
                EXPECT_GT(got[i].server_id, got[i - 1].server_id);
            }
        }
        EXPECT_TRUE(receive_n(*device, 1, 2s).empty()) << "more was queued than the fixture wrote";
    }

    e2e::TempDir tmp_;
    Json secrets_;
    std::unique_ptr<Gateway> gateway_;
};

TEST_P(Upgrade, StartingAdoptsBothDatabasesAndAppliesEveryMigrationWithoutLosingARow) {
    const std::int64_t mailbox = e2e::count_rows(db(), "mailbox");
    const std::int64_t consent = e2e::count_rows(db(), "policies_consent");
    const std::int64_t replies = e2e::count_rows(db(), "gateway_canned_replies");
    ASSERT_GT(replies, 0);  // the fixture's organisation set its own
    gateway_->start();
    gateway_->stop();
    EXPECT_EQ(e2e::count_rows(db(), "schema_migrations", "version = 1"), 1);
    EXPECT_EQ(e2e::count_rows(db(), "schema_migrations", "version = 2"), 1);
    EXPECT_EQ(e2e::count_rows(db(), "schema_migrations", "version = 3"), 1);
    EXPECT_EQ(e2e::count_rows(db(), "schema_migrations", "version = 4"), 1);
    EXPECT_EQ(e2e::count_rows(db(), "schema_migrations"), 4);
    // Replies written before they had a language are the default language's.
    EXPECT_EQ(e2e::count_rows(db(), "gateway_canned_replies", "language = 'en'"), replies);
    EXPECT_EQ(e2e::count_rows(db().parent_path() / "edge" / "history.db", "schema_migrations",
                              "version = 1"),
              1);
    EXPECT_EQ(e2e::count_rows(db(), "mailbox"), mailbox);
    EXPECT_EQ(e2e::count_rows(db(), "policies_consent"), consent);
}

TEST_P(Upgrade, QueuedMessagesArriveInOrderAndDecryptWithTheDevicesSavedStores) {
    gateway_->start();
    for (const char* name : {"mara-console", "s1-phone", "jon-console"}) {
        expect_queued_delivered(name);
    }
    EXPECT_EQ(e2e::count_rows(db(), "mailbox"), 0);
    // Phones with nothing waiting still log in with their saved stores.
    for (const char* name : {"s2", "s4"}) {
        auto phone = open(std::string(name) + "-phone");
        EXPECT_EQ(phone->account(), her(name).at("account"));
    }
}

TEST_P(Upgrade, EveryAccountLogsInWithItsCredentials) {
    gateway_->start();
    // Caseworkers: password + TOTP on a new device (the old release's step is long past).
    for (const char* name : {"mara", "jon"}) {
        auto console = e2e::register_console(*gateway_, cw(name), tmp_.path() / "new" / name, 0);
        EXPECT_EQ(console->account(), cw(name).account);
    }
    // Survivors: her recovery code on a new phone (Argon2id with the stored parameters).
    for (const char* name : {"s1", "s2"}) {
        auto phone =
            e2e::recover_survivor(*gateway_, survivor(her(name)), tmp_.path() / "new" / name);
        EXPECT_EQ(phone->account(), her(name).at("account"));
    }
    // The administrator: password + TOTP on the admin API.
    auto admin = caseworker(secrets_.at("admin"));
    auto session = admin_api(gateway_->port(), "POST", "/v1/admin/session",
                             Json({{"username", admin.username},
                                   {"password", admin.password},
                                   {"totp", e2e::totp_for(admin)}})
                                 .dump());
    EXPECT_EQ(session.status, 200) << session.body.dump();
    EXPECT_EQ(session.body.value("role", ""), "admin");
    // A wrong password is still refused: the stored hashes are checked, not skipped.
    auto wrong = admin_api(gateway_->port(), "POST", "/v1/admin/session",
                           Json({{"username", admin.username},
                                 {"password", "not the passphrase"},
                                 {"totp", e2e::totp_for(admin, 1)}})
                               .dump());
    EXPECT_EQ(wrong.status, 401);
}

TEST_P(Upgrade, TheWebSurvivorSeesHerThreadOnThePage) {
    gateway_->start();
    NotesPage page(gateway_->port(), tmp_.path() / "cookies.txt");
    auto signed_in = page.login(her("s3").at("recovery_code"));
    ASSERT_NE(signed_in.out.find("name=\"text\""), std::string::npos) << signed_in.exit_code;
    std::vector<PageEntry> expected;
    for (const auto& e : secrets_.at("page").at("s3")) {
        expected.push_back({e.at("from_her"), e.at("text")});
    }
    EXPECT_EQ(page.thread(), expected);
}

TEST_P(Upgrade, ConsentHistoryAndPolicyReadBackAsWritten) {
    gateway_->start();
    static const char* fields[] = {"version",      "channel",     "purpose",    "action",
                                   "evidence_ref", "recorded_by", "recorded_at"};
    for (const auto& [code, expected] : secrets_.at("consent").items()) {
        SCOPED_TRACE(code);
        Json listed = gateway_->admin({"consent-list", "--case", code}).at("records");
        ASSERT_EQ(listed.size(), expected.size()) << listed.dump();
        for (std::size_t i = 0; i < listed.size(); ++i) {
            for (const char* f : fields) EXPECT_EQ(listed[i][f], expected[i][f]) << f;
        }
    }
    // The withdrawal is in effect: M.K. is not sent case updates.
    const std::string c1 = her("s1").at("case_code");
    auto admin = caseworker(secrets_.at("admin"));
    auto session = admin_api(gateway_->port(), "POST", "/v1/admin/session",
                             Json({{"username", admin.username},
                                   {"password", admin.password},
                                   {"totp", e2e::totp_for(admin)}})
                                 .dump());
    ASSERT_EQ(session.status, 200) << session.body.dump();
    auto api = admin_api(gateway_->port(), "GET", "/v1/admin/consent?case=" + c1, "",
                         session.body["token"]);
    ASSERT_EQ(api.status, 200) << api.body.dump();
    EXPECT_EQ(api.body["records"].size(), 4u);
    bool withdrawn_in_effect = false;
    for (const auto& e : api.body["in_effect"]) {
        if (e.value("purpose", "") == "case_updates") {
            withdrawn_in_effect = e.value("action", "") == "withdrawn";
        }
    }
    EXPECT_TRUE(withdrawn_in_effect) << api.body.dump();

    Json policy = gateway_->admin({"policy-show"});
    const Json& was = secrets_.at("policy");
    for (const char* f : {"quiet_hours", "retention_days", "organisation_names", "checkin_defaults",
                          "canned_replies", "templates"}) {
        EXPECT_EQ(policy[f], was[f]) << f;
    }
}

TEST_P(Upgrade, TheOpenDuressAlertIsListedAndStillLocksReplies) {
    gateway_->start();
    auto jon = open("jon-console");
    receive_n(*jon, secrets_.at("queued").at("jon-console").size());
    Json list = jon->connection().call({{"type", "alerts"}});
    const Json& expected = secrets_.at("alerts").at("open_for_jon");
    ASSERT_EQ(list["alerts"].size(), expected.size()) << list.dump();
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(list["alerts"][i]["kind"], expected[i]["kind"]);
        EXPECT_EQ(list["alerts"][i]["case_code"], expected[i]["case_code"]);
        EXPECT_EQ(list["alerts"][i]["initials"], her("s2").at("initials"));
    }
    EXPECT_EQ(e2e::count_rows(db(), "gateway_alerts"), secrets_.at("rows").at("gateway_alerts"));
    try {
        jon->send_text(her("s2").at("account"), "are you safe?");
        ADD_FAILURE() << "a reply under her duress lock was sent";
    } catch (const client::ServerError& e) {
        EXPECT_EQ(e.frame().value("reason", ""), "duress_lock") << e.what();
    }
}

TEST_P(Upgrade, TheCheckInPlanResumesAndSendsTheOrganisationsText) {
    const Json& plan = secrets_.at("checkin_plan");
    // No surface lists a plan's settings: the stored row is read as the old release wrote it.
    const std::string id = std::to_string(plan.at("plan_id").get<int>());
    EXPECT_EQ(e2e::count_rows(db(), "policies_checkin_plans",
                              "plan_id = " + id + " AND case_code = '" +
                                  plan.at("case_code").get<std::string>() +
                                  "' AND every_days = 1 AND window_start = 0 AND window_end = "
                                  "1439 AND grace_minutes = 90 AND alert_target = 'caseworker' "
                                  "AND status = 'paused' AND channels_json LIKE '%\"app\"%'"),
              1);
    EXPECT_EQ(e2e::count_rows(db(), "policies_checkin_occurrences"), 0);
    gateway_->start();
    auto phone = open("s4-phone");
    // Paused in the fixture: nothing is sent until it is resumed.
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(e2e::count_rows(db(), "policies_checkin_occurrences"), 0);

    // Her local time now falls in the plan's window whatever the hour the test runs.
    gateway_->admin({"survivor-update", "--case", plan.at("case_code"), "--time-zone",
                     Gateway::daytime_zone()});
    Json resumed = gateway_->admin(
        {"checkin-plan-status", "--plan", id, "--status", "active", "--by", cw("mara").account});
    EXPECT_EQ(resumed["status"], "active");

    std::optional<client::ReceivedMessage> notice;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!notice && std::chrono::steady_clock::now() < deadline) {
        auto m = phone->receive(500ms);
        if (m && m->is_notice) notice = m;
    }
    ASSERT_TRUE(notice) << "no check-in notice after the plan was resumed";
    EXPECT_EQ(notice->notice, "checkin");
    EXPECT_EQ(notice->language, "en");
    EXPECT_EQ(notice->plaintext, "Hi, it is me again. Just saying hello, reply any time.");
    EXPECT_EQ(
        e2e::count_rows(db(), "policies_checkin_occurrences", "state = 'sent' AND channel = 'app'"),
        1);
}

TEST_P(Upgrade, TheAuditChainVerifiesAgainstTheOldReleasesCheckpoint) {
    const Json& c = secrets_.at("audit_checkpoint");
    const std::string checkpoint = std::to_string(c.at("seq").get<std::int64_t>()) + ":" +
                                   c.at("head").get<std::string>() + ":" +
                                   c.at("mac").get<std::string>();
    gateway_->start();
    Json v = gateway_->admin({"audit-verify", "--checkpoint", checkpoint});
    EXPECT_EQ(v["ok"], true) << v.dump();
    EXPECT_GE(v["entries"].get<std::int64_t>(), secrets_.at("audit_entries").get<std::int64_t>());
    EXPECT_GE(v["checkpoints"].get<std::int64_t>(), 1);
    EXPECT_EQ(gateway_->stop(SIGTERM), 0);
    v = gateway_->admin({"audit-verify", "--checkpoint", checkpoint});
    EXPECT_EQ(v["ok"], true) << v.dump();
}

INSTANTIATE_TEST_SUITE_P(Releases, Upgrade, ::testing::Values("release-2026-12-07"),
                         [](const auto& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

}  // namespace
}  // namespace ariadne::upgrade
