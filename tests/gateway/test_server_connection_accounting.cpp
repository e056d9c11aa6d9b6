// The network layer's bookkeeping without sockets: the connection caps (ConnectionTable,
// ConnectionSlot) and the WebSocket frame tracker that bounds a lingering close. The real
// server's behaviour under these caps is in tests/e2e/test_connection_limits.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "ariadne/protocol/metrics.h"
#include "connection_slots.h"
#include "frame_tracker.h"

namespace ariadne::gateway::net_detail {
namespace {

ConnectionTable::Limits limits(std::uint32_t total, std::uint32_t per_address,
                               std::uint32_t unauthenticated_per_address) {
    return {total, per_address, unauthenticated_per_address};
}

TEST(ConnectionAccounting, TheAddressCapRefusesTheNextConnectionUntilOneCloses) {
    Metrics metrics;
    ConnectionTable table(metrics, limits(100, 2, 2));
    std::optional<ConnectionSlot> a = ConnectionSlot::acquire(table, "10.0.0.1");
    std::optional<ConnectionSlot> b = ConnectionSlot::acquire(table, "10.0.0.1");
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(ConnectionSlot::acquire(table, "10.0.0.1"));
    EXPECT_TRUE(ConnectionSlot::acquire(table, "10.0.0.2"));  // another address is not held up
    EXPECT_EQ(table.count("10.0.0.1").open, 2u);
    EXPECT_EQ(metrics.connections_open.load(), 2);
    a.reset();
    EXPECT_EQ(table.count("10.0.0.1").open, 1u);
    EXPECT_TRUE(ConnectionSlot::acquire(table, "10.0.0.1"));
    b.reset();
    EXPECT_EQ(table.count("10.0.0.1").open, 0u);
    EXPECT_EQ(metrics.connections_open.load(), 0);
}

TEST(ConnectionAccounting, OnlyConnectionsNotLoggedInCountAgainstTheUnauthenticatedCap) {
    Metrics metrics;
    ConnectionTable table(metrics, limits(100, 10, 1));
    std::optional<ConnectionSlot> first = ConnectionSlot::acquire(table, "10.0.0.1");
    ASSERT_TRUE(first);
    EXPECT_FALSE(ConnectionSlot::acquire(table, "10.0.0.1"));
    first->mark_authenticated();
    first->mark_authenticated();  // idempotent
    EXPECT_EQ(table.count("10.0.0.1").unauthenticated, 0u);
    std::optional<ConnectionSlot> second = ConnectionSlot::acquire(table, "10.0.0.1");
    ASSERT_TRUE(second);
    EXPECT_EQ(table.count("10.0.0.1").open, 2u);
    EXPECT_EQ(table.count("10.0.0.1").unauthenticated, 1u);
}

TEST(ConnectionAccounting, ATenthOfTheSlotsIsKeptForConnectionsThatLogIn) {
    Metrics metrics;
    ConnectionTable table(metrics, limits(10, 10, 10));
    std::vector<ConnectionSlot> waiting;
    for (int i = 0; i < 9; ++i) {
        auto slot = ConnectionSlot::acquire(table, "10.0.1." + std::to_string(i));
        ASSERT_TRUE(slot) << i;
        waiting.push_back(std::move(*slot));
    }
    // Nine of ten slots are not logged in and none can be cut (none is attached to a
    // connection yet): the tenth is refused.
    EXPECT_FALSE(ConnectionSlot::acquire(table, "10.0.2.1"));
    waiting.front().mark_authenticated();
    EXPECT_TRUE(ConnectionSlot::acquire(table, "10.0.2.1"));
}

TEST(ConnectionAccounting, AMovedSlotIsCountedOnce) {
    Metrics metrics;
    ConnectionTable table(metrics, limits(100, 5, 5));
    {
        std::optional<ConnectionSlot> slot = ConnectionSlot::acquire(table, "10.0.0.1");
        ASSERT_TRUE(slot);
        ConnectionSlot moved(std::move(*slot));  // HTTP hands its slot to the WebSocket
        slot.reset();
        EXPECT_EQ(table.count("10.0.0.1").open, 1u);
        EXPECT_EQ(moved.address(), "10.0.0.1");
    }
    EXPECT_EQ(table.count("10.0.0.1").open, 0u);
    EXPECT_EQ(metrics.connections_open.load(), 0);
}

TEST(FrameTracker, FollowsEachLengthFormAcrossArbitraryChunks) {
    // Masked client frames: 5 bytes (7-bit length), 300 bytes (16-bit), 70,000 (64-bit).
    std::vector<unsigned char> stream;
    auto frame = [&](std::uint64_t length) {
        stream.push_back(0x81);
        if (length < 126) {
            stream.push_back(static_cast<unsigned char>(0x80 | length));
        } else if (length <= 0xFFFF) {
            stream.insert(stream.end(), {0x80 | 126, static_cast<unsigned char>(length >> 8),
                                         static_cast<unsigned char>(length)});
        } else {
            stream.push_back(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8)
                stream.push_back(static_cast<unsigned char>(length >> shift));
        }
        stream.insert(stream.end(), 4, 0x5a);       // mask key
        stream.insert(stream.end(), length, 0x20);  // payload
    };
    frame(5);
    frame(300);
    frame(70000);
    FrameTracker tracker;
    std::size_t fed = 0;
    auto feed_to = [&](std::size_t end) {
        for (std::size_t step = 1; fed < end; step = step * 3 % 17 + 1) {
            std::size_t n = std::min(step, end - fed);
            tracker.feed(stream.data() + fed, n);
            fed += n;
        }
    };
    feed_to(2 + 4 + 5);  // the first frame, whole
    EXPECT_EQ(tracker.unread(), 0u);
    feed_to(fed + 4 + 4 + 100);  // second frame's header and 100 of its 300 bytes
    EXPECT_EQ(tracker.unread(), 200u);
    feed_to(fed + 200 + 10 + 4 + 1);  // the rest, the third header and one payload byte
    EXPECT_EQ(tracker.unread(), 69999u);
    feed_to(stream.size());
    EXPECT_EQ(tracker.unread(), 0u);
}

TEST(FrameTracker, AnAnnouncedHugeFrameIsOwedInFull) {
    const unsigned char header[] = {0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 1,    2,    3,    4};
    FrameTracker tracker;
    tracker.feed(header, sizeof header);
    EXPECT_EQ(tracker.unread(), 0x7FFFFFFFFFFFFFFFull);
}

}  // namespace
}  // namespace ariadne::gateway::net_detail
