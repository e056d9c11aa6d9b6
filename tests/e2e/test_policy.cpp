// Issue 4 through the real server and the real `ariadne admin` CLI: consent decides every
// caseworker → survivor message at the moment of sending (policy_denied with the reason and
// its sentence), social media is refused at configuration, input fields are validated or
// stored inertly, the audit chain names a tampered row, a duress login looks empty and locks
// outbound contact, and — the canary — no phone number, name or message text reaches the
// database file, its WAL or the server's log.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "accounts.h"
#include "ariadne/client/error.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;

std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class Policy : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }
    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }
    std::filesystem::path db() const { return gateway_->data_dir() / "ariadne.db"; }

    /// `ariadne admin ARGS --data-dir D`, without throwing on failure.
    ProcessResult admin_raw(std::vector<std::string> args, const std::string& input = "") {
        std::vector<std::string> argv = {server_binary(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--data-dir");
        argv.push_back(gateway_->data_dir().string());
        return run_process(argv, input);
    }

    /// The error frame of a send refused by the server (fails the test if it was sent).
    static Json refused_send(Messenger& m, const std::string& to, const std::string& text) {
        try {
            m.send_text(to, text);
        } catch (const client::ServerError& e) {
            return e.frame();
        }
        ADD_FAILURE() << "the send was not refused";
        return Json::object();
    }

    static std::vector<ReceivedMessage> receive_n(Messenger& m, std::size_t n) {
        std::vector<ReceivedMessage> out;
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(500ms);
            if (msg && !msg->is_receipt && !msg->is_notice) out.push_back(*msg);
        }
        return out;
    }

    /// Her app logs in once, so her device 1 exists and a plan on `app` can reach her; the
    /// server is stopped again.
    void give_her_a_device(const Gateway::Survivor& s) {
        gateway_->start();
        recover_survivor(*gateway_, s, dir("first-phone")).reset();
        ASSERT_EQ(gateway_->stop(), 0);
    }

    /// A caseworker connection outside the Messenger, for the raw `contacts` answer.
    Json caseworker_contacts(int totp_step) {
        auto conn = gateway_->connect();
        auto device = make_raw_device(dir("raw" + std::to_string(totp_step)));
        Json r = register_raw(*conn, cw_, device, totp_for(cw_, totp_step));
        EXPECT_EQ(r.value("type", ""), "ok") << r.dump();
        return conn->call({{"type", "contacts"}});
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
};

TEST_F(Policy, ConsentDecidesEachReplyAtTheMomentOfSendingAndWithdrawalStopsTheNextOne) {
    auto survivor = gateway_->enrol_survivor(cw_.account, /*consent_replies=*/false);
    gateway_->start();
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));

    // She can always write in, whatever her consent.
    phone->send_text(cw_.account, "hello?");
    ASSERT_EQ(receive_n(*console, 1).size(), 1u);

    Json denied = refused_send(*console, survivor.account, "reply one");
    EXPECT_EQ(denied["code"], "policy_denied");
    EXPECT_EQ(denied["reason"], "no_consent");
    EXPECT_NE(denied["message"].get<std::string>().find("has not consented"), std::string::npos)
        << denied.dump();

    gateway_->admin({"consent-record", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "replies", "--by", cw_.account, "--evidence", "form-17"});
    console->send_text(survivor.account, "reply two");
    auto got = receive_n(*phone, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].plaintext, "reply two");

    gateway_->admin({"consent-withdraw", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "replies", "--by", cw_.account});
    denied = refused_send(*console, survivor.account, "reply three");
    EXPECT_EQ(denied["code"], "policy_denied");
    EXPECT_EQ(denied["reason"], "consent_withdrawn");
    EXPECT_TRUE(receive_n(*phone, 1).empty());

    // Every decision is in the audit chain, which verifies.
    auto audit = admin_raw({"audit-export"});
    EXPECT_NE(audit.out.find("\"reason\":\"no_consent:app\""), std::string::npos) << audit.out;
    EXPECT_NE(audit.out.find("\"decision\":\"allow\""), std::string::npos);
    EXPECT_EQ(admin_raw({"audit-verify"}).exit_code, 0);
}

TEST_F(Policy, QuietHoursInHerTimeZoneHoldBackReplies) {
    auto survivor = gateway_->enrol_survivor(cw_.account);
    // It is about noon in her zone (harness), so 10:00-14:00 is "now".
    gateway_->admin({"policy-set", "--quiet-hours", "10:00-14:00"});
    gateway_->start();
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor, dir("phone"));
    Json denied = refused_send(*console, survivor.account, "late reply");
    EXPECT_EQ(denied["reason"], "quiet_hours") << denied.dump();
    EXPECT_NE(denied["message"].get<std::string>().find("quiet hours"), std::string::npos);
}

TEST_F(Policy, SocialMediaIsRefusedAtConfigurationWithTheReasonAndTheBanCannotBeLifted) {
    auto survivor = gateway_->enrol_survivor(cw_.account);
    for (std::string channel : {"social_media:facebook", "messenger:telegram"}) {
        auto r = admin_raw({"consent-record", "--case", survivor.case_code, "--channel", channel,
                            "--purpose", "replies", "--by", cw_.account, "--evidence", "f1"});
        EXPECT_EQ(r.exit_code, 2) << channel;
        EXPECT_NE(r.err.find("social media"), std::string::npos) << r.err;
    }
    auto r = admin_raw({"policy-set", "--unban", "social_media"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("banned_classes: social media is always banned"), std::string::npos)
        << r.err;
    Json policy = gateway_->admin({"policy-show"});
    EXPECT_NE(policy["banned_classes"].dump().find("social_media"), std::string::npos);
}

TEST_F(Policy, HostileTextInEveryFieldIsRefusedNamingTheFieldOrStoredInertly) {
    // Initials: a name, SQL, HTML and control characters are refused with the sentence.
    for (std::string initials :
         {"Maria Rossi", "R'); DROP TABLE accounts;--", "<b>M</b>", "M\x1b[2J", "a@b.c"}) {
        auto r = admin_raw({"survivor-enrol", "--caseworker", cw_.account, "--initials", initials,
                            "--language", "en", "--time-zone", "UTC", "--recovery-m-kib", "8192",
                            "--insecure-test-params"});
        EXPECT_EQ(r.exit_code, 2) << initials;
        EXPECT_NE(r.err.find("initials only are allowed"), std::string::npos) << r.err;
    }
    auto survivor = gateway_->enrol_survivor(cw_.account);
    // Evidence reference and language: refused naming the field.
    auto r = admin_raw({"consent-record", "--case", survivor.case_code, "--channel", "sms",
                        "--purpose", "replies", "--by", cw_.account, "--evidence",
                        "x'); DELETE FROM policies_audit;--"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("evidence_ref"), std::string::npos) << r.err;
    r = admin_raw({"consent-record", "--case", survivor.case_code, "--channel", "sms", "--purpose",
                   "replies", "--by", cw_.account, "--language", "<script>"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("language"), std::string::npos) << r.err;
    // Handover note: control characters refused; SQL/HTML/JSON stored and returned verbatim.
    r = admin_raw({"assign", "--survivor", survivor.account, "--caseworker", cw_.account,
                   "--handover-note", "line1\nline2"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("handover_note"), std::string::npos) << r.err;
    const std::string note = "<img src=x onerror=alert(1)> '); DROP TABLE mailbox;-- \"}";
    gateway_->admin({"assign", "--survivor", survivor.account, "--caseworker", cw_.account,
                     "--handover-note", note});
    // Username: bound as a parameter, never executed.
    auto evil = gateway_->add_caseworker("x'); DROP TABLE accounts;--");
    EXPECT_FALSE(evil.account.empty());
    gateway_->start();
    Json contacts = caseworker_contacts(0);
    ASSERT_EQ(contacts["contacts"].size(), 1u) << contacts.dump();
    const Json& c = contacts["contacts"][0];
    EXPECT_EQ(c["handover_note"], note);
    EXPECT_EQ(c["case_code"], survivor.case_code);
    EXPECT_EQ(c["initials"], "A.B.");
    EXPECT_EQ(c["channel"]["kind"], "app");
    EXPECT_EQ(count_rows(db(), "accounts"), 3);  // mara, the survivor, the odd username
    // The sealed note is not in the database in clear.
    gateway_->stop();
    EXPECT_EQ(file_bytes(db()).find("onerror"), std::string::npos);
}

TEST(Docs, EveryServeOptionIsDocumentedInTheAdminGuide) {
    auto help = run_process({server_binary(), "serve", "--help"}, "");
    EXPECT_EQ(help.exit_code, 0);
    const std::string guide =
        file_bytes(std::filesystem::path(ARIADNE_DOCS_DIR) / "admin-guide.md");
    ASSERT_FALSE(guide.empty());
    int options = 0;
    for (std::size_t at = help.out.find("  --"); at != std::string::npos;
         at = help.out.find("  --", at + 1)) {
        const std::size_t end = help.out.find_first_of(" [\n", at + 4);
        const std::string option = help.out.substr(at + 2, end - at - 2);
        if (option == "--help") continue;
        ++options;
        EXPECT_NE(guide.find("| `" + option), std::string::npos)
            << option << " is not in the admin guide's table of serve options";
    }
    EXPECT_GE(options, 20);
}

TEST_F(Policy, AdminCliExitCodesAndHelpMatchTheAdminGuide) {
    // `ariadne admin --help` lists every option the guide gives, --initials of caseworker-add
    // too.
    auto help = run_process({server_binary(), "admin", "--help"}, "");
    EXPECT_EQ(help.exit_code, 0);
    const auto add = help.out.find("caseworker-add");
    ASSERT_NE(add, std::string::npos) << help.out;
    EXPECT_LT(help.out.find("[--initials I]", add), help.out.find("caseworker-disable"))
        << help.out;
    // A taken username and a bad time zone are refused input: exit 2, naming the field.
    auto taken = admin_raw({"caseworker-add", "--username", "mara.k"}, "another passphrase\n");
    EXPECT_EQ(taken.exit_code, 2) << taken.err;
    EXPECT_NE(taken.err.find("username: is already taken"), std::string::npos) << taken.err;
    auto zone = admin_raw({"survivor-enrol", "--caseworker", cw_.account, "--initials", "A.B.",
                           "--language", "en", "--time-zone", "Mars/Olympus_Mons",
                           "--recovery-m-kib", "8192", "--insecure-test-params"});
    EXPECT_EQ(zone.exit_code, 2) << zone.err;
    EXPECT_NE(zone.err.find("time_zone"), std::string::npos) << zone.err;
    // The deployment's recovery parameters exist after the first enrolment: a different
    // --recovery-m-kib is refused (not silently ignored), the same one is fine.
    gateway_->enrol_survivor(cw_.account);
    const long before = count_rows(db(), "accounts");
    auto other = admin_raw({"survivor-enrol", "--caseworker", cw_.account, "--initials", "A.B.",
                            "--language", "en", "--time-zone", "UTC", "--recovery-m-kib", "16384",
                            "--insecure-test-params"});
    EXPECT_EQ(other.exit_code, 2) << other.err;
    EXPECT_NE(other.err.find("--recovery-m-kib: this deployment's recovery parameters already "
                             "exist (8192 KiB)"),
              std::string::npos)
        << other.err;
    EXPECT_EQ(count_rows(db(), "accounts"), before);
    auto same = admin_raw({"survivor-enrol", "--caseworker", cw_.account, "--initials", "A.B.",
                           "--language", "en", "--time-zone", "UTC", "--recovery-m-kib", "8192",
                           "--insecure-test-params"});
    EXPECT_EQ(same.exit_code, 0) << same.err;
}

TEST_F(Policy, AuditVerifyNamesTheFirstTamperedEntry) {
    auto survivor = gateway_->enrol_survivor(cw_.account);
    gateway_->admin({"consent-withdraw", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "replies", "--by", cw_.account});
    Json ok = gateway_->admin({"audit-verify"});
    ASSERT_TRUE(ok["ok"].get<bool>());
    ASSERT_GE(ok["entries"].get<int>(), 3);

    // Someone with the file drops the append-only triggers and edits entry 2.
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &handle), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(handle,
                           "DROP TRIGGER IF EXISTS policies_audit_no_update;"
                           "UPDATE policies_audit SET reason = 'edited' WHERE seq = 2;",
                           nullptr, nullptr, &err),
              SQLITE_OK)
        << (err ? err : "");
    sqlite3_close(handle);

    auto r = admin_raw({"audit-verify"});
    EXPECT_EQ(r.exit_code, 1);
    Json line = Json::parse(r.out);
    EXPECT_FALSE(line["ok"].get<bool>());
    EXPECT_EQ(line["first_bad_entry"], 2);
    EXPECT_NE(r.err.find("entry 2"), std::string::npos) << r.err;
}

TEST_F(Policy, DuressLoginLooksEmptyAndSilentlyLocksOutboundContact) {
    Json out = gateway_->admin({"survivor-enrol", "--caseworker", cw_.account, "--initials", "C.D.",
                                "--language", "en", "--time-zone", Gateway::daytime_zone(),
                                "--with-duress-code", "--recovery-m-kib", "8192",
                                "--insecure-test-params"});
    Gateway::Survivor real{out["account"], out["recovery_code"], out["case_code"]};
    Gateway::Survivor duress{"", out["duress_code"], out["case_code"]};
    gateway_->admin({"consent-record", "--case", real.case_code, "--channel", "app", "--purpose",
                     "replies", "--by", cw_.account});
    gateway_->start();
    auto console = register_console(*gateway_, cw_, dir("console"), 0);

    auto phone = recover_survivor(*gateway_, real, dir("phone"));
    auto decoy = recover_survivor(*gateway_, duress, dir("decoy"));
    EXPECT_NE(decoy->account(), real.account);
    EXPECT_TRUE(decoy->contacts().empty());

    // The alert is raised off the login path; then every reply is refused with duress_lock.
    for (int i = 0; i < 100 && count_rows(db(), "policies_audit", "action = 'duress.raised'") == 0;
         ++i) {
        std::this_thread::sleep_for(100ms);
    }
    Json denied = refused_send(*console, real.account, "are you ok?");
    EXPECT_EQ(denied["reason"], "duress_lock") << denied.dump();
    Json contacts = caseworker_contacts(1);
    ASSERT_EQ(contacts["contacts"].size(), 1u);
    EXPECT_EQ(contacts["contacts"][0]["duress"], true);
}

TEST_F(Policy, ACheckInDueAfterHerWithdrawalIsNotSent) {
    auto survivor = gateway_->enrol_survivor(cw_.account);
    gateway_->admin({"consent-record", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", cw_.account});
    give_her_a_device(survivor);
    // The plan's window is open now, so its slot is due the moment the scheduler runs...
    gateway_->admin({"checkin-plan-set", "--case", survivor.case_code, "--by", cw_.account,
                     "--every-days", "1", "--window", "00:00-23:59", "--channel", "app"});
    // ...but she withdraws first: the decision at send time denies it.
    gateway_->admin({"consent-withdraw", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", cw_.account});
    gateway_->start();
    for (int i = 0; i < 100 && count_rows(db(), "policies_checkin_occurrences",
                                          "state NOT IN ('claimed')") == 0;
         ++i) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(gateway_->stop(), 0);
    EXPECT_EQ(count_rows(db(), "policies_checkin_occurrences",
                         "state = 'denied' AND reason = 'consent_withdrawn'"),
              1);
    EXPECT_EQ(count_rows(db(), "policies_checkin_occurrences", "state = 'sent'"), 0);
    auto audit = admin_raw({"audit-export"});
    EXPECT_NE(audit.out.find("\"reason\":\"consent_withdrawn:app\""), std::string::npos)
        << audit.out;
    EXPECT_EQ(gateway_->log().find("check-in due"), std::string::npos) << gateway_->log();
}

TEST_F(Policy, CanaryNoPhoneNumberNameOrMessageTextReachesTheDatabaseWalOrLogs) {
    const std::string phone = "+39 347 555 0199";
    const std::string phone_digits = "393475550199";
    const std::string planted_name = "Marigold Quenby";
    const std::string to_her = "canary-reply-7f3a: see you at the usual place";
    const std::string from_her = "canary-inbound-9c1e: I am safe today";

    // A name where initials belong is refused (and never stored).
    auto r = admin_raw({"survivor-enrol", "--caseworker", cw_.account, "--initials", planted_name,
                        "--language", "en", "--time-zone", "UTC", "--recovery-m-kib", "8192",
                        "--insecure-test-params"});
    ASSERT_EQ(r.exit_code, 2);
    auto survivor = gateway_->enrol_survivor(cw_.account);
    // Her consent for SMS check-ins with her phone number (sealed), and app check-ins.
    gateway_->admin({"consent-record", "--case", survivor.case_code, "--channel", "sms",
                     "--purpose", "check_ins", "--by", cw_.account, "--address-stdin"},
                    phone + "\n");
    gateway_->admin({"consent-record", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", cw_.account});
    // A plan whose window is open now: the scheduler acts on it when the server starts.
    give_her_a_device(survivor);
    gateway_->admin({"checkin-plan-set", "--case", survivor.case_code, "--by", cw_.account,
                     "--every-days", "1", "--window", "00:00-23:59", "--channel", "app", "--alert",
                     "caseworker"});
    // A name in a handover note is sealed, not stored in clear.
    gateway_->admin({"assign", "--survivor", survivor.account, "--caseworker", cw_.account,
                     "--handover-note", "taking over from " + planted_name});

    gateway_->start();
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone_app = recover_survivor(*gateway_, survivor, dir("phone"));
    phone_app->send_text(cw_.account, from_her);
    ASSERT_EQ(receive_n(*console, 1).size(), 1u);
    console->send_text(survivor.account, to_her);
    ASSERT_EQ(receive_n(*phone_app, 1).size(), 1u);
    // A denial too.
    gateway_->admin({"consent-withdraw", "--case", survivor.case_code, "--channel", "app",
                     "--purpose", "replies", "--by", cw_.account});
    refused_send(*console, survivor.account, to_her);
    console.reset();
    phone_app.reset();
    ASSERT_EQ(gateway_->stop(), 0);

    // The scheduler did act on the plan (audited), and the chain verifies.
    auto audit = admin_raw({"audit-export"});
    EXPECT_NE(audit.out.find("decision.check_ins"), std::string::npos) << audit.out;
    EXPECT_NE(audit.out.find("consent_withdrawn"), std::string::npos);

    std::vector<std::pair<std::string, std::string>> places = {
        {"database", file_bytes(db())},
        {"wal", file_bytes(db().string() + "-wal")},
        {"server log", gateway_->log()},
        {"admin output", audit.out + audit.err}};
    if (postgresql_backend()) {
        // Every file of the PostgreSQL cluster: tables, indexes, WAL, the notification queue
        // (pg_notify) and the server's own log.
        const std::filesystem::path cluster = std::getenv("ARIADNE_TEST_PG_DIR");
        std::string all;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster)) {
            if (entry.is_regular_file()) all += file_bytes(entry.path());
        }
        ASSERT_GT(all.size(), 1000000u) << "the cluster's files were not read";
        places.emplace_back("the PostgreSQL cluster's files", std::move(all));
    }
    for (const auto& [where, bytes] : places) {
        for (const std::string& secret :
             {phone, phone_digits, std::string("3475550199"), planted_name, std::string("Marigold"),
              std::string("canary-reply-7f3a"), std::string("canary-inbound-9c1e"),
              std::string("usual place")}) {
            EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " found in " << where;
        }
    }
}

}  // namespace
}  // namespace ariadne::e2e
