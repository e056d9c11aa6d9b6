// SMS segmentation: GSM-7 160/153 septets, UCS-2 70/67 code units, escapes and surrogate pairs
// never split.
#include <gtest/gtest.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_text.h"

namespace ariadne::adapters {
namespace {

TEST(SmsText, PlainTextUpTo160SeptetsIsOneGsm7Message) {
    auto s = split_sms(std::string(160, 'a'));
    EXPECT_EQ(s.encoding, SmsEncoding::gsm7);
    ASSERT_EQ(s.parts.size(), 1u);
    EXPECT_EQ(split_sms(std::string(161, 'a')).parts.size(), 2u);
}

TEST(SmsText, LongGsm7TextIsSplitIn153SeptetParts) {
    auto s = split_sms(std::string(307, 'b'));
    ASSERT_EQ(s.parts.size(), 3u);
    EXPECT_EQ(s.parts[0].size(), 153u);
    EXPECT_EQ(s.parts[1].size(), 153u);
    EXPECT_EQ(s.parts[2].size(), 1u);
}

TEST(SmsText, ExtensionCharactersCountTwoSeptetsAndStayWhole) {
    // 80 euro signs = 160 septets: fits one SMS exactly.
    std::string euros;
    for (int i = 0; i < 80; ++i) euros += "€";
    EXPECT_EQ(sms_encoding(euros), SmsEncoding::gsm7);
    EXPECT_EQ(split_sms(euros).parts.size(), 1u);
    // 'a' + 80 euro signs = 161 septets: two parts; 153 is odd after 'a', so the first part
    // ends after 76 euro signs (1 + 152 septets), never with half an escape.
    auto s = split_sms("a" + euros);
    ASSERT_EQ(s.parts.size(), 2u);
    EXPECT_EQ(s.parts[0], "a" + euros.substr(0, 76 * 3));
    EXPECT_EQ(s.parts[0] + s.parts[1], "a" + euros);
}

TEST(SmsText, NonGsmTextUsesUcs2With70And67Units) {
    std::string greek_lower;  // Greek lower-case letters are not in GSM-7
    for (int i = 0; i < 70; ++i) greek_lower += "α";
    auto one = split_sms(greek_lower);
    EXPECT_EQ(one.encoding, SmsEncoding::ucs2);
    EXPECT_EQ(one.parts.size(), 1u);
    auto two = split_sms(greek_lower + "β");
    ASSERT_EQ(two.parts.size(), 2u);
    EXPECT_EQ(two.parts[0].size(), 67u * 2);  // 67 two-byte letters
    std::string arabic = "مرحبا، كيف حالك؟";
    EXPECT_EQ(sms_encoding(arabic), SmsEncoding::ucs2);
}

TEST(SmsText, SurrogatePairsAreNeverSplit) {
    std::string text(66, 'x');
    text[0] = '\x01';                        // not GSM: forces UCS-2
    std::string smile = "\xF0\x9F\x99\x82";  // U+1F642, two UTF-16 units
    // 66 + 3 * 2 = 72 units > 70: concatenated, 67 per part.
    auto s = split_sms(text + smile + smile + smile);
    ASSERT_EQ(s.parts.size(), 2u);
    EXPECT_EQ(s.parts[0], text);  // 66 units; the pair would make 68 > 67
    EXPECT_EQ(s.parts[1], smile + smile + smile);
}

TEST(SmsText, InvalidUtf8IsRefused) {
    EXPECT_THROW(split_sms("\xC3"), AdapterError);
    EXPECT_THROW(split_sms("\xED\xA0\x80"), AdapterError);  // encoded surrogate
    EXPECT_TRUE(split_sms("").parts.empty());
}

}  // namespace
}  // namespace ariadne::adapters
