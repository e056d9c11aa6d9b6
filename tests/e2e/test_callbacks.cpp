// Call-back requests through the real server (docs/protocol.md 4.9): she asks to be called
// from her app, the `ariadne-survivor call-me` command or a check-in plan; her caseworker is
// pushed the task, lists it, reveals her number once (only an assigned caseworker, never an
// administrator), and records outcomes. Consent withdrawn, a duress lock and quiet hours are
// decided like any contact; malformed frames are refused naming the field; her number never
// reaches the gateway's files or log in clear.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using namespace std::chrono;

constexpr const char* kNumber = "+44 7700 900123";
constexpr const char* kNormalNumber = "+447700900123";
constexpr std::int64_t kHour = 3600 * 1000;

std::int64_t now_ms() {
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class Callbacks : public ::testing::Test {
  protected:
    void SetUp() override { make_gateway({}); }
    void make_gateway(std::vector<std::string> args) {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data", std::move(args));
        cw_ = gateway_->add_caseworker("mara.k");
        other_ = gateway_->add_caseworker("jon.p");
        Json a = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        Json out = gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials",
                                    "M.K.", "--language", "en", "--time-zone",
                                    Gateway::daytime_zone(), "--with-duress-code",
                                    "--recovery-m-kib", "8192", "--insecure-test-params"});
        her_ = {out["account"], out["recovery_code"], out["case_code"]};
        duress_ = {"", out["duress_code"], out["case_code"]};
        gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "app",
                         "--purpose", "replies", "--by", cw_.account});
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }

    /// Her consent to be called back for `purpose`, with her number.
    void consent_to_calls(const std::string& purpose = "replies") {
        gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "voice_callback",
                         "--purpose", purpose, "--by", cw_.account, "--address-stdin"},
                        std::string(kNumber) + "\n");
    }

    std::unique_ptr<client::Connection> staff(const Gateway::Caseworker& cw, int step = 0) {
        auto conn = gateway_->connect();
        auto device = make_raw_device(dir(cw.username + std::to_string(step)));
        Json r = register_raw(*conn, cw, device, totp_for(cw, step));
        EXPECT_EQ(r.value("type", ""), "ok") << r.dump();
        return conn;
    }

    /// The next pushed frame of `type` on `conn` within `timeout`, or null.
    static Json pushed(client::Connection& conn, const std::string& type,
                       milliseconds timeout = 10s) {
        auto deadline = steady_clock::now() + timeout;
        while (steady_clock::now() < deadline) {
            auto frame = conn.next_unsolicited(200ms);
            if (frame && frame->value("type", "") == type) return *frame;
        }
        return nullptr;
    }

    static Json window(std::int64_t from, std::int64_t to) { return {{"from", from}, {"to", to}}; }
    static Json ask(Json windows) {
        return {{"type", "callback_request"}, {"windows", std::move(windows)}};
    }

    long audit_rows(const std::string& where) {
        return count_rows(gateway_->data_dir() / "ariadne.db", "policies_audit", where);
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, other_, admin_;
    Gateway::Survivor her_, duress_;
};

TEST_F(Callbacks, HerRequestIsPushedListedAndHerNumberRevealedOnlyToHerCaseworker) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    auto stranger = staff(other_);
    auto admin = staff(admin_);

    const std::int64_t from = now_ms() + kHour, to = from + 2 * kHour;
    Json answer = phone->request_callback({{from, to}});
    EXPECT_EQ(answer["state"], "open") << answer.dump();
    EXPECT_EQ(answer["replaced"], false);
    EXPECT_EQ(answer["window"], window(from, to));
    EXPECT_FALSE(answer.contains("next_allowed_from")) << answer.dump();
    const std::int64_t task_id = answer["task_id"];

    Json push = pushed(*console, "callback");
    ASSERT_TRUE(push.is_object()) << "no callback frame was pushed";
    const Json& task = push["callback"];
    EXPECT_EQ(task["task_id"], task_id);
    EXPECT_EQ(task["account"], her_.account);
    EXPECT_EQ(task["case_code"], her_.case_code);
    EXPECT_EQ(task["initials"], "M.K.");
    EXPECT_EQ(task["channel"], "app");
    EXPECT_EQ(task["source"], "request");
    EXPECT_EQ(task["state"], "open");
    EXPECT_EQ(task["time_zone"], Gateway::daytime_zone());
    EXPECT_EQ(task["windows"], Json::array({window(from, to)}));
    EXPECT_TRUE(task["attempts"].empty());
    EXPECT_EQ(task.dump().find("7700900123"), std::string::npos) << task.dump();
    EXPECT_TRUE(pushed(*stranger, "callback", 300ms).is_null());

    Json listed = console->call({{"type", "callbacks"}});
    ASSERT_EQ(listed["callbacks"].size(), 1u) << listed.dump();
    EXPECT_EQ(listed["callbacks"][0]["task_id"], task_id);
    EXPECT_TRUE(stranger->call({{"type", "callbacks"}})["callbacks"].empty());

    Json reveal = {{"type", "callback_reveal"}, {"task_id", task_id}, {"reason", "her_request"}};
    EXPECT_EQ(stranger->request(reveal)["code"], "forbidden");
    EXPECT_EQ(admin->request(reveal)["code"], "forbidden");
    EXPECT_EQ(phone->connection().request(reveal)["code"], "forbidden");
    Json shown = console->call(reveal);
    EXPECT_EQ(shown["number"], kNormalNumber) << shown.dump();
    EXPECT_EQ(shown["task_id"], task_id);
    EXPECT_EQ(audit_rows("action = 'callback.revealed' AND reason = 'her_request'"), 1);
    EXPECT_EQ(audit_rows("action = 'callback.requested' AND decision = 'open' AND reason = 'app'"),
              1);
    EXPECT_EQ(audit_rows("action = 'decision.replies' AND reason = 'allowed:voice_callback'"), 2);

    Json done =
        console->call({{"type", "callback_outcome"}, {"task_id", task_id}, {"outcome", "done"}});
    EXPECT_EQ(done["callback"]["state"], "done");
    ASSERT_EQ(done["callback"]["attempts"].size(), 1u);
    EXPECT_EQ(done["callback"]["attempts"][0]["by"], cw_.account);
    EXPECT_EQ(done["callback"]["attempts"][0]["outcome"], "done");
    EXPECT_TRUE(console->call({{"type", "callbacks"}})["callbacks"].empty());
    EXPECT_EQ(console->request(reveal)["code"], "not_found");
    EXPECT_EQ(audit_rows("action = 'callback.outcome' AND decision = 'done'"), 1);
    EXPECT_EQ(gateway_->admin({"audit-verify"})["ok"], true);
}

TEST_F(Callbacks, ASecondRequestReplacesTheOpenTasksWindows) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    const std::int64_t from = now_ms() + kHour;
    Json first = phone->request_callback({{from, from + kHour}});
    Json second = phone->request_callback(
        {{from + 3 * kHour, from + 4 * kHour}, {from + 24 * kHour, from + 26 * kHour}});
    EXPECT_EQ(second["task_id"], first["task_id"]);
    EXPECT_EQ(second["replaced"], true);
    Json listed = console->call({{"type", "callbacks"}});
    ASSERT_EQ(listed["callbacks"].size(), 1u) << listed.dump();
    EXPECT_EQ(listed["callbacks"][0]["windows"].size(), 2u);
    EXPECT_EQ(listed["callbacks"][0]["windows"][0]["from"], from + 3 * kHour);
}

TEST_F(Callbacks, NotReachedTwiceAlertsHerTeamWhenSheChoseAlertsAndRescheduleTakesNewWindows) {
    consent_to_calls();
    gateway_->start();  // a plan is checked against the senders a server registered
    gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "app", "--purpose",
                     "check_ins", "--by", cw_.account});
    gateway_->admin({"checkin-plan-set", "--case", her_.case_code, "--by", cw_.account,
                     "--every-days", "7", "--window", "10:00-11:00", "--channel", "app", "--alert",
                     "caseworker"});
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    const std::int64_t from = now_ms() + kHour;
    const std::int64_t task_id = phone->request_callback({{from, from + kHour}})["task_id"];
    auto outcome = [&](Json extra) {
        Json frame = {{"type", "callback_outcome"}, {"task_id", task_id}};
        frame.update(extra);
        return console->request(frame);
    };

    Json first = outcome({{"outcome", "not_reached"}});
    EXPECT_EQ(first["callback"]["state"], "not_reached") << first.dump();
    EXPECT_EQ(console->call({{"type", "callbacks"}})["callbacks"].size(), 1u);
    EXPECT_TRUE(console->call({{"type", "alerts"}})["alerts"].empty());

    // Windows belong to a reschedule only, and a reschedule needs them.
    Json refused = outcome({{"outcome", "rescheduled"}});
    EXPECT_EQ(refused["code"], "invalid_frame");
    EXPECT_NE(refused.value("message", "").find("'windows'"), std::string::npos);
    refused =
        outcome({{"outcome", "done"}, {"windows", Json::array({window(from, from + kHour)})}});
    EXPECT_EQ(refused["code"], "invalid_frame");
    EXPECT_NE(refused.value("message", "").find("'windows'"), std::string::npos);

    Json moved =
        outcome({{"outcome", "rescheduled"},
                 {"windows", Json::array({window(from + 24 * kHour, from + 25 * kHour)})}});
    EXPECT_EQ(moved["callback"]["state"], "rescheduled") << moved.dump();
    EXPECT_EQ(moved["callback"]["windows"][0]["from"], from + 24 * kHour);

    Json second = outcome({{"outcome", "not_reached"}});
    EXPECT_EQ(second["callback"]["attempts"].size(), 3u) << second.dump();
    Json alert = pushed(*console, "alert");
    ASSERT_TRUE(alert.is_object()) << "no alert was pushed";
    EXPECT_EQ(alert["alert"]["kind"], "callback_not_reached");
    EXPECT_EQ(alert["alert"]["urgent"], false);
    EXPECT_EQ(alert["alert"]["case_code"], her_.case_code);
}

TEST_F(Callbacks, NotReachedTwiceRaisesNothingWhenSheDidNotChooseAlerts) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    const std::int64_t from = now_ms() + kHour;
    const std::int64_t task_id = phone->request_callback({{from, from + kHour}})["task_id"];
    for (int i = 0; i < 2; ++i) {
        console->call(
            {{"type", "callback_outcome"}, {"task_id", task_id}, {"outcome", "not_reached"}});
    }
    EXPECT_TRUE(console->call({{"type", "alerts"}})["alerts"].empty());
}

TEST_F(Callbacks, WithdrawnConsentRefusesTheRequestAndARevealWithTheReason) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    const std::int64_t from = now_ms() + kHour;
    const std::int64_t task_id = phone->request_callback({{from, from + kHour}})["task_id"];
    ASSERT_TRUE(pushed(*console, "callback").is_object());

    gateway_->admin({"consent-withdraw", "--case", her_.case_code, "--channel", "voice_callback",
                     "--purpose", "replies", "--by", cw_.account});
    Json reveal = console->request(
        {{"type", "callback_reveal"}, {"task_id", task_id}, {"reason", "her_request"}});
    EXPECT_EQ(reveal["code"], "callback_refused") << reveal.dump();
    EXPECT_EQ(reveal["reason"], "consent_withdrawn");
    EXPECT_FALSE(reveal.contains("number"));
    Json cancelled = pushed(*console, "callback");
    ASSERT_TRUE(cancelled.is_object());
    EXPECT_EQ(cancelled["callback"]["state"], "cancelled");
    EXPECT_EQ(cancelled["callback"]["reason"], "consent_withdrawn");
    EXPECT_TRUE(console->call({{"type", "callbacks"}})["callbacks"].empty());

    try {
        phone->request_callback({{from, from + kHour}});
        ADD_FAILURE() << "a request without consent was accepted";
    } catch (const client::ServerError& e) {
        EXPECT_EQ(e.server_code(), "callback_refused");
        EXPECT_EQ(e.frame().value("reason", ""), "consent_withdrawn");
        EXPECT_EQ(e.frame().value("message", ""),
                  "We cannot arrange a call at the moment. You can still write to us here.");
    }
    Json refused = pushed(*console, "callback");
    ASSERT_TRUE(refused.is_object());
    EXPECT_EQ(refused["callback"]["state"], "refused");
    EXPECT_EQ(refused["callback"]["reason"], "consent_withdrawn");
    EXPECT_EQ(audit_rows("action = 'decision.replies' AND decision = 'deny' AND "
                         "reason = 'consent_withdrawn:voice_callback'"),
              2);
}

TEST_F(Callbacks, WithoutConsentOrNumberTheRequestIsRefusedWithTheReason) {
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    const std::int64_t from = now_ms() + kHour;
    Json r = phone->connection().request(ask(Json::array({window(from, from + kHour)})));
    EXPECT_EQ(r["code"], "callback_refused") << r.dump();
    EXPECT_EQ(r["reason"], "no_consent");

    // Consent without a number: nobody could dial.
    gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "voice_callback",
                     "--purpose", "replies", "--by", cw_.account});
    r = phone->connection().request(ask(Json::array({window(from, from + kHour)})));
    EXPECT_EQ(r["code"], "callback_refused") << r.dump();
    EXPECT_EQ(r["reason"], "no_number");
}

TEST_F(Callbacks, AWindowInHerQuietHoursOpensATaskWithTheNextAllowedTime) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    // It is about noon where she lives: ten hours on is 21:00–23:00 there, inside the
    // organisation's quiet hours (21:00–08:00), which end about eleven hours after that.
    const std::int64_t from = now_ms() + 10 * kHour;
    Json answer = phone->request_callback({{from, from + 2 * kHour}});
    EXPECT_EQ(answer["state"], "open") << answer.dump();
    ASSERT_TRUE(answer.contains("next_allowed_from")) << answer.dump();
    const std::int64_t next = answer["next_allowed_from"];
    EXPECT_GT(next, from);
    EXPECT_LE(next, from + 12 * kHour);
    EXPECT_EQ(next % 60000, 0);
    Json task = pushed(*console, "callback");
    ASSERT_TRUE(task.is_object());
    EXPECT_EQ(task["callback"]["next_allowed_from"], next);
}

TEST_F(Callbacks, UnderADuressLockSheIsRefusedNeutrallyAndHerCaseworkerToldWhy) {
    consent_to_calls();
    gateway_->start();
    auto console = staff(cw_);
    auto decoy = recover_survivor(*gateway_, duress_, dir("decoy"));
    ASSERT_TRUE(pushed(*console, "alert").is_object());
    const std::int64_t from = now_ms() + kHour;
    // Her duress login asks: whoever holds the phone learns nothing.
    Json r = decoy->connection().request(ask(Json::array({window(from, from + kHour)})));
    EXPECT_EQ(r["code"], "callback_refused") << r.dump();
    EXPECT_EQ(r["reason"], "unavailable");

    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    r = phone->connection().request(ask(Json::array({window(from, from + kHour)})));
    EXPECT_EQ(r["code"], "callback_refused") << r.dump();
    EXPECT_EQ(r["reason"], "unavailable");
    EXPECT_EQ(r.dump().find("duress"), std::string::npos) << r.dump();
    Json told = pushed(*console, "callback");
    ASSERT_TRUE(told.is_object());
    EXPECT_EQ(told["callback"]["state"], "refused");
    EXPECT_EQ(told["callback"]["reason"], "duress_lock");
    EXPECT_TRUE(console->call({{"type", "callbacks"}})["callbacks"].empty());
}

TEST_F(Callbacks, MalformedFramesAreRefusedNamingTheFieldAndChangeNothing) {
    consent_to_calls();
    gateway_->start();
    auto anonymous = gateway_->connect();
    const std::int64_t now = now_ms();
    const Json good = window(now + kHour, now + 2 * kHour);
    EXPECT_EQ(anonymous->request(ask(Json::array({good})))["code"], "not_authenticated");
    EXPECT_EQ(anonymous->request({{"type", "callbacks"}})["code"], "not_authenticated");

    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    struct Case {
        Json frame;
        std::string code;
        std::string field;  // named in the message
    };
    Json extra_field = good;
    extra_field["note"] = "x";
    std::vector<Case> her_cases = {
        {{{"type", "callback_request"}}, "invalid_frame", "'windows'"},
        {{{"type", "callback_request"}, {"windows", "tomorrow"}}, "invalid_frame", "'windows'"},
        {ask(Json::array()), "invalid_frame", "'windows'"},
        {ask(Json::array({good, good, good, good})), "invalid_frame", "'windows'"},
        {ask(Json::array({{{"to", now + kHour}}})), "invalid_frame", "'windows[0].from'"},
        {ask(Json::array({{{"from", now + kHour}}})), "invalid_frame", "'windows[0].to'"},
        {ask(Json::array({{{"from", "1; DROP TABLE gateway_callback_tasks"}, {"to", now}}})),
         "invalid_frame", "'windows[0].from'"},
        {ask(Json::array({good, {{"from", now + kHour}, {"to", 1.5}}})), "invalid_frame",
         "'windows[1].to'"},
        {ask(Json::array({extra_field})), "invalid_frame", "'windows[0].note'"},
        {ask(Json::array({window(now + kHour, now + kHour + 29 * 60000)})), "invalid_frame",
         "'windows[0].to'"},
        {ask(Json::array({window(now + kHour, now + 13 * kHour + 60000)})), "invalid_frame",
         "'windows[0].to'"},
        {ask(Json::array({window(now - 3 * kHour, now - kHour)})), "invalid_frame",
         "'windows[0].to'"},
        {ask(Json::array({good, window(now + 8 * 24 * kHour, now + 8 * 24 * kHour + kHour)})),
         "invalid_frame", "'windows[1].from'"},
        {{{"type", "callback_request"}, {"windows", Json::array({good})}, {"channel", "email"}},
         "invalid_frame",
         "'channel'"},
        {{{"type", "callback_request"}, {"windows", Json::array({good})}, {"channel", 7}},
         "invalid_frame",
         "'channel'"},
        {{{"type", "callback_request"},
          {"windows", Json::array({good})},
          {"channel", "app'); DELETE FROM policies_audit; --"}},
         "invalid_frame",
         "'channel'"},
        {{{"type", "callback_request"}, {"windows", Json::array({good})}, {"channel", "web"}},
         "forbidden",
         ""},
        {{{"type", "callback_request"}, {"windows", Json::array({good})}, {"number", "+1555"}},
         "invalid_frame",
         "'number'"},
    };
    for (const auto& c : her_cases) {
        Json r = phone->connection().request(c.frame);
        EXPECT_EQ(r.value("code", ""), c.code) << c.frame.dump() << " -> " << r.dump();
        EXPECT_NE(r.value("message", "").find(c.field), std::string::npos)
            << c.frame.dump() << " -> " << r.dump();
        EXPECT_EQ(r.dump().find("DROP"), std::string::npos) << r.dump();
        EXPECT_EQ(r.dump().find("DELETE"), std::string::npos) << r.dump();
    }
    std::vector<Case> console_cases = {
        {ask(Json::array({good})), "forbidden", ""},
        {{{"type", "callback_reveal"}, {"reason", "her_request"}}, "invalid_frame", "'task_id'"},
        {{{"type", "callback_reveal"}, {"task_id", "1"}, {"reason", "her_request"}},
         "invalid_frame",
         "'task_id'"},
        {{{"type", "callback_reveal"}, {"task_id", 0}, {"reason", "her_request"}},
         "invalid_frame",
         "'task_id'"},
        {{{"type", "callback_reveal"}, {"task_id", 1}}, "invalid_frame", "'reason'"},
        {{{"type", "callback_reveal"}, {"task_id", 1}, {"reason", "<script>alert(1)</script>"}},
         "invalid_frame",
         "'reason'"},
        {{{"type", "callback_reveal"}, {"task_id", 1}, {"reason", "checkin"}, {"why", "x"}},
         "invalid_frame",
         "'why'"},
        {{{"type", "callback_reveal"}, {"task_id", 99}, {"reason", "checkin"}}, "not_found", ""},
        {{{"type", "callback_outcome"}, {"task_id", 1}}, "invalid_frame", "'outcome'"},
        {{{"type", "callback_outcome"}, {"task_id", 1}, {"outcome", "maybe"}},
         "invalid_frame",
         "'outcome'"},
        {{{"type", "callback_outcome"}, {"task_id", 99}, {"outcome", "done"}}, "not_found", ""},
        {{{"type", "callbacks"}, {"all", true}}, "invalid_frame", "'all'"},
    };
    for (const auto& c : console_cases) {
        Json r = console->request(c.frame);
        EXPECT_EQ(r.value("code", ""), c.code) << c.frame.dump() << " -> " << r.dump();
        EXPECT_NE(r.value("message", "").find(c.field), std::string::npos)
            << c.frame.dump() << " -> " << r.dump();
        EXPECT_EQ(r.dump().find("<script>"), std::string::npos) << r.dump();
    }
    EXPECT_EQ(phone->connection().request({{"type", "callbacks"}})["code"], "forbidden");
    // Nothing was opened, and the connections still work.
    EXPECT_TRUE(console->call({{"type", "callbacks"}})["callbacks"].empty());
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "gateway_callback_tasks"), 0);
    EXPECT_EQ(phone->request_callback({{now + kHour, now + 2 * kHour}})["state"], "open");
}

#ifdef ARIADNE_SURVIVOR_BINARY
TEST_F(Callbacks, CallMeAsksHerTeamFromTheReferenceClient) {
    consent_to_calls();
    gateway_->start();
    auto console = staff(cw_);
    auto run = [&](std::vector<std::string> command, const std::string& input = "") {
        std::vector<std::string> argv = {
            "/usr/bin/env",       "TZ=UTC",        ARIADNE_SURVIVOR_BINARY, "--server",
            gateway_->url(),      "--fingerprint", gateway_->fingerprint(), "--store",
            dir("phone").string()};
        argv.insert(argv.end(), command.begin(), command.end());
        return run_process(argv, input);
    };
    ASSERT_EQ(run({"recover"}, her_.recovery_code + "\n").exit_code, 0);
    ProcessResult bad = run({"call-me", "--from", "25:00", "--to", "12:00"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find("--from HH:MM"), std::string::npos) << bad.err;

    ProcessResult ok = run({"call-me", "--from", "10:00", "--to", "12:30", "--day", "tomorrow"});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out.rfind("Your team will call you between 10:00 on ", 0), 0u) << ok.out;
    EXPECT_NE(ok.out.find(" and 12:30 on "), std::string::npos) << ok.out;
    Json listed = console->call({{"type", "callbacks"}});
    ASSERT_EQ(listed["callbacks"].size(), 1u) << listed.dump();
    const Json& w = listed["callbacks"][0]["windows"][0];
    EXPECT_EQ(w["to"].get<std::int64_t>() - w["from"].get<std::int64_t>(), 150 * 60000);
    EXPECT_EQ(w["from"].get<std::int64_t>() % (24 * kHour), 10 * kHour);  // 10:00 UTC

    gateway_->admin({"consent-withdraw", "--case", her_.case_code, "--channel", "voice_callback",
                     "--purpose", "replies", "--by", cw_.account});
    ProcessResult refused =
        run({"call-me", "--from", "10:00", "--to", "12:00", "--day", "tomorrow"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("We cannot arrange a call at the moment"), std::string::npos)
        << refused.err;
}
#endif

TEST_F(Callbacks, HerNumberNeverReachesTheGatewaysFilesOrLogInClear) {
    consent_to_calls();
    gateway_->start();
    auto phone = recover_survivor(*gateway_, her_, dir("phone"));
    auto console = staff(cw_);
    const std::int64_t from = now_ms() + kHour;
    const std::int64_t task_id = phone->request_callback({{from, from + kHour}})["task_id"];
    Json shown = console->call(
        {{"type", "callback_reveal"}, {"task_id", task_id}, {"reason", "welfare_concern"}});
    ASSERT_EQ(shown["number"], kNormalNumber);
    console->call({{"type", "callback_outcome"}, {"task_id", task_id}, {"outcome", "done"}});
    gateway_->stop();  // everything flushed to the files

    const std::vector<std::string> canaries = {"7700900123", "7700 900123", "447700900123"};
    for (const auto& entry : std::filesystem::recursive_directory_iterator(gateway_->data_dir())) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& canary : canaries) {
            EXPECT_EQ(bytes.find(canary), std::string::npos) << entry.path() << " holds her number";
        }
    }
    const std::string log = gateway_->log();
    for (const auto& canary : canaries) EXPECT_EQ(log.find(canary), std::string::npos) << log;
}

class CallbackCheckins : public Callbacks {
  protected:
    void SetUp() override { make_gateway({"--checkin-interval-ms", "200"}); }
};

TEST_F(CallbackCheckins, APlanWithVoiceCallbackOpensATaskForHerCaseworker) {
    consent_to_calls("check_ins");
    gateway_->start();  // a plan is checked against the senders a server registered
    Json plan = gateway_->admin({"checkin-plan-set", "--case", her_.case_code, "--by", cw_.account,
                                 "--every-days", "1", "--window", "00:00-23:59", "--channel",
                                 "voice_callback"});
    EXPECT_EQ(plan["channels"][0]["reaches_her"], true) << plan.dump();
    auto console = staff(cw_);
    Json listed;
    for (int i = 0; i < 100; ++i) {
        listed = console->call({{"type", "callbacks"}});
        if (!listed["callbacks"].empty()) break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(listed["callbacks"].size(), 1u) << listed.dump();
    const Json& task = listed["callbacks"][0];
    EXPECT_EQ(task["source"], "checkin");
    EXPECT_EQ(task["channel"], "checkin");
    EXPECT_EQ(task["windows"].size(), 1u);
    EXPECT_EQ(task["windows"][0]["to"].get<std::int64_t>() -
                  task["windows"][0]["from"].get<std::int64_t>(),
              (23 * 60 + 59) * 60000);
    Json shown = console->call(
        {{"type", "callback_reveal"}, {"task_id", task["task_id"]}, {"reason", "checkin"}});
    EXPECT_EQ(shown["number"], kNormalNumber) << shown.dump();
}

}  // namespace
}  // namespace ariadne::e2e
