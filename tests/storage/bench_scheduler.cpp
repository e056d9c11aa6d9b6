// Next-due cost of the check-in scheduler with 1,000,000 scheduled plans (docs/benchmarks.md,
// "Check-in scheduler"). The plans are inserted with one bulk SQL transaction (the public
// set_plan validates consent per plan and commits each one: ~minutes for 1M); their rows are
// the same shape set_plan writes. Run: policies_bench [--plans=N] [google-benchmark flags].
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "ariadne/policies/checkin.h"
#include "ariadne/storage/policy_store.h"

using namespace ariadne::policies;
using namespace std::chrono;

namespace {

std::int64_t g_plans = 1'000'000;

struct World {
    std::string dir;
    std::unique_ptr<PolicyStore> store;
    std::unique_ptr<ManualClock> clock;
    std::unique_ptr<CheckinScheduler> scheduler;
    std::int64_t sends = 0;
    std::int64_t bench_plan = 0;
    std::int64_t next_day = 0;  // the benchmark plan's next unsent slot, across repetitions
    sys_days bench_day{2026y / January / 1d};
    CaseCode code = CaseCode("K7Q-2F9");

    World() {
        char tmpl[] = "/tmp/ariadne-policies-bench-XXXXXX";
        dir = mkdtemp(tmpl);
        store = PolicyStore::open(dir + "/bench.db");
        clock = std::make_unique<ManualClock>(Instant{sys_days{2025y / December / 1d}});
        Actor cw{AccountId("cw:1"), Role::caseworker};
        store->create_survivor(Survivor{.case_code = code,
                                        .initials = Initials("M.K."),
                                        .language = LanguageTag("en"),
                                        .time_zone = "Europe/Rome",
                                        .caseworkers = {AccountId("cw:1")}},
                               cw, clock->now());
        store->record_consent(ConsentRecord{.case_code = code,
                                            .channel = ChannelRef{ChannelKind::app, ""},
                                            .address_ref = "addr:1",
                                            .purpose = Purpose::check_ins,
                                            .action = ConsentAction::given,
                                            .evidence_ref = "",
                                            .form_language = std::nullopt,
                                            .recorded_by = cw.account,
                                            .recorded_at = clock->now()},
                              cw);
        scheduler =
            std::make_unique<CheckinScheduler>(*store, *clock,
                                               CheckinCallbacks{.send =
                                                                    [this](const CheckinSend&) {
                                                                        ++sends;
                                                                        return SendOutcome::sent;
                                                                    },
                                                                .alert = nullptr});
        bench_plan =
            scheduler->set_plan(CheckinPlan{.case_code = code,
                                            .every_days = 1,
                                            .first_day = local_days{bench_day.time_since_epoch()},
                                            .window = LocalWindow{10 * 60, 12 * 60, 0x7F},
                                            .channels = {ChannelRef{ChannelKind::app, ""}}},
                                cw);
        bulk_insert();
    }
    ~World() {
        scheduler.reset();
        store.reset();
        std::filesystem::remove_all(dir);
    }

    // 1M plans due at random instants through 2030 (after the benchmark's own plan).
    void bulk_insert() {
        sqlite3* db = store->connection().sqlite;
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        sqlite3_stmt* ins = nullptr;
        sqlite3_prepare_v2(
            db,
            "INSERT INTO policies_checkin_plans(case_code, every_days, first_day, "
            "dates_json, window_start, window_end, weekdays, channels_json, "
            "template_id, grace_minutes, alert_target, status, next_slot_day, "
            "next_due_at, created_at, updated_at) VALUES (?, 7, ?, '[]', 600, 1080, "
            "127, '[{\"kind\":\"app\",\"provider\":\"\"}]', 'neutral_checkin', 1440, "
            "'caseworker', 'active', ?, ?, 0, 0)",
            -1, &ins, nullptr);
        std::mt19937_64 rng(7);
        const std::int64_t from = to_micros(Instant{sys_days{2030y / January / 1d}});
        const std::int64_t span = 365LL * 86400 * 1'000'000;
        for (std::int64_t i = 0; i < g_plans; ++i) {
            std::string code_text = CaseCode::generate().str();
            std::int64_t due =
                from + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
            std::int64_t day = due / 86'400'000'000LL;
            sqlite3_bind_text(ins, 1, code_text.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, day);
            sqlite3_bind_int64(ins, 3, day);
            sqlite3_bind_int64(ins, 4, due);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
};

World& world() {
    static World w;
    return w;
}

void BM_NextDue(benchmark::State& state) {
    World& w = world();
    for (auto _ : state) benchmark::DoNotOptimize(w.scheduler->next_due());
    state.counters["plans"] = static_cast<double>(g_plans + 1);
}
BENCHMARK(BM_NextDue);

// run_due when nothing is due: the two index lookups a scheduler tick costs.
void BM_RunDueIdle(benchmark::State& state) {
    World& w = world();
    w.clock->set(Instant{sys_days{2025y / December / 1d}});
    for (auto _ : state) benchmark::DoNotOptimize(w.scheduler->run_due());
}
BENCHMARK(BM_RunDueIdle);

// One due slot among 1M plans: claim (transaction), decision (audited), send callback, mark
// sent (transaction). Each iteration moves the clock into the next day's window.
void BM_RunDueOneSlot(benchmark::State& state) {
    World& w = world();
    const std::int64_t sends_before = w.sends;
    for (auto _ : state) {
        w.clock->set(
            Instant{w.bench_day + days{w.next_day++} + hours{9} + minutes{30}});  // 10:30 CET
        benchmark::DoNotOptimize(w.scheduler->run_due());
    }
    if (w.sends - sends_before != static_cast<std::int64_t>(state.iterations())) {
        state.SkipWithError("a slot was not sent exactly once");
    }
}
BENCHMARK(BM_RunDueOneSlot)->Iterations(300);

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--plans=", 0) == 0) g_plans = std::atoll(a.c_str() + 8);
    }
    benchmark::Initialize(&argc, argv);
    world();  // build the 1M-plan database before timing
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
