// Acknowledged means durable: the gateway is killed with SIGKILL at random moments while
// survivors send and a caseworker's two devices receive and acknowledge. After every
// restart, each message acknowledged to its sender reaches each device exactly once, in
// order per sender; nothing refused or unanswered is duplicated.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <random>
#include <thread>

#include "traffic.h"

namespace ariadne::durability {
namespace {

constexpr std::size_t kSenders = 2;

TEST(KillNine, AcknowledgedMessagesSurviveSigkillExactlyOnceAndInOrder) {
    e2e::TempDir tmp;
    Cluster cluster(tmp.path(), kSenders);
    Ledger ledger;
    std::vector<std::uint32_t> next_seq(kSenders, 0);
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> lifetime_ms(150, 1200);
    const int rounds = 6;

    for (int round = 0; round < rounds; ++round) {
        if (!cluster.gateway.running()) cluster.gateway.start();
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        // Devices first, so pushes and redeliveries overlap new sends.
        for (std::size_t d = 0; d < 2; ++d) {
            threads.emplace_back([&, d] {
                try {
                    auto conn = cluster.console(d);
                    run_receiver(*conn, cluster, d, ledger, stop);
                } catch (const std::exception&) {
                    // Killed before the login finished: nothing was received on it.
                }
            });
        }
        for (std::size_t s = 0; s < kSenders; ++s) {
            threads.emplace_back([&, s] {
                try {
                    auto conn = cluster.survivor(s);
                    run_sender(*conn, cluster, static_cast<int>(s), next_seq[s], ledger, stop);
                } catch (const std::exception&) {
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms(rng)));
        EXPECT_EQ(cluster.gateway.stop(SIGKILL), 128 + SIGKILL) << "round " << round;
        stop = true;
        for (auto& t : threads) t.join();
    }

    // Last life: no more sends; both devices drain their mailboxes and acknowledge all.
    cluster.gateway.start();
    std::atomic<bool> stop{false};
    std::vector<std::thread> drains;
    for (std::size_t d = 0; d < 2; ++d) {
        drains.emplace_back([&, d] {
            auto conn = cluster.console(d);
            run_receiver(*conn, cluster, d, ledger, stop, 1500ms);
        });
    }
    for (auto& t : drains) t.join();
    cluster.gateway.stop(SIGTERM);

    const auto acked = ledger.count(Ledger::Outcome::acked);
    const auto unknown = ledger.count(Ledger::Outcome::unknown);
    std::cout << "[ kill -9 ] " << rounds << " rounds: " << acked << " sends acknowledged, "
              << unknown << " unanswered when killed, " << ledger.count(Ledger::Outcome::refused)
              << " refused; device receipts " << ledger.received(cluster.console_ids[0]) << "/"
              << ledger.received(cluster.console_ids[1]) << "\n";
    EXPECT_GE(acked, 100u) << "too little traffic to test anything";
    for (const auto& v : ledger.violations(cluster.console_ids)) ADD_FAILURE() << v;
    if (::testing::Test::HasFailure()) {
        auto log = cluster.gateway.log();
        std::cerr << "server log (tail):\n"
                  << log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
    }
    // Everything received was acknowledged in the last life, so the mailbox is empty. (An ack
    // committed just before a kill may never have been answered: the ledger cannot count
    // those as confirmed, the database can.)
    EXPECT_EQ(e2e::count_rows(cluster.gateway.data_dir() / "ariadne.db", "mailbox"), 0);
}

// The checker itself: each broken guarantee is reported.
Json deliver_of(int sender, std::uint32_t seq, std::int64_t server_id) {
    Json frame = numbered_send("a_x", {1}, sender, seq);
    return {{"server_id", server_id}, {"body", frame["messages"][0]["body"]}};
}

TEST(KillNineLedger, ReportsLostDuplicatedRefusedReorderedAndRedeliveredMessages) {
    Ledger ledger;
    for (std::uint32_t seq = 0; seq < 5; ++seq) ledger.sent(0, seq);
    ledger.acked(0, 0, {{1, 10}});
    ledger.acked(0, 1, {{1, 11}});  // never delivered: lost
    ledger.refused(0, 2, "storage_unavailable");
    ledger.acked(0, 3, {{1, 13}});
    ledger.unknown(0, 4);
    ledger.delivered(1, deliver_of(0, 0, 10));
    ledger.ack_confirmed(1, 10);
    ledger.delivered(1, deliver_of(0, 0, 10));  // again after a confirmed ack
    ledger.delivered(1, deliver_of(0, 2, 12));  // refused yet delivered
    ledger.delivered(1, deliver_of(0, 4, 9));   // before message 0: out of order
    ledger.delivered(1, deliver_of(0, 3, 13));
    ledger.delivered(1, deliver_of(0, 3, 14));  // stored twice
    auto v = ledger.violations({1});
    auto has = [&](const std::string& part) {
        return std::any_of(v.begin(), v.end(),
                           [&](const std::string& s) { return s.find(part) != std::string::npos; });
    };
    EXPECT_TRUE(has("again after its ack was confirmed"));
    EXPECT_TRUE(has("message 1 of sender 0 was acknowledged to its sender but never reached"));
    EXPECT_TRUE(has("refused with storage_unavailable but delivered"));
    EXPECT_TRUE(has("out of order"));
    EXPECT_TRUE(has("stored twice"));
    // Seven: the duplicate of message 3 is also out of order and not the acknowledged one.
    EXPECT_EQ(v.size(), 7u) << ::testing::PrintToString(v);
}

TEST(KillNineLedger, AcceptsRedeliveryOfUnconfirmedAcksAndUnansweredSendsDeliveredOnce) {
    Ledger ledger;
    ledger.sent(0, 0);
    ledger.acked(0, 0, {{1, 10}});
    ledger.sent(0, 1);
    ledger.unknown(0, 1);
    ledger.delivered(1, deliver_of(0, 0, 10));
    ledger.delivered(1, deliver_of(0, 0, 10));  // ack not confirmed: may come again
    ledger.ack_confirmed(1, 10);
    ledger.delivered(1, deliver_of(0, 1, 11));
    EXPECT_TRUE(ledger.violations({1}).empty()) << ::testing::PrintToString(ledger.violations({1}));
}

}  // namespace
}  // namespace ariadne::durability
