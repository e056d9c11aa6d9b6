// ChannelSenders on a real policy database: which channel kinds the last server could send on.
#include <gtest/gtest.h>

#include "ariadne/storage/channel_senders.h"
#include "policy_db.h"

namespace ariadne::storage {
namespace {

using policies::ChannelKind;

class ChannelSendersTest : public PolicyDbTest {};

TEST_F(ChannelSendersTest, ARecordedKindIsSeenAfterReopeningAndOthersAreNot) {
    ChannelSenders(store()).record(ChannelKind::app, 1000);
    ChannelSenders(store()).record(ChannelKind::sms, 1000);
    reopen();
    ChannelSenders senders(store());
    EXPECT_TRUE(senders.recorded(ChannelKind::app));
    EXPECT_TRUE(senders.recorded(ChannelKind::sms));
    EXPECT_FALSE(senders.recorded(ChannelKind::web));
    EXPECT_FALSE(senders.recorded(ChannelKind::email));
}

TEST_F(ChannelSendersTest, RecordingAgainUpdatesTheTimeAndForgettingRemovesOnlyThatKind) {
    ChannelSenders senders(store());
    senders.record(ChannelKind::app, 1000);
    senders.record(ChannelKind::app, 2000);
    senders.record(ChannelKind::web, 1500);
    EXPECT_EQ(count("SELECT registered_at_ms FROM gateway_channel_senders WHERE kind = 'app'"),
              2000);
    senders.forget(ChannelKind::app);
    EXPECT_FALSE(senders.recorded(ChannelKind::app));
    EXPECT_TRUE(senders.recorded(ChannelKind::web));
    senders.forget(ChannelKind::sms);  // never recorded: nothing to do
}

TEST_F(ChannelSendersTest, ClearForgetsEveryKind) {
    ChannelSenders senders(store());
    senders.clear();  // on a database that never had the table
    senders.record(ChannelKind::app, 1);
    senders.record(ChannelKind::web, 1);
    senders.clear();
    EXPECT_FALSE(senders.recorded(ChannelKind::app));
    EXPECT_FALSE(senders.recorded(ChannelKind::web));
    EXPECT_EQ(count("SELECT count(*) FROM gateway_channel_senders"), 0);
}

}  // namespace
}  // namespace ariadne::storage
