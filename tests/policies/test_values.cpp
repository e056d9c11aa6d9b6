// Value types refuse bad input at construction, naming the field.
#include <gtest/gtest.h>

#include <set>

#include "ariadne/policies/channel.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/model.h"
#include "ariadne/policies/values.h"

using namespace ariadne::policies;

namespace {

void expect_initials_refused(const std::string& text) {
    try {
        Initials i(text);
        ADD_FAILURE() << "accepted '" << text << "' as initials";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_field);
        EXPECT_EQ(e.field(), "initials");
        EXPECT_NE(
            std::string(e.what()).find("initials only are allowed: 1 to 4 letters, e.g. 'M.K.'"),
            std::string::npos)
            << e.what();
    }
}

}  // namespace

TEST(Initials, AcceptsLettersOfAnyScriptWithOptionalDotsAndSpaces) {
    EXPECT_EQ(Initials("M.K.").str(), "M.K.");
    EXPECT_EQ(Initials("ΑΒ").str(), "ΑΒ");
    EXPECT_EQ(Initials("م ع").str(), "م ع");
    EXPECT_EQ(Initials("  MK ").str(), "MK");
    EXPECT_EQ(Initials("A.N.").str(), "A.N.");
    EXPECT_EQ(Initials("AN").str(), "AN");
    EXPECT_EQ(Initials("س.ع.").str(), "س.ع.");
    EXPECT_EQ(Initials("李 娜").str(), "李 娜");
    EXPECT_EQ(Initials("Ж").str(), "Ж");
    EXPECT_EQ(Initials("A B C D").str(), "A B C D");
    EXPECT_EQ(Initials("कि").str(), "कि");  // a letter followed by a vowel sign is one letter
}

TEST(Initials, RefusesFullNamesDigitsEmailsAndEmptyText) {
    for (const char* bad :
         {"Maria", "Maria Kovacs", "M.K.1", "12", "mk@example.org", "", "   ", "M-K", "M_K", "M,K",
          "ABCDE", "A.B.C.D.E", "Μαρία", "\xff\xfe", "M\tK!", "https://x"}) {
        expect_initials_refused(bad);
    }
}

TEST(Initials, RefusesCommonShortNamesInEveryScriptNamingTheRule) {
    // Short first names of up to 4 letters: Latin, Greek, Cyrillic with case; Arabic, Hebrew,
    // Chinese, Japanese, Devanagari, Thai without.
    const std::vector<std::string> cased = {"Ana", "ana",  "Eva",  "Li",   "Jo",  "Mia",
                                            "Ion", "Olga", "Νίκη", "Άννα", "Аня", "Олег",
                                            "Іра", "A.na", "mk",   "ANa"};
    const std::vector<std::string> uncased = {"سارة", "علي",  "مي",    "דנה",  "李娜", "王芳",
                                              "ゆき", "ミカ", "प्रिया", "सीता", "นก",   "Aس"};
    for (const auto& name : cased) {
        expect_initials_refused(name);
        try {
            Initials i(name);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("initials are capitals"), std::string::npos)
                << e.what();
            EXPECT_EQ(std::string(e.what()).find(name), std::string::npos) << "echoes the name";
        }
    }
    for (const auto& name : uncased) {
        expect_initials_refused(name);
        try {
            Initials i(name);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("separate the letters with dots or spaces"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(Initials, ErrorNamesTheFieldTheCallerGave) {
    try {
        Initials("Maria Kovacs", "survivor.initials");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "survivor.initials");
        EXPECT_EQ(std::string(e.what()).rfind("survivor.initials: ", 0), 0U) << e.what();
    }
}

TEST(CaseCode, GeneratedCodesUseTheUnambiguousAlphabetAndParseBack) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        CaseCode c = CaseCode::generate();
        ASSERT_EQ(c.str().size(), 7U);
        EXPECT_EQ(c.str()[3], '-');
        for (char ch : c.str()) {
            if (ch != '-') {
                EXPECT_NE(CaseCode::kAlphabet.find(ch), std::string_view::npos) << c.str();
            }
        }
        EXPECT_EQ(CaseCode(c.str()).str(), c.str());
        seen.insert(c.str());
    }
    EXPECT_GT(seen.size(), 1990U);  // random, not a counter
}

TEST(CaseCode, ParsesLowerCaseAndMissingDashButRefusesAmbiguousCharacters) {
    EXPECT_EQ(CaseCode("k7q2f9").str(), "K7Q-2F9");
    EXPECT_EQ(CaseCode(" K7Q-2F9 ").str(), "K7Q-2F9");
    for (const char* bad : {"K7Q-2F0", "K7O-2F9", "I7Q-2F9", "K7Q-2F", "K7Q-2F9A", "K7-Q2F9", ""}) {
        EXPECT_THROW(CaseCode{bad}, Error) << bad;
    }
}

TEST(AccountIdAndLanguage, RefuseNamesAndEmails) {
    EXPECT_EQ(AccountId("cw:1042").str(), "cw:1042");
    EXPECT_THROW(AccountId("anna@ngo.org"), Error);
    EXPECT_THROW(AccountId("Anna Rossi"), Error);
    EXPECT_EQ(LanguageTag("pt-BR").primary(), "pt");
    EXPECT_THROW(LanguageTag("english"), Error);
    EXPECT_THROW(LanguageTag("e"), Error);
}

TEST(Channels, SocialMediaProvidersAreSocialMediaWhateverKindTheyAreFiledUnder) {
    for (std::string_view p : social_media_providers()) {
        EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, p).kind, ChannelKind::social_media) << p;
    }
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "Telegram").kind, ChannelKind::social_media);
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "whatsapp").kind, ChannelKind::messenger);
    EXPECT_THROW(ChannelRef::make(ChannelKind::messenger, ""), Error);
    EXPECT_THROW(ChannelRef::make(ChannelKind::sms, "whatsapp"), Error);
    EXPECT_THROW(ChannelRef::make(static_cast<ChannelKind>(42)), Error);
}

// Aliases, abbreviations, domains, other spellings and look-alike characters of social
// networks: each is social media, whatever kind it is filed under.
TEST(Channels, EveryAliasOfASocialNetworkIsSocialMedia) {
    const std::vector<std::pair<std::string, std::string>> aliases = {
        {"tg", "telegram"},
        {"TG", "telegram"},
        {"t.me", "telegram"},
        {"Telegram ", "telegram"},
        {"ig", "instagram"},
        {"insta", "instagram"},
        {"Insta-gram", "instagram"},
        {"facebook-messenger", "facebook_messenger"},
        {"Facebook Messenger", "facebook_messenger"},
        {"messenger", "facebook_messenger"},
        {"fb", "facebook"},
        {"F.B.", "facebook"},
        {"fb.com", "facebook"},
        {"meta", "facebook"},
        {"weibo", "weibo"},
        {"微博", "weibo"},
        {"vkontakte", "vk"},
        {"ВКонтакте", "vk"},
        {"x.com", "x"},
        {"twitter", "twitter"},
        {"tiktok", "tiktok"},
        {"douyin", "tiktok"},
        {"wechat", "wechat"},
        {"weixin", "wechat"},
        {"snap", "snapchat"},
        {"bsky", "bluesky"},
        {"ok.ru", "odnoklassniki"},
        {"\xEF\xBD\x86\xEF\xBD\x82", "facebook"},  // full-width "ｆｂ"
        {"t\xD0\xB5legram", "telegram"},           // Cyrillic "е"
        {"f\xC3\xA1"
         "cebook",
         "facebook"},                            // "á"
        {"insta\xE2\x80\x8Bgram", "instagram"},  // zero-width space
        {"\xCE\x99nstagram", "instagram"},       // Greek capital iota
    };
    for (const auto& [alias, canonical] : aliases) {
        for (ChannelKind kind : {ChannelKind::messenger, ChannelKind::social_media}) {
            ChannelRef c = ChannelRef::make(kind, alias);
            EXPECT_EQ(c.kind, ChannelKind::social_media) << alias;
            EXPECT_EQ(c.provider, canonical) << alias;
        }
        EXPECT_TRUE(is_social_media_provider(alias)) << alias;
        // A value stored without make() (an old record) is treated the same.
        EXPECT_EQ(effective_channel(ChannelRef{ChannelKind::messenger, alias}).kind,
                  ChannelKind::social_media)
            << alias;
    }
}

TEST(Channels, AcceptedMessengersAreCanonicalisedAndOthersStayMessengers) {
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "WhatsApp").provider, "whatsapp");
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "Whats App").provider, "whatsapp");
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "wa").provider, "whatsapp");
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "Signal").kind, ChannelKind::messenger);
    EXPECT_TRUE(is_builtin_messenger("threema"));
    EXPECT_FALSE(is_builtin_messenger("session"));
    EXPECT_EQ(ChannelRef::make(ChannelKind::messenger, "session").kind, ChannelKind::messenger);
    // Punctuation that is not a separator, or a script with no alias, is malformed.
    EXPECT_THROW(ChannelRef::make(ChannelKind::messenger, "wh@tsapp"), Error);
    EXPECT_THROW(ChannelRef::make(ChannelKind::messenger, "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2"),
                 Error);  // "прив"
    EXPECT_FALSE(canonical_provider(""));
}

TEST(OrgPolicyValidation, AnAddedMessengerNeedsEvidenceAndCanNeverBeSocialMedia) {
    OrgPolicy p;
    EXPECT_FALSE(p.accepts_messenger("session"));
    EXPECT_TRUE(p.accepts_messenger("WhatsApp"));
    EXPECT_FALSE(p.accepts_messenger("telegram"));
    p.accepted_messengers.push_back({"session", "DPIA-2026-04"});
    p.validate();
    EXPECT_TRUE(p.accepts_messenger("Session"));
    p.accepted_messengers.push_back({"telegram", "DPIA-1"});
    try {
        p.validate();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::refused);
        EXPECT_EQ(e.field(), "accepted_messengers[1].provider");
    }
    EXPECT_FALSE(p.accepts_messenger("tg"));
    OrgPolicy q;
    q.accepted_messengers.push_back({"session", ""});
    EXPECT_THROW(q.validate(), Error);
}

TEST(Channels, EveryKindHasAClassAndASecurityLabel) {
    EXPECT_EQ(label_of(ChannelKind::app), SecurityLabel::end_to_end);
    EXPECT_EQ(label_of(ChannelKind::web), SecurityLabel::edge_encrypted);
    EXPECT_EQ(label_of(ChannelKind::sms), SecurityLabel::carrier_plaintext);
    EXPECT_EQ(class_of(ChannelKind::voice_callback), ChannelClass::telephony);
    for (ChannelKind k : all_channel_kinds()) {
        EXPECT_EQ(parse_channel_kind(to_string(k)), k);
        EXPECT_STRNE(describe(label_of(k)), "unknown");
    }
}

// The table of docs/policies.md ("Channels") and the caseworker guide's label words: no
// channel that a carrier or provider carries may ever be labelled as protected.
TEST(Channels, SecurityLabelsAndTheirWordsAreTheDocumentedOnes) {
    const struct {
        ChannelKind kind;
        const char* security;
        const char* words;
    } table[] = {
        {ChannelKind::app, "end_to_end", "end-to-end encrypted"},
        {ChannelKind::web, "edge_encrypted", "edge-encrypted"},
        {ChannelKind::sms, "carrier_plaintext", "carrier plaintext"},
        {ChannelKind::voice_callback, "carrier_plaintext", "carrier plaintext"},
        {ChannelKind::email, "carrier_plaintext", "carrier plaintext"},
        {ChannelKind::messenger, "carrier_plaintext", "carrier plaintext"},
        {ChannelKind::social_media, "carrier_plaintext", "carrier plaintext"},
    };
    ASSERT_EQ(std::size(table), all_channel_kinds().size());
    for (const auto& row : table) {
        EXPECT_STREQ(to_string(label_of(row.kind)), row.security) << to_string(row.kind);
        EXPECT_STREQ(describe(label_of(row.kind)), row.words) << to_string(row.kind);
    }
}

TEST(OrgPolicyValidation, RefusesRemovingTheSocialMediaBanWithTheReason) {
    OrgPolicy p;
    p.banned_classes.clear();
    try {
        p.validate();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::refused);
        EXPECT_EQ(e.field(), "banned_classes");
        EXPECT_NE(std::string(e.what()).find("social media is always banned"), std::string::npos);
    }
    OrgPolicy q;
    q.retention_days = 0;
    EXPECT_THROW(q.validate(), Error);
    OrgPolicy w;
    w.checkin_defaults.window = LocalWindow{18 * 60, 10 * 60, 0x7F};
    try {
        w.validate();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "checkin_defaults.window");
    }
}

TEST(ConsentValidation, SocialMediaConsentIsRefusedAtConfiguration) {
    ConsentRecord r{.case_code = CaseCode("K7Q-2F9"),
                    .channel = ChannelRef{ChannelKind::messenger, "instagram"},
                    .recorded_by = AccountId("cw:1"),
                    .recorded_at = from_micros(1'700'000'000'000'000)};
    try {
        r.validate();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::refused);
        EXPECT_EQ(e.field(), "consent.channel");
    }
}

TEST(ConsentValidation, MessengerConsentWithoutSignedFormIsRefused) {
    ConsentRecord r{.case_code = CaseCode("K7Q-2F9"),
                    .channel = ChannelRef::make(ChannelKind::messenger, "whatsapp"),
                    .recorded_by = AccountId("cw:1"),
                    .recorded_at = from_micros(1'700'000'000'000'000)};
    try {
        r.validate();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "consent.evidence_ref");
    }
    r.evidence_ref = "form:2024-117";
    EXPECT_NO_THROW(r.validate());
    r.address_ref = "+393331234567@wa";  // looks like an address, not a reference
    EXPECT_THROW(r.validate(), Error);
    r.address_ref = "+393331234567";  // a phone number is never stored here
    EXPECT_THROW(r.validate(), Error);
    r.address_ref = "addr:9f2c61";
    EXPECT_NO_THROW(r.validate());
}
