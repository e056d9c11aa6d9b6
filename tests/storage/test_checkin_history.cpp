// CheckinHistory on a real policy database: her latest check-in slot and the retention purge.
#include <gtest/gtest.h>

#include "ariadne/storage/checkin_history.h"
#include "policy_db.h"

namespace ariadne::storage {
namespace {

using policies::CaseCode;

class CheckinHistoryTest : public PolicyDbTest {
  protected:
    /// One slot as the scheduler writes it (the scheduler's own tests cover how).
    void slot(const std::string& key, const std::string& code, std::int64_t start, std::int64_t end,
              const std::string& state) {
        outside()
            .prepare(
                "INSERT INTO policies_checkin_occurrences(idempotency_key, plan_id, case_code, "
                "slot_day, window_start_at, window_end_at, deadline_at, state) "
                "VALUES(?,1,?,0,?,?,?,?)")
            .bind(1, key)
            .bind(2, code)
            .bind(3, start)
            .bind(4, end)
            .bind(5, end)
            .bind(6, state)
            .run();
    }
};

TEST_F(CheckinHistoryTest, TheLatestStateIsTheSlotWhoseWindowStartsLast) {
    CheckinHistory history(store());
    EXPECT_FALSE(history.latest_state(CaseCode("K7Q-2F9")));
    slot("a", "K7Q-2F9", 300, 400, "sent");
    slot("b", "K7Q-2F9", 100, 200, "missed");
    slot("c", "M3X-8HT", 500, 600, "responded");
    EXPECT_EQ(history.latest_state(CaseCode("K7Q-2F9")), "sent");
    EXPECT_EQ(history.latest_state(CaseCode("M3X-8HT")), "responded");
}

TEST_F(CheckinHistoryTest, ThePurgeDeletesOnlyClosedSlotsThatEndedBeforeTheCutoff) {
    slot("old-missed", "K7Q-2F9", 100, 200, "missed");
    slot("old-responded", "K7Q-2F9", 300, 400, "responded");
    slot("old-sent", "K7Q-2F9", 100, 200, "sent");
    slot("old-claimed", "K7Q-2F9", 100, 200, "claimed");
    slot("at-cutoff", "K7Q-2F9", 900, 1000, "missed");
    slot("recent", "K7Q-2F9", 1100, 1200, "responded");
    CheckinHistory history(store());
    EXPECT_EQ(history.purge_closed_before(at_us(1000)), 2);
    EXPECT_EQ(count("SELECT count(*) FROM policies_checkin_occurrences"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM policies_checkin_occurrences WHERE idempotency_key "
                    "IN ('old-missed', 'old-responded')"),
              0);
    EXPECT_EQ(history.purge_closed_before(at_us(1000)), 0);
}

}  // namespace
}  // namespace ariadne::storage
