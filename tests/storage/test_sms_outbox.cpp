// SmsOutbox: the parts of a reply handed to Kannel and the state changes the SMS adapter
// relies on (never twice, first final report wins).
#include "ariadne/storage/sms_outbox.h"

#include "shared_db_fixture.h"

namespace ariadne::storage {
namespace {

using SmsOutboxTest = testing::SharedDbTest;

std::vector<std::string> states(const SmsOutbox& o, std::int64_t server_id) {
    std::vector<std::string> out;
    for (const auto& p : o.parts(server_id)) out.push_back(p.state);
    return out;
}

TEST_F(SmsOutboxTest, PartsAreListedInOrderForTheirReplyOnly) {
    SmsOutbox o(store());
    o.add_sending(7, 2, "a_her");
    o.add_sending(7, 0, "a_her");
    o.add_sending(7, 1, "a_her");
    o.add_sending(8, 0, "a_other");
    auto parts = o.parts(7);
    ASSERT_EQ(parts.size(), 3u);
    for (std::int64_t i = 0; i < 3; ++i) {
        EXPECT_EQ(parts[i].part, i);
        EXPECT_EQ(parts[i].account, "a_her");
        EXPECT_EQ(parts[i].state, "sending");
    }
    EXPECT_TRUE(o.parts(9).empty());
}

TEST_F(SmsOutboxTest, AddingAPartAgainKeepsItsStateSoAReplyIsNeverSentTwice) {
    SmsOutbox o(store());
    o.add_sending(7, 0, "a_her");
    o.mark_sent(7, 0, "a_her");
    o.add_sending(7, 0, "a_her");
    reopen();
    EXPECT_EQ(states(SmsOutbox(store()), 7), (std::vector<std::string>{"sent"}));
}

TEST_F(SmsOutboxTest, SentDoesNotOverwriteAReportThatCameFirst) {
    SmsOutbox o(store());
    o.add_sending(7, 0, "a_her");
    EXPECT_TRUE(o.set_final(7, 0, "a_her", "delivered"));
    o.mark_sent(7, 0, "a_her");
    EXPECT_EQ(states(o, 7), (std::vector<std::string>{"delivered"}));
}

TEST_F(SmsOutboxTest, TheFirstFinalReportWinsAndAnotherAccountChangesNothing) {
    SmsOutbox o(store());
    o.add_sending(7, 0, "a_her");
    o.mark_sent(7, 0, "a_her");
    EXPECT_FALSE(o.set_final(7, 0, "a_someone_else", "sms_rejected"));
    EXPECT_TRUE(o.set_final(7, 0, "a_her", "sms_not_delivered"));
    EXPECT_FALSE(o.set_final(7, 0, "a_her", "delivered"));
    EXPECT_EQ(states(o, 7), (std::vector<std::string>{"sms_not_delivered"}));
}

TEST_F(SmsOutboxTest, AFailureFromOnePartOnMarksTheRestButNotWhatWasDelivered) {
    SmsOutbox o(store());
    for (int i = 0; i < 4; ++i) o.add_sending(7, i, "a_her");
    o.mark_sent(7, 0, "a_her");
    o.set_final(7, 0, "a_her", "delivered");
    o.mark_sent(7, 1, "a_her");
    o.fail_from(7, 1, "a_her", "sms_unavailable");
    EXPECT_EQ(states(o, 7), (std::vector<std::string>{"delivered", "sms_unavailable",
                                                      "sms_unavailable", "sms_unavailable"}));
}

TEST_F(SmsOutboxTest, ForgettingASettledReplyRemovesOnlyItsParts) {
    SmsOutbox o(store());
    o.add_sending(7, 0, "a_her");
    o.add_sending(7, 1, "a_her");
    o.add_sending(8, 0, "a_her");
    o.forget(7, "a_not_her");
    EXPECT_EQ(o.parts(7).size(), 2u);
    o.forget(7, "a_her");
    EXPECT_TRUE(o.parts(7).empty());
    EXPECT_EQ(o.parts(8).size(), 1u);
}

}  // namespace
}  // namespace ariadne::storage
