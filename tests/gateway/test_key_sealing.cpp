// ServerKey: the key file, sealing in the versioned format, and values sealed by earlier
// releases (tests/upgrade/fixtures) still opening, with the gateway's own error sentences.
#include <sqlite3.h>

#include <sys/stat.h>

#include <fstream>
#include <map>

#include "harness.h"

namespace ariadne::gateway::test {
namespace {

namespace fs = std::filesystem;

const fs::path kRelease = fs::path(ARIADNE_UPGRADE_FIXTURES) / "release-2026-12-07";

Bytes from_hex(std::string_view hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

ServerKey counting_key() {
    Bytes k(32);
    for (int i = 0; i < 32; ++i) k[i] = static_cast<std::uint8_t>(i);
    return ServerKey(crypto::SecretBytes(k));
}

// Sealed by ServerKey at ab28398 under counting_key() (sealed-2026-12-07/vectors.tsv).
constexpr const char* kOldAddress =
    "392bbbdd7fe6b1c09fecf77e9ebbd825830daf43b22552e1283b47ed1e66fb2f391198e9eae044510a";
constexpr const char* kOldHandover =
    "f5b33a1d903fddd54475dcb5d84a90689abfdab03a4486440fef125e11d5f2930d0ea6c05f3b7b43d2039678ed"
    "f2822f8ee6f19b8f3d6bfe09";

std::string open_error(const ServerKey& key, std::string_view context, ByteView sealed) {
    try {
        key.open(context, sealed);
    } catch (const GatewayError& e) {
        EXPECT_EQ(e.code(), GatewayErrorCode::internal);
        return e.what();
    }
    return "opened";
}

// Rows of an old release's database, read without writing to the fixture.
std::vector<std::pair<std::string, Bytes>> rows(const fs::path& db_path, const char* sql) {
    sqlite3* db = nullptr;
    std::string uri = "file:" + db_path.string() + "?immutable=1";
    EXPECT_EQ(sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr),
              SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::vector<std::pair<std::string, Bytes>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 1));
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                         Bytes(p, p + sqlite3_column_bytes(st, 1)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

TEST(ServerKey, IsCreatedOnceWithMode0600AndSealsInTheVersionedFormat) {
    TempDir dir;
    auto a = ServerKey::load_or_create(dir.path);
    auto sealed = a.seal("ctx", crypto::to_bytes("secret"));
    EXPECT_EQ(sealed.size(), 1 + 12 + 6 + 16u);
    EXPECT_EQ(sealed[0], 0x01);
    struct stat st {};
    ASSERT_EQ(::stat((dir.path / "server.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto b = ServerKey::load_or_create(dir.path);
    EXPECT_EQ(crypto::to_string(b.open("ctx", sealed).view()), "secret");
}

TEST(ServerKey, ValuesSealedByTheOldCodeOpen) {
    auto key = counting_key();
    EXPECT_EQ(crypto::to_string(key.open("address:3f9a", from_hex(kOldAddress)).view()),
              "+447700900123");
    EXPECT_EQ(crypto::to_string(key.open("handover:KUA-5M5", from_hex(kOldHandover)).view()),
              "Prefers calls after 6pm; M.K.");
}

TEST(ServerKey, MacsAreThoseOfTheOldCode) {
    // The audit key and address references of existing data directories depend on them.
    auto key = counting_key();
    EXPECT_EQ(crypto::hex_encode(key.mac("ariadne.audit.key.v1", crypto::to_bytes("audit"))),
              "cebef18b1b961c3afc4a99af6d1a0a85b2cdba2c2783865537d689bd27e3ea63");
    EXPECT_EQ(crypto::hex_encode(key.mac("address", crypto::to_bytes("+447700900123"))),
              "83ec7c3bbe5d0bebcaaf93f0321e098e14fd48d92031fcc35787392eb73e9ecb");
}

TEST(ServerKey, RefusalsKeepTheirSentences) {
    auto key = counting_key();
    const std::string does_not_open =
        "Sealing failed: the sealed value does not open (tampered, moved or another key).";
    EXPECT_EQ(open_error(key, "handover:OTHER-1", from_hex(kOldHandover)), does_not_open);
    EXPECT_EQ(open_error(ServerKey(crypto::SecretBytes(Bytes(32, 9))), "handover:KUA-5M5",
                         from_hex(kOldHandover)),
              does_not_open);
    Bytes tampered = from_hex(kOldHandover);
    tampered[20] ^= 0x04;
    EXPECT_EQ(open_error(key, "handover:KUA-5M5", tampered), does_not_open);
    Bytes fresh = key.seal("address:1", crypto::to_bytes("+15550100"));
    fresh.pop_back();
    EXPECT_EQ(open_error(key, "address:1", fresh), does_not_open);
    EXPECT_EQ(open_error(key, "address:1", Bytes(27, 0x01)),
              "Sealing failed: the sealed value is too short.");
}

TEST(ServerKey, AnOldReleasesDataDirectoryOpens) {
    // The caseworkers' TOTP secrets (sealed under their account ids) and the edge's account
    // (sealed as "edge-account") of the release of 2026-12-07.
    auto key = ServerKey::load_or_create(kRelease / "data");
    std::ifstream in(kRelease / "secrets.json");
    json secrets = json::parse(in);
    std::map<std::string, std::string> totp;
    for (const auto& person :
         {secrets["caseworkers"]["mara"], secrets["caseworkers"]["jon"], secrets["admin"]}) {
        totp[person["account"]] = person["totp_secret"];
    }
    auto sealed_totp = rows(kRelease / "data" / "ariadne.db",
                            "SELECT a.id, c.totp_sealed FROM caseworkers c "
                            "JOIN accounts a ON a.key = c.account");
    ASSERT_EQ(sealed_totp.size(), 3u);
    for (const auto& [account, sealed] : sealed_totp) {
        EXPECT_EQ(crypto::base32_encode(key.open(account, sealed).view()), totp.at(account));
    }
    auto edge =
        rows(kRelease / "data" / "edge" / "history.db", "SELECT tag, sealed FROM edge_accounts");
    ASSERT_EQ(edge.size(), 1u);
    EXPECT_EQ(crypto::to_string(key.open("edge-account", edge[0].second).view()),
              secrets["survivors"]["s3"]["account"].get<std::string>());
}

}  // namespace
}  // namespace ariadne::gateway::test
