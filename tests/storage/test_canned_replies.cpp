// CannedReplies: the organisation's replies in order, replaced and audited in one
// transaction.
#include "ariadne/storage/canned_replies.h"

#include "ariadne/policies/error.h"
#include "shared_db_fixture.h"

namespace ariadne::storage {
namespace {

using CannedRepliesTest = testing::SharedDbTest;

TEST_F(CannedRepliesTest, NoneAreStoredAtFirst) {
    EXPECT_TRUE(CannedReplies(store()).list().empty());
}

TEST_F(CannedRepliesTest, ReplacingKeepsTheGivenOrderAndDropsTheEarlierReplies) {
    const std::vector<CannedReply> first = {{"Zeta", "last label alphabetically, first in order"},
                                            {"Alpha", "line one\nline two"},
                                            {"Mid", "third"}};
    CannedReplies(store()).replace(first, "a_admin", at(1));
    reopen();
    EXPECT_EQ(CannedReplies(store()).list(), first);

    const std::vector<CannedReply> second = {{"Only", "one reply now"}};
    CannedReplies(store()).replace(second, "a_admin", at(2));
    EXPECT_EQ(CannedReplies(store()).list(), second);

    CannedReplies(store()).replace({}, "a_admin", at(3));
    EXPECT_TRUE(CannedReplies(store()).list().empty());
}

TEST_F(CannedRepliesTest, EachReplyKeepsItsLanguageAndTheOrderAcrossLanguages) {
    const std::vector<CannedReply> replies = {{"Hi", "Hello", "en"},
                                              {"مرحبا", "أنا هنا وأقرأ رسالتك.", "ar"},
                                              {"Later", "Take your time.", "en"},
                                              {"Olá", "Estou aqui.", "pt-BR"}};
    CannedReplies(store()).replace(replies, "a_admin", at(1));
    reopen();
    EXPECT_EQ(CannedReplies(store()).list(), replies);
}

TEST_F(CannedRepliesTest, EveryReplacementIsAuditedWithWhoAndWhetherDefaultsApply) {
    CannedReplies(store()).replace({{"Hi", "Hello"}}, "a_admin", at(1));
    CannedReplies(store()).replace({}, "a_other", at(2));
    auto entries = store().audit_entries(1, 100);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].action, "policy.canned_replies");
    EXPECT_EQ(entries[0].actor, "a_admin");
    EXPECT_EQ(entries[0].reason, "set");
    EXPECT_EQ(entries[1].actor, "a_other");
    EXPECT_EQ(entries[1].reason, "defaults");
}

TEST_F(CannedRepliesTest, ARefusedAuditEntryLeavesTheEarlierRepliesInPlace) {
    const std::vector<CannedReply> kept = {{"Kept", "still here"}};
    CannedReplies(store()).replace(kept, "a_admin", at(1));
    // An actor that is not a token is refused by the audit chain, after the rows changed.
    EXPECT_THROW(CannedReplies(store()).replace({{"New", "x"}}, "not a token", at(2)),
                 policies::Error);
    EXPECT_EQ(CannedReplies(store()).list(), kept);
    EXPECT_EQ(store().audit_entries(1, 100).size(), 1u);
}

}  // namespace
}  // namespace ariadne::storage
