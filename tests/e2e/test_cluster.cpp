// Two gateway nodes on one PostgreSQL database (run only in the suite's PostgreSQL run, as
// pg.Cluster.*): a survivor on node A and her caseworker's devices on both nodes reach each
// other; node A killed with SIGKILL under load loses no acknowledged message; a device that
// logs in on the second node closes its older connection on the first.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <thread>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;
namespace fs = std::filesystem;

class Cluster : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run (pg.Cluster.*)";
        a_ = std::make_unique<Gateway>(tmp_.path() / "node-a", args_);
        cw_ = a_->add_caseworker("mara.k");
        survivor_ = a_->enrol_survivor(cw_.account);
        a_->start();
        // Node B: its own data directory with the same server key and the same database.
        const fs::path b = tmp_.path() / "node-b";
        fs::create_directories(b);
        fs::permissions(b, fs::perms::owner_all);
        fs::copy_file(a_->data_dir() / "server.key", b / "server.key");
        fs::copy_file(a_->data_dir() / "database", b / "database");
        b_ = std::make_unique<Gateway>(b, args_);
        b_->start();
    }
    void TearDown() override {
        if (!HasFailure()) return;
        if (a_) std::cerr << "node A log:\n" << a_->log();
        if (b_) std::cerr << "node B log:\n" << b_->log();
    }

    fs::path dir(const std::string& name) { return tmp_.path() / name; }

    static client::MessengerOptions quick(const Gateway& node, const fs::path& dir) {
        auto o = messenger_options(node, dir);
        o.reconnect_deadline = client::milliseconds{1000};
        o.request_timeout = client::milliseconds{5000};
        return o;
    }

    /// Receives messages (not receipts) until `n` arrived or `wait` passed.
    static std::vector<ReceivedMessage> receive_n(Messenger& m, std::size_t n,
                                                  std::chrono::seconds wait = 20s) {
        std::vector<ReceivedMessage> out;
        auto deadline = std::chrono::steady_clock::now() + wait;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(500ms);
            if (msg && !msg->is_receipt) out.push_back(*msg);
        }
        return out;
    }

    std::vector<std::string> args_;  // for both nodes
    TempDir tmp_;
    std::unique_ptr<Gateway> a_, b_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(Cluster, HerMessageReachesHerCaseworkersDevicesOnBothNodesAndRepliesComeBack) {
    auto laptop = register_console(*b_, cw_, dir("laptop"), 0);
    auto desktop = register_console(*a_, cw_, dir("desktop"), 1);
    auto phone = recover_survivor(*a_, survivor_, dir("phone"));

    auto sent = phone->send_text(cw_.account, "are you there?");
    EXPECT_EQ(sent.server_ids.size(), 2u);
    for (Messenger* console : {laptop.get(), desktop.get()}) {
        auto got = receive_n(*console, 1);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].plaintext, "are you there?");
    }
    laptop->send_text(survivor_.account, "yes, from node B");
    auto reply = receive_n(*phone, 1);
    ASSERT_EQ(reply.size(), 1u);
    EXPECT_EQ(reply[0].plaintext, "yes, from node B");
    EXPECT_EQ(count_rows(a_->data_dir() / "ariadne.db", "mailbox"), 0);
}

TEST_F(Cluster, NodeAKilledUnderLoadLosesNoAcknowledgedMessageAndItsClientsCarryOnAtNodeB) {
    auto laptop = register_console(*b_, cw_, dir("laptop"), 0);
    auto desktop = register_console(*a_, cw_, dir("desktop"), 1);
    desktop.reset();  // offline for now: it reconnects to node B later
    auto phone = recover_survivor(*a_, survivor_, dir("phone"));
    phone.reset();
    phone = Messenger::open(quick(*a_, dir("phone")), test_store_key());

    // Her phone sends 150 messages; node A dies (SIGKILL) after the 60th acknowledgement.
    // Each text names its number and attempt, so a resend of an unacknowledged one is told
    // apart from the original that may have been committed anyway.
    std::vector<std::string> acknowledged;
    bool on_b = false;
    for (int k = 0; k < 150; ++k) {
        for (int attempt = 0;; ++attempt) {
            const std::string text = "m" + std::to_string(k) + "/" + std::to_string(attempt);
            try {
                phone->send_text(cw_.account, text);
                acknowledged.push_back(text);
                break;
            } catch (const std::exception&) {
                ASSERT_FALSE(on_b) << "a send failed on node B";
                phone.reset();
                phone = Messenger::open(quick(*b_, dir("phone")), test_store_key());
                on_b = true;
            }
        }
        if (k == 60) ::kill(a_->pid(), SIGKILL);
    }
    ASSERT_TRUE(on_b) << "node A was never seen to fail";

    // The desktop comes back at node B; the laptop was there all along.
    auto desktop_back = Messenger::open(messenger_options(*b_, dir("desktop")), test_store_key());
    for (Messenger* console : {laptop.get(), desktop_back.get()}) {
        auto got = receive_n(*console, acknowledged.size(), 60s);
        std::map<std::string, int> seen;
        std::vector<int> order;  // of the acknowledged ones (an unacknowledged original of a
                                 // resent message may come late: it was never promised)
        for (const auto& m : got) {
            ++seen[m.plaintext];
            if (std::find(acknowledged.begin(), acknowledged.end(), m.plaintext) !=
                acknowledged.end()) {
                order.push_back(std::stoi(m.plaintext.substr(1)));
            }
        }
        for (const auto& text : acknowledged) {
            EXPECT_EQ(seen[text], 1) << text << " on device " << console->device_id();
        }
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end()))
            << "out of order on device " << console->device_id();
    }
}

TEST_F(Cluster, ADeviceLoggingInOnTheSecondNodeClosesItsOlderConnectionOnTheFirst) {
    auto device = make_raw_device(dir("raw"));
    auto first = a_->connect();
    Json registered = register_raw(*first, cw_, device, totp_for(cw_));
    ASSERT_EQ(registered["type"], "ok") << registered.dump();
    const auto device_id = registered["device_id"].get<std::uint32_t>();

    auto second = b_->connect();
    Json again = auth_device_raw(*second, cw_.account, device_id, device);
    ASSERT_EQ(again["type"], "ok") << again.dump();

    auto closed = first->wait_closed(10000ms);
    ASSERT_TRUE(closed.has_value()) << "the older connection on node A stayed open";
    EXPECT_EQ(closed->code, 1008);
    EXPECT_EQ(closed->reason, "signed in on another node");
    EXPECT_TRUE(second->is_open());
}

/// Both nodes with a 1 MiB queue per recipient.
class ClusterQuota : public Cluster {
  protected:
    ClusterQuota() { args_ = {"--queue-mib-per-recipient", "1"}; }
};

TEST_F(ClusterQuota, WhatHerCaseworkerCollectsOnNodeBFreesHerQueueOnNodeA) {
    auto console = register_console(*b_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*a_, survivor_, dir("phone"));
    console->connection().pause_reading();  // she fills his queue while he reads nothing
    const std::string big(30000, 'x');
    int sent = 0;
    for (; sent < 60; ++sent) {
        try {
            phone->send_text(cw_.account, big);
        } catch (const client::ServerError& e) {
            ASSERT_EQ(e.server_code(), "quota_exceeded") << e.what();
            break;
        }
    }
    ASSERT_LT(sent, 60) << "the 1 MiB queue never filled";
    // He collects everything on node B: node A must see the queue emptied.
    console->connection().resume_reading();
    auto got = receive_n(*console, static_cast<std::size_t>(sent), 30s);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(sent));
    EXPECT_NO_THROW(phone->send_text(cw_.account, big));
}

}  // namespace
}  // namespace ariadne::e2e
