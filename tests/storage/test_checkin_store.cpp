// PolicyStore as the check-in scheduler's CheckinStore, on a real SQLite file: each call is
// one transaction with its audit entry, a slot is recorded once, her answer settles only the
// check-ins it can answer, and a broken database reaches callers as Error{storage}.
#include <gtest/gtest.h>

#include <algorithm>

#include "ariadne/policies/checkin_store.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/policy_store.h"
#include "policy_test_support.h"

using namespace ariadne::policies;
using namespace ariadne::policies::testing;
using namespace std::chrono;

namespace {

const sys_days kMonday{2025y / July / 14d};
const Instant kNine = instant(kMonday + hours{7});  // 09:00 in Rome

class CheckinStoreTest : public ::testing::Test {
  protected:
    TempDir dir;
    std::string path = dir.file("gateway.db");
    std::unique_ptr<PolicyStore> store = PolicyStore::open(path);
    CheckinStore& checkins = *store;
    CaseCode code =
        store->enrol_survivor(survivor_in("Europe/Rome"), kCaseworker, kNine - days{1}).case_code;

    CheckinPlan plan() const {
        return CheckinPlan{.case_code = code,
                           .every_days = 1,
                           .first_day = local_days{2025y / July / 14d},
                           .channels = {ChannelRef{ChannelKind::sms, ""}}};
    }
    /// The slot claim() takes: a claim needs the plan to stand at it.
    static ScheduledSlot slot() {
        return ScheduledSlot{local_days{2025y / July / 14d}, kNine + hours{1}};
    }
    CheckinClaim claim(std::int64_t plan_id, const std::string& skipped = "") const {
        return CheckinClaim{.idempotency_key = std::to_string(plan_id) + ":2025-07-14",
                            .plan_id = plan_id,
                            .case_code = code,
                            .slot_day = local_days{2025y / July / 14d},
                            .window_start = kNine + hours{1},
                            .window_end = kNine + hours{9},
                            .deadline = kNine + hours{33},
                            .skipped_reason = skipped};
    }
    std::vector<std::string> actions() const {
        std::vector<std::string> out;
        for (const auto& e : store->audit_entries(1, 1000)) out.push_back(e.action);
        return out;
    }
    std::size_t count(const std::string& action) const {
        auto all = actions();
        return static_cast<std::size_t>(std::count(all.begin(), all.end(), action));
    }
};

}  // namespace

TEST_F(CheckinStoreTest, ASavedPlanReadsBackWithItsNextSlotAndIsAudited) {
    const ScheduledSlot next{local_days{2025y / July / 14d}, kNine + hours{1}};
    std::int64_t id = checkins.save_checkin_plan(plan(), next, "cw:1", kNine);
    ASSERT_GT(id, 0);
    auto stored = checkins.find_checkin_plan(id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->case_code, code);
    EXPECT_EQ(stored->channels, plan().channels);
    EXPECT_EQ(checkins.next_checkin_due(), next.due);
    EXPECT_TRUE(checkins.due_checkin_plans(next.due - minutes{1}, 10).empty());
    EXPECT_EQ(checkins.due_checkin_plans(next.due, 10), std::vector<std::int64_t>{id});
    auto due = checkins.due_checkin(id, next.due);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->slot.day, next.day);
    EXPECT_EQ(count("checkin.plan_set"), 1U);
}

TEST_F(CheckinStoreTest, ReplacingAPlanThatDoesNotExistChangesNothing) {
    CheckinPlan missing = plan();
    missing.plan_id = 4242;
    const auto before = actions();
    try {
        checkins.save_checkin_plan(missing, std::nullopt, "cw:1", kNine);
        FAIL() << "a missing plan was replaced";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::not_found);
        EXPECT_EQ(e.field(), "plan.plan_id");
    }
    EXPECT_EQ(actions(), before);
    EXPECT_FALSE(checkins.next_checkin_due());
}

TEST_F(CheckinStoreTest, ASlotIsRecordedOnceAndASkippedOneIsAuditedOnce) {
    std::int64_t id = checkins.save_checkin_plan(plan(), slot(), "cw:1", kNine);
    EXPECT_TRUE(checkins.claim_checkin(claim(id, "window_passed"), std::nullopt, kNine));
    EXPECT_FALSE(checkins.claim_checkin(claim(id, "window_passed"), std::nullopt, kNine));
    EXPECT_FALSE(checkins.claim_checkin(claim(id), std::nullopt, kNine));
    EXPECT_EQ(count("checkin.skipped"), 1U);
    auto occ = checkins.checkin_occurrences(id);
    ASSERT_EQ(occ.size(), 1U);
    EXPECT_EQ(occ[0].state, "skipped");
    EXPECT_EQ(occ[0].reason, "window_passed");
}

TEST_F(CheckinStoreTest, AClaimAfterThePlanMovedOnTakesNothingAndDoesNotMoveItBack) {
    std::int64_t id = checkins.save_checkin_plan(plan(), slot(), "cw:1", kNine);
    const ScheduledSlot tuesday{local_days{2025y / July / 15d}, kNine + days{1} + hours{1}};
    // Another node read the slot due too, and claimed it first.
    ASSERT_TRUE(checkins.claim_checkin(claim(id), tuesday, kNine + hours{1}));
    EXPECT_FALSE(checkins.claim_checkin(claim(id), tuesday, kNine + hours{1}));
    EXPECT_EQ(checkins.next_checkin_due(), tuesday.due);

    // A plan paused since its slot was read due: the slot is neither taken nor recorded.
    CheckinClaim late = claim(id);
    late.idempotency_key = std::to_string(id) + ":2025-07-15";
    late.slot_day = tuesday.day;
    checkins.set_checkin_plan_status(id, PlanStatus::paused, std::nullopt, "cw:1", kNine);
    EXPECT_FALSE(checkins.claim_checkin(late, std::nullopt, tuesday.due));
    EXPECT_EQ(checkins.checkin_occurrences(id).size(), 1U);
}

TEST_F(CheckinStoreTest, AClaimLeftByAStoppedProcessIsInterruptedAndNeverClaimedAgain) {
    std::int64_t id = checkins.save_checkin_plan(plan(), slot(), "cw:1", kNine);
    ASSERT_TRUE(checkins.claim_checkin(claim(id), std::nullopt, kNine + hours{1}));
    checkins.interrupt_claimed_checkins();
    auto occ = checkins.checkin_occurrences(id);
    ASSERT_EQ(occ.size(), 1U);
    EXPECT_EQ(occ[0].state, "interrupted");
    EXPECT_FALSE(checkins.claim_checkin(claim(id), std::nullopt, kNine + hours{2}));
}

TEST_F(CheckinStoreTest, HerMessageAnswersOnlyACheckinItCanAnswer) {
    std::int64_t id = checkins.save_checkin_plan(plan(), slot(), "cw:1", kNine);
    const CheckinClaim c = claim(id);
    ASSERT_TRUE(checkins.claim_checkin(c, std::nullopt, kNine + hours{1}));
    checkins.settle_checkin(c.idempotency_key, code, "sent", "", "sms", kNine + hours{1});
    ASSERT_TRUE(checkins.open_checkin(c.idempotency_key));
    EXPECT_EQ(checkins.overdue_checkins(c.deadline, 10),
              std::vector<std::string>{c.idempotency_key});

    // Before the window opened: not an answer to it.
    checkins.record_inbound(code, c.window_start - minutes{1});
    EXPECT_TRUE(checkins.open_checkin(c.idempotency_key));
    EXPECT_EQ(count("checkin.responded"), 0U);
    // An older message recorded late does not move her last message back.
    checkins.record_inbound(code, c.window_start - hours{5});
    EXPECT_EQ(checkins.last_inbound(code), c.window_start - minutes{1});

    checkins.record_inbound(code, c.window_start + hours{2});
    EXPECT_FALSE(checkins.open_checkin(c.idempotency_key));
    EXPECT_EQ(checkins.checkin_occurrences(id)[0].state, "responded");
    EXPECT_EQ(count("checkin.responded"), 1U);
    EXPECT_TRUE(checkins.overdue_checkins(c.deadline, 10).empty());
}

TEST_F(CheckinStoreTest, AMissedCheckinAndAHaltedPlanAreRecordedWithTheirAudit) {
    std::int64_t id = checkins.save_checkin_plan(plan(), slot(), "cw:1", kNine);
    const CheckinClaim c = claim(id);
    ASSERT_TRUE(checkins.claim_checkin(c, std::nullopt, kNine + hours{1}));
    checkins.settle_checkin(c.idempotency_key, code, "sent", "", "sms", kNine + hours{1});
    EXPECT_TRUE(checkins.mark_checkin_missed(c.idempotency_key, code, "no_alert_by_her_choice",
                                             c.deadline));
    EXPECT_EQ(checkins.checkin_occurrences(id)[0].state, "missed");
    // Marked once (by another node, say): a second mark changes nothing and is not audited.
    EXPECT_FALSE(checkins.mark_checkin_missed(c.idempotency_key, code, "no_alert_by_her_choice",
                                              c.deadline));
    EXPECT_EQ(count("checkin.missed"), 1U);

    checkins.save_checkin_plan(
        [&] {
            CheckinPlan p = plan();
            p.plan_id = id;
            return p;
        }(),
        ScheduledSlot{local_days{2025y / July / 16d}, kNine + days{2}}, "cw:1", kNine);
    checkins.halt_checkin_plan(id, code, "unknown_time_zone", kNine);
    EXPECT_FALSE(checkins.next_checkin_due());
    EXPECT_EQ(store->audit_entries(1, 1000).back().reason, "unknown_time_zone");
    EXPECT_TRUE(store->verify_audit_chain().ok);
}

TEST_F(CheckinStoreTest, ABrokenDatabaseIsAStorageErrorNamingSqlitesReason) {
    raw_sql(path, "DROP TABLE policies_checkin_occurrences");
    try {
        store->checkin_occurrences(1);
        FAIL() << "a missing table was read";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::storage);
        EXPECT_EQ(std::string(e.what()).rfind("storage: ", 0), 0U) << e.what();
    }
}
