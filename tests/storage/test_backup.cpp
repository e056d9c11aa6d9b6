// Online backup and verified restore on real data directories: what a backup holds, that it is
// a consistent snapshot of live WAL databases, and that every refusal changes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "ariadne/storage/backup.h"
#include "ariadne/storage/data_dir_lock.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Every file under `dir` with its content (to show that nothing changed).
std::map<std::string, std::string> snapshot_of(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read_file(e.path());
    }
    return files;
}

std::int64_t scalar(const fs::path& db, const std::string& sql) {
    ConnectionOptions o;
    o.mode = OpenMode::read_only;
    o.wal = false;
    Connection c(db, o);
    auto q = c.prepare(sql);
    EXPECT_TRUE(q.step());
    return q.integer(0);
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 0777;
}

class Backup : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("ariadne-backup-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(data());
        fs::create_directories(data() / "edge");
        fs::create_directories(out());
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path data() const { return root_ / "data"; }
    fs::path out() const { return root_ / "out"; }
    fs::path file() const { return out() / "gw.backup"; }

    /// A data directory shaped like a gateway's: ariadne.db (WAL, a foreign key), the edge
    /// history, one edge account's store, server.key, a TLS key and audit checkpoints.
    void populate(int messages = 3) {
        Connection db(data() / "ariadne.db", {});
        db.exec(
            "CREATE TABLE accounts(id TEXT PRIMARY KEY);"
            "CREATE TABLE mailbox(id INTEGER PRIMARY KEY, recipient TEXT NOT NULL "
            "REFERENCES accounts(id), body BLOB)");
        db.exec("INSERT INTO accounts VALUES ('a_1')");
        for (int i = 0; i < messages; ++i) {
            db.prepare("INSERT INTO mailbox(recipient, body) VALUES ('a_1', ?)")
                .bind(1, "sealed-" + std::to_string(i))
                .run();
        }
        Connection history(data() / "edge" / "history.db", {});
        history.exec(
            "CREATE TABLE history(tag TEXT, sealed BLOB); INSERT INTO history VALUES "
            "('t', x'00')");
        Connection store(data() / "edge" / "0a1b2c.db", {});
        store.exec("CREATE TABLE kv(k TEXT, v BLOB); INSERT INTO kv VALUES ('identity', x'01')");
        std::ofstream(data() / "server.key") << "0123456789abcdef0123456789abcdef";
        std::ofstream(data() / "tls-key.pem") << "-----BEGIN PRIVATE KEY-----";
        std::ofstream(data() / "audit-checkpoints") << "{\"seq\":1}\n";
    }

    fs::path root_;
};

TEST_F(Backup, HoldsEveryDatabaseAndTheCheckpointsButNeitherKeyInOnePrivateFile) {
    populate();
    auto result = create_backup(data(), file());
    EXPECT_EQ(mode_of(file()), 0600u);
    EXPECT_EQ(result.size, fs::file_size(file()));
    EXPECT_EQ(result.manifest.format_version, kBackupFormatVersion);
    EXPECT_EQ(result.manifest.schema_version, 0);
    std::vector<std::string> names;
    for (const auto& m : result.manifest.members) names.push_back(m.name);
    EXPECT_EQ(names, (std::vector<std::string>{"audit-checkpoints", "ariadne.db", "edge/history.db",
                                               "edge/0a1b2c.db"}));
    std::string bytes = read_file(file());
    EXPECT_EQ(bytes.find("0123456789abcdef0123456789abcdef"), std::string::npos);
    EXPECT_EQ(bytes.find("BEGIN PRIVATE KEY"), std::string::npos);
    // Nothing is left beside it: the staging directory is gone.
    EXPECT_EQ(std::distance(fs::directory_iterator(out()), fs::directory_iterator()), 1);
}

TEST_F(Backup, IsAStandardTarArchiveWhoseManifestComesFirst) {
    populate();
    create_backup(data(), file());
    std::string cmd = "tar -tf '" + file().string() + "'";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string listing;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) listing += buf;
    EXPECT_EQ(::pclose(p), 0);
    EXPECT_EQ(listing,
              "manifest.json\naudit-checkpoints\nariadne.db\nedge/history.db\nedge/0a1b2c.db\n");
}

TEST_F(Backup, CopiesRowsCommittedOnlyToTheWalOfADatabaseStillInUse) {
    populate(0);
    // A writer that keeps its commits in the WAL (no checkpoint), as a serving gateway does.
    Connection live(data() / "ariadne.db", {});
    live.exec("PRAGMA wal_autocheckpoint=0");
    for (int i = 0; i < 50; ++i) {
        live.exec("INSERT INTO mailbox(recipient, body) VALUES ('a_1', x'aa')");
    }
    ASSERT_GT(fs::file_size(data() / "ariadne.db-wal"), 0u);
    create_backup(data(), file());

    fs::path restored = root_ / "restored";
    fs::create_directories(restored);
    restore_backup(restored, file(), {});
    EXPECT_EQ(scalar(restored / "ariadne.db", "SELECT COUNT(*) FROM mailbox"), 50);
    EXPECT_FALSE(fs::exists(restored / "ariadne.db-wal"));
}

TEST_F(Backup, RefusesAnExistingFileUnlessForced) {
    populate();
    std::ofstream(file()) << "an older backup";
    try {
        create_backup(data(), file());
        FAIL() << "an existing file was replaced without --force";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(file()), "an older backup");
    create_backup(data(), file(), {.force = true});
    EXPECT_NE(read_file(file()), "an older backup");
    EXPECT_EQ(mode_of(file()), 0600u);
}

TEST_F(Backup, AFailedBackupNamesItsStepAndLeavesNoFile) {
    populate();
    std::ofstream(data() / "edge" / "ffff.db") << "this is not a SQLite database at all, no";
    try {
        create_backup(data(), file());
        FAIL() << "a backup of an unreadable database succeeded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("step 'snapshot edge/ffff.db'"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(fs::is_empty(out()));
}

TEST_F(Backup, RestoreIntoANewDirectoryBringsBackEveryDatabase) {
    populate(7);
    create_backup(data(), file());
    fs::path fresh = root_ / "fresh";
    fs::create_directories(fresh);
    auto result = restore_backup(fresh, file(), {});
    EXPECT_TRUE(result.previous.empty());
    EXPECT_EQ(scalar(fresh / "ariadne.db", "SELECT COUNT(*) FROM mailbox"), 7);
    EXPECT_EQ(scalar(fresh / "edge" / "history.db", "SELECT COUNT(*) FROM history"), 1);
    EXPECT_EQ(scalar(fresh / "edge" / "0a1b2c.db", "SELECT COUNT(*) FROM kv"), 1);
    EXPECT_EQ(read_file(fresh / "audit-checkpoints"), "{\"seq\":1}\n");
    EXPECT_EQ(mode_of(fresh / "ariadne.db"), 0600u);
    EXPECT_EQ(mode_of(fresh / "edge"), 0700u);
    EXPECT_FALSE(fs::exists(fresh / "server.key"));
    // No staging directory is left.
    for (const auto& e : fs::directory_iterator(fresh)) {
        EXPECT_FALSE(e.path().filename().string().starts_with(".restore-")) << e.path();
    }
}

TEST_F(Backup, RestoreKeepsThePreviousDatabasesWithTheirWalAside) {
    populate(2);
    create_backup(data(), file());
    {
        Connection later(data() / "ariadne.db", {});
        later.exec("PRAGMA wal_autocheckpoint=0");
        later.exec("INSERT INTO mailbox(recipient, body) VALUES ('a_1', x'bb')");
        Connection newer_store(data() / "edge" / "9f9f.db", {});
        newer_store.exec("CREATE TABLE kv(k)");
    }
    auto result = restore_backup(data(), file(), {});
    ASSERT_FALSE(result.previous.empty());
    EXPECT_TRUE(result.previous.filename().string().starts_with("before-restore-"));
    EXPECT_EQ(result.previous.parent_path(), data());
    EXPECT_EQ(scalar(data() / "ariadne.db", "SELECT COUNT(*) FROM mailbox"), 2);
    EXPECT_EQ(scalar(result.previous / "ariadne.db", "SELECT COUNT(*) FROM mailbox"), 3);
    // A store the backup does not know is moved aside, not left beside the older mailbox.
    EXPECT_FALSE(fs::exists(data() / "edge" / "9f9f.db"));
    EXPECT_TRUE(fs::exists(result.previous / "edge" / "9f9f.db"));
    EXPECT_TRUE(fs::exists(result.previous / "audit-checkpoints"));
    EXPECT_TRUE(fs::exists(data() / "server.key"));
    EXPECT_TRUE(fs::exists(data() / "tls-key.pem"));
}

TEST_F(Backup, ACorruptedMemberIsNamedAndNothingChanges) {
    populate();
    create_backup(data(), file());
    // Flip one byte inside ariadne.db's data (its header comes after the manifest's blocks).
    std::string bytes = read_file(file());
    auto at = bytes.find("SQLite format 3");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 2000] ^= 0x5a;
    std::ofstream(file(), std::ios::binary | std::ios::trunc) << bytes;

    auto before = snapshot_of(data());
    try {
        restore_backup(data(), file(), {});
        FAIL() << "a damaged backup was restored";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("The member ariadne.db does not match its SHA-256"), std::string::npos)
            << what;
        EXPECT_NE(what.find("Nothing in the data directory was changed"), std::string::npos)
            << what;
    }
    auto after = snapshot_of(data());
    after.erase("ariadne.lock");
    EXPECT_EQ(after, before);
}

TEST_F(Backup, ABackupWithANewerSchemaIsRefusedNamingBothVersions) {
    populate();
    {
        Connection db(data() / "ariadne.db", {});
        db.exec(
            "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT);"
            "INSERT INTO schema_migrations VALUES (1, 'one'), (42, 'future')");
    }
    auto made = create_backup(data(), file());
    EXPECT_EQ(made.manifest.schema_version, 42);
    fs::path fresh = root_ / "fresh";
    fs::create_directories(fresh);
    try {
        RestoreOptions older;
        older.newest_schema_version = 3;
        restore_backup(fresh, file(), older);
        FAIL() << "a newer schema was restored";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::schema);
        EXPECT_NE(std::string(e.what()).find("schema version 42 is newer than this ariadne's (3)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(fresh / "ariadne.db"));
    RestoreOptions newer;
    newer.newest_schema_version = 42;
    restore_backup(fresh, file(), newer);
    EXPECT_EQ(scalar(fresh / "ariadne.db", "SELECT MAX(version) FROM schema_migrations"), 42);
}

TEST_F(Backup, ADatabaseWithABrokenForeignKeyIsRefusedByName) {
    populate();
    {
        ConnectionOptions o;
        o.foreign_keys = false;
        Connection db(data() / "ariadne.db", o);
        db.exec("INSERT INTO mailbox(recipient, body) VALUES ('a_gone', x'00')");
    }
    create_backup(data(), file());
    fs::path fresh = root_ / "fresh";
    fs::create_directories(fresh);
    try {
        restore_backup(fresh, file(), {});
        FAIL() << "a database failing foreign_key_check was restored";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("step 'check ariadne.db'"), std::string::npos) << what;
        EXPECT_NE(what.find("foreign_key_check"), std::string::npos) << what;
    }
    EXPECT_FALSE(fs::exists(fresh / "ariadne.db"));
}

TEST_F(Backup, RestoreRefusesWhileAnotherProcessHoldsTheDataDirectoryLock) {
    populate();
    create_backup(data(), file());
    auto serving = DataDirLock::acquire(data());
    auto before = snapshot_of(data());
    try {
        restore_backup(data(), file(), {});
        FAIL() << "restored under a running gateway";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::busy);
        EXPECT_NE(std::string(e.what()).find("(pid " + std::to_string(::getpid()) + ")"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(snapshot_of(data()), before);
}

TEST_F(Backup, ACallersVerificationThatFailsChangesNothing) {
    populate();
    create_backup(data(), file());
    auto before = snapshot_of(data());
    fs::path seen;
    RestoreOptions options;
    options.verify_step = "verify the audit chain";
    options.verify = [&seen](const fs::path& staged) {
        seen = staged;
        EXPECT_TRUE(fs::exists(staged / "ariadne.db"));
        throw std::runtime_error("the chain does not verify under this server key.");
    };
    try {
        restore_backup(data(), file(), options);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("step 'verify the audit chain': the chain does not"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(seen));
    auto after = snapshot_of(data());
    after.erase("ariadne.lock");
    EXPECT_EQ(after, before);
}

TEST_F(Backup, AFileThatIsNotABackupIsRefused) {
    populate();
    std::ofstream(file()) << std::string(4096, 'x');
    fs::path fresh = root_ / "fresh";
    fs::create_directories(fresh);
    EXPECT_THROW(restore_backup(fresh, file(), {}), Error);
    EXPECT_FALSE(fs::exists(fresh / "ariadne.db"));
}

}  // namespace
}  // namespace ariadne::storage
