// The audit chain against someone who can write the database but does not hold the server
// key: an edited entry re-hashed with plain SHA-256 (as the unkeyed chain allowed) is found,
// the removal of the newest entries is found against a checkpoint kept outside the database,
// a forged checkpoint is refused, and an older unkeyed chain still verifies as a prefix.
// Real `ariadne` binary (serve and admin), real SQLite file.
#include <sqlite3.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"

namespace ariadne::e2e {
namespace {

namespace fs = std::filesystem;

void exec_sql(const fs::path& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
}

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_str(std::string& out, const std::string& s) {
    auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    out += s;
}

struct Row {
    std::int64_t seq, at_us;
    std::string actor, action, case_code, decision, reason;
};

// The unkeyed (v1) hash of docs/policies.md, as anyone can compute it.
std::string sha256_v1(const Row& r, const std::string& prev) {
    std::string bytes = "ariadne.audit.v1";
    put_u64(bytes, static_cast<std::uint64_t>(r.seq));
    put_u64(bytes, static_cast<std::uint64_t>(r.at_us));
    put_str(bytes, r.actor);
    put_str(bytes, r.action);
    put_str(bytes, r.case_code);
    put_str(bytes, r.decision);
    put_str(bytes, r.reason);
    bytes += prev;
    unsigned char h[32];
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), h, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(h), 32);
}

std::vector<Row> read_rows(const fs::path& db_path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT seq, at_us, actor, action, case_code, decision, reason FROM "
                       "policies_audit ORDER BY seq",
                       -1, &q, nullptr);
    std::vector<Row> rows;
    auto text = [&](int i) {
        auto p = sqlite3_column_text(q, i);
        return std::string(p ? reinterpret_cast<const char*>(p) : "");
    };
    while (sqlite3_step(q) == SQLITE_ROW) {
        rows.push_back({sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), text(2), text(3),
                        text(4), text(5), text(6)});
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rows;
}

// Rewrites the chain from `from_seq` on as an attacker without the key would: every hash
// recomputed with the published unkeyed formula, so the chain links up again.
void rehash_from(const fs::path& db_path, std::int64_t from_seq) {
    auto rows = read_rows(db_path);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db,
                 "DROP TRIGGER IF EXISTS policies_audit_no_update; "
                 "DROP TRIGGER IF EXISTS policies_audit_no_delete;",
                 nullptr, nullptr, nullptr);
    std::string prev(32, '\0');
    for (const auto& r : rows) {
        if (r.seq >= from_seq) {
            std::string h = sha256_v1(r, prev);
            sqlite3_stmt* u = nullptr;
            sqlite3_prepare_v2(db,
                               "UPDATE policies_audit SET prev_hash = ?, hash = ? WHERE seq = ?",
                               -1, &u, nullptr);
            sqlite3_bind_blob(u, 1, prev.data(), 32, SQLITE_TRANSIENT);
            sqlite3_bind_blob(u, 2, h.data(), 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(u, 3, r.seq);
            EXPECT_EQ(sqlite3_step(u), SQLITE_DONE);
            sqlite3_finalize(u);
            prev = h;
        } else {
            sqlite3_stmt* q = nullptr;
            sqlite3_prepare_v2(db, "SELECT hash FROM policies_audit WHERE seq = ?", -1, &q,
                               nullptr);
            sqlite3_bind_int64(q, 1, r.seq);
            sqlite3_step(q);
            prev.assign(static_cast<const char*>(sqlite3_column_blob(q, 0)), 32);
            sqlite3_finalize(q);
        }
    }
    sqlite3_close(db);
}

ProcessResult admin_raw(const Gateway& g, std::vector<std::string> args) {
    std::vector<std::string> argv = {server_binary(), "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data-dir");
    argv.push_back(g.data_dir().string());
    return run_process(argv, "");
}

class AuditChain : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(dir_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        gateway_->enrol_survivor(cw_.account);
        gateway_->enrol_survivor(cw_.account);
    }
    fs::path db() const { return gateway_->data_dir() / "ariadne.db"; }

    TempDir dir_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
};

TEST_F(AuditChain, EveryEntryIsKeyedAndServePublishesCheckpointsOutsideTheDatabase) {
    gateway_->start();
    ASSERT_EQ(gateway_->stop(), 0);  // a clean stop publishes the head
    auto file = gateway_->data_dir() / "audit-checkpoints";
    ASSERT_TRUE(fs::exists(file));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(gateway_->log().find("audit checkpoint {\"head\""), std::string::npos);

    auto v = gateway_->admin({"audit-verify"});
    EXPECT_EQ(v["ok"], true) << v.dump();
    EXPECT_GT(v["entries"].get<int>(), 3);
    EXPECT_EQ(v["keyed_entries"], v["entries"]);
    EXPECT_GE(v["checkpoints"].get<int>(), 1);
}

TEST_F(AuditChain, AnEditedEntryIsFoundEvenWhenTheChainIsRehashed) {
    ASSERT_EQ(gateway_->admin({"audit-verify"})["ok"], true);
    exec_sql(db(),
             "DROP TRIGGER policies_audit_no_update; "
             "UPDATE policies_audit SET reason = 'rewritten' WHERE seq = 2;");
    auto r = admin_raw(*gateway_, {"audit-verify"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("\"first_bad_entry\":2"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("does not match its MAC"), std::string::npos) << r.err;

    // Re-hashed from there with the published unkeyed formula (which used to pass): the
    // keyed entry before it gives it away.
    rehash_from(db(), 2);
    r = admin_raw(*gateway_, {"audit-verify"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("\"first_bad_entry\":2"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("unkeyed after keyed entries"), std::string::npos) << r.err;
}

TEST_F(AuditChain, TheWholeChainRehashedWithoutTheKeyIsFoundAgainstACheckpoint) {
    gateway_->start();
    ASSERT_EQ(gateway_->stop(), 0);  // serve publishes checkpoints
    exec_sql(db(),
             "DROP TRIGGER policies_audit_no_update; "
             "UPDATE policies_audit SET decision = 'allow' WHERE seq = 3;");
    rehash_from(db(), 1);  // every entry unkeyed: it would pass as an old, never-keyed chain
    auto r = admin_raw(*gateway_, {"audit-verify"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find("is not the one a checkpoint recorded"), std::string::npos) << r.err;
}

TEST_F(AuditChain, RemovingTheNewestEntriesIsFoundAgainstACheckpoint) {
    auto checkpoint = gateway_->admin({"audit-checkpoint"});
    auto seq = checkpoint["seq"].get<std::int64_t>();
    ASSERT_GT(seq, 2);
    std::string kept_elsewhere = std::to_string(seq) + ":" + checkpoint["head"].get<std::string>() +
                                 ":" + checkpoint["mac"].get<std::string>();
    ASSERT_EQ(gateway_->admin({"audit-verify"})["checkpoints"], 1);

    // Without a checkpoint the shortened chain would look whole; the attacker also deletes
    // the checkpoint file, but the administrator kept the line elsewhere.
    exec_sql(db(),
             "DROP TRIGGER policies_audit_no_delete; DELETE FROM policies_audit WHERE seq >= " +
                 std::to_string(seq - 1) + ";");
    fs::remove(gateway_->data_dir() / "audit-checkpoints");
    auto r = admin_raw(*gateway_, {"audit-verify", "--checkpoint", kept_elsewhere});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find("the newest entries were removed"), std::string::npos) << r.err;
}

TEST_F(AuditChain, ACheckpointThatWasNotMadeWithTheKeyIsRefused) {
    auto c = gateway_->admin({"audit-checkpoint"});
    std::string mac = c["mac"].get<std::string>();
    mac[0] = mac[0] == '0' ? '1' : '0';
    auto r = admin_raw(*gateway_, {"audit-verify", "--checkpoint",
                                   std::to_string(c["seq"].get<std::int64_t>()) + ":" +
                                       c["head"].get<std::string>() + ":" + mac});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("is not authentic"), std::string::npos) << r.err;

    auto bad = admin_raw(*gateway_, {"audit-verify", "--checkpoint", "seven:ab:cd"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("SEQ must be a non-negative integer"), std::string::npos) << bad.err;
}

TEST_F(AuditChain, RewritingTheKeyedPartAsAnUnkeyedChainIsFound) {
    // The attacker turns every entry from 3 on into the unkeyed form: they link up and each
    // matches its SHA-256, but unkeyed entries may not follow keyed ones.
    exec_sql(db(),
             "DROP TRIGGER policies_audit_no_update; "
             "UPDATE policies_audit SET decision = 'allow' WHERE seq = 4;");
    rehash_from(db(), 3);
    auto r = admin_raw(*gateway_, {"audit-verify"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("unkeyed after keyed entries"), std::string::npos) << r.err;
}

TEST(AuditChainUpgrade, AnOlderUnkeyedChainVerifiesAndIsKeyedFromAMarkedPoint) {
    TempDir dir;
    auto data = dir.path() / "data";
    fs::create_directories(data);
    // A chain written by a version before keying: two unkeyed entries.
    exec_sql(data / "ariadne.db",
             "CREATE TABLE policies_audit(seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, "
             "actor TEXT NOT NULL, action TEXT NOT NULL, case_code TEXT NOT NULL, decision TEXT "
             "NOT NULL, reason TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);");
    std::string prev(32, '\0');
    for (std::int64_t seq = 1; seq <= 2; ++seq) {
        Row r{seq, 1700000000000000 + seq, "admin-cli", "policy.set", "", "", ""};
        std::string h = sha256_v1(r, prev);
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((data / "ariadne.db").c_str(), &db), SQLITE_OK);
        sqlite3_stmt* w = nullptr;
        sqlite3_prepare_v2(db, "INSERT INTO policies_audit VALUES (?,?,?,?,?,?,?,?,?)", -1, &w,
                           nullptr);
        sqlite3_bind_int64(w, 1, r.seq);
        sqlite3_bind_int64(w, 2, r.at_us);
        sqlite3_bind_text(w, 3, r.actor.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(w, 4, r.action.c_str(), -1, SQLITE_TRANSIENT);
        for (int i = 5; i <= 7; ++i) sqlite3_bind_text(w, i, "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(w, 8, prev.data(), 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(w, 9, h.data(), 32, SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(w), SQLITE_DONE);
        sqlite3_finalize(w);
        sqlite3_close(db);
        prev = h;
    }
    Gateway gateway(data);
    gateway.add_caseworker("mara.k");
    auto v = gateway.admin({"audit-verify"});
    EXPECT_EQ(v["ok"], true) << v.dump();
    EXPECT_EQ(v["entries"].get<int>() - v["keyed_entries"].get<int>(), 2);
    auto exported = gateway.admin({"audit-export", "--from", "3", "--limit", "1"});
    EXPECT_NE(exported.dump().find("audit.keyed"), std::string::npos) << exported.dump();
}

}  // namespace
}  // namespace ariadne::e2e
