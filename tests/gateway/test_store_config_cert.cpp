// Store durability details, configuration refusal, the development certificate and the
// server key.
#include <sched.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <future>

#include "ariadne/admin/admin.h"
#include "ariadne/app/certificate.h"
#include "ariadne/app/config.h"
#include "ariadne/protocol/error.h"
#include "harness.h"

namespace ariadne::gateway::test {
namespace {

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
}

TEST(Store, DatabaseFileIsPrivateAndUsesWalWithSecureDelete) {
    TempDir dir;
    StoreOptions o;
    o.path = dir.path / "ariadne.db";
    { Store store(o); }
    EXPECT_EQ(mode_of(o.path), 0600u);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

TEST(Store, FailedCommitReportsFailureAndStoresNothing) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    auto s = h.add_survivor({cw.account});
    // Make the database read-only underneath the writer: the next commit must fail.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(h.store_options.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    StoreOptions o = h.store_options;
    NewMessage m;
    m.recipient = cw.account.key;
    m.recipient_device = 1;
    m.sender = s.account;
    m.sender_device = 1;
    m.type = 3;
    m.body = crypto::to_bytes("x");
    std::promise<CommitStatus> status;
    h.store->store_messages(
        {m}, [&](CommitStatus st, std::vector<MailboxEntryPtr>) { status.set_value(st); });
    // The writer waits busy_timeout (5 s) for the lock, then gives up.
    EXPECT_EQ(status.get_future().get(), CommitStatus::failed);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_EQ(h.store->mailbox_size(), 0);
    EXPECT_GE(h.metrics.commit_failures.load(), 1u);
}

TEST(Store, ReadScopeReadsOneSnapshotAndReadsAfterItSeeNewCommits) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    auto s = h.add_survivor({cw.account});
    NewMessage m;
    m.recipient = cw.account.key;
    m.recipient_device = 1;
    m.sender = s.account;
    m.sender_device = 1;
    m.type = 3;
    m.body = crypto::to_bytes("x");
    auto store_one = [&] {
        std::promise<CommitStatus> status;
        h.store->store_messages(
            {m}, [&](CommitStatus st, std::vector<MailboxEntryPtr>) { status.set_value(st); });
        ASSERT_EQ(status.get_future().get(), CommitStatus::committed);
    };
    {
        Store::ReadScope scope(*h.store);
        EXPECT_EQ(h.store->mailbox_size(), 0);  // the snapshot starts here
        store_one();
        EXPECT_EQ(h.store->mailbox_size(), 0);  // same snapshot: the commit is not seen
        {
            Store::ReadScope inner(*h.store);  // joins the outer scope
            EXPECT_EQ(h.store->mailbox_size(), 0);
            EXPECT_TRUE(h.store->find_account(cw.account.id).has_value());
        }
        EXPECT_EQ(h.store->mailbox_size(), 0);
    }
    EXPECT_EQ(h.store->mailbox_size(), 1);  // without a scope: the latest commit
    {
        Store::ReadScope scope(*h.store);  // a new scope: a new snapshot
        EXPECT_EQ(h.store->mailbox_size(), 1);
    }
    // Another thread's reads are not in this thread's scope.
    Store::ReadScope scope(*h.store);
    EXPECT_EQ(h.store->mailbox_size(), 1);
    store_one();
    EXPECT_EQ(std::async(std::launch::async, [&] { return h.store->mailbox_size(); }).get(), 2);
    EXPECT_EQ(h.store->mailbox_size(), 1);
}

TEST(Store, AccountIdsAreOpaqueAndWellFormed) {
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        std::string id = new_account_id();
        EXPECT_TRUE(is_account_id(id)) << id;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 100u);
}

TEST(Store, TotpSecretsAreSealedAtRest) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    auto creds = h.store->find_caseworker("mara.k");
    ASSERT_TRUE(creds);
    EXPECT_NE(creds->sealed_totp_secret.size(), cw.totp_secret.size());
    auto opened = h.key.open(cw.account.id, creds->sealed_totp_secret);
    EXPECT_TRUE(crypto::equal_constant_time(opened.view(), cw.totp_secret.view()));
    // Bound to the account: it does not open under another id.
    EXPECT_THROW(h.key.open(new_account_id(), creds->sealed_totp_secret), GatewayError);
}

std::string config_error(const std::vector<std::string>& args) {
    try {
        parse_serve_config(args);
    } catch (const GatewayError& e) {
        EXPECT_EQ(e.code(), GatewayErrorCode::config);
        return e.what();
    }
    ADD_FAILURE() << "configuration accepted";
    return {};
}

TEST(Config, DefaultsListenOnLoopback8443) {
    auto c = parse_serve_config({}).config;
    EXPECT_EQ(c.listen_host, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 8443);
    EXPECT_EQ(c.data_dir, "ariadne-data");
    EXPECT_TRUE(c.sync_full);
    EXPECT_FALSE(c.log_ip);
    EXPECT_EQ(c.mailbox_ttl_days, 30u);
}

TEST(Config, IoThreadsDefaultToOneWhenPinnedToOneCpuAndAGivenValueIsKept) {
    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
    EXPECT_EQ(parse_serve_config({}).config.io_threads, CPU_COUNT(&saved) == 1 ? 1u : 2u);
    EXPECT_EQ(parse_serve_config({"--io-threads", "3"}).config.io_threads, 3u);
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &saved)) {
            CPU_SET(cpu, &one);
            break;
        }
    }
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);  // this thread only
    auto pinned = parse_serve_config({}).config.io_threads;
    auto given = parse_serve_config({"--io-threads", "2"}).config.io_threads;
    ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
    EXPECT_EQ(pinned, 1u);
    EXPECT_EQ(given, 2u);
    EXPECT_NE(config_error({"--io-threads", "0"}).find("io-threads"), std::string::npos);
}

TEST(Config, UnknownOrInvalidSettingsAreRefusedByName) {
    EXPECT_NE(config_error({"--lisen", "1.2.3.4:5"}).find("lisen"), std::string::npos);
    EXPECT_NE(config_error({"--listen", "localhost"}).find("--listen"), std::string::npos);
    EXPECT_NE(config_error({"--listen", "127.0.0.1:99999"}).find("--listen"), std::string::npos);
    EXPECT_NE(config_error({"--sync-mode", "fast"}).find("--sync-mode"), std::string::npos);
    EXPECT_NE(config_error({"--mailbox-ttl-days", "abc"}).find("mailbox-ttl-days"),
              std::string::npos);
    EXPECT_NE(config_error({"--mailbox-ttl-days", "0"}).find("mailbox-ttl-days"),
              std::string::npos);
    EXPECT_NE(config_error({"--log-level", "loud"}).find("--log-level"), std::string::npos);
    EXPECT_NE(config_error({"--cert", "x.pem"}).find("--key"), std::string::npos);
    EXPECT_NE(config_error({"--recovery-m-kib", "8192"}).find("--insecure-test-params"),
              std::string::npos);
    EXPECT_EQ(parse_serve_config({"--recovery-m-kib", "8192", "--insecure-test-params"})
                  .config.recovery_m_kib,
              8192u);
}

TEST(Config, ConfigFileIsReadAndCheckedLikeFlags) {
    TempDir dir;
    auto file = dir.path / "ariadne.conf";
    std::ofstream(file) << "listen = 127.0.0.1:0\nsync-mode = normal\ncommit-max-batch = 64\n";
    auto c = parse_serve_config({"--config", file.string()}).config;
    EXPECT_EQ(c.listen_port, 0);
    EXPECT_FALSE(c.sync_full);
    EXPECT_EQ(c.commit_max_batch, 64u);
    std::ofstream(file) << "listen = 127.0.0.1:0\nbogus-setting = 1\n";
    EXPECT_NE(config_error({"--config", file.string()}).find("bogus-setting"), std::string::npos);
    EXPECT_NE(config_error({"--config", (dir.path / "missing.conf").string()}).find("--config"),
              std::string::npos);
}

TEST(Certificate, GeneratedOnceWithPrivateKeyAndStableFingerprint) {
    TempDir dir;
    auto cert = dir.path / "tls-cert.pem", key = dir.path / "tls-key.pem";
    generate_dev_certificate(cert, key);
    EXPECT_EQ(mode_of(key), 0600u);
    std::string fp = certificate_sha256_fingerprint(cert);
    ASSERT_EQ(fp.size(), 32u * 3 - 1);
    for (std::size_t i = 2; i < fp.size(); i += 3) EXPECT_EQ(fp[i], ':');
    EXPECT_EQ(certificate_sha256_fingerprint(cert), fp);
    generate_dev_certificate(cert, key);
    EXPECT_NE(certificate_sha256_fingerprint(cert), fp);
    EXPECT_THROW(certificate_sha256_fingerprint(dir.path / "none.pem"), GatewayError);
}

TEST(Admin, CaseworkerSurvivorAndAssignmentFromTheCommandLine) {
    TempDir dir;
    auto data = (dir.path / "data").string();
    std::istringstream password("correct horse\n");
    std::ostringstream out, err;
    ASSERT_EQ(run_admin({"caseworker-add", "--data-dir", data, "--username", "mara.k"}, password,
                        out, err),
              0)
        << err.str();
    json cw = json::parse(out.str());
    EXPECT_TRUE(is_account_id(cw["account"].get<std::string>()));
    EXPECT_EQ(cw["otpauth_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u);
    EXPECT_EQ(crypto::base32_decode(cw["totp_secret"].get<std::string>()).size(), 20u);
    EXPECT_EQ(mode_of(data), 0700u);
    EXPECT_EQ(out.str().find("correct horse"), std::string::npos);

    std::istringstream none;
    std::ostringstream out2, err2;
    ASSERT_EQ(run_admin({"survivor-enrol", "--data-dir", data, "--caseworker", cw["account"],
                         "--initials", "A.B.", "--language", "en", "--time-zone", "UTC",
                         "--recovery-m-kib", "8192", "--insecure-test-params"},
                        none, out2, err2),
              0)
        << err2.str();
    json sv = json::parse(out2.str());
    EXPECT_TRUE(is_account_id(sv["account"].get<std::string>()));
    std::string code = sv["recovery_code"];
    EXPECT_EQ(crypto::normalize_recovery_code(code).size(), 16u);

    // The code is not in the database file; the survivor is assigned to mara.
    StoreOptions o;
    o.path = database_path(data);
    {
        Store store(o);
        auto params = load_or_create_recovery_params(store, 65536, true);
        EXPECT_EQ(params.m_kib, 8192u);
        auto secrets = crypto::derive_recovery_secrets(code, params);
        auto found = store.find_survivor(secrets.locator);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->account.id, sv["account"]);
        auto mara = store.find_account(cw["account"].get<std::string>());
        EXPECT_TRUE(store.shares_assignment(found->account, *mara));
        EXPECT_THROW(load_or_create_recovery_params(store, 65536, false), GatewayError);
    }
    std::ifstream db(o.path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(db)), {});
    EXPECT_EQ(bytes.find(crypto::normalize_recovery_code(code)), std::string::npos);

    // Weak parameters need the explicit flag; unknown caseworkers are refused.
    std::ostringstream out3, err3;
    EXPECT_EQ(run_admin({"survivor-enrol", "--data-dir", data, "--caseworker", new_account_id(),
                         "--initials", "A.B.", "--language", "en", "--time-zone", "UTC",
                         "--insecure-test-params"},
                        none, out3, err3),
              1);
    EXPECT_NE(err3.str().find("no caseworker account"), std::string::npos) << err3.str();
    std::ostringstream out4, err4;
    EXPECT_EQ(run_admin({"assign", "--data-dir", data, "--survivor", sv["account"], "--caseworker",
                         cw["account"]},
                        none, out4, err4),
              0)
        << err4.str();
    EXPECT_EQ(run_admin({"assign", "--data-dir", data, "--survivor", cw["account"], "--caseworker",
                         cw["account"]},
                        none, out4, err4),
              1);
}

}  // namespace
}  // namespace ariadne::gateway::test
