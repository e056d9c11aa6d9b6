// DuressDigests on a real policy database: the organisation's list of phrase digests.
#include <algorithm>

#include <gtest/gtest.h>

#include "ariadne/storage/duress_digests.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_db.h"

namespace ariadne::storage {
namespace {

class DuressDigestsTest : public PolicyDbTest {};

std::vector<DuressDigest> sorted(std::vector<DuressDigest> v) {
    std::sort(v.begin(), v.end(),
              [](const DuressDigest& a, const DuressDigest& b) { return a.digest < b.digest; });
    return v;
}

TEST_F(DuressDigestsTest, AnEmptyDatabaseHasNoDigests) {
    EXPECT_TRUE(DuressDigests(store()).all().empty());
}

TEST_F(DuressDigestsTest, TheListIsReplacedWholeAndADuplicateIsStoredOnce) {
    EXPECT_EQ(DuressDigests(store()).replace_all({{{1, 1}, 1}, {{2, 2}, 3}, {{1, 1}, 1}}), 2u);
    reopen();
    auto all = sorted(DuressDigests(store()).all());
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].digest, (crypto::Bytes{1, 1}));
    EXPECT_EQ(all[0].words, 1u);
    EXPECT_EQ(all[1].digest, (crypto::Bytes{2, 2}));
    EXPECT_EQ(all[1].words, 3u);
    EXPECT_EQ(DuressDigests(store()).replace_all({{{3}, 2}}), 1u);
    all = DuressDigests(store()).all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].digest, (crypto::Bytes{3}));
    EXPECT_EQ(DuressDigests(store()).replace_all({}), 0u);
    EXPECT_TRUE(DuressDigests(store()).all().empty());
}

TEST_F(DuressDigestsTest, AReplacementInAnUncommittedTransactionKeepsTheOldList) {
    DuressDigests d(store());
    d.replace_all({{{1}, 1}});
    {
        SharedTransaction tx(store());
        d.replace_all({{{2}, 2}, {{3}, 3}});
        EXPECT_EQ(d.all().size(), 2u);  // the transaction sees its own writes
    }
    auto all = d.all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].digest, (crypto::Bytes{1}));
}

}  // namespace
}  // namespace ariadne::storage
