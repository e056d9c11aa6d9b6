// The audit chain's rules without a database: how the next entry is built, and what the
// streaming verifier reports for an edited, reordered or truncated chain.
#include <gtest/gtest.h>

#include <vector>

#include "ariadne/policies/audit.h"
#include "ariadne/policies/error.h"

using namespace ariadne::policies;
using namespace std::chrono;

namespace {

const Instant kAt{sys_days{2025y / July / 14d} + hours{9}};
const AuditKey kKey = [] {
    AuditKey k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i * 7 + 1);
    return k;
}();

std::vector<AuditEntry> chain(std::size_t n, const AuditKey* key) {
    std::vector<AuditEntry> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::optional<AuditEntry> previous;
        if (!out.empty()) previous = out.back();
        out.push_back(next_audit_entry(previous, "cw:1", "decision.replies", "K7Q-2F9", "allow",
                                       "allowed:sms", kAt + seconds{static_cast<long>(i)}, key));
    }
    return out;
}

AuditVerification verify(const std::vector<AuditEntry>& entries, const std::optional<AuditKey>& key,
                         const std::vector<AuditCheckpoint>& checkpoints = {}) {
    AuditChainVerifier v(key, checkpoints);
    for (const auto& e : entries) {
        if (!v.add(e)) break;
    }
    return v.finish();
}

}  // namespace

TEST(AuditRules, EntriesAreNumberedAndLinkedAndAnIntactChainVerifies) {
    auto entries = chain(4, &kKey);
    EXPECT_EQ(entries[0].seq, 1U);
    EXPECT_EQ(entries[3].seq, 4U);
    EXPECT_EQ(entries[3].prev_hash, entries[2].hash);
    EXPECT_TRUE(audit_entry_keyed(entries[3], kKey));
    auto v = verify(entries, kKey);
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.entries, 4U);
    EXPECT_EQ(v.keyed_entries, 4U);
    EXPECT_EQ(v.head, entries[3].hash);
}

TEST(AuditRules, AnEditedEntryIsNamedAndNothingAfterItIsRead) {
    auto entries = chain(5, &kKey);
    entries[2].decision = "deny";
    auto v = verify(entries, kKey);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 3U);
    EXPECT_EQ(v.entries, 3U);
    EXPECT_NE(v.problem.find("edited"), std::string::npos) << v.problem;
}

TEST(AuditRules, ReorderedEntriesAreNamed) {
    auto entries = chain(4, nullptr);
    std::swap(entries[1], entries[2]);
    EXPECT_EQ(verify(entries, std::nullopt).first_bad_seq, 2U);
}

TEST(AuditRules, AnUnkeyedEntryCannotFollowAKeyedOne) {
    auto entries = chain(2, &kKey);
    EXPECT_THROW(next_audit_entry(entries.back(), "system", "note", "", "", "", kAt, nullptr),
                 Error);
    // Forged anyway (someone without the key): the verifier names it.
    AuditEntry forged = entries.back();
    forged.seq = 3;
    forged.prev_hash = entries.back().hash;
    forged.hash = audit_hash(forged);
    entries.push_back(forged);
    auto v = verify(entries, kKey);
    EXPECT_EQ(v.first_bad_seq, 3U);
    EXPECT_NE(v.problem.find("unkeyed after keyed"), std::string::npos) << v.problem;
}

TEST(AuditRules, FreeTextIsRefusedNamingTheField) {
    try {
        next_audit_entry(std::nullopt, "cw:1", "note", "", "", "Maria Rossi called", kAt, &kKey);
        FAIL() << "free text entered the log";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_field);
        EXPECT_EQ(e.field(), "audit.reason");
    }
}

TEST(AuditRules, ATruncatedChainIsCaughtByACheckpointAndAForgedCheckpointIsRefused) {
    auto entries = chain(5, &kKey);
    const AuditCheckpoint at5{5, entries[4].hash, audit_checkpoint_mac(5, entries[4].hash, kKey)};
    EXPECT_TRUE(verify(entries, kKey, {at5}).ok);
    entries.pop_back();
    auto v = verify(entries, kKey, {at5});
    EXPECT_FALSE(v.ok);
    EXPECT_NE(v.problem.find("newest entries were removed"), std::string::npos) << v.problem;

    AuditCheckpoint forged = at5;
    forged.mac[0] ^= 1;
    auto f = verify(chain(5, &kKey), kKey, {forged});
    EXPECT_FALSE(f.ok);
    EXPECT_EQ(f.entries, 0U);
    EXPECT_NE(f.problem.find("not authentic"), std::string::npos) << f.problem;
}
