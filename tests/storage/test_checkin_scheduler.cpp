// The check-in scheduler with an injectable clock and a real SQLite file: once per slot,
// never late, skips recorded, stops on withdrawal/pause/duress, survives restarts.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "ariadne/policies/checkin.h"
#include "ariadne/policies/error.h"
#include "policy_test_support.h"

using namespace ariadne::policies;
using namespace ariadne::policies::testing;
using namespace std::chrono;

namespace {

// Monday 14 July 2025; Rome is UTC+2.
const sys_days kMonday{2025y / July / 14d};
Instant rome(sys_days day, int hour, int minute = 0) {
    return Instant{day + hours{hour - 2} + minutes{minute}};
}

class Scheduler : public ::testing::Test {
  protected:
    TempDir dir;
    std::string path = dir.file("gateway.db");
    ManualClock clock{rome(kMonday, 9)};
    std::unique_ptr<PolicyStore> store;
    std::unique_ptr<CheckinScheduler> scheduler;
    std::vector<CheckinSend> sent;
    std::vector<Alert> alerts;
    SendOutcome outcome = SendOutcome::sent;
    bool reachable = true;  // what the gateway's reachable callback answers
    CaseCode code = CaseCode("K7Q-2F9");

    void SetUp() override {
        open();
        store->create_survivor(survivor_in("Europe/Rome"), kCaseworker, clock.now());
        for (ChannelRef c : {ChannelRef{ChannelKind::app, ""}, ChannelRef{ChannelKind::sms, ""}}) {
            store->record_consent(
                consent(code, c, Purpose::check_ins, ConsentAction::given, clock.now() - days{1}),
                kCaseworker);
        }
    }
    void open() {
        store = PolicyStore::open(path);
        scheduler = std::make_unique<CheckinScheduler>(
            *store, clock,
            CheckinCallbacks{.send =
                                 [this](const CheckinSend& s) {
                                     if (outcome == SendOutcome::sent) sent.push_back(s);
                                     return outcome;
                                 },
                             .alert = [this](const Alert& a) { alerts.push_back(a); },
                             .reachable = [this](const CheckinPlan&) { return reachable; }});
    }
    // Simulates a process restart: everything is dropped and the file reopened.
    void restart() {
        scheduler.reset();
        store.reset();
        open();
    }
    CheckinPlan daily_plan() {
        return CheckinPlan{
            .case_code = code,
            .every_days = 1,
            .first_day = local_days{kMonday.time_since_epoch()},
            .window = LocalWindow{10 * 60, 12 * 60, 0x7F},
            .channels = {ChannelRef{ChannelKind::app, ""}, ChannelRef{ChannelKind::sms, ""}},
            .grace_minutes = 60,
            .alert = AlertTarget::caseworker};
    }
    std::vector<std::string> states(std::int64_t plan) {
        std::vector<std::string> out;
        for (const auto& o : scheduler->occurrences(plan)) out.push_back(o.state + ":" + o.reason);
        return out;
    }
    void withdraw(ChannelRef c) {
        store->record_consent(
            consent(code, c, Purpose::check_ins, ConsentAction::withdrawn, clock.now()),
            kCaseworker);
    }
};

}  // namespace

TEST_F(Scheduler, SendsOnceWhenTheWindowOpensAndNeverTwice) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    EXPECT_EQ(scheduler->next_due(), rome(kMonday, 10));
    EXPECT_EQ(scheduler->run_due(), 0U);  // 09:00, before the window
    clock.set(rome(kMonday, 10, 5));
    EXPECT_EQ(scheduler->run_due(), 1U);
    EXPECT_EQ(scheduler->run_due(), 0U);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].idempotency_key, std::to_string(plan) + ":2025-07-14");
    EXPECT_EQ(sent[0].channel.kind, ChannelKind::app);
    EXPECT_EQ(sent[0].address_ref, "addr:7f3a");
    EXPECT_EQ(sent[0].text, "Bună, doar voiam să te salut. Răspunde oricând.");
    EXPECT_EQ(states(plan), std::vector<std::string>{"sent:"});
    EXPECT_EQ(scheduler->next_due(), rome(kMonday, 12) + minutes{60});  // the grace deadline
}

TEST_F(Scheduler, AFirstSlotSheCannotBeReachedForWaitsUnrecordedForTheNextWindowAfterSheCanBe) {
    CheckinPlan weekly = daily_plan();
    weekly.every_days = 7;
    reachable = false;  // no device, no verified number yet
    auto plan = scheduler->set_plan(weekly, kCaseworker);
    clock.set(rome(kMonday, 10, 5));
    EXPECT_EQ(scheduler->run_due(), 0U);
    EXPECT_EQ(scheduler->run_due(), 0U);
    // Its window ends: nothing recorded (no skipped or denied slot), no alert; the plan moves
    // on to the next day's window, not to next week's cadence date.
    clock.set(rome(kMonday, 13));
    EXPECT_EQ(scheduler->run_due(), 0U);
    EXPECT_TRUE(states(plan).empty());
    EXPECT_TRUE(sent.empty());
    EXPECT_TRUE(alerts.empty());
    EXPECT_EQ(scheduler->next_due(), rome(kMonday + days{1}, 10));
    clock.set(rome(kMonday + days{1}, 10, 30));
    EXPECT_EQ(scheduler->run_due(), 0U);
    EXPECT_TRUE(states(plan).empty());
    // She signs in at 11:00, inside Tuesday's window: her first check-in goes out then.
    reachable = true;
    clock.set(rome(kMonday + days{1}, 11));
    EXPECT_EQ(scheduler->run_due(), 1U);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].idempotency_key, std::to_string(plan) + ":2025-07-15");
    EXPECT_EQ(states(plan), std::vector<std::string>{"sent:"});
    // Later slots are never held: they follow the plan's cadence.
    reachable = false;
    clock.set(rome(kMonday + days{7}, 10, 5));
    scheduler->run_due();  // Tuesday's went unanswered (missed), and next Monday's goes out
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[1].idempotency_key, std::to_string(plan) + ":2025-07-21");
}

TEST_F(Scheduler, RestartMidWindowDoesNotResendAndSlotsMissedWhileDownAreSkippedNotSentLate) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    clock.set(rome(kMonday, 10, 30));
    scheduler->run_due();
    restart();
    clock.set(rome(kMonday, 11));
    EXPECT_EQ(scheduler->run_due(), 0U);
    EXPECT_EQ(sent.size(), 1U);
    // Down from Monday 11:00 until Thursday 11:00: Tuesday and Wednesday are skipped.
    restart();
    clock.set(rome(kMonday + days{3}, 11));
    scheduler->run_due();
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[1].idempotency_key, std::to_string(plan) + ":2025-07-17");
    auto s = states(plan);
    ASSERT_EQ(s.size(), 4U);
    EXPECT_EQ(s[1], "skipped:window_passed");
    EXPECT_EQ(s[2], "skipped:window_passed");
    // Down through all of Friday's window: nothing goes out at 13:00.
    restart();
    clock.set(rome(kMonday + days{4}, 13));
    scheduler->run_due();
    EXPECT_EQ(sent.size(), 2U);
    EXPECT_EQ(states(plan).back(), "skipped:window_passed");
}

TEST_F(Scheduler, ASlotClaimedBeforeACrashIsNeverSentAgain) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    // The process claimed Monday's slot and died before recording the send.
    raw_sql(path,
            "INSERT INTO policies_checkin_occurrences(idempotency_key, plan_id, case_code, "
            "slot_day, window_start_at, window_end_at, deadline_at, state) VALUES ('" +
                std::to_string(plan) + ":2025-07-14', " + std::to_string(plan) + ", '" +
                code.str() + "', 0, 0, 0, 0, 'claimed')");
    restart();
    clock.set(rome(kMonday, 10, 30));
    scheduler->run_due();
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(states(plan), std::vector<std::string>{"interrupted:process_stopped_during_send"});
}

TEST_F(Scheduler, WithdrawalBeforeTheSendStopsTheDueReminder) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    clock.set(rome(kMonday, 9, 59));
    withdraw(ChannelRef{ChannelKind::app, ""});
    withdraw(ChannelRef{ChannelKind::sms, ""});
    clock.set(rome(kMonday, 10, 1));
    scheduler->run_due();
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(states(plan), std::vector<std::string>{"denied:consent_withdrawn"});
    auto entries = store->audit_entries(1, 1000);
    int denials = 0;
    for (const auto& e : entries) {
        if (e.action == "decision.check_ins" && e.decision == "deny") ++denials;
    }
    EXPECT_EQ(denials, 2);  // both channels were checked at send time
}

TEST_F(Scheduler, WithdrawalOfTheFirstChannelFallsBackToTheNextConsentedOne) {
    scheduler->set_plan(daily_plan(), kCaseworker);
    withdraw(ChannelRef{ChannelKind::app, ""});
    clock.set(rome(kMonday, 10, 1));
    scheduler->run_due();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].channel.kind, ChannelKind::sms);
}

TEST_F(Scheduler, AChannelThatCannotSendFallsBackAndAllFailingRecordsDenied) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    outcome = SendOutcome::not_sent;
    clock.set(rome(kMonday, 10, 1));
    scheduler->run_due();
    EXPECT_EQ(states(plan), std::vector<std::string>{"denied:not_sent"});
}

TEST_F(Scheduler, PauseStopsOutreachImmediately) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    store->set_paused(code, true, kCaseworker, clock.now());
    clock.set(rome(kMonday, 10, 1));
    scheduler->run_due();
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(states(plan), std::vector<std::string>{"denied:survivor_paused"});
    // A paused plan schedules nothing and records nothing.
    store->set_paused(code, false, kCaseworker, clock.now());
    scheduler->set_plan_status(plan, PlanStatus::paused, kCaseworker);
    EXPECT_EQ(scheduler->next_due(), std::nullopt);
    clock.set(rome(kMonday + days{1}, 10, 1));
    scheduler->run_due();
    EXPECT_EQ(states(plan).size(), 1U);
    scheduler->set_plan_status(plan, PlanStatus::active, kCaseworker);
    scheduler->run_due();
    EXPECT_EQ(sent.size(), 1U);
}

TEST_F(Scheduler, AReplyInTheWindowOrGraceCountsAndAMissedCheckInAlertsOnlyIfSheChoseSo) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    clock.set(rome(kMonday, 10, 1));
    scheduler->run_due();
    scheduler->record_inbound(code, rome(kMonday, 12, 30));  // within the 60-minute grace
    clock.set(rome(kMonday, 14));
    scheduler->run_due();
    EXPECT_TRUE(alerts.empty());
    // Tuesday: no answer.
    clock.set(rome(kMonday + days{1}, 10, 1));
    scheduler->run_due();
    clock.set(rome(kMonday + days{1}, 13, 1));
    scheduler->run_due();
    ASSERT_EQ(alerts.size(), 1U);
    EXPECT_EQ(alerts[0].kind, AlertKind::missed_checkin);
    EXPECT_FALSE(alerts[0].urgent);
    ASSERT_EQ(alerts[0].caseworkers.size(), 1U);
    EXPECT_EQ(alerts[0].caseworkers[0].str(), "cw:1");
    auto s = states(plan);
    ASSERT_EQ(s.size(), 2U);
    EXPECT_EQ(s[0], "responded:");
    EXPECT_EQ(s[1], "missed:alert_caseworker");
    // She chose nobody: Wednesday's miss is recorded but alerts no one.
    auto p = *scheduler->plan(plan);
    p.alert = AlertTarget::nobody;
    scheduler->set_plan(p, kCaseworker);
    clock.set(rome(kMonday + days{2}, 10, 1));
    scheduler->run_due();
    clock.set(rome(kMonday + days{2}, 13, 1));
    scheduler->run_due();
    EXPECT_EQ(alerts.size(), 1U);
    EXPECT_EQ(states(plan).back(), "missed:no_alert_by_her_choice");
}

TEST_F(Scheduler, WhenSheWritesFirstInTheWindowNoCheckInIsSent) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    scheduler->record_inbound(code, rome(kMonday, 10, 0));
    clock.set(rome(kMonday, 10, 30));
    scheduler->run_due();
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(states(plan), std::vector<std::string>{"responded:she_wrote_first"});
}

TEST_F(Scheduler, DuressLocksOutreachUntilACaseworkerClearsIt) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    scheduler->raise_duress(code, rome(kMonday, 9, 30));
    ASSERT_EQ(alerts.size(), 1U);
    EXPECT_EQ(alerts[0].kind, AlertKind::duress);
    EXPECT_TRUE(alerts[0].urgent);
    EXPECT_TRUE(store->find_survivor(code)->flags.duress_lock);
    clock.set(rome(kMonday, 10, 40));
    scheduler->run_due();
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(states(plan).back(), "denied:duress_lock");
    store->clear_duress(code, kCaseworker, clock.now());
    clock.set(rome(kMonday + days{1}, 10, 40));
    scheduler->run_due();
    EXPECT_EQ(sent.size(), 1U);
}

TEST_F(Scheduler, PlansRefuseSocialMediaAndChannelsWithoutConsent) {
    auto p = daily_plan();
    p.channels = {ChannelRef{ChannelKind::messenger, "instagram"}};
    try {
        scheduler->set_plan(p, kCaseworker);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::refused);
        EXPECT_EQ(e.field(), "plan.channels[0]");
    }
    p.channels = {ChannelRef{ChannelKind::app, ""}, ChannelRef{ChannelKind::email, ""}};
    try {
        scheduler->set_plan(p, kCaseworker);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "plan.channels[1]");
    }
    p.channels = {ChannelRef{ChannelKind::app, ""}};
    p.window = LocalWindow{18 * 60, 10 * 60, 0x7F};
    EXPECT_THROW(scheduler->set_plan(p, kCaseworker), Error);
}

TEST_F(Scheduler, ListedDatesAndWeekdaysAreHonoured) {
    auto p = daily_plan();
    p.every_days = 0;
    p.window.weekdays = 0b0111110;  // Monday-Friday
    p.dates = {local_days{(kMonday + days{2}).time_since_epoch()},
               local_days{(kMonday + days{9}).time_since_epoch()}};
    auto plan = scheduler->set_plan(p, kCaseworker);
    EXPECT_EQ(scheduler->next_due(), rome(kMonday + days{2}, 10));
    p.dates.push_back(local_days{(kMonday + days{5}).time_since_epoch()});  // a Saturday
    try {
        scheduler->set_plan(p, kCaseworker);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "plan.dates[2]");
    }
    // Every 2 days from Friday: Sunday moves to Monday.
    auto q = daily_plan();
    q.every_days = 2;
    q.first_day = local_days{(kMonday + days{4}).time_since_epoch()};
    q.window.weekdays = 0b0111110;
    q.plan_id = plan;
    scheduler->set_plan(q, kCaseworker);
    for (int d : {4, 6, 7}) {  // Friday, Sunday (nothing), Monday
        clock.set(rome(kMonday + days{d}, 11));
        scheduler->run_due();
    }
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[0].idempotency_key, std::to_string(plan) + ":2025-07-18");
    EXPECT_EQ(sent[1].idempotency_key, std::to_string(plan) + ":2025-07-21");
}

TEST_F(Scheduler, NextDueAndDueQueriesUseTheIndexNotAScan) {
    for (const char* sql : {"EXPLAIN QUERY PLAN SELECT MIN(next_due_at) FROM "
                            "policies_checkin_plans WHERE next_due_at IS NOT NULL",
                            "EXPLAIN QUERY PLAN SELECT plan_id FROM policies_checkin_plans WHERE "
                            "next_due_at IS NOT NULL AND "
                            "next_due_at <= 5 ORDER BY next_due_at LIMIT 256",
                            "EXPLAIN QUERY PLAN SELECT MIN(deadline_at) FROM "
                            "policies_checkin_occurrences WHERE state = 'sent'",
                            "EXPLAIN QUERY PLAN SELECT idempotency_key FROM "
                            "policies_checkin_occurrences WHERE state = 'sent' "
                            "AND deadline_at <= 5 ORDER BY deadline_at LIMIT 256"}) {
        sqlite3_stmt* q = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(store->connection().sqlite, sql, -1, &q, nullptr), SQLITE_OK);
        std::string plan;
        while (sqlite3_step(q) == SQLITE_ROW)
            plan += reinterpret_cast<const char*>(sqlite3_column_text(q, 3));
        sqlite3_finalize(q);
        EXPECT_NE(plan.find("INDEX"), std::string::npos) << sql << " -> " << plan;
        EXPECT_EQ(plan.find("SCAN policies_checkin_plans\0"), std::string::npos);
        EXPECT_TRUE(plan.find("SCAN") == std::string::npos ||
                    plan.find("USING") != std::string::npos)
            << sql << " -> " << plan;
    }
}

TEST(SchedulerDst, RomeSpringForwardWindowStartsWhenTheClockJumpsAndAVanishedWindowIsSkipped) {
    TempDir dir;
    auto store = PolicyStore::open(dir.file("db"));
    OrgPolicy policy;
    policy.quiet_hours = LocalWindow{23 * 60, 23 * 60 + 30, 0x7F};
    store->set_org_policy(policy, kAdmin, instant(sys_days{2025y / March / 1d}));
    const sys_days night{2025y / March / 30d};
    ManualClock clock{instant(night - days{1})};
    store->create_survivor(survivor_in("Europe/Rome"), kCaseworker, clock.now());
    CaseCode code("K7Q-2F9");
    store->record_consent(consent(code, ChannelRef{ChannelKind::app, ""}, Purpose::check_ins,
                                  ConsentAction::given, clock.now()),
                          kCaseworker);
    std::vector<CheckinSend> sent;
    CheckinScheduler s(*store, clock, CheckinCallbacks{.send = [&](const CheckinSend& m) {
        sent.push_back(m);
        return SendOutcome::sent;
    }});
    CheckinPlan across{.case_code = code,
                       .every_days = 1,
                       .first_day = local_days{night.time_since_epoch()},
                       .window = LocalWindow{2 * 60 + 30, 3 * 60 + 30, 0x7F},  // 02:30-03:30
                       .channels = {ChannelRef{ChannelKind::app, ""}}};
    auto p1 = s.set_plan(across, kCaseworker);
    // 02:30 does not exist that night: the window opens at 03:00 CEST = 01:00 UTC.
    EXPECT_EQ(s.next_due(), instant(night + hours{1}));
    CheckinPlan vanished = across;
    vanished.window = LocalWindow{2 * 60 + 5, 2 * 60 + 55, 0x7F};  // 02:05-02:55: never happens
    auto p2 = s.set_plan(vanished, kCaseworker);
    clock.set(instant(night + hours{1} + minutes{10}));
    s.run_due();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].plan_id, p1);
    auto occ = s.occurrences(p2);
    ASSERT_EQ(occ.size(), 1U);
    EXPECT_EQ(occ[0].state, "skipped");
    EXPECT_EQ(occ[0].reason, "window_does_not_exist");
}

TEST(SchedulerDst, AucklandWindowIsInHerLocalTimeAcrossTheDateLine) {
    TempDir dir;
    auto store = PolicyStore::open(dir.file("db"));
    ManualClock clock{instant(sys_days{2025y / January / 10d})};
    store->create_survivor(survivor_in("Pacific/Auckland"), kCaseworker, clock.now());
    CaseCode code("K7Q-2F9");
    store->record_consent(consent(code, ChannelRef{ChannelKind::sms, ""}, Purpose::check_ins,
                                  ConsentAction::given, clock.now()),
                          kCaseworker);
    CheckinScheduler s(*store, clock, CheckinCallbacks{.send = [](const CheckinSend&) {
        return SendOutcome::sent;
    }});
    s.set_plan(CheckinPlan{.case_code = code,
                           .every_days = 7,
                           .first_day = local_days{2025y / January / 15d},
                           .window = LocalWindow{10 * 60, 12 * 60, 0x7F},
                           .channels = {ChannelRef{ChannelKind::sms, ""}}},
               kCaseworker);
    // 10:00 NZDT (UTC+13) on 15 January is 21:00 UTC on 14 January.
    EXPECT_EQ(s.next_due(), instant(sys_days{2025y / January / 14d} + hours{21}));
}

TEST_F(Scheduler, ASlotNoChannelCanCarryAlertsHerCaseworkersWhateverTargetSheChose) {
    CheckinPlan p = daily_plan();
    p.alert = AlertTarget::nobody;
    auto plan = scheduler->set_plan(p, kCaseworker);
    outcome = SendOutcome::not_sent;  // e.g. no device, no sender for the channel
    clock.set(rome(kMonday, 10, 5));
    scheduler->run_due();
    EXPECT_EQ(states(plan), std::vector<std::string>{"denied:not_sent"});
    ASSERT_EQ(alerts.size(), 1U);
    EXPECT_EQ(alerts[0].kind, AlertKind::checkin_undeliverable);
    EXPECT_FALSE(alerts[0].urgent);
    EXPECT_EQ(alerts[0].case_code, code);
    EXPECT_EQ(alerts[0].occurrence_key, std::to_string(plan) + ":2025-07-14");
}

TEST_F(Scheduler, HerOwnChoiceOrStateStopsASlotWithoutAnUndeliverableAlert) {
    auto plan = scheduler->set_plan(daily_plan(), kCaseworker);
    withdraw(ChannelRef{ChannelKind::app, ""});
    withdraw(ChannelRef{ChannelKind::sms, ""});
    clock.set(rome(kMonday, 10, 5));
    scheduler->run_due();
    EXPECT_EQ(states(plan), std::vector<std::string>{"denied:consent_withdrawn"});
    store->set_paused(code, true, kCaseworker, clock.now());
    clock.set(rome(kMonday + days{1}, 10, 5));
    scheduler->run_due();
    EXPECT_EQ(states(plan).back(), "denied:survivor_paused");
    EXPECT_TRUE(alerts.empty());
}
