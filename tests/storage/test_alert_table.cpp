// AlertTable: open alerts by kind and case, order, clearing once, and its share of a
// SharedTransaction with the PolicyStore.
#include "ariadne/storage/alerts.h"

#include "ariadne/storage/shared_transaction.h"
#include "shared_db_fixture.h"

namespace ariadne::storage {
namespace {

using AlertTableTest = testing::SharedDbTest;

TEST_F(AlertTableTest, AnOpenAlertIsFoundByKindAndCaseIncludingAnAlertWithoutCase) {
    AlertTable alerts(store());
    auto with_case = alerts.insert("K7Q-2F9", "new_device", false, 1000);
    auto without = alerts.insert(std::nullopt, "unverified_channel", false, 2000);
    EXPECT_EQ(alerts.find_open("new_device", "K7Q-2F9"), with_case);
    EXPECT_EQ(alerts.find_open("unverified_channel", std::nullopt), without);
    EXPECT_EQ(alerts.find_open("new_device", std::nullopt), std::nullopt);
    EXPECT_EQ(alerts.find_open("new_device", "AAA-BBB"), std::nullopt);
    EXPECT_EQ(alerts.find_open("duress", "K7Q-2F9"), std::nullopt);
}

TEST_F(AlertTableTest, ARowReadsBackAsStoredAndKeepsAcrossARestart) {
    std::int64_t id = AlertTable(store()).insert("K7Q-2F9", "duress", true, 1234);
    reopen();
    auto row = AlertTable(store()).find(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->id, id);
    EXPECT_EQ(row->case_code, "K7Q-2F9");
    EXPECT_EQ(row->kind, "duress");
    EXPECT_TRUE(row->urgent);
    EXPECT_EQ(row->raised_at_ms, 1234);
    EXPECT_EQ(row->cleared_at_ms, std::nullopt);
    EXPECT_EQ(row->cleared_by, "");
    EXPECT_EQ(AlertTable(store()).find(id + 1), std::nullopt);
}

TEST_F(AlertTableTest, OpenAlertsListUrgentFirstThenOldestAndLeaveOutClearedOnes) {
    AlertTable alerts(store());
    auto a = alerts.insert("AAA-AAA", "new_device", false, 1);
    auto b = alerts.insert("BBB-BBB", "duress", true, 2);
    auto c = alerts.insert(std::nullopt, "unverified_channel", false, 3);
    auto d = alerts.insert("CCC-CCC", "missed_checkin", false, 4);
    ASSERT_TRUE(alerts.clear(c, 10, "a_worker"));
    std::vector<std::int64_t> ids;
    for (const auto& r : alerts.open_alerts()) ids.push_back(r.id);
    EXPECT_EQ(ids, (std::vector<std::int64_t>{b, a, d}));
}

TEST_F(AlertTableTest, AnAlertIsClearedOnceWithWhenAndByWhom) {
    AlertTable alerts(store());
    auto id = alerts.insert("K7Q-2F9", "missed_checkin", false, 1);
    EXPECT_TRUE(alerts.clear(id, 50, "a_first"));
    EXPECT_FALSE(alerts.clear(id, 60, "a_second"));
    auto row = alerts.find(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->cleared_at_ms, 50);
    EXPECT_EQ(row->cleared_by, "a_first");
    EXPECT_EQ(alerts.find_open("missed_checkin", "K7Q-2F9"), std::nullopt);
}

TEST_F(AlertTableTest, ClearingAllOfACaseTouchesOnlyThatCaseAndKind) {
    AlertTable alerts(store());
    auto d1 = alerts.insert("K7Q-2F9", "duress", true, 1);
    alerts.insert("K7Q-2F9", "duress", true, 2);  // a second open one (rows are not deduplicated)
    auto other_kind = alerts.insert("K7Q-2F9", "new_device", false, 3);
    auto other_case = alerts.insert("ZZZ-999", "duress", true, 4);
    ASSERT_TRUE(alerts.clear(d1, 5, "a_w"));
    EXPECT_EQ(alerts.clear_all("K7Q-2F9", "duress", 9, "a_w"), 1u);
    EXPECT_EQ(alerts.clear_all("K7Q-2F9", "duress", 9, "a_w"), 0u);
    EXPECT_FALSE(alerts.find(other_kind)->cleared_at_ms);
    EXPECT_FALSE(alerts.find(other_case)->cleared_at_ms);
    EXPECT_EQ(alerts.find(d1)->cleared_at_ms, 5);  // the earlier clear is not rewritten
}

TEST_F(AlertTableTest, AnUncommittedSharedTransactionLeavesNoAlertAndNoAuditEntry) {
    AlertTable alerts(store());
    {
        SharedTransaction tx(store());
        alerts.insert("K7Q-2F9", "duress", true, 1);
        store().append_audit("system", "alert.raised", "K7Q-2F9", "", "duress", at(1));
    }
    EXPECT_TRUE(alerts.open_alerts().empty());
    EXPECT_TRUE(store().audit_entries(1, 10).empty());
    {
        SharedTransaction tx(store());
        alerts.insert("K7Q-2F9", "duress", true, 1);
        store().append_audit("system", "alert.raised", "K7Q-2F9", "", "duress", at(1));
        tx.commit();
    }
    reopen();
    EXPECT_EQ(AlertTable(store()).open_alerts().size(), 1u);
    EXPECT_EQ(store().audit_entries(1, 10).size(), 1u);
}

}  // namespace
}  // namespace ariadne::storage
