// The decision table: every channel kind × consent state × purpose × local-time case, in
// zones on both sides of UTC and across DST nights.
#include <gtest/gtest.h>

#include <vector>

#include "ariadne/policies/decision.h"

using namespace ariadne::policies;
using namespace std::chrono;

namespace {

enum class ConsentState { none, given, withdrawn, given_again };
enum class TimeCase { daytime_in_window, evening_outside_window, night_quiet_hours };

const char* name(ConsentState s) {
    switch (s) {
        case ConsentState::none:
            return "none";
        case ConsentState::given:
            return "given";
        case ConsentState::withdrawn:
            return "withdrawn";
        case ConsentState::given_again:
            return "given_again";
    }
    return "?";
}
const char* name(TimeCase t) {
    switch (t) {
        case TimeCase::daytime_in_window:
            return "daytime";
        case TimeCase::evening_outside_window:
            return "evening";
        case TimeCase::night_quiet_hours:
            return "night";
    }
    return "?";
}

Instant at(sys_seconds t) { return Instant{t}; }

Survivor make_survivor(const std::string& tz) {
    return Survivor{.case_code = CaseCode("K7Q-2F9"),
                    .initials = Initials("M.K."),
                    .language = LanguageTag("ro"),
                    .time_zone = tz};
}

ChannelRef channel_for(ChannelKind k) {
    if (k == ChannelKind::messenger) return ChannelRef{k, "whatsapp"};
    if (k == ChannelKind::social_media) return ChannelRef{k, "facebook"};
    return ChannelRef{k, ""};
}

ConsentRecord record(ChannelRef c, Purpose p, ConsentAction a, Instant when, std::int64_t v) {
    return ConsentRecord{.version = v,
                         .case_code = CaseCode("K7Q-2F9"),
                         .channel = std::move(c),
                         .address_ref = "addr:1",
                         .purpose = p,
                         .action = a,
                         .evidence_ref = "form:17",
                         .recorded_by = AccountId("cw:1"),
                         .recorded_at = when};
}

std::vector<ConsentRecord> history(ConsentState s, ChannelRef c, Purpose p, Instant base) {
    std::vector<ConsentRecord> h;
    // Consent for the same channel but another purpose never counts.
    Purpose other = p == Purpose::replies ? Purpose::case_updates : Purpose::replies;
    h.push_back(record(c, other, ConsentAction::given, base - days{30}, 1));
    if (s == ConsentState::none) return h;
    h.push_back(record(c, p, ConsentAction::given, base - days{20}, 2));
    if (s == ConsentState::given) return h;
    h.push_back(record(c, p, ConsentAction::withdrawn, base - days{10}, 3));
    if (s == ConsentState::withdrawn) return h;
    h.push_back(record(c, p, ConsentAction::given, base - days{5}, 4));
    return h;
}

// The expected outcome, written as the policy reads in docs/policies.md.
ReasonCode expected(ChannelKind k, ConsentState s, Purpose p, TimeCase t) {
    if (k == ChannelKind::social_media) return ReasonCode::banned_channel_class;
    if (s == ConsentState::none) return ReasonCode::no_consent;
    if (s == ConsentState::withdrawn) return ReasonCode::consent_withdrawn;
    if (t == TimeCase::night_quiet_hours) return ReasonCode::quiet_hours;
    if (t == TimeCase::evening_outside_window && p == Purpose::check_ins) {
        return ReasonCode::outside_window;
    }
    return ReasonCode::allowed;
}

struct Zone {
    const char* name;
    int y;
    unsigned m, d;  // a Tuesday in each case
};

}  // namespace

TEST(DecisionTable, EveryChannelConsentPurposeAndTimeCaseInZonesOnBothSidesOfUtc) {
    OrgPolicy policy;  // quiet hours 21:00-08:00, social media banned
    LocalWindow window{10 * 60, 18 * 60, 0x7F};
    int cases = 0;
    for (Zone z : {Zone{"Europe/Rome", 2025, 7, 15}, Zone{"America/New_York", 2025, 1, 14},
                   Zone{"Asia/Kolkata", 2025, 3, 11}, Zone{"Pacific/Auckland", 2025, 1, 14},
                   Zone{"UTC", 2025, 10, 7}}) {
        auto tz = TimeZone::load(z.name);
        Survivor survivor = make_survivor(z.name);
        for (TimeCase t : {TimeCase::daytime_in_window, TimeCase::evening_outside_window,
                           TimeCase::night_quiet_hours}) {
            int hour = t == TimeCase::daytime_in_window        ? 11
                       : t == TimeCase::evening_outside_window ? 19
                                                               : 23;
            local_seconds wall =
                local_days{year{z.y} / month{z.m} / day{z.d}} + hours{hour} + minutes{30};
            Instant now = at(tz->from_local(wall));
            ASSERT_EQ(tz->to_local(now).local(), wall);
            for (ChannelKind k : all_channel_kinds()) {
                for (Purpose p : all_purposes()) {
                    for (ConsentState s : {ConsentState::none, ConsentState::given,
                                           ConsentState::withdrawn, ConsentState::given_again}) {
                        auto h = history(s, channel_for(k), p, now);
                        DecisionInput in{.survivor = &survivor,
                                         .channel = channel_for(k),
                                         .purpose = p,
                                         .now = now,
                                         .time_zone = tz,
                                         .consent_history = h,
                                         .org_policy = &policy,
                                         .window = window};
                        Decision d = decide_outbound(in);
                        ReasonCode want = expected(k, s, p, t);
                        EXPECT_EQ(d.reason, want)
                            << z.name << " " << name(t) << " " << to_string(k) << " "
                            << to_string(p) << " consent=" << name(s) << ": " << d.sentence;
                        EXPECT_EQ(d.allowed, want == ReasonCode::allowed);
                        EXPECT_FALSE(d.sentence.empty());
                        ++cases;
                    }
                }
            }
        }
    }
    EXPECT_EQ(cases, 5 * 3 * 7 * 3 * 4);
}

TEST(DecisionDst, RomeSpringForwardNightWindowFollowsTheWallClock) {
    OrgPolicy policy;
    policy.quiet_hours = LocalWindow{0, 60, 0x7F};  // 00:00-01:00 only, out of the way
    auto tz = TimeZone::load("Europe/Rome");
    Survivor s = make_survivor("Europe/Rome");
    LocalWindow window{90, 4 * 60, 0x7F};  // 01:30-04:00 local, across the 02:00→03:00 jump
    auto decide = [&](sys_seconds t) {
        auto h =
            history(ConsentState::given, channel_for(ChannelKind::app), Purpose::check_ins, at(t));
        return decide_outbound(DecisionInput{.survivor = &s,
                                             .channel = channel_for(ChannelKind::app),
                                             .purpose = Purpose::check_ins,
                                             .now = at(t),
                                             .time_zone = tz,
                                             .consent_history = h,
                                             .org_policy = &policy,
                                             .window = window})
            .reason;
    };
    sys_days night{2025y / March / 30d};
    EXPECT_EQ(decide(night + minutes{25}), ReasonCode::outside_window);      // 01:25 CET
    EXPECT_EQ(decide(night + minutes{59}), ReasonCode::allowed);             // 01:59 CET
    EXPECT_EQ(decide(night + hours{1}), ReasonCode::allowed);                // 03:00 CEST
    EXPECT_EQ(decide(night + hours{1} + minutes{59}), ReasonCode::allowed);  // 03:59 CEST
    EXPECT_EQ(decide(night + hours{2}), ReasonCode::outside_window);         // 04:00 CEST
}

TEST(DecisionDst, QuietHoursEndAtEightLocalOnBothSidesOfTheLondonFallBack) {
    OrgPolicy policy;  // quiet 21:00-08:00
    auto tz = TimeZone::load("Europe/London");
    Survivor s = make_survivor("Europe/London");
    auto decide = [&](sys_seconds t) {
        auto h = history(ConsentState::given, channel_for(ChannelKind::sms), Purpose::case_updates,
                         at(t));
        return decide_outbound(DecisionInput{.survivor = &s,
                                             .channel = channel_for(ChannelKind::sms),
                                             .purpose = Purpose::case_updates,
                                             .now = at(t),
                                             .time_zone = tz,
                                             .consent_history = h,
                                             .org_policy = &policy})
            .reason;
    };
    // Saturday 25 Oct (BST, UTC+1): 07:30 UTC is 08:30 local.
    EXPECT_EQ(decide(sys_days{2025y / October / 25d} + hours{7} + minutes{30}),
              ReasonCode::allowed);
    // Sunday 26 Oct (GMT after 01:00 UTC): 07:30 UTC is 07:30 local, still quiet.
    EXPECT_EQ(decide(sys_days{2025y / October / 26d} + hours{7} + minutes{30}),
              ReasonCode::quiet_hours);
    EXPECT_EQ(decide(sys_days{2025y / October / 26d} + hours{8}), ReasonCode::allowed);
    // The overlap hour 01:00-02:00 local happens twice and is quiet both times.
    EXPECT_EQ(decide(sys_days{2025y / October / 26d} + minutes{30}), ReasonCode::quiet_hours);
    EXPECT_EQ(decide(sys_days{2025y / October / 26d} + hours{1} + minutes{30}),
              ReasonCode::quiet_hours);
}

TEST(DecisionDst, AucklandWeekdayIsHerLocalDayNotTheUtcDay) {
    OrgPolicy policy;
    auto tz = TimeZone::load("Pacific/Auckland");
    Survivor s = make_survivor("Pacific/Auckland");
    LocalWindow weekdays_only{10 * 60, 18 * 60, 0b0111110};  // Monday-Friday
    auto decide = [&](sys_seconds t) {
        auto h =
            history(ConsentState::given, channel_for(ChannelKind::app), Purpose::check_ins, at(t));
        return decide_outbound(DecisionInput{.survivor = &s,
                                             .channel = channel_for(ChannelKind::app),
                                             .purpose = Purpose::check_ins,
                                             .now = at(t),
                                             .time_zone = tz,
                                             .consent_history = h,
                                             .org_policy = &policy,
                                             .window = weekdays_only})
            .reason;
    };
    // Friday 17 Jan 2025 22:00 UTC is Saturday 18 Jan 11:00 in Auckland (UTC+13).
    EXPECT_EQ(decide(sys_days{2025y / January / 17d} + hours{22}), ReasonCode::outside_window);
    // Sunday 19 Jan 22:00 UTC is Monday 20 Jan 11:00 there.
    EXPECT_EQ(decide(sys_days{2025y / January / 19d} + hours{22}), ReasonCode::allowed);
}

class DecisionRules : public ::testing::Test {
  protected:
    OrgPolicy policy;
    std::shared_ptr<const TimeZone> tz = TimeZone::load("Europe/Rome");
    Survivor survivor = make_survivor("Europe/Rome");
    Instant noon = at(sys_days{2025y / July / 15d} + hours{10});  // 12:00 in Rome
    std::vector<ConsentRecord> consent;

    Decision decide(ChannelRef c, Purpose p = Purpose::replies) {
        return decide_outbound(DecisionInput{.survivor = &survivor,
                                             .channel = std::move(c),
                                             .purpose = p,
                                             .now = noon,
                                             .time_zone = tz,
                                             .consent_history = consent,
                                             .org_policy = &policy});
    }
};

TEST_F(DecisionRules, SocialMediaIsDeniedEvenWithAForcedConsentAndAPolicyWithoutTheBan) {
    policy.banned_classes.clear();  // a corrupted policy
    ChannelRef fb{ChannelKind::social_media, "facebook"};
    consent.push_back(record(fb, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    EXPECT_EQ(decide(fb).reason, ReasonCode::banned_channel_class);
    // Telegram filed as a messenger, with evidence, is still social media.
    ChannelRef tg{ChannelKind::messenger, "telegram"};
    consent.push_back(record(tg, Purpose::replies, ConsentAction::given, noon - days{1}, 2));
    EXPECT_EQ(decide(tg).reason, ReasonCode::banned_channel_class);
}

TEST_F(DecisionRules, ARecordStoredUnderAnAliasIsDeniedAtSendTimeAsSocialMedia) {
    // As a record stored before the alias was known would be read back: no make().
    for (std::string alias : {"tg", "ig", "insta", "facebook-messenger", "weibo", "fb", "vk"}) {
        ChannelRef stored{ChannelKind::messenger, alias};
        consent.clear();
        consent.push_back(
            record(stored, Purpose::check_ins, ConsentAction::given, noon - days{1}, 1));
        Decision d = decide(stored, Purpose::check_ins);
        EXPECT_EQ(d.reason, ReasonCode::banned_channel_class) << alias;
        EXPECT_NE(d.sentence.find("social_media"), std::string::npos) << d.sentence;
    }
}

TEST_F(DecisionRules, AMessengerTheOrganisationDoesNotAcceptIsDeniedAtSendTime) {
    ChannelRef session{ChannelKind::messenger, "session"};
    consent.push_back(record(session, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    Decision d = decide(session);
    EXPECT_EQ(d.reason, ReasonCode::unknown_channel);
    EXPECT_NE(d.sentence.find("not an accepted messenger"), std::string::npos) << d.sentence;
    policy.accepted_messengers.push_back({"session", "DPIA-2026-04"});
    EXPECT_EQ(decide(session).reason, ReasonCode::allowed);
}

TEST_F(DecisionRules, OrganisationCanBanMoreClasses) {
    policy.banned_classes.insert(ChannelClass::email);
    ChannelRef email{ChannelKind::email, ""};
    consent.push_back(record(email, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    EXPECT_EQ(decide(email).reason, ReasonCode::banned_channel_class);
}

TEST_F(DecisionRules, MessengerConsentWithoutEvidenceIsDenied) {
    ChannelRef wa{ChannelKind::messenger, "whatsapp"};
    auto r = record(wa, Purpose::replies, ConsentAction::given, noon - days{1}, 1);
    r.evidence_ref.clear();
    consent.push_back(r);
    EXPECT_EQ(decide(wa).reason, ReasonCode::missing_evidence);
}

TEST_F(DecisionRules, ConsentForAnotherMessengerProviderDoesNotCount) {
    consent.push_back(record(ChannelRef{ChannelKind::messenger, "signal"}, Purpose::replies,
                             ConsentAction::given, noon - days{1}, 1));
    EXPECT_EQ(decide(ChannelRef{ChannelKind::messenger, "whatsapp"}).reason,
              ReasonCode::no_consent);
}

TEST_F(DecisionRules, WithdrawalTakesEffectAtOnceAndFutureRecordsAreIgnored) {
    ChannelRef sms{ChannelKind::sms, ""};
    consent.push_back(record(sms, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    consent.push_back(record(sms, Purpose::replies, ConsentAction::withdrawn, noon, 2));
    EXPECT_EQ(decide(sms).reason, ReasonCode::consent_withdrawn);
    consent.pop_back();
    consent.push_back(
        record(sms, Purpose::replies, ConsentAction::withdrawn, noon + seconds{1}, 2));
    EXPECT_EQ(decide(sms).reason, ReasonCode::allowed);
}

TEST_F(DecisionRules, SameInstantRecordsAreOrderedByVersion) {
    ChannelRef sms{ChannelKind::sms, ""};
    consent.push_back(record(sms, Purpose::replies, ConsentAction::withdrawn, noon - days{1}, 2));
    consent.push_back(record(sms, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    EXPECT_EQ(decide(sms).reason, ReasonCode::consent_withdrawn);
}

TEST_F(DecisionRules, AddressOtherThanTheConsentedOneIsDenied) {
    ChannelRef sms{ChannelKind::sms, ""};
    consent.push_back(record(sms, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    auto in = DecisionInput{.survivor = &survivor,
                            .channel = sms,
                            .address_ref = "addr:2",
                            .purpose = Purpose::replies,
                            .now = noon,
                            .time_zone = tz,
                            .consent_history = consent,
                            .org_policy = &policy};
    EXPECT_EQ(decide_outbound(in).reason, ReasonCode::address_mismatch);
    in.address_ref = "addr:1";
    EXPECT_EQ(decide_outbound(in).reason, ReasonCode::allowed);
}

TEST_F(DecisionRules, DuressLockDeniesEveryPurposeIncludingReplies) {
    ChannelRef app{ChannelKind::app, ""};
    for (Purpose p : all_purposes()) {
        consent.push_back(record(app, p, ConsentAction::given, noon - days{1}, 1));
    }
    survivor.flags.duress_lock = true;
    for (Purpose p : all_purposes()) EXPECT_EQ(decide(app, p).reason, ReasonCode::duress_lock);
}

TEST_F(DecisionRules, PauseStopsCheckInsAndUpdatesButNotReplies) {
    ChannelRef app{ChannelKind::app, ""};
    for (Purpose p : all_purposes()) {
        consent.push_back(record(app, p, ConsentAction::given, noon - days{1}, 1));
    }
    survivor.flags.paused = true;
    EXPECT_EQ(decide(app, Purpose::replies).reason, ReasonCode::allowed);
    EXPECT_EQ(decide(app, Purpose::check_ins).reason, ReasonCode::survivor_paused);
    EXPECT_EQ(decide(app, Purpose::case_updates).reason, ReasonCode::survivor_paused);
}

TEST_F(DecisionRules, APauseWithAnEndStopsCheckInsUntilThenOnly) {
    ChannelRef app{ChannelKind::app, ""};
    for (Purpose p : all_purposes()) {
        consent.push_back(record(app, p, ConsentAction::given, noon - days{1}, 1));
    }
    survivor.flags.paused = true;
    survivor.paused_until = noon + minutes{1};
    Decision d = decide(app, Purpose::check_ins);
    EXPECT_EQ(d.reason, ReasonCode::survivor_paused);
    EXPECT_NE(d.sentence.find("(paused until "), std::string::npos) << d.sentence;
    survivor.paused_until = noon;  // it ended at this very instant
    EXPECT_EQ(decide(app, Purpose::check_ins).reason, ReasonCode::allowed);
}

TEST_F(DecisionRules, ClosedCaseStopsCheckInsButStillAllowsReplies) {
    ChannelRef app{ChannelKind::app, ""};
    for (Purpose p : all_purposes()) {
        consent.push_back(record(app, p, ConsentAction::given, noon - days{1}, 1));
    }
    survivor.status = SurvivorStatus::closed;
    EXPECT_EQ(decide(app, Purpose::replies).reason, ReasonCode::allowed);
    EXPECT_EQ(decide(app, Purpose::check_ins).reason, ReasonCode::case_closed);
    EXPECT_EQ(decide(app, Purpose::case_updates).reason, ReasonCode::case_closed);
    survivor.status = SurvivorStatus::dormant;  // a label for the team: decided like active
    for (Purpose p : all_purposes()) EXPECT_EQ(decide(app, p).reason, ReasonCode::allowed);
}

TEST_F(DecisionRules, SurvivorsOwnQuietHoursOverrideTheOrganisations) {
    ChannelRef app{ChannelKind::app, ""};
    consent.push_back(record(app, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    survivor.quiet_hours = LocalWindow{11 * 60, 13 * 60, 0x7F};  // she works 11-13
    Decision d = decide(app);
    EXPECT_EQ(d.reason, ReasonCode::quiet_hours);
    EXPECT_NE(d.sentence.find("11:00-13:00"), std::string::npos) << d.sentence;
    EXPECT_NE(d.sentence.find("12:00"), std::string::npos) << d.sentence;
}

TEST_F(DecisionRules, FailsClosedOnMissingPolicySurvivorTimeZoneOrUnknownChannel) {
    ChannelRef app{ChannelKind::app, ""};
    consent.push_back(record(app, Purpose::replies, ConsentAction::given, noon - days{1}, 1));
    DecisionInput in{.survivor = &survivor,
                     .channel = app,
                     .purpose = Purpose::replies,
                     .now = noon,
                     .time_zone = tz,
                     .consent_history = consent,
                     .org_policy = &policy};
    EXPECT_TRUE(decide_outbound(in).allowed);
    auto without_policy = in;
    without_policy.org_policy = nullptr;
    EXPECT_EQ(decide_outbound(without_policy).reason, ReasonCode::policy_unavailable);
    auto without_survivor = in;
    without_survivor.survivor = nullptr;
    EXPECT_EQ(decide_outbound(without_survivor).reason, ReasonCode::unknown_survivor);
    auto without_tz = in;
    without_tz.time_zone = nullptr;
    EXPECT_EQ(decide_outbound(without_tz).reason, ReasonCode::unknown_time_zone);
    auto bad_channel = in;
    bad_channel.channel.kind = static_cast<ChannelKind>(99);
    EXPECT_EQ(decide_outbound(bad_channel).reason, ReasonCode::unknown_channel);
    auto messenger_without_provider = in;
    messenger_without_provider.channel = ChannelRef{ChannelKind::messenger, ""};
    EXPECT_EQ(decide_outbound(messenger_without_provider).reason, ReasonCode::unknown_channel);
    auto bad_purpose = in;
    bad_purpose.purpose = static_cast<Purpose>(7);
    EXPECT_FALSE(decide_outbound(bad_purpose).allowed);
}

TEST(DecisionReasons, EveryReasonHasAStableNameAndASentence) {
    for (ReasonCode r : all_reason_codes()) {
        EXPECT_EQ(parse_reason_code(to_string(r)), r);
        EXPECT_GT(reason_sentence(r).size(), 30U) << to_string(r);
    }
    EXPECT_EQ(decision_rules().size(), 8U);
}
