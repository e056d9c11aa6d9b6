// `ariadne admin backup` and `ariadne admin restore` with the real binary: a backup taken
// under send load restores into a new data directory where every message acknowledged before
// the backup began is delivered; restore refuses a directory a gateway serves and a damaged
// file; and the backup holds no plaintext that the database does not.
#include <sys/stat.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

namespace fs = std::filesystem;
using client::Messenger;

std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

ProcessResult admin_raw(const fs::path& data_dir, std::vector<std::string> args) {
    std::vector<std::string> argv = {server_binary(), "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data-dir");
    argv.push_back(data_dir.string());
    return run_process(argv, "");
}

/// A new data directory holding only the server key of `from` (what an administrator copies
/// before a restore onto a new machine).
fs::path new_data_dir_with_key(const fs::path& at, const fs::path& from) {
    fs::create_directories(at);
    fs::permissions(at, fs::perms::owner_all, fs::perm_options::replace);
    fs::copy_file(from / "server.key", at / "server.key");
    return at;
}

bool has_entry_starting(const fs::path& dir, const std::string& prefix) {
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().starts_with(prefix)) return true;
    }
    return false;
}

class BackupRestore : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
        if (HasFailure() && restored_) std::cerr << "restored server log:\n" << restored_->log();
    }
    fs::path dir(const std::string& name) const { return tmp_.path() / name; }
    fs::path backup_file() const { return tmp_.path() / "gateway.backup"; }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    std::unique_ptr<Gateway> restored_;
    Gateway::Caseworker cw_;
};

TEST_F(BackupRestore, EveryMessageAcknowledgedBeforeABackupUnderLoadIsDeliveredAfterARestore) {
    constexpr int kSurvivors = 3;
    std::vector<Gateway::Survivor> survivors;
    for (int i = 0; i < kSurvivors; ++i) survivors.push_back(gateway_->enrol_survivor(cw_.account));
    gateway_->start();
    // Her caseworker's console is registered, then offline: everything sent waits in the
    // mailbox, which is what the backup must hold.
    register_console(*gateway_, cw_, dir("console"), 0).reset();
    std::vector<std::unique_ptr<Messenger>> phones;
    for (int i = 0; i < kSurvivors; ++i) {
        phones.push_back(
            recover_survivor(*gateway_, survivors[i], dir("phone" + std::to_string(i))));
    }

    using Clock = std::chrono::steady_clock;
    std::mutex mu;
    std::vector<std::pair<std::string, Clock::time_point>> acknowledged;
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int i = 0; i < kSurvivors; ++i) {
        senders.emplace_back([&, i] {
            for (int n = 0; !stop; ++n) {
                std::string text =
                    "survivor " + std::to_string(i) + " message " + std::to_string(n);
                try {
                    phones[i]->send_text(cw_.account, text);
                } catch (const std::exception&) {
                    std::this_thread::sleep_for(50ms);  // rate limited: not acknowledged
                    continue;
                }
                std::lock_guard lock(mu);
                acknowledged.emplace_back(text, Clock::now());
            }
        });
    }
    std::this_thread::sleep_for(1500ms);
    const auto began = Clock::now();
    auto backup = admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()});
    std::this_thread::sleep_for(300ms);  // the load goes on after the backup, too
    stop = true;
    for (auto& t : senders) t.join();
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    Json made = Json::parse(backup.out);
    EXPECT_EQ(made["size"].get<std::uintmax_t>(), fs::file_size(backup_file()));
    EXPECT_TRUE(made.contains("schema_version")) << backup.out;
    struct stat st {};
    ASSERT_EQ(::stat(backup_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    std::set<std::string> before;
    for (const auto& [text, at] : acknowledged) {
        if (at < began) before.insert(text);
    }
    ASSERT_GE(before.size(), 10u) << "too little load before the backup";

    fs::path fresh = new_data_dir_with_key(dir("restored"), gateway_->data_dir());
    auto restore = admin_raw(fresh, {"restore", "--from", backup_file().string()});
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    Json restored = Json::parse(restore.out);
    EXPECT_TRUE(restored["previous"].is_null()) << restore.out;
    EXPECT_GT(restored["audit_entries"].get<int>(), 0) << restore.out;

    restored_ = std::make_unique<Gateway>(fresh);
    restored_->start();
    auto console = Messenger::open(messenger_options(*restored_, dir("console")), test_store_key());
    std::set<std::string> delivered;
    auto deadline = Clock::now() + 120s;
    auto missing = [&] {
        std::size_t n = 0;
        for (const auto& text : before) n += delivered.count(text) == 0;
        return n;
    };
    while (missing() > 0 && Clock::now() < deadline) {
        auto m = console->receive(2000ms);
        if (!m || m->is_receipt) continue;
        EXPECT_FALSE(m->decrypt_error.has_value()) << *m->decrypt_error;
        delivered.insert(m->plaintext);
    }
    EXPECT_EQ(missing(), 0u) << before.size() << " acknowledged before the backup, "
                             << delivered.size() << " delivered after the restore";
}

TEST_F(BackupRestore, RestoreIsRefusedWhileAGatewayServesTheDataDirectory) {
    gateway_->enrol_survivor(cw_.account);
    gateway_->start();
    ASSERT_EQ(admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()}).exit_code,
              0);
    const long accounts = count_rows(gateway_->data_dir() / "ariadne.db", "accounts");
    auto refused = admin_raw(gateway_->data_dir(), {"restore", "--from", backup_file().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("step 'lock the data directory'"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("(pid " + std::to_string(gateway_->pid()) + ")"), std::string::npos)
        << refused.err;
    EXPECT_FALSE(has_entry_starting(gateway_->data_dir(), "before-restore-"));
    EXPECT_FALSE(has_entry_starting(gateway_->data_dir(), ".restore-"));
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "accounts"), accounts);
    // A second gateway on the same directory is refused the same way.
    auto second =
        run_process({server_binary(), "serve", "--data-dir", gateway_->data_dir().string(),
                     "--listen", "127.0.0.1:0", "--insecure-test-params"},
                    "", 30s);
    EXPECT_NE(second.exit_code, 0);
    EXPECT_NE(second.err.find("ariadne.lock"), std::string::npos) << second.err;
}

TEST_F(BackupRestore, ADamagedBackupIsRefusedNamingTheMemberAndNothingChanges) {
    gateway_->enrol_survivor(cw_.account);
    ASSERT_EQ(admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()}).exit_code,
              0);
    std::string bytes = file_bytes(backup_file());
    auto at = bytes.find("SQLite format 3");  // ariadne.db, the first database in the file
    ASSERT_NE(at, std::string::npos);
    bytes[at + 4096 + 100] ^= 0x01;
    std::ofstream(backup_file(), std::ios::binary | std::ios::trunc) << bytes;

    const std::string db_before = file_bytes(gateway_->data_dir() / "ariadne.db");
    auto refused = admin_raw(gateway_->data_dir(), {"restore", "--from", backup_file().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("The member ariadne.db does not match its SHA-256"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("Nothing in the data directory was changed"), std::string::npos)
        << refused.err;
    EXPECT_EQ(file_bytes(gateway_->data_dir() / "ariadne.db"), db_before);
    EXPECT_FALSE(has_entry_starting(gateway_->data_dir(), "before-restore-"));
    EXPECT_FALSE(has_entry_starting(gateway_->data_dir(), ".restore-"));
}

TEST_F(BackupRestore, ARestoreWithoutTheRightServerKeyChangesNothingAndSaysWhy) {
    gateway_->enrol_survivor(cw_.account);
    gateway_->start();
    gateway_->stop();  // a served chain is keyed
    ASSERT_EQ(admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()}).exit_code,
              0);
    fs::path no_key = dir("no-key");
    fs::create_directories(no_key);
    auto refused = admin_raw(no_key, {"restore", "--from", backup_file().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("there is no server.key"), std::string::npos) << refused.err;
    EXPECT_FALSE(fs::exists(no_key / "ariadne.db"));
    EXPECT_FALSE(fs::exists(no_key / "server.key"));

    fs::path other_key = dir("other-key");
    fs::create_directories(other_key);
    std::ofstream(other_key / "server.key", std::ios::binary) << std::string(32, '\x42');
    fs::permissions(other_key / "server.key", fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    refused = admin_raw(other_key, {"restore", "--from", backup_file().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("step 'verify the audit chain'"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("server key of the gateway that made the backup"), std::string::npos)
        << refused.err;
    EXPECT_FALSE(fs::exists(other_key / "ariadne.db"));
}

TEST_F(BackupRestore, AnExistingFileIsReplacedOnlyWithForce) {
    gateway_->enrol_survivor(cw_.account);
    std::ofstream(backup_file()) << "last week's backup";
    auto refused = admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("exists; pass --force to replace it"), std::string::npos)
        << refused.err;
    EXPECT_EQ(file_bytes(backup_file()), "last week's backup");
    auto forced =
        admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string(), "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(file_bytes(backup_file()), "last week's backup");
}

// An administrator (and an upgrade) can tell which ariadne made a backup.
TEST_F(BackupRestore, TheBackupRecordsTheReleaseAndCommitThatMadeItAndRestoreShowsThem) {
    gateway_->enrol_survivor(cw_.account);
    auto version = run_process({server_binary(), "--version"}, "");
    ASSERT_EQ(version.exit_code, 0) << version.err;
    std::smatch m;
    const std::string line = version.out;
    ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(^ariadne (\S+) \(commit (\S+)\)\n$)")))
        << line;
    const std::string release = m[1].str(), commit = m[2].str();

    auto backup = admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    Json made = Json::parse(backup.out);
    EXPECT_EQ(made["ariadne_version"], release) << backup.out;
    EXPECT_EQ(made["ariadne_commit"], commit) << backup.out;
    // In the manifest itself, the archive's first member.
    const std::string bytes = file_bytes(backup_file());
    EXPECT_NE(bytes.find("\"ariadne_version\": \"" + release + "\""), std::string::npos);
    EXPECT_NE(bytes.find("\"ariadne_commit\": \"" + commit + "\""), std::string::npos);

    fs::path fresh = new_data_dir_with_key(dir("restored"), gateway_->data_dir());
    auto restore = admin_raw(fresh, {"restore", "--from", backup_file().string()});
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    Json restored = Json::parse(restore.out);
    EXPECT_EQ(restored["ariadne_version"], release) << restore.out;
    EXPECT_EQ(restored["ariadne_commit"], commit) << restore.out;
}

// ---- canary: nothing in a backup is plaintext that is not plaintext in the database ----

struct HttpResult {
    int status = 0;
    std::string body;
};

HttpResult curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sk", "--max-time", "30", "-w",
                                     "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, "");
    HttpResult out;
    auto nl = r.out.rfind('\n');
    out.status = std::atoi(r.out.c_str() + nl + 1);
    out.body = r.out.substr(0, nl);
    return out;
}

std::string form_value(const std::string& text) {
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

/// The survivor page as a browser sees it: cookie jar, form token, redirects followed.
HttpResult notes_post(const Gateway& gateway, const fs::path& jar, const std::string& form) {
    const std::string base = "https://127.0.0.1:" + std::to_string(gateway.port());
    auto page = curl({"-b", jar.string(), "-c", jar.string(), base + "/notes"});
    auto at = page.body.find("name=\"t\" value=\"");
    if (at == std::string::npos) return page;
    std::string token = page.body.substr(at + 16, page.body.find('"', at + 16) - at - 16);
    return curl({"-L", "-b", jar.string(), "-c", jar.string(), "-H",
                 "Content-Type: application/x-www-form-urlencoded", "--data-binary",
                 "t=" + token + "&" + form, base + "/notes"});
}

TEST_F(BackupRestore, NoMessageTextNameOrNumberIsInTheBackupOrAnyOfItsMembers) {
    const std::string canary = "CANARY-Q7Z3-WX";
    const std::string name = "Natalia Vasilescu";
    const std::string number = "+44 7700 900461";
    auto her = gateway_->enrol_survivor(cw_.account);
    gateway_->admin({"consent-record", "--case", her.case_code, "--channel", "web", "--purpose",
                     "replies", "--by", cw_.account});
    gateway_->admin({"consent-record", "--case", her.case_code, "--channel", "sms", "--purpose",
                     "replies", "--by", cw_.account, "--address-stdin"},
                    number + "\n");
    gateway_->start();
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, her, dir("phone"));
    auto next_message = [&console] {
        auto deadline = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto m = console->receive(1s);
            if (m && !m->is_receipt) return m;
        }
        return std::optional<client::ReceivedMessage>();
    };

    phone->send_text(cw_.account, canary + " app, from " + name + ", " + number);
    ASSERT_TRUE(next_message());
    console->send_text(her.account, canary + " reply to " + name);
    // Her page (the gateway's edge device: edge/history.db and her edge Signal store).
    const fs::path jar = dir("cookies.txt");
    auto page = notes_post(*gateway_, jar, "a=login&code=" + form_value(her.recovery_code));
    ASSERT_NE(page.body.find("name=\"text\""), std::string::npos) << page.status << page.body;
    notes_post(*gateway_, jar, "a=send&text=" + form_value(canary + " page, " + name));
    ASSERT_TRUE(next_message());
    console->send_text(her.account, canary + " reply to the page, " + name);
    // And one left undelivered in the mailbox.
    console.reset();
    phone->send_text(cw_.account, canary + " queued, " + name + ", " + number);
    std::this_thread::sleep_for(500ms);  // the page's reply is decrypted into her history

    auto made = admin_raw(gateway_->data_dir(), {"backup", "--to", backup_file().string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::vector<std::string> secrets = {canary,       "Vasilescu",   "Natalia",
                                              "7700900461", "7700 900461", her.recovery_code};
    std::string whole = file_bytes(backup_file());
    for (const auto& s : secrets) EXPECT_EQ(whole.find(s), std::string::npos) << s;

    fs::path members = dir("members");
    fs::create_directories(members);
    auto untar =
        run_process({"/usr/bin/tar", "-xf", backup_file().string(), "-C", members.string()}, "");
    ASSERT_EQ(untar.exit_code, 0) << untar.err;
    int files = 0;
    for (const auto& e : fs::recursive_directory_iterator(members)) {
        if (!e.is_regular_file()) continue;
        ++files;
        std::string bytes = file_bytes(e.path());
        for (const auto& s : secrets) {
            EXPECT_EQ(bytes.find(s), std::string::npos) << s << " in " << e.path();
        }
    }
    EXPECT_GE(files, 4);  // manifest, ariadne.db, edge/history.db, her edge store
    EXPECT_TRUE(fs::exists(members / "edge" / "history.db"));
}

}  // namespace
}  // namespace ariadne::e2e
