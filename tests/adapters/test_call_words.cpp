// The times offered for a call back (call_windows.h) and the SMS call words
// (catalogue.json `call_keywords`, sms_gateway_impl.h).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "call_windows.h"
#include "sms_gateway_impl.h"
#include "web_assets.h"

namespace ariadne::adapters {
namespace {

// 2026-12-07 10:40 UTC.
constexpr std::int64_t kMorning = 1'796'640'000'000;

TEST(CallWindows, TodaysOpenPartsAndTomorrowsInHerZone) {
    auto w = detail::call_windows(kMorning, "UTC");
    ASSERT_EQ(w.size(), 6u);
    EXPECT_EQ(w[0].key, "2026-12-07/morning");
    EXPECT_EQ(w[0].hours, "09:00\u201312:00");
    EXPECT_FALSE(w[0].tomorrow);
    EXPECT_EQ(w[0].to_ms - w[0].from_ms, 3 * 3'600'000);
    EXPECT_EQ(w[3].key, "2026-12-08/morning");
    EXPECT_TRUE(w[3].tomorrow);
    EXPECT_EQ(w[5].key, "2026-12-08/evening");
    // In Rome (UTC+1 in December) the same instant is 11:40: the morning has 20 minutes
    // left, so the afternoon comes first, at Rome's noon.
    auto rome = detail::call_windows(kMorning, "Europe/Rome");
    ASSERT_EQ(rome.size(), 5u);
    EXPECT_EQ(rome[0].key, "2026-12-07/afternoon");
    EXPECT_EQ(rome[0].from_ms, w[1].from_ms - 3'600'000);
}

TEST(CallWindows, APartWithLessThanHalfAnHourLeftIsNotOffered) {
    // 11:45 UTC: the morning ends in 15 minutes.
    auto w = detail::call_windows(kMorning + 65 * 60'000, "UTC");
    ASSERT_EQ(w.size(), 5u);
    EXPECT_EQ(w[0].key, "2026-12-07/afternoon");
    // 22:00 UTC: only tomorrow's.
    w = detail::call_windows(kMorning + (11 * 60 + 20) * 60'000, "UTC");
    ASSERT_EQ(w.size(), 3u);
    EXPECT_TRUE(w[0].tomorrow);
}

TEST(CallWindows, AnUnknownZoneIsReadAsUtc) {
    EXPECT_EQ(detail::call_windows(kMorning, "Nowhere/Special")[0].from_ms,
              detail::call_windows(kMorning, "UTC")[0].from_ms);
    EXPECT_EQ(detail::local_clock(kMorning, ""), "2026-12-07 10:40");
    EXPECT_EQ(detail::local_clock(kMorning, "Europe/Rome"), "2026-12-07 11:40");
}

TEST(CallWords, EachLanguagesWordAloneIsACallRequest) {
    EXPECT_EQ(call_keyword_language("CALL"), "en");
    EXPECT_EQ(call_keyword_language("  call! "), "en");
    EXPECT_EQ(call_keyword_language("Call me."), "en");
    EXPECT_EQ(call_keyword_language("\u00bfLlamar?"), "es");
    EXPECT_EQ(call_keyword_language("chiama"), "it");
    EXPECT_EQ(call_keyword_language("SUN\u0102"), "ro");
    EXPECT_EQ(call_keyword_language("suna"), "ro");
    EXPECT_EQ(call_keyword_language("\u039a\u039b\u0397\u03a3\u0397"), "el");
    EXPECT_EQ(call_keyword_language("\u03ba\u03bb\u03ae\u03c3\u03b7"), "el");
    EXPECT_EQ(call_keyword_language("Appel"), "fr");
    EXPECT_EQ(call_keyword_language("\u0627\u062a\u0635\u0644\u061f"), "ar");
}

TEST(CallWords, AnyOtherTextIsAMessage) {
    for (const char* text : {"", "!", "call me later", "I will call", "recall", "CALLS",
                             "please call", "llamar mañana"}) {
        EXPECT_FALSE(call_keyword_language(text)) << text;
    }
}

TEST(CallWords, EveryCatalogueLanguageHasWordsNoOtherLanguageShares) {
    auto c = nlohmann::json::parse(detail::find_asset("/catalogue.json")->body);
    c.erase("_comment");
    std::set<std::string> seen;
    for (auto it = c.begin(); it != c.end(); ++it) {
        ASSERT_TRUE(it->contains("call_keywords")) << it.key();
        ASSERT_FALSE(it->at("call_keywords").empty()) << it.key();
        for (const auto& k : it->at("call_keywords")) {
            EXPECT_EQ(call_keyword_language(k.get<std::string>()), it.key()) << k;
            EXPECT_TRUE(seen.insert(k.get<std::string>()).second) << k;
        }
        EXPECT_FALSE(call_text(it.key(), "call_sms_asked").empty());
        EXPECT_FALSE(call_text(it.key(), "call_sms_refused").empty());
    }
    EXPECT_EQ(seen.size() >= 7, true);
}

}  // namespace
}  // namespace ariadne::adapters
