// The server under pressure: a thousand authenticated connections at once, a client that
// never reads, and SIGTERM in the middle of a burst of sends (nothing acknowledged is lost).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>

#include "accounts.h"
#include "ariadne/crypto/bytes.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using crypto::base64_encode;

/// A fake Signal message body (the server relays bytes it cannot read): version byte 0x33
/// followed by random bytes.
std::string fake_body(std::size_t size) {
    crypto::Bytes b = crypto::random_bytes(size);
    b[0] = 0x33;
    return base64_encode(b);
}

Json send_frame(const std::string& to, std::uint32_t device, std::size_t body_size) {
    return {{"type", "send"},
            {"to", to},
            {"messages",
             Json::array({{{"device_id", device}, {"type", 3}, {"body", fake_body(body_size)}}})}};
}

class Load : public ::testing::Test {
  protected:
    void SetUp() override {
        // Every connection here comes from 127.0.0.1: lift the per-address cap.
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data",
            std::vector<std::string>{"--max-connections-per-address", "100000",
                                     "--max-unauthenticated-per-address", "100000"});
        // ASan's quarantine would keep freed memory resident and hide what the server holds.
        gateway_->set_environment({"ASAN_OPTIONS=quarantine_size_mb=1:detect_leaks=0"});
        cw_ = gateway_->add_caseworker("mara.k");
        gateway_->start();
        device_ = make_raw_device(tmp_.path() / "device");
        auto conn = gateway_->connect();
        Json reg = register_raw(*conn, cw_, device_, totp_for(cw_));
        ASSERT_EQ(reg["type"], "ok") << reg.dump();
        device_id_ = reg["device_id"].get<std::uint32_t>();
        ASSERT_EQ(conn->request(keys_upload_frame(tmp_.path() / "device", device_id_, 10))["type"],
                  "ok");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log (tail):\n" << tail(gateway_->log());
    }
    static std::string tail(const std::string& s) {
        return s.size() > 20000 ? s.substr(s.size() - 20000) : s;
    }

    std::unique_ptr<client::Connection> console_conn(
        const client::ConnectionOptions& options = {},
        std::shared_ptr<client::Runtime> runtime = nullptr) {
        auto conn = gateway_->connect(options, std::move(runtime));
        Json ok = auth_device_raw(*conn, cw_.account, device_id_, device_);
        if (ok["type"] != "ok") throw std::runtime_error("console login failed: " + ok.dump());
        return conn;
    }

    std::unique_ptr<client::Connection> survivor_conn(const Gateway::Survivor& s,
                                                      const std::string& name) {
        auto conn = gateway_->connect();
        auto login = derive_survivor_login(*conn, s.recovery_code, tmp_.path() / name);
        Json ok = auth_survivor_raw(*conn, login);
        if (ok["type"] != "ok") throw std::runtime_error("survivor login failed: " + ok.dump());
        return conn;
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    RawDevice device_;
    std::uint32_t device_id_ = 0;
};

TEST_F(Load, AThousandConnectionsAreOpenAndAuthenticatedAtOnce) {
    const int total = 1000;
    ASSERT_GE(raise_fd_limit(), total + 100) << "not enough file descriptors";
    auto runtime = std::make_shared<client::Runtime>(2);
    std::vector<std::unique_ptr<client::Connection>> conns(total);
    std::atomic<int> next{0}, failures{0};
    std::string first_error;
    std::mutex mu;
    long rss_before = gateway_->rss_kib();
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w) {
        workers.emplace_back([&] {
            for (int i; (i = next++) < total;) {
                try {
                    conns[i] = console_conn({}, runtime);
                } catch (const std::exception& e) {
                    std::lock_guard lock(mu);
                    if (failures++ == 0) first_error = e.what();
                }
            }
        });
    }
    for (auto& t : workers) t.join();
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(failures, 0) << first_error;

    // All of them at once, still authenticated: a pipelined keys_count on each.
    std::vector<std::uint64_t> ids(total);
    for (int i = 0; i < total; ++i) {
        Json f = {{"type", "keys_count"}};
        ids[i] = conns[i]->send_request(f);
    }
    int ok = 0;
    for (int i = 0; i < total; ++i) ok += conns[i]->await_response(ids[i], 30s)["type"] == "ok";
    EXPECT_EQ(ok, total);
    long rss_after = gateway_->rss_kib();
    std::cout << "[ measured ] " << total << " connections authenticated in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms; server RSS " << rss_before << " KiB -> " << rss_after << " KiB ("
              << (rss_after - rss_before) / total << " KiB per connection, ASan build)\n";
    conns.clear();
}

TEST_F(Load, AClientThatNeverReadsIsClosedAndTheServerMemoryStaysBounded) {
    auto sender_s = gateway_->enrol_survivor(cw_.account);
    auto sender = survivor_conn(sender_s, "sender");
    client::ConnectionOptions small;
    small.socket_receive_buffer = 4096;
    auto slow = console_conn(small);
    // Let the server settle (TLS buffers, first allocations) before measuring.
    std::this_thread::sleep_for(500ms);
    long rss_before = gateway_->rss_kib();
    slow->pause_reading();

    // 64 deliveries of 10 KB each (the in-flight limit) plus a flood of pings whose answers
    // nobody reads: far more than the 1 MiB outbound cap plus the kernel's socket buffers.
    for (int i = 0; i < 64; ++i) {
        Json r = sender->request(send_frame(cw_.account, device_id_, 10000));
        ASSERT_EQ(r["type"], "ok") << r.dump();
    }
    // Keep asking until the server drops the connection: our writes then fail. The cap
    // counts what the server's socket holds unacknowledged too, so ~500 KB of answers past
    // the deliveries close it: ~5 s under ASan (it answers ~1,500 pings/s on a loaded
    // machine; counting only its own queue, this took 30-50 s). The deadline leaves room
    // for a loaded CI machine running two tests at once.
    std::string ping = R"({"v":1,"id":1,"type":"ping"})";
    auto flood_started = std::chrono::steady_clock::now();
    auto deadline = flood_started + 45s;
    long pings = 0;
    while (slow->is_open() && std::chrono::steady_clock::now() < deadline) {
        try {
            for (int i = 0; i < 1000; ++i, ++pings) slow->send_text(ping);
        } catch (const client::Error&) {
            break;  // closed under our feet: what we are waiting for
        }
        std::this_thread::sleep_for(50ms);
    }
    slow->resume_reading();
    auto closed = slow->wait_closed(10s);
    ASSERT_TRUE(closed.has_value()) << "the server kept a client that never reads";
    EXPECT_TRUE(closed->code == 1008 || closed->code == 1006) << closed->code;
    long rss_after = gateway_->rss_kib();
    std::cout << "[ measured ] slow consumer closed "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - flood_started)
                     .count()
              << " ms after the flood began, " << pings << " unread pings sent (" << closed->code
              << " " << closed->reason << "); server RSS " << rss_before << " KiB -> " << rss_after
              << " KiB\n";
    EXPECT_LT(rss_after - rss_before, 32 * 1024) << "server memory grew with a non-reader";
    EXPECT_EQ(sender->request({{"type", "ping"}})["type"], "ok");

    // Closing lost nothing: every message is still delivered to the next connection.
    auto again = console_conn();
    std::set<std::int64_t> seen;
    while (seen.size() < 64) {
        auto f = again->next_unsolicited(10s);
        ASSERT_TRUE(f.has_value()) << "only " << seen.size() << " redelivered";
        if ((*f)["type"] != "deliver") continue;
        auto id = (*f)["message"]["server_id"].get<std::int64_t>();
        seen.insert(id);
        again->call({{"type", "ack"}, {"server_id", id}});
    }
}

// The server bounds deliveries in flight by bytes (max_in_flight_bytes) as well as by count.
TEST_F(Load, AReaderWhoseMailboxHoldsLargeMessagesReceivesThemAll) {
    // 64 messages of 40 KB wait for an offline device: 64 deliveries in flight are 3.4 MB of
    // frames, more than the 1 MiB outbound cap. A client that reads and acknowledges must
    // still get them all (the server must not push more than it may queue), otherwise the
    // device is closed as a "slow consumer" on every connection and its mailbox never drains.
    auto sender_s = gateway_->enrol_survivor(cw_.account);
    auto sender = survivor_conn(sender_s, "sender");
    for (int i = 0; i < 64; ++i) {
        Json r = sender->request(send_frame(cw_.account, device_id_, 40000));
        ASSERT_EQ(r["type"], "ok") << r.dump();
    }
    auto reader = console_conn();
    std::set<std::int64_t> seen;
    while (seen.size() < 64) {
        auto f = reader->next_unsolicited(10s);
        ASSERT_TRUE(f.has_value())
            << "only " << seen.size() << " delivered; connection "
            << (reader->is_open() ? "open"
                                  : "closed with " + std::to_string(reader->close_info()->code));
        if ((*f)["type"] != "deliver") continue;
        auto id = (*f)["message"]["server_id"].get<std::int64_t>();
        seen.insert(id);
        Json ack = reader->request({{"type", "ack"}, {"server_id", id}});
        ASSERT_EQ(ack["type"], "ok") << ack.dump();
    }
    EXPECT_TRUE(reader->is_open());
}

TEST_F(Load, EveryAcknowledgedMessageSurvivesASigtermDuringABurst) {
    // Three survivors and the console device send at once (each within its burst allowance).
    std::vector<Gateway::Survivor> survivors;
    for (int i = 0; i < 3; ++i) survivors.push_back(gateway_->enrol_survivor(cw_.account));
    std::vector<std::unique_ptr<client::Connection>> senders;
    for (int i = 0; i < 3; ++i)
        senders.push_back(survivor_conn(survivors[i], "s" + std::to_string(i)));

    std::mutex mu;
    std::set<std::int64_t> acknowledged;
    std::atomic<int> answered{0};
    std::vector<std::thread> threads;
    for (auto& conn : senders) {
        threads.emplace_back([&, c = conn.get()] {
            std::vector<std::uint64_t> ids;
            for (int i = 0; i < 180; ++i) {
                Json f = send_frame(cw_.account, device_id_, 200);
                try {
                    ids.push_back(c->send_request(f));
                } catch (const client::Error&) {
                    break;  // closed by the shutdown
                }
                if (i % 20 == 19) std::this_thread::sleep_for(5ms);
            }
            for (auto id : ids) {
                try {
                    Json r = c->await_response(id, 30s);
                    ++answered;
                    if (r["type"] != "ok") continue;
                    std::lock_guard lock(mu);
                    for (const Json& s : r["server_ids"]) {
                        acknowledged.insert(s["server_id"].get<std::int64_t>());
                    }
                } catch (const client::Error&) {
                    // No answer: not acknowledged, so nothing is promised.
                }
            }
        });
    }
    // Stop the server once some sends are acknowledged and others are still in flight.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (answered < 60 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    int code = gateway_->stop(SIGTERM);
    for (auto& t : threads) t.join();
    EXPECT_EQ(code, 0) << "the server did not shut down cleanly";
    for (auto& c : senders) {
        auto info = c->wait_closed(5s);
        ASSERT_TRUE(info.has_value());
        EXPECT_TRUE(info->code == 1001 || info->code == 1006) << info->code;
    }
    senders.clear();
    ASSERT_FALSE(acknowledged.empty());
    std::cout << "[ measured ] " << acknowledged.size() << " of 540 sends acknowledged before "
              << "SIGTERM\n";

    gateway_->start();
    auto conn = console_conn();
    std::set<std::int64_t> delivered;
    for (;;) {
        auto f = conn->next_unsolicited(3s);
        if (!f) break;
        if ((*f)["type"] != "deliver") continue;
        auto id = (*f)["message"]["server_id"].get<std::int64_t>();
        delivered.insert(id);
        conn->call({{"type", "ack"}, {"server_id", id}});
    }
    std::vector<std::int64_t> lost;
    std::set_difference(acknowledged.begin(), acknowledged.end(), delivered.begin(),
                        delivered.end(), std::back_inserter(lost));
    EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged messages lost, first "
                              << (lost.empty() ? 0 : lost[0]);
}

}  // namespace
}  // namespace ariadne::e2e
