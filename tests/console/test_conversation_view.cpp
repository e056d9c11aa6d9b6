// What the console shows about a conversation is the gateway's: its channel, security label,
// case status and unverified flag pass through unchanged, and nothing is guessed when the
// gateway says nothing.
#include <gtest/gtest.h>

#include "ariadne/console/service.h"

namespace ariadne::console {
namespace {

const std::string kAccount = "a_H1xQ2w3e4r5t6y7u8i9o0p";

TEST(ConversationView, PassesTheGatewaysChannelAndLabelThroughUnchanged) {
    // E-mail and messenger were labelled by a table of the console's own that contradicted
    // the gateway's; whatever the gateway says is what the caseworker reads.
    for (const char* kind : {"app", "web", "sms", "email", "messenger", "voice_callback"}) {
        const Json channel = {{"kind", kind},
                              {"security", "carrier_plaintext"},
                              {"label", std::string("the gateway's words for ") + kind}};
        const Json contact = {{"account", kAccount}, {"role", "survivor"}, {"channel", channel}};
        EXPECT_EQ(conversation_view(kAccount, contact)["channel"], channel) << kind;
    }
}

TEST(ConversationView, PassesTheGatewaysStatusAndUnverifiedFlagThrough) {
    const Json contact = {
        {"account", kAccount},
        {"role", "survivor"},
        {"case_code", "K7Q-2F9"},
        {"initials", "U"},
        {"status", "closed"},
        {"unverified", true},
        {"channel",
         {{"kind", "sms"}, {"security", "carrier_plaintext"}, {"label", "carrier plaintext"}}}};
    const Json view = conversation_view(kAccount, contact);
    EXPECT_EQ(view["status"], "closed");
    EXPECT_EQ(view["unverified"], true);
    EXPECT_EQ(view["case_code"], "K7Q-2F9");
    EXPECT_EQ(view["initials"], "U");
    EXPECT_EQ(view["account"], kAccount);
}

TEST(ConversationView, KeepsTheChannelOfHerLastMessageApartFromTheReplyChannel) {
    const Json web = {{"kind", "web"}, {"security", "edge_encrypted"}, {"label", "edge-encrypted"}};
    const Json app = {
        {"kind", "app"}, {"security", "end_to_end"}, {"label", "end-to-end encrypted"}};
    const Json contact = {
        {"account", kAccount}, {"role", "survivor"}, {"channel", app}, {"reply_channel", web}};
    const Json view = conversation_view(kAccount, contact);
    EXPECT_EQ(view["channel"], app);
    EXPECT_EQ(view["reply_channel"], web);
    EXPECT_TRUE(conversation_view(kAccount, Json::object())["reply_channel"].is_null());
}

TEST(ConversationView, WithoutTheGatewaysChannelTheLabelIsUnknownNotGuessed) {
    // Not listed yet (a brand-new SMS thread before the next refresh) or listed without a
    // channel: never labelled, so never wrongly labelled end-to-end.
    EXPECT_TRUE(conversation_view(kAccount, Json())["channel"].is_null());
    EXPECT_TRUE(conversation_view(kAccount, Json::object())["channel"].is_null());
    const Json bare = {{"account", kAccount}, {"role", "survivor"}};
    EXPECT_TRUE(conversation_view(kAccount, bare)["channel"].is_null());
    EXPECT_EQ(conversation_view(kAccount, bare)["unverified"], false);
    EXPECT_EQ(conversation_view(kAccount, bare)["status"], "");
}

TEST(ConversationView, OddFieldsFromTheGatewayAreDroppedOrErrOnTheCarefulSide) {
    const Json contact = {{"account", kAccount},
                          {"status", 3},
                          {"unverified", "yes"},
                          {"channel", {{"kind", "sms"}, {"security", 1}, {"label", nullptr}}}};
    const Json view = conversation_view(kAccount, contact);
    EXPECT_EQ(view["status"], "");
    EXPECT_EQ(view["unverified"], true);  // a flag she is unverified is never dropped
    EXPECT_EQ(view["channel"], Json({{"kind", "sms"}}));
    EXPECT_TRUE(conversation_view(kAccount, {{"channel", "app"}})["channel"].is_null());
}

}  // namespace
}  // namespace ariadne::console
