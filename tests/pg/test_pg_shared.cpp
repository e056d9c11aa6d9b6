// Two gateway nodes on one PostgreSQL database, as two sets of storage objects with their own
// connections in one process: what each node does alone must still hold when the other does
// the same at the same moment. One audit chain, appended by both, in order and without a gap;
// each due check-in slot sent by exactly one node and each missed one alerted once; the
// retention purges run side by side without an error and leave nothing expired; an edge
// device's store image is changed by one node at a time, each from the version it loaded.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/storage/checkin_history.h"
#include "ariadne/storage/edge_history.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"
#include "ariadne/storage/store.h"
#include "support/pg_test_database.h"

using namespace ariadne;
using namespace ariadne::policies;
using namespace std::chrono;
using ariadne::testing::PgTestDatabase;

namespace {

const Actor kCaseworker{AccountId("cw:1"), Role::caseworker};

// Monday 14 July 2025; Rome is UTC+2.
const sys_days kMonday{2025y / July / 14d};
Instant rome(sys_days day, int hour, int minute = 0) {
    return Instant{day + hours{hour - 2} + minutes{minute}};
}

std::int64_t count(const std::string& uri, const std::string& sql) {
    storage::Connection db(uri, {});
    auto q = db.prepare(sql);
    EXPECT_TRUE(q.step());
    return q.integer(0);
}

/// Runs `work(node)` for every node on its own thread at once; returns the first error.
template <class Node, class F>
std::string run_together(const std::vector<Node*>& nodes, F work, int threads_per_node = 1) {
    std::mutex m;
    std::string first_error;
    std::vector<std::thread> threads;
    for (Node* node : nodes) {
        for (int t = 0; t < threads_per_node; ++t) {
            threads.emplace_back([&, node, t] {
                try {
                    work(*node, t);
                } catch (const std::exception& e) {
                    std::lock_guard lock(m);
                    if (first_error.empty()) first_error = e.what();
                }
            });
        }
    }
    for (auto& t : threads) t.join();
    return first_error;
}

class TwoNodes : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!PgTestDatabase::available()) GTEST_SKIP() << "needs the pg fixture";
        db_ = std::make_unique<PgTestDatabase>();
    }
    const std::string& uri() const { return db_->uri(); }

    std::unique_ptr<PgTestDatabase> db_;  // declared first: its schema outlives the nodes
};

}  // namespace

TEST_F(TwoNodes, AppendingAtOnceMakesOneAuditChainInOrderWithoutAGap) {
    auto a = PolicyStore::open(uri());
    auto b = PolicyStore::open(uri());
    AuditKey key;
    key.fill(0x5c);  // the server key both nodes were given
    a->set_audit_key(key, now_utc());
    b->set_audit_key(key, now_utc());

    std::atomic<int> failures{0};
    const std::string error = run_together<PolicyStore>(
        {a.get(), b.get()},
        [&](PolicyStore& node, int thread) {
            for (int i = 0; i < 200; ++i) {
                try {
                    node.append_audit("system", "test.append", "", "", "t" + std::to_string(thread),
                                      now_utc());
                } catch (...) {
                    ++failures;
                    throw;
                }
            }
        },
        4);
    EXPECT_EQ(failures.load(), 0) << error;

    const auto verdict = b->verify_audit_chain({a->audit_checkpoint()});
    EXPECT_TRUE(verdict.ok) << verdict.problem;
    EXPECT_EQ(verdict.entries, 1600U);
    const auto entries = a->audit_entries(1, 5000);
    ASSERT_EQ(entries.size(), 1600U);
    for (std::size_t i = 0; i < entries.size(); ++i) ASSERT_EQ(entries[i].seq, i + 1);
    EXPECT_EQ(count(uri(), "SELECT COUNT(*) FROM policies_audit"), 1600);
}

TEST_F(TwoNodes, EachDueCheckinIsSentByExactlyOneNodeAndEachMissedOneAlertedOnce) {
    auto a = PolicyStore::open(uri());
    auto b = PolicyStore::open(uri());
    ManualClock clock{rome(kMonday, 9)};

    struct Node {
        std::unique_ptr<CheckinScheduler> scheduler;
        std::atomic<int> sends{0}, alerts{0};
    };
    std::mutex m;
    std::map<std::string, int> sends_per_slot, alerts_per_slot;
    auto callbacks = [&](Node& node) {
        return CheckinCallbacks{.send =
                                    [&](const CheckinSend& s) {
                                        ++node.sends;
                                        std::lock_guard lock(m);
                                        ++sends_per_slot[s.idempotency_key];
                                        return SendOutcome::sent;
                                    },
                                .alert =
                                    [&](const Alert& al) {
                                        ++node.alerts;
                                        std::lock_guard lock(m);
                                        ++alerts_per_slot[al.occurrence_key];
                                    }};
    };
    Node node_a, node_b;
    node_a.scheduler = std::make_unique<CheckinScheduler>(*a, clock, callbacks(node_a));
    node_b.scheduler = std::make_unique<CheckinScheduler>(*b, clock, callbacks(node_b));

    // 50 survivors with 4 daily plans each: 200 slots whose window opens at 10:00.
    const ChannelRef app{ChannelKind::app, ""};
    for (int i = 0; i < 50; ++i) {
        Survivor s{.case_code = CaseCode("K7Q-2F9"),
                   .initials = Initials("M.K."),
                   .language = LanguageTag("ro"),
                   .time_zone = "Europe/Rome",
                   .caseworkers = {AccountId("cw:1")}};
        const CaseCode code = a->enrol_survivor(s, kCaseworker, clock.now()).case_code;
        a->record_consent(ConsentRecord{.case_code = code,
                                        .channel = app,
                                        .address_ref = "addr:7f3a",
                                        .purpose = Purpose::check_ins,
                                        .action = ConsentAction::given,
                                        .evidence_ref = "form:2025-001",
                                        .form_language = LanguageTag("ro"),
                                        .recorded_by = AccountId("cw:1"),
                                        .recorded_at = clock.now() - days{1}},
                          kCaseworker);
        for (int p = 0; p < 4; ++p) {
            node_a.scheduler->set_plan(
                CheckinPlan{.case_code = code,
                            .every_days = 1,
                            .first_day = local_days{kMonday.time_since_epoch()},
                            .window = LocalWindow{10 * 60, 12 * 60, 0x7F},
                            .channels = {app},
                            .grace_minutes = 60,
                            .alert = AlertTarget::caseworker},
                kCaseworker);
        }
    }

    clock.set(rome(kMonday, 10, 5));
    std::string error =
        run_together<Node>({&node_a, &node_b}, [](Node& node, int) { node.scheduler->run_due(); });
    EXPECT_EQ(error, "");
    EXPECT_EQ(node_a.sends + node_b.sends, 200)
        << "node a " << node_a.sends << ", node b " << node_b.sends;
    EXPECT_EQ(sends_per_slot.size(), 200U);
    for (const auto& [slot, sends] : sends_per_slot) EXPECT_EQ(sends, 1) << slot;
    EXPECT_EQ(count(uri(), "SELECT COUNT(*) FROM policies_checkin_occurrences"), 200);
    EXPECT_EQ(count(uri(),
                    "SELECT COUNT(DISTINCT idempotency_key) FROM "
                    "policies_checkin_occurrences WHERE state = 'sent'"),
              200);

    // No answer by the end of the grace period: each slot is marked missed, and alerted,
    // once in all.
    clock.set(rome(kMonday, 13, 30));
    error =
        run_together<Node>({&node_a, &node_b}, [](Node& node, int) { node.scheduler->run_due(); });
    EXPECT_EQ(error, "");
    EXPECT_EQ(node_a.alerts + node_b.alerts, 200);
    EXPECT_EQ(alerts_per_slot.size(), 200U);
    for (const auto& [slot, alerts] : alerts_per_slot) EXPECT_EQ(alerts, 1) << slot;
    EXPECT_EQ(count(uri(), "SELECT COUNT(*) FROM policies_audit WHERE action = 'checkin.missed'"),
              200);
    EXPECT_EQ(node_a.sends + node_b.sends, 200);  // nothing sent again
    const auto verdict = a->verify_audit_chain();
    EXPECT_TRUE(verdict.ok) << verdict.problem;
}

TEST_F(TwoNodes, RetentionPurgesRunSideBySideWithoutAnErrorAndLeaveNothingExpired) {
    // Check-in slots: 300 closed long ago, 20 still waiting for her answer.
    auto a = PolicyStore::open(uri());
    auto b = PolicyStore::open(uri());
    {
        storage::Connection db(uri(), {});
        storage::Transaction tx(db);
        auto ins = db.prepare(
            "INSERT INTO policies_checkin_occurrences(idempotency_key, plan_id, case_code, "
            "slot_day, window_start_at, window_end_at, deadline_at, state) "
            "VALUES (?, 1, 'K7Q-2F9', ?, 1000, 2000, 3000, ?)");
        for (int i = 0; i < 320; ++i) {
            ins.bind(1, "1:" + std::to_string(i)).bind(2, i).bind(3, i < 300 ? "skipped" : "sent");
            ins.run();
            ins.reset();
        }
        tx.commit();
    }
    std::atomic<std::int64_t> slots_purged{0};
    std::string error = run_together<PolicyStore>({a.get(), b.get()}, [&](PolicyStore& node, int) {
        slots_purged += storage::CheckinHistory(node).purge_closed_before(now_utc());
    });
    EXPECT_EQ(error, "");
    EXPECT_EQ(slots_purged.load(), 300);
    EXPECT_EQ(count(uri(), "SELECT COUNT(*) FROM policies_checkin_occurrences"), 20);

    // Mailbox entries: 600, all older than the cutoff.
    storage::StoreOptions options;
    options.path = uri();
    options.max_delay = microseconds(0);
    auto store_a = std::make_unique<storage::Store>(options);
    auto store_b = std::make_unique<storage::Store>(options);
    const auto her = store_a->create_survivor(crypto::random_bytes(32), crypto::random_bytes(33));
    const auto cw = store_a->create_caseworker(storage::new_account_id(), "mara.k",
                                               "$argon2id$hash", crypto::to_bytes("sealed"));
    for (int batch = 0; batch < 6; ++batch) {
        std::vector<storage::NewMessage> messages;
        for (int i = 0; i < 100; ++i) {
            storage::NewMessage msg;
            msg.recipient = her.key;
            msg.recipient_device = 1;
            msg.sender = cw;
            msg.sender_device = 1;
            msg.type = 3;
            msg.body = crypto::Bytes(16, 0x5a);
            messages.push_back(std::move(msg));
        }
        std::promise<storage::CommitStatus> stored;
        store_a->store_messages(std::move(messages), [&](storage::CommitStatus s,
                                                         std::vector<storage::MailboxEntryPtr>) {
            stored.set_value(s);
        });
        ASSERT_EQ(stored.get_future().get(), storage::CommitStatus::committed);
    }
    ASSERT_EQ(store_a->mailbox_size(), 600);

    const auto tomorrow =
        duration_cast<milliseconds>((system_clock::now() + hours(24)).time_since_epoch()).count();
    struct Purge {
        std::promise<std::pair<storage::CommitStatus, std::int64_t>> done;
    };
    Purge pa, pb;
    auto completion = [](Purge& p) {
        return [&p](storage::CommitStatus s, std::int64_t n) { p.done.set_value({s, n}); };
    };
    store_a->purge_expired(tomorrow, completion(pa));
    store_b->purge_expired(tomorrow, completion(pb));
    const auto ra = pa.done.get_future().get();
    const auto rb = pb.done.get_future().get();
    EXPECT_EQ(ra.first, storage::CommitStatus::committed);
    EXPECT_EQ(rb.first, storage::CommitStatus::committed);
    EXPECT_EQ(ra.second + rb.second, 600);
    EXPECT_EQ(store_a->mailbox_size(), 0);
    EXPECT_EQ(store_b->mailbox_size(), 0);
}

TEST_F(TwoNodes, AnEdgeStoreImageIsChangedByOneNodeAtATimeEachFromTheVersionItLoaded) {
    {
        // The tables come with the main database's migrations.
        storage::StoreOptions options;
        options.path = uri();
        storage::Store migrated(options);
    }
    const std::string tag(32, 'c');
    storage::EdgeHistory a{std::filesystem::path(uri())}, b{std::filesystem::path(uri())};
    ASSERT_TRUE(a.shared());
    // Both nodes bump a counter held in the image, 40 times each, at the same time: under the
    // device's lock every step sees the other's last one, so none is lost.
    auto bump = [&](storage::EdgeHistory& node) {
        for (int i = 0; i < 40; ++i) {
            node.with_device(tag, [&] {
                auto stored = node.load_store(tag);
                const std::int64_t version = stored ? stored->version : 0;
                std::uint8_t n = stored ? stored->image.at(0) : 0;
                node.save_store(tag, version, {static_cast<std::uint8_t>(n + 1)});
            });
        }
    };
    auto on_a = std::async(std::launch::async, [&] { bump(a); });
    auto on_b = std::async(std::launch::async, [&] { bump(b); });
    on_a.get();
    on_b.get();
    std::optional<storage::EdgeStoreImage> last;
    a.with_device(tag, [&] { last = a.load_store(tag); });
    ASSERT_TRUE(last);
    EXPECT_EQ(last->version, 80);
    EXPECT_EQ(last->image, std::vector<std::uint8_t>{80});

    // A step from a version another node has moved on from is refused and leaves nothing.
    EXPECT_THROW(b.with_device(tag, [&] { b.save_store(tag, 79, {0}); }), storage::Error);
    EXPECT_THROW(b.with_device(tag, [&] { b.save_store(tag, 0, {0}); }), storage::Error);
    b.with_device(tag, [&] { last = b.load_store(tag); });
    EXPECT_EQ(last->version, 80);
    EXPECT_EQ(last->image, std::vector<std::uint8_t>{80});

    // One receiver at a time: a live one keeps it; a lapsed one gives it up.
    EXPECT_TRUE(a.claim_receiver(tag, 7, "node-a", 1000, 2000));
    EXPECT_FALSE(b.claim_receiver(tag, 7, "node-b", 1500, 2500));
    EXPECT_TRUE(b.is_receiver(tag, "node-a"));
    EXPECT_TRUE(b.claim_receiver(tag, 7, "node-b", 2001, 3000));
    EXPECT_FALSE(a.is_receiver(tag, "node-a"));
    EXPECT_TRUE(a.is_receiver(tag, "node-b"));
}
