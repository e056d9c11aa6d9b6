// Retention through a real SQLite file: PolicyService::apply_retention deletes settled
// check-in slots, closed call-back tasks and undelivered mailbox entries older than the
// organisation's retention_days, keeps open slots, audits the counts only, and the audit chain
// verifies.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ariadne/policies/checkin.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/callback_tasks.h"
#include "harness.h"

namespace ariadne::gateway {
namespace {

void insert_occurrence(policies::PolicyStore& store, const std::string& key,
                       const std::string& state, policies::Instant window_end) {
    auto guard = store.lock();
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(store.connection().sqlite,
                                 "INSERT INTO policies_checkin_occurrences(idempotency_key, "
                                 "plan_id, case_code, slot_day, window_start_at, window_end_at, "
                                 "deadline_at, state) VALUES (?, 1, 'K7Q2F9', 0, ?, ?, ?, ?)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    const auto end = policies::to_micros(window_end);
    sqlite3_bind_text(s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, end - 3600'000'000LL);
    sqlite3_bind_int64(s, 3, end);
    sqlite3_bind_int64(s, 4, end);
    sqlite3_bind_text(s, 5, state.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

long count(policies::PolicyStore& store, const std::string& sql) {
    auto guard = store.lock();
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(store.connection().sqlite, sql.c_str(), -1, &s, nullptr),
              SQLITE_OK);
    long n = sqlite3_step(s) == SQLITE_ROW ? static_cast<long>(sqlite3_column_int64(s, 0)) : -1;
    sqlite3_finalize(s);
    return n;
}

TEST(Retention, OldSettledSlotsAndUndeliveredEntriesArePurgedOpenOnesKeptAndTheChainVerifies) {
    test::Harness h;
    const auto real_now =
        std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    // The service's clock is 400 days ahead: with retention 365 days, today is 35 days old.
    policies::ManualClock clock(real_now + std::chrono::days(400));
    PolicyService service(*h.store, h.key, h.store_options.path.string(),
                          h.store_options.path.parent_path(), std::chrono::seconds(15), &clock);
    service.attach(*h.gateway);
    Account her = h.store->create_survivor(crypto::random_bytes(32), crypto::random_bytes(33));
    ASSERT_TRUE(store_notice_sync(*h.store, NewNotice{.recipient = her.key,
                                                      .recipient_device = 1,
                                                      .notice = "checkin",
                                                      .reference = "1:2026-01-01",
                                                      .language = "en",
                                                      .template_id = "neutral_checkin"}));
    auto& policies = service.store();
    insert_occurrence(policies, "1:old-responded", "responded", real_now);
    insert_occurrence(policies, "1:old-sent", "sent", real_now);  // open: kept
    insert_occurrence(policies, "1:recent", "missed", real_now + std::chrono::days(100));
    // Call-back tasks: closed long ago (purged with its attempt), open long ago (kept: she is
    // still waiting for a call), closed recently (kept).
    storage::CallbackTasks tasks(policies);
    const std::int64_t real_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(real_now.time_since_epoch()).count();
    auto task = [&](const char* code, const char* state, std::int64_t at_ms) {
        storage::CallbackTaskRow row;
        row.case_code = code;
        row.source = "request";
        row.channel = "app";
        row.requested_at_ms = at_ms;
        row.windows = {{at_ms, at_ms + 3'600'000}};
        row.state = state;
        row.updated_at_ms = at_ms;
        return tasks.insert(row);
    };
    const std::int64_t old_done = task("K7Q2F9", "done", real_ms);
    tasks.add_attempt(old_done, {real_ms, "a_caseworker", "done"});
    const std::int64_t old_open = task("K7Q2F8", "open", real_ms);
    const std::int64_t recent_done = task("K7Q2F7", "done", real_ms + 100LL * 86'400'000);

    auto purged = service.apply_retention();
    EXPECT_EQ(purged.occurrences, 1);
    EXPECT_EQ(purged.mailbox, 1);
    EXPECT_EQ(purged.callbacks, 1);
    EXPECT_FALSE(tasks.find(old_done).has_value());
    EXPECT_TRUE(tasks.find(old_open).has_value());
    EXPECT_TRUE(tasks.find(recent_done).has_value());
    EXPECT_EQ(count(policies, "SELECT count(*) FROM gateway_callback_attempts"), 0);
    EXPECT_EQ(h.store->mailbox_size(), 0);
    EXPECT_EQ(count(policies, "SELECT count(*) FROM policies_checkin_occurrences"), 2);
    EXPECT_EQ(count(policies,
                    "SELECT count(*) FROM policies_checkin_occurrences WHERE "
                    "idempotency_key = '1:old-responded'"),
              0);
    EXPECT_EQ(count(policies,
                    "SELECT count(*) FROM policies_audit WHERE action = "
                    "'retention.purge' AND reason = 'occurrences:1/mailbox:1/callbacks:1'"),
              1);
    EXPECT_TRUE(policies.verify_audit_chain().ok);

    // Nothing left to purge: no audit entry.
    auto again = service.apply_retention();
    EXPECT_EQ(again.occurrences + again.mailbox + again.callbacks, 0);
    EXPECT_EQ(count(policies,
                    "SELECT count(*) FROM policies_audit WHERE action = "
                    "'retention.purge'"),
              1);
}

}  // namespace
}  // namespace ariadne::gateway
