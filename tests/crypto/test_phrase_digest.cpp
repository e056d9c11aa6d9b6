// Keyed phrase digests: how texts are split into words and folded, and that only whole
// words and whole phrases match.
#include <gtest/gtest.h>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/phrase_digest.h"

namespace ariadne::crypto {
namespace {

const Bytes kKey(32, 0x42);

bool holds(const std::vector<std::string>& phrases, const std::string& text) {
    std::set<Bytes> digests;
    std::size_t max_words = 0;
    for (const auto& p : phrases) {
        digests.insert(phrase_digest(kKey, p));
        max_words = std::max(max_words, phrase_words(p).size());
    }
    return holds_phrase(kKey, digests, max_words, text);
}

TEST(PhraseDigest, WordsAreFoldedAndSplitOnPunctuationAndSpaces) {
    EXPECT_EQ(normalise_phrase("  Blue\tUMBRELLA!! "), "blue umbrella");
    EXPECT_EQ(normalise_phrase("«Șosea» — ĂŞTI, Ζωή; МАМА…"), "șosea ăşti ζωή мама");
    EXPECT_EQ(normalise_phrase("can't"), "can t");
    EXPECT_EQ(normalise_phrase("a\xff"
                               "b"),
              "a b");  // invalid UTF-8 separates
    EXPECT_EQ(normalise_phrase("?!"), "");
}

TEST(PhraseDigest, OnlyWholeWordsAndWholePhrasesMatch) {
    EXPECT_TRUE(holds({"umbrella"}, "Did you see my UMBRELLA?"));
    EXPECT_FALSE(holds({"umbrella"}, "I need two umbrellas"));
    EXPECT_TRUE(holds({"blue umbrella"}, "sorry... blue,\nUmbrella"));
    EXPECT_FALSE(holds({"blue umbrella"}, "the umbrella is blue"));
    EXPECT_TRUE(holds({"rosso", "blue umbrella"}, "ROSSO"));
    EXPECT_TRUE(holds({"Șosea"}, "pe ȘOSEA acum"));
    EXPECT_FALSE(holds({}, "anything"));
}

TEST(PhraseDigest, TheDigestDependsOnTheKeyAndABadKeyIsRefused) {
    Bytes other(32, 0x43);
    EXPECT_NE(phrase_digest(kKey, "umbrella"), phrase_digest(other, "umbrella"));
    EXPECT_EQ(phrase_digest(kKey, "Umbrella."), phrase_digest(kKey, "umbrella"));
    EXPECT_THROW(phrase_digest(Bytes(16, 1), "umbrella"), Error);
    EXPECT_THROW(phrase_digest(kKey, " ... "), Error);
}

}  // namespace
}  // namespace ariadne::crypto
