// Her record after enrolment, through the real server, the `ariadne admin` CLI and the HTTPS
// admin API: corrections (initials, language, time zone) and changes (her own quiet hours,
// pause, status, never confirm she was a client) are validated with errors naming the field,
// allowed to an admin or to a caseworker assigned to her, audited without values, and acted on:
// a paused or closed case gets no check-ins, a closed case still gets replies, a corrected time
// zone moves quiet hours and check-in windows to her real clock, and a survivor who must never
// be confirmed as a client is flagged on her caseworkers' contacts and gets only texts that
// name no one. The organisation's own texts (templates) are set per language and validated.
#include <gtest/gtest.h>

#include <ctime>
#include <sstream>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;

struct HttpResult {
    int status = 0;
    Json body;
};

/// An Etc/GMT zone in which it is now between 00:00 and 00:59 (12 hours from daytime_zone).
std::string midnight_zone() {
    std::time_t t = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    int k = -utc.tm_hour;  // local = UTC + k hours
    if (k < -12) k += 24;
    if (k == 0) return "Etc/GMT";
    return k > 0 ? "Etc/GMT-" + std::to_string(k) : "Etc/GMT+" + std::to_string(-k);
}

/// "2030-01-01T10:00:00Z"-style text for now + `ahead`.
std::string iso_in(std::chrono::seconds ahead) {
    std::time_t t = std::time(nullptr) + ahead.count();
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

class SurvivorRecord : public ::testing::Test {
  protected:
    void start(const std::string& interval_ms = "200") {
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data", std::vector<std::string>{"--checkin-interval-ms", interval_ms});
        cw_ = gateway_->add_caseworker("mara.k");
        other_cw_ = gateway_->add_caseworker("ion.p");
        Json a = gateway_->admin({"caseworker-add", "--username", "ada.admin", "--role", "admin"},
                                 "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }
    std::filesystem::path db() const { return gateway_->data_dir() / "ariadne.db"; }

    /// Enrols her in `language` and `zone` with app consent for every purpose.
    Gateway::Survivor enrol(const std::string& language, const std::string& zone) {
        Json out = gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials",
                                    "M.K.", "--language", language, "--time-zone", zone,
                                    "--recovery-m-kib", "8192", "--insecure-test-params"});
        Gateway::Survivor s{out.at("account").get<std::string>(),
                            out.at("recovery_code").get<std::string>(),
                            out.at("case_code").get<std::string>()};
        for (const char* purpose : {"replies", "check_ins", "case_updates"}) {
            gateway_->admin({"consent-record", "--case", s.case_code, "--channel", "app",
                             "--purpose", purpose, "--by", cw_.account});
        }
        return s;
    }

    /// `ariadne admin ARGS --data-dir D`, without throwing on failure.
    ProcessResult admin_raw(std::vector<std::string> args, const std::string& input = "") {
        std::vector<std::string> argv = {server_binary(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--data-dir");
        argv.push_back(gateway_->data_dir().string());
        return run_process(argv, input);
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

    std::string login(const Gateway::Caseworker& who, int step) {
        auto r = http("POST", "/v1/admin/session",
                      Json({{"username", who.username},
                            {"password", who.password},
                            {"totp", totp_for(who, step)}})
                          .dump());
        EXPECT_EQ(r.status, 200) << r.body.dump();
        return r.body.value("token", "");
    }

    HttpResult update(const Json& body, const std::string& token) {
        return http("POST", "/v1/admin/survivor/update", body.dump(), token);
    }

    void set_plan(const Gateway::Survivor& s, const std::string& window) {
        gateway_->admin({"checkin-plan-set", "--case", s.case_code, "--by", cw_.account,
                         "--every-days", "1", "--window", window, "--channel", "app"});
    }

    long occurrences(const std::string& where) {
        return count_rows(db(), "policies_checkin_occurrences", where);
    }
    /// Waits until a slot is settled (any state but claimed), at most `timeout`.
    void wait_settled(std::chrono::milliseconds timeout = 10s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (occurrences("state != 'claimed'") == 0 &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(100ms);
    }

    static std::optional<ReceivedMessage> next_notice(Messenger& m,
                                                      std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(200ms);
            if (msg && msg->is_notice) return msg;
        }
        return std::nullopt;
    }
    static std::optional<ReceivedMessage> next_message(Messenger& m,
                                                       std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(200ms);
            if (msg && !msg->is_receipt && !msg->is_notice) return msg;
        }
        return std::nullopt;
    }

    static Json refused_send(Messenger& m, const std::string& to, const std::string& text) {
        try {
            m.send_text(to, text);
        } catch (const client::ServerError& e) {
            return e.frame();
        }
        ADD_FAILURE() << "the send was not refused";
        return Json::object();
    }

    /// A raw connection of a new device of `cw`, for the `contacts` answer as sent.
    std::unique_ptr<client::Connection> caseworker_connection(const Gateway::Caseworker& cw,
                                                              int totp_step) {
        auto conn = gateway_->connect();
        auto device = make_raw_device(dir("raw" + std::to_string(totp_step)));
        Json r = register_raw(*conn, cw, device, totp_for(cw, totp_step));
        EXPECT_EQ(r.value("type", ""), "ok") << r.dump();
        return conn;
    }
    static Json contact_for(const Json& answer, const std::string& account) {
        for (const auto& c : answer.value("contacts", Json::array())) {
            if (c.value("account", "") == account) return c;
        }
        return Json::object();
    }

    std::string audit() { return admin_raw({"audit-export"}).out; }
    /// Whether an audit entry has every given field (e.g. {"action", "survivor.status"}).
    bool audited(const Json& fields) {
        std::istringstream lines(audit());
        for (std::string line; std::getline(lines, line);) {
            Json e = Json::parse(line, nullptr, false);
            bool all = e.is_object();
            for (auto& [k, v] : fields.items()) all = all && e.value(k, Json()) == v;
            if (all) return true;
        }
        return false;
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_, other_cw_, admin_;
};

TEST_F(SurvivorRecord, APausedSurvivorGetsNoCheckInUntilThePauseEndsAndRepliesStillGo) {
    start();
    auto s = enrol("en", Gateway::daytime_zone());
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    const std::string until = iso_in(std::chrono::hours(3));
    Json rec = gateway_->admin({"survivor-update", "--case", s.case_code, "--pause-until", until});
    EXPECT_EQ(rec["paused"], true) << rec.dump();
    EXPECT_EQ(rec["paused_until"], until) << rec.dump();
    EXPECT_EQ(gateway_->admin({"survivor-show", "--case", s.case_code})["paused_until"], until);

    set_plan(s, "00:00-23:59");
    wait_settled();
    EXPECT_EQ(occurrences("state = 'denied' AND reason = 'survivor_paused'"), 1);
    EXPECT_FALSE(next_notice(*phone, 1s));
    EXPECT_EQ(count_rows(db(), "mailbox", "kind = 2"), 0);

    // A pause holds back what the organisation starts, never a reply to her.
    auto console = register_console(*gateway_, cw_, dir("console"));
    console->send_text(s.account, "still here");
    auto got = next_message(*phone, 10s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->plaintext, "still here");

    // Lifted: her record says so, and the audit names the change without values.
    rec = gateway_->admin({"survivor-update", "--case", s.case_code, "--pause-until", "none"});
    EXPECT_EQ(rec["paused"], false);
    EXPECT_FALSE(rec.contains("paused_until"));
    const std::string log = audit();
    EXPECT_NE(log.find("\"action\":\"survivor.pause\""), std::string::npos) << log;
    EXPECT_NE(log.find("\"action\":\"survivor.resume\""), std::string::npos) << log;
    EXPECT_NE(log.find("\"reason\":\"survivor_paused:app\""), std::string::npos) << log;
}

TEST_F(SurvivorRecord, AClosedCaseGetsNoCheckInsOrUpdatesButSheCanWriteInAndIsAnswered) {
    start();
    auto s = enrol("en", Gateway::daytime_zone());
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    Json rec = gateway_->admin({"survivor-update", "--case", s.case_code, "--status", "closed"});
    EXPECT_EQ(rec["status"], "closed");

    set_plan(s, "00:00-23:59");
    wait_settled();
    EXPECT_EQ(occurrences("state = 'denied' AND reason = 'case_closed'"), 1);

    // A handover notice is automated too: not sent to a closed case.
    Json cw3 = gateway_->admin({"caseworker-add", "--username", "rosa.t", "--initials", "R.T."},
                               "a long passphrase\n");
    Json assigned = gateway_->admin(
        {"assign", "--survivor", s.account, "--caseworker", cw3["account"].get<std::string>()});
    EXPECT_EQ(assigned["handover_notice"]["sent"], false) << assigned.dump();
    EXPECT_EQ(assigned["handover_notice"]["reason"], "case_closed") << assigned.dump();
    EXPECT_FALSE(next_notice(*phone, 1s));

    // A closed case never closes the channel: she writes in, her caseworker answers.
    auto console = register_console(*gateway_, cw_, dir("console"));
    phone->send_text(cw_.account, "it's me, years later");
    auto in = next_message(*console, 10s);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->plaintext, "it's me, years later");
    console->send_text(s.account, "good to hear from you");
    auto out = next_message(*phone, 10s);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->plaintext, "good to hear from you");
    EXPECT_TRUE(audited({{"action", "survivor.status"},
                         {"case_code", s.case_code},
                         {"decision", "closed"},
                         {"actor", "admin-cli"}}));
}

TEST_F(SurvivorRecord, ACorrectedTimeZoneMovesHerQuietHoursToHerRealClock) {
    start();
    // Enrolled with a wrong zone: where she really lives it is about noon.
    auto s = enrol("en", midnight_zone());
    auto console = register_console(*gateway_, cw_, dir("console"));
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    std::string token = login(cw_, 1);
    // Her own quiet hours, 10:00-14:00 (she works then): on the wrong clock it is midnight.
    auto r = update({{"case_code", s.case_code}, {"quiet_hours", "10:00-14:00"}}, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["quiet_hours"], "10:00-14:00");
    console->send_text(s.account, "before the correction");
    ASSERT_TRUE(next_message(*phone, 10s));

    r = update({{"case_code", s.case_code}, {"time_zone", Gateway::daytime_zone()}}, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["time_zone"], Gateway::daytime_zone());
    Json denied = refused_send(*console, s.account, "during her quiet hours");
    EXPECT_EQ(denied["reason"], "quiet_hours") << denied.dump();
    EXPECT_NE(denied["message"].get<std::string>().find(Gateway::daytime_zone()), std::string::npos)
        << denied.dump();

    // "none" gives her the organisation's quiet hours back (21:00-08:00: noon is fine).
    r = update({{"case_code", s.case_code}, {"quiet_hours", "none"}}, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_TRUE(r.body["quiet_hours"].is_null());
    console->send_text(s.account, "after her quiet hours were reset");
    ASSERT_TRUE(next_message(*phone, 10s));
    EXPECT_TRUE(audited({{"action", "survivor.update"},
                         {"actor", cw_.account},
                         {"case_code", s.case_code},
                         {"reason", "time_zone"}}))
        << audit();
}

TEST_F(SurvivorRecord, ACorrectedTimeZoneMovesHerCheckInWindowSoTheCheckInGoesOutNow) {
    start();
    auto s = enrol("en", midnight_zone());
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    set_plan(s, "10:00-14:00");  // on the wrong clock the window is hours away
    EXPECT_FALSE(next_notice(*phone, 1s));
    EXPECT_EQ(occurrences(""), 0);
    gateway_->admin(
        {"survivor-update", "--case", s.case_code, "--time-zone", Gateway::daytime_zone()});
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice) << "the check-in did not move to her real clock";
    EXPECT_EQ(notice->plaintext, "Hi, just checking in. Reply any time.");
    EXPECT_EQ(occurrences("state = 'sent'"), 1);
}

TEST_F(SurvivorRecord, InitialsAndLanguageAreCorrectedAndEveryBadFieldIsNamed) {
    start();
    auto s = enrol("en", Gateway::daytime_zone());
    // CLI: a full name where initials belong, an unknown zone, a bad status: exit 2, named.
    struct Bad {
        std::vector<std::string> args;
        std::string field;
    };
    for (const Bad& bad :
         std::vector<Bad>{{{"--initials", "Maria Kowalska"}, "initials"},
                          {{"--time-zone", "Mars/Olympus"}, "time_zone"},
                          {{"--language", "not a tag"}, "language"},
                          {{"--quiet-hours", "25:00-07:00"}, "quiet_hours"},
                          {{"--status", "archived"}, "status"},
                          {{"--pause-until", "tomorrow"}, "pause_until"},
                          {{"--pause-until", "2001-01-01T00:00Z"}, "pause_until"},
                          {{"--never-confirm-client", "maybe"}, "never_confirm_client"}}) {
        std::vector<std::string> args = {"survivor-update", "--case", s.case_code};
        args.insert(args.end(), bad.args.begin(), bad.args.end());
        auto r = admin_raw(args);
        EXPECT_EQ(r.exit_code, 2) << bad.field << ": " << r.err;
        EXPECT_NE(r.err.find("ariadne admin: " + bad.field + ":"), std::string::npos) << r.err;
    }
    // Nothing changed by the refused commands.
    Json shown = gateway_->admin({"survivor-show", "--case", s.case_code});
    EXPECT_EQ(shown["initials"], "M.K.");
    EXPECT_EQ(shown["status"], "active");
    EXPECT_EQ(shown["paused"], false);
    // An SMS-opened case starts as "U": corrected once she is known.
    Json rec = gateway_->admin(
        {"survivor-update", "--case", s.case_code, "--initials", "A.Z.", "--language", "ro"});
    EXPECT_EQ(rec["initials"], "A.Z.");
    EXPECT_EQ(rec["language"], "ro");
    const std::string log = audit();
    EXPECT_NE(log.find("\"reason\":\"initials/language\""), std::string::npos) << log;
    EXPECT_EQ(log.find("A.Z."), std::string::npos) << "initials in the audit";
    EXPECT_EQ(admin_raw({"survivor-update", "--case", "ZZZ-ZZZ", "--status", "closed"}).exit_code,
              1);
}

TEST_F(SurvivorRecord, TheApiLetsAnAdminChangeEverythingAndHerOwnCaseworkerMostFields) {
    start();
    auto s = enrol("en", Gateway::daytime_zone());
    std::string cw_token = login(cw_, 1);
    std::string other_token = login(other_cw_, 1);
    std::string admin_token = login(admin_, 1);

    // Not her caseworker: refused, nothing changes.
    auto r = update({{"case_code", s.case_code}, {"language", "fr"}}, other_token);
    EXPECT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(r.body["field"], "case_code");
    EXPECT_EQ(
        http("GET", "/v1/admin/survivor/record?case_code=" + s.case_code, "", other_token).status,
        403);
    // Her caseworker: her wishes and corrections, not the case's status or team.
    r = update({{"case_code", s.case_code}, {"status", "closed"}}, cw_token);
    EXPECT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(r.body["field"], "status");
    r = update({{"case_code", s.case_code}, {"team", "team-north"}}, cw_token);
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body["field"], "team");
    r = update({{"case_code", s.case_code},
                {"language", "fr"},
                {"pause_until", "indefinite"},
                {"never_confirm_client", true}},
               cw_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["language"], "fr");
    EXPECT_EQ(r.body["paused"], true);
    EXPECT_EQ(r.body["never_confirm_client"], true);
    // Bad input names the field; unknown fields and wrong types too.
    for (const auto& [body, field] : std::vector<std::pair<Json, std::string>>{
             {{{"case_code", s.case_code}, {"time_zone", "Europe/Atlantis"}}, "time_zone"},
             {{{"case_code", s.case_code}, {"initials", "Maria"}}, "initials"},
             {{{"case_code", s.case_code}, {"never_confirm_client", "yes"}},
              "never_confirm_client"},
             {{{"case_code", s.case_code}, {"quiet_hours", 7}}, "quiet_hours"},
             {{{"case_code", s.case_code}, {"name", "Maria"}}, "name"},
             {{{"language", "fr"}}, "case_code"}}) {
        r = update(body, cw_token);
        EXPECT_EQ(r.status, 400) << body.dump() << r.body.dump();
        EXPECT_EQ(r.body["field"], field) << r.body.dump();
    }
    // The admin: status and team.
    r = update({{"case_code", s.case_code}, {"status", "dormant"}, {"team", "team-north"}},
               admin_token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["status"], "dormant");
    EXPECT_EQ(r.body["team"], "team-north");
    r = http("GET", "/v1/admin/survivor/record?case_code=" + s.case_code, "", cw_token);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["team"], "team-north");
    EXPECT_EQ(r.body["language"], "fr");
    EXPECT_EQ(r.body["never_confirm_client"], true);
    // No audit entry holds a value, only the names of the fields.
    const std::string log = audit();
    EXPECT_NE(log.find("\"reason\":\"language/pause/never_confirm_client\""), std::string::npos)
        << log;
    EXPECT_EQ(log.find("team-north"), std::string::npos) << log;
}

TEST_F(SurvivorRecord, NeverConfirmClientIsOnHerContactAndHerHandoverNoticeNamesNoOne) {
    start();
    auto s = enrol("ro", Gateway::daytime_zone());
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    auto conn = caseworker_connection(cw_, 0);
    auto contacts = [&] { return conn->call({{"type", "contacts"}}); };
    EXPECT_FALSE(contact_for(contacts(), s.account).contains("never_confirm_client"));

    std::string token = login(cw_, 1);
    auto r = update({{"case_code", s.case_code}, {"never_confirm_client", true}}, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    Json contact = contact_for(contacts(), s.account);
    EXPECT_EQ(contact["never_confirm_client"], true) << contact.dump();

    // A new caseworker: the notice says nothing that names a person or a "contact".
    Json cw3 = gateway_->admin({"caseworker-add", "--username", "rosa.t", "--initials", "R.T."},
                               "a long passphrase\n");
    Json sent = gateway_->admin(
        {"assign", "--survivor", s.account, "--caseworker", cw3["account"].get<std::string>()});
    EXPECT_EQ(sent["handover_notice"]["sent"], true) << sent.dump();
    phone->disconnect();
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->notice, "handover");
    EXPECT_EQ(notice->plaintext, "Bună, tot eu sunt. Răspunde oricând.");
    EXPECT_EQ(notice->plaintext.find("R.T."), std::string::npos);
    EXPECT_EQ(notice->plaintext.find("contact"), std::string::npos);

    // Cleared by the admin: gone from her contact; both changes are audited.
    r = update({{"case_code", s.case_code}, {"never_confirm_client", false}}, login(admin_, 1));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_FALSE(contact_for(contacts(), s.account).contains("never_confirm_client"));
    EXPECT_TRUE(audited({{"action", "survivor.never_confirm_client"},
                         {"actor", cw_.account},
                         {"case_code", s.case_code},
                         {"decision", "set"}}))
        << audit();
    EXPECT_TRUE(audited({{"action", "survivor.never_confirm_client"},
                         {"actor", admin_.account},
                         {"decision", "cleared"}}));
}

TEST_F(SurvivorRecord, ACheckInInANewLanguageCarriesTheOrganisationsOwnText) {
    start();
    const std::string swahili = "Habari, nakusalimia tu. Jibu wakati wowote.";
    auto s = enrol("sw", Gateway::daytime_zone());
    auto phone = recover_survivor(*gateway_, s, dir("phone"));
    Json policy = gateway_->admin({"policy-set", "--template", "checkin:sw=" + swahili});
    ASSERT_EQ(policy["templates"].size(), 1u) << policy.dump();
    EXPECT_EQ(policy["templates"][0]["template"], "neutral_checkin");
    EXPECT_EQ(policy["templates"][0]["language"], "sw");
    set_plan(s, "00:00-23:59");
    auto notice = next_notice(*phone, 10s);
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->language, "sw");
    EXPECT_EQ(notice->plaintext, swahili);
    EXPECT_NE(audit().find("\"action\":\"template.set\""), std::string::npos);
}

TEST_F(SurvivorRecord, TemplatesAreRefusedWhenTheyCouldRevealWhoSentThemWithTheFieldNamed) {
    start();
    gateway_->admin(
        {"policy-set", "--organisation-name", "Casa Ariadna", "--organisation-name", "CAS"});
    struct Bad {
        std::string arg;
        int exit_code;
        std::string said;
    };
    for (const Bad& bad : std::vector<Bad>{
             {"checkin:sw=Greetings from casa ariadna!", 2, "must not name the organisation"},
             {"checkin:sw=Hi {name}, reply any time.", 2, "takes no placeholders"},
             {"handover:sw=Hi, {initials} and {case_code} here.", 2, "only placeholder"},
             {"checkin:sw=Hi\nreply any time", 2, "printable"},
             {"checkin:sw=See www.example.org", 2, "link"},
             {"checkin:sw=" + std::string(321, 'a'), 2, "1 to 320 bytes"},
             {"invoice:sw=Hi", 2, "must be one of the texts Ariadne sends"},
             {"checkin-sw-Hi", 2, "KIND:LANG=TEXT"}}) {
        auto r = admin_raw({"policy-set", "--template", bad.arg});
        EXPECT_EQ(r.exit_code, bad.exit_code) << bad.arg << ": " << r.err;
        EXPECT_NE(r.err.find("--template[0]"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(bad.said), std::string::npos) << r.err;
    }
    EXPECT_EQ(gateway_->admin({"policy-show"})["templates"].size(), 0u);

    // The API: the same checks, the element named.
    std::string token = login(admin_, 1);
    auto r = http("PUT", "/v1/admin/policy",
                  Json({{"templates",
                         {{{"template", "handover"},
                           {"language", "sw"},
                           {"text", "Habari, sasa {initials} atakuwa mwasiliani wako."}},
                          {{"template", "checkin"}, {"language", "sw"}, {"text", "CAS says hi"}}}}})
                      .dump(),
                  token);
    EXPECT_EQ(r.status, 422) << r.body.dump();
    EXPECT_EQ(r.body["field"], "templates[1].text") << r.body.dump();
    r = http("GET", "/v1/admin/policy", "", token);
    ASSERT_EQ(r.body["templates"].size(), 1u) << r.body.dump();
    EXPECT_EQ(r.body["templates"][0]["template"], "neutral_handover");
    EXPECT_EQ(r.body["organisation_names"], Json::array({"Casa Ariadna", "CAS"}));
    // An empty text removes the organisation's own: the built-in text applies again.
    r = http("PUT", "/v1/admin/policy",
             Json({{"templates", {{{"template", "handover"}, {"language", "sw"}, {"text", ""}}}}})
                 .dump(),
             token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["templates"].size(), 0u);
}

}  // namespace
}  // namespace ariadne::e2e
