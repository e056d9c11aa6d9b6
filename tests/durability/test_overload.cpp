// Overload: several survivors keep 400 sends each in flight for seconds, far more than the
// gateway admits. It sheds the excess with back-pressure errors (`overloaded`, `rate_limited`)
// instead of queueing without bound: its memory stays bounded, a well-behaved survivor
// sending meanwhile is still served promptly, every admitted message is delivered exactly
// once, and ordinary sends work again as soon as the burst is over. (The flooding clients'
// own answers wait behind their 400 queued requests: that latency is theirs, reported only.)
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <thread>

#include "traffic.h"

namespace ariadne::durability {
namespace {

constexpr std::size_t kSenders = 4;
// Requests in flight per survivor: more than a connection may queue (256 waiting + 32 being
// committed, docs/protocol.md section 6), so the excess must be refused, not buffered.
constexpr std::size_t kWindow = 400;
constexpr auto kBurstDuration = 3s;

TEST(Overload, ExcessIsShedWithBackPressureErrorsAndTheGatewayRecovers) {
    e2e::TempDir tmp;
    // Admission is set well below what even a loaded CI machine commits (4 accounts x 10/s),
    // so the burst is overload on every machine and what is admitted never queues behind
    // what the disk cannot take.
    Cluster cluster(tmp.path(), kSenders + 1, {"--sends-per-second", "10", "--send-burst", "20"});
    // ASan's quarantine would keep freed memory resident and hide what the server holds.
    cluster.gateway.stop(SIGTERM);
    cluster.gateway.set_environment({"ASAN_OPTIONS=quarantine_size_mb=1:detect_leaks=0"});
    cluster.gateway.start();
    Ledger ledger;
    std::atomic<bool> stop_receivers{false};
    std::vector<std::thread> receivers;
    for (std::size_t d = 0; d < 2; ++d) {
        receivers.emplace_back([&, d] {
            auto conn = cluster.console(d);
            run_receiver(*conn, cluster, d, ledger, stop_receivers);
        });
    }
    std::vector<std::unique_ptr<client::Connection>> senders;
    for (std::size_t s = 0; s < kSenders; ++s) senders.push_back(cluster.survivor(s));
    std::this_thread::sleep_for(200ms);
    const long rss_before = cluster.gateway.rss_kib();

    // The burst: every frame is written before any answer is read.
    std::vector<double> admitted_latency_ms;
    std::mutex latency_mutex;
    long rss_peak = rss_before;
    std::atomic<bool> burst_done{false};
    std::thread rss_probe([&] {
        while (!burst_done) {
            rss_peak = std::max(rss_peak, cluster.gateway.rss_kib());
            std::this_thread::sleep_for(20ms);
        }
    });
    std::vector<std::thread> threads;
    std::vector<std::uint32_t> next_seq(kSenders, 0);
    for (std::size_t s = 0; s < kSenders; ++s) {
        threads.emplace_back([&, s] {
            auto& conn = *senders[s];
            const int sender = static_cast<int>(s);
            std::deque<
                std::tuple<std::uint64_t, std::uint32_t, std::chrono::steady_clock::time_point>>
                outstanding;
            const auto until = std::chrono::steady_clock::now() + kBurstDuration;
            std::uint32_t seq = 0;
            while (std::chrono::steady_clock::now() < until || !outstanding.empty()) {
                while (outstanding.size() < kWindow && std::chrono::steady_clock::now() < until) {
                    Json frame =
                        numbered_send(cluster.caseworker.account, cluster.console_ids, sender, seq);
                    ledger.sent(sender, seq);
                    outstanding.emplace_back(conn.send_request(frame), seq++,
                                             std::chrono::steady_clock::now());
                }
                auto [id, this_seq, at] = outstanding.front();
                outstanding.pop_front();
                Json answer = conn.await_response(id, 60s);
                auto ms =
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - at)
                        .count();
                if (answer["type"] == "ok") {
                    std::map<std::uint32_t, std::int64_t> ids;
                    for (const auto& x : answer.at("server_ids")) {
                        ids[x.at("device_id").get<std::uint32_t>()] =
                            x.at("server_id").get<std::int64_t>();
                    }
                    ledger.acked(sender, this_seq, ids);
                    std::lock_guard lock(latency_mutex);
                    admitted_latency_ms.push_back(ms);
                } else {
                    ledger.refused(sender, this_seq, answer.value("code", "?"));
                }
            }
            next_seq[s] = seq;
        });
    }
    // A well-behaved survivor (5 sends/s, within her limit) during the flood.
    std::vector<double> probe_ms;
    std::vector<std::string> probe_refusals;
    std::thread probe([&] {
        auto conn = cluster.survivor(kSenders);
        const int sender = static_cast<int>(kSenders);
        const auto until = std::chrono::steady_clock::now() + kBurstDuration;
        for (std::uint32_t seq = 0; std::chrono::steady_clock::now() < until; ++seq) {
            ledger.sent(sender, seq);
            auto t0 = std::chrono::steady_clock::now();
            Json answer = conn->request(
                numbered_send(cluster.caseworker.account, cluster.console_ids, sender, seq), 30s);
            probe_ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
            if (answer["type"] == "ok") {
                std::map<std::uint32_t, std::int64_t> ids;
                for (const auto& x : answer.at("server_ids")) {
                    ids[x.at("device_id").get<std::uint32_t>()] =
                        x.at("server_id").get<std::int64_t>();
                }
                ledger.acked(sender, seq, ids);
            } else {
                ledger.refused(sender, seq, answer.value("code", "?"));
                probe_refusals.push_back(answer.dump());
            }
            std::this_thread::sleep_until(t0 + 200ms);
        }
    });
    for (auto& t : threads) t.join();
    probe.join();
    burst_done = true;
    rss_probe.join();

    auto codes = ledger.refusal_codes();
    const auto admitted = ledger.count(Ledger::Outcome::acked);
    std::sort(admitted_latency_ms.begin(), admitted_latency_ms.end());
    const double p99 = admitted_latency_ms.empty()
                           ? 0
                           : admitted_latency_ms[std::min(admitted_latency_ms.size() - 1,
                                                          admitted_latency_ms.size() * 99 / 100)];
    const auto offered =
        ledger.count(Ledger::Outcome::acked) + ledger.count(Ledger::Outcome::refused);
    std::cout << "[ overload ] offered " << offered << ", admitted " << admitted << ", overloaded "
              << codes["overloaded"] << ", rate_limited " << codes["rate_limited"]
              << "; admitted p99 " << p99 << " ms; RSS " << rss_before << " -> peak " << rss_peak
              << " KiB\n";
    EXPECT_GT(admitted, 0u);
    EXPECT_GT(codes["overloaded"] + codes["rate_limited"], offered / 2)
        << "the excess was not shed";
    for (const auto& [code, n] : codes) {
        EXPECT_TRUE(code == "overloaded" || code == "rate_limited") << n << " x " << code;
    }
    EXPECT_LT(rss_peak - rss_before, 128 * 1024) << "memory grew without bound";
    ASSERT_FALSE(probe_ms.empty());
    const double probe_max = *std::max_element(probe_ms.begin(), probe_ms.end());
    std::cout << "[ overload ] a well-behaved survivor meanwhile: " << probe_ms.size()
              << " sends, slowest answer " << probe_max << " ms\n";
    EXPECT_TRUE(probe_refusals.empty()) << ::testing::PrintToString(probe_refusals);
    EXPECT_LT(probe_max, 2000) << "a survivor within her limits waited too long during the flood";

    // The burst is over: ordinary sends work again promptly.
    std::this_thread::sleep_for(1500ms);
    for (std::size_t s = 0; s < kSenders; ++s) {
        for (int i = 0; i < 5; ++i) {
            auto seq = next_seq[s]++;
            ledger.sent(static_cast<int>(s), seq);
            auto t0 = std::chrono::steady_clock::now();
            Json answer =
                senders[s]->request(numbered_send(cluster.caseworker.account, cluster.console_ids,
                                                  static_cast<int>(s), seq),
                                    10s);
            ASSERT_EQ(answer["type"], "ok") << answer.dump();
            EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
            std::map<std::uint32_t, std::int64_t> ids;
            for (const auto& x : answer.at("server_ids")) {
                ids[x.at("device_id").get<std::uint32_t>()] = x.at("server_id").get<std::int64_t>();
            }
            ledger.acked(static_cast<int>(s), seq, ids);
        }
    }

    // Every admitted message reaches both devices exactly once.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    const auto expected = ledger.count(Ledger::Outcome::acked);
    while (std::chrono::steady_clock::now() < deadline &&
           (ledger.ack_confirmed_count(cluster.console_ids[0]) < expected ||
            ledger.ack_confirmed_count(cluster.console_ids[1]) < expected)) {
        std::this_thread::sleep_for(50ms);
    }
    stop_receivers = true;
    for (auto& t : receivers) t.join();
    for (const auto& v : ledger.violations(cluster.console_ids)) ADD_FAILURE() << v;
    EXPECT_EQ(ledger.received(cluster.console_ids[0]), expected);
    EXPECT_EQ(ledger.received(cluster.console_ids[1]), expected);
}

}  // namespace
}  // namespace ariadne::durability
