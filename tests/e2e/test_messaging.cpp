// Store-and-forward messaging through the real server with real Signal sessions: fan-out to
// every device, replies, offline delivery in order, ack deletes, restarts lose nothing.
#include <gtest/gtest.h>

#include <set>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;

class Messaging : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        survivor_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    std::filesystem::path dir(const std::string& name) { return tmp_.path() / name; }

    /// Receives until `n` messages (not receipts) arrived or 10 s passed.
    static std::vector<ReceivedMessage> receive_n(Messenger& m, std::size_t n) {
        std::vector<ReceivedMessage> out;
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(1000ms);
            if (msg && !msg->is_receipt) out.push_back(*msg);
        }
        return out;
    }

    long mailbox_rows() const { return count_rows(gateway_->data_dir() / "ariadne.db", "mailbox"); }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor survivor_;
};

TEST_F(Messaging, SurvivorReachesBothDevicesOfHerCaseworkerAndEachCanReply) {
    auto laptop = register_console(*gateway_, cw_, dir("laptop"), 0);
    auto desktop = register_console(*gateway_, cw_, dir("desktop"), 1);
    EXPECT_NE(laptop->device_id(), desktop->device_id());
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    EXPECT_EQ(phone->account(), survivor_.account);
    EXPECT_EQ(phone->device_id(), 1u);

    auto sent = phone->send_text(cw_.account, "can we talk tomorrow?");
    EXPECT_EQ(sent.server_ids.size(), 2u);

    for (Messenger* console : {laptop.get(), desktop.get()}) {
        auto got = receive_n(*console, 1);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].plaintext, "can we talk tomorrow?");
        EXPECT_EQ(got[0].from, survivor_.account);
        EXPECT_EQ(got[0].from_device, 1u);
        EXPECT_FALSE(got[0].decrypt_error.has_value());
    }

    laptop->send_text(survivor_.account, "yes, 10:00 works");
    desktop->send_text(survivor_.account, "I will call you");
    auto replies = receive_n(*phone, 2);
    ASSERT_EQ(replies.size(), 2u);
    std::set<std::string> texts{replies[0].plaintext, replies[1].plaintext};
    EXPECT_EQ(texts, (std::set<std::string>{"yes, 10:00 works", "I will call you"}));
    std::set<std::uint32_t> devices{replies[0].from_device, replies[1].from_device};
    EXPECT_EQ(devices, (std::set<std::uint32_t>{laptop->device_id(), desktop->device_id()}));
    EXPECT_EQ(mailbox_rows(), 0);
}

TEST_F(Messaging, AnOfflineDeviceGetsItsMessagesOnConnectInOrder) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    console.reset();  // offline
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    for (int i = 0; i < 20; ++i) phone->send_text(cw_.account, "message " + std::to_string(i));
    EXPECT_EQ(mailbox_rows(), 20);

    auto back = Messenger::open(messenger_options(*gateway_, dir("console")), test_store_key());
    auto got = receive_n(*back, 20);
    ASSERT_EQ(got.size(), 20u);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(got[i].plaintext, "message " + std::to_string(i));
        if (i > 0) {
            EXPECT_GT(got[i].server_id, got[i - 1].server_id);
        }
    }
}

TEST_F(Messaging, AckDeletesTheMessageFromTheMailbox) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "one");
    phone->send_text(cw_.account, "two");
    EXPECT_EQ(mailbox_rows(), 2);

    // Read the first delivery without acknowledging it (a handler that throws).
    EXPECT_THROW(console->receive(
                     5000ms, [](const ReceivedMessage&) { throw std::runtime_error("not yet"); }),
                 std::runtime_error);
    EXPECT_EQ(mailbox_rows(), 2);

    // This connection moves on to the next delivery; acknowledging it deletes that row only.
    auto second = console->receive(5000ms);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->plaintext, "two");
    EXPECT_EQ(mailbox_rows(), 1);

    // The unacknowledged one comes back on the next connection, and its ack empties the box.
    console->disconnect();
    auto first = console->receive(5000ms);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->plaintext, "one");
    EXPECT_EQ(mailbox_rows(), 0);
}

TEST_F(Messaging, UndeliveredMessagesSurviveAGatewayRestart) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    console.reset();
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "before the restart");
    phone.reset();

    EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->log();
    gateway_->start();

    auto back = Messenger::open(messenger_options(*gateway_, dir("console")), test_store_key());
    auto got = receive_n(*back, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].plaintext, "before the restart");
}

TEST_F(Messaging, AnAcknowledgedMessageIsNeverDeliveredAgain) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "once");
    auto got = receive_n(*console, 1);
    ASSERT_EQ(got.size(), 1u);
    std::int64_t id = got[0].server_id;
    console.reset();

    // Reconnect twice: nothing comes back, and acknowledging again is not_found.
    for (int i = 0; i < 2; ++i) {
        auto again =
            Messenger::open(messenger_options(*gateway_, dir("console")), test_store_key());
        auto frame = again->connection().next_unsolicited(1500ms);
        EXPECT_FALSE(frame.has_value()) << frame->dump();
        Json ack = again->connection().request({{"type", "ack"}, {"server_id", id}});
        EXPECT_EQ(ack["code"], "not_found") << ack.dump();
    }
    EXPECT_EQ(mailbox_rows(), 0);
}

TEST_F(Messaging, AnUnacknowledgedMessageIsDeliveredAgainOnTheNextConnection) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "again");
    auto first = console->connection().next_unsolicited(5000ms);
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ((*first)["type"], "deliver") << first->dump();
    console.reset();  // never acknowledged

    auto back = Messenger::open(messenger_options(*gateway_, dir("console")), test_store_key());
    auto got = receive_n(*back, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].server_id, (*first)["message"]["server_id"].get<std::int64_t>());
    EXPECT_EQ(got[0].plaintext, "again");
}

TEST_F(Messaging, ADeliveryReceiptReachesTheSenderWhenAsked) {
    auto console = register_console(*gateway_, cw_, dir("console"), 0);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    auto sent = console->send_text(survivor_.account, "did you get this?", /*want_receipt=*/true);
    ASSERT_EQ(sent.server_ids.size(), 1u);
    auto got = receive_n(*phone, 1);
    ASSERT_EQ(got.size(), 1u);
    std::optional<ReceivedMessage> receipt;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!receipt && std::chrono::steady_clock::now() < deadline) {
        auto m = console->receive(1000ms);
        if (m && m->is_receipt) receipt = m;
    }
    ASSERT_TRUE(receipt.has_value());
    EXPECT_EQ(receipt->ref, sent.server_ids[0].second);
    EXPECT_EQ(receipt->from, survivor_.account);
}

TEST_F(Messaging, ASendWithAStaleDeviceListIsRefusedNamingMissingAndExtraDevices) {
    auto laptop = register_console(*gateway_, cw_, dir("laptop"), 0);
    auto desktop = register_console(*gateway_, cw_, dir("desktop"), 1);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    std::uint32_t bogus = laptop->device_id() + desktop->device_id() + 7;
    Json r = phone->connection().request(
        {{"type", "send"},
         {"to", cw_.account},
         {"messages",
          Json::array({{{"device_id", laptop->device_id()}, {"type", 3}, {"body", "MwAAAA=="}},
                       {{"device_id", bogus}, {"type", 3}, {"body", "MwAAAA=="}}})}});
    EXPECT_EQ(r["code"], "stale_devices") << r.dump();
    EXPECT_EQ(r["missing"], Json::array({desktop->device_id()})) << r.dump();
    EXPECT_EQ(r["extra"], Json::array({bogus})) << r.dump();
    EXPECT_EQ(mailbox_rows(), 0);
}

TEST_F(Messaging, TheMessengerCatchesUpWithANewDeviceOfTheRecipient) {
    auto laptop = register_console(*gateway_, cw_, dir("laptop"), 0);
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    phone->send_text(cw_.account, "first");
    ASSERT_EQ(receive_n(*laptop, 1).size(), 1u);

    auto desktop = register_console(*gateway_, cw_, dir("desktop"), 1);
    auto sent = phone->send_text(cw_.account, "second");  // stale list → fetch → retry
    EXPECT_EQ(sent.server_ids.size(), 2u);
    auto on_desktop = receive_n(*desktop, 1);
    ASSERT_EQ(on_desktop.size(), 1u);
    EXPECT_EQ(on_desktop[0].plaintext, "second");
    auto on_laptop = receive_n(*laptop, 1);
    ASSERT_EQ(on_laptop.size(), 1u);
    EXPECT_EQ(on_laptop[0].plaintext, "second");
}

TEST_F(Messaging, ASurvivorMayOnlyWriteToHerTeam) {
    auto other = gateway_->add_caseworker("someone.else");
    auto phone = recover_survivor(*gateway_, survivor_, dir("phone"));
    auto contacts = phone->contacts();
    ASSERT_EQ(contacts.size(), 1u);
    EXPECT_EQ(contacts[0].account, cw_.account);
    try {
        phone->send_text(other.account, "hello?");
        FAIL() << "sent outside her team";
    } catch (const client::ServerError& e) {
        EXPECT_EQ(e.server_code(), "forbidden") << e.what();
    }
}

}  // namespace
}  // namespace ariadne::e2e
