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

TEST(ConversationView, ACheckInThatWasNotSentSaysWhyInASentenceNeverABareCode) {
    const auto view = [](const char* state, const char* reason) {
        Json contact = {{"account", kAccount}, {"role", "survivor"}, {"checkin", state}};
        if (*reason) contact["checkin_reason"] = reason;
        return conversation_view(kAccount, contact);
    };
    EXPECT_EQ(view("denied", "not_sent")["checkin"], "denied");
    const std::string undeliverable = view("denied", "not_sent")["checkin_note"];
    EXPECT_EQ(undeliverable.rfind("Not sent: no channel of her plan could carry it", 0), 0u)
        << undeliverable;
    EXPECT_EQ(view("denied", "quiet_hours")["checkin_note"],
              "Not sent: her check-in window fell in her quiet hours.");
    EXPECT_EQ(view("denied", "consent_withdrawn")["checkin_note"],
              "Not sent: she withdrew her consent to check-ins on the channels of her plan.");
    EXPECT_EQ(view("skipped", "window_passed")["checkin_note"],
              "Not sent: the gateway was not running during her check-in window.");
    EXPECT_EQ(std::string(view("interrupted", "")["checkin_note"]).rfind("Not known if sent", 0),
              0u);
    // Every reason the policy engine gives, and one it does not know, reads as a sentence.
    for (const char* reason :
         {"no_consent", "duress_lock", "survivor_paused", "case_closed", "outside_window",
          "banned_channel_class", "address_mismatch", "missing_evidence", "no_template",
          "unknown_time_zone", "policy_unavailable", "something_new"}) {
        const std::string note = view("denied", reason)["checkin_note"];
        EXPECT_EQ(note.rfind("Not sent: ", 0), 0u) << reason;
        EXPECT_EQ(note.find(reason), std::string::npos) << reason << ": " << note;
        EXPECT_EQ(note.find('_'), std::string::npos) << reason << ": " << note;
    }
    // A slot that went out, or none at all, has nothing to explain.
    EXPECT_EQ(view("sent", "")["checkin_note"], "");
    EXPECT_EQ(view("responded", "she_wrote_first")["checkin_note"], "");
    EXPECT_EQ(conversation_view(kAccount, {{"account", kAccount}})["checkin_note"], "");
}

}  // namespace
}  // namespace ariadne::console
