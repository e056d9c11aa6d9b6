// The console's own settings file: what it accepts, and that every mistake in it is refused
// with a sentence naming the file or the field (the console then does not start).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/console/settings.h"

namespace ariadne::console {
namespace {

namespace fs = std::filesystem;

class ConsoleSettingsFile : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ariadne-console-settings-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write(const std::string& content) {
        fs::path p = dir_ / "settings.json";
        std::ofstream(p) << content;
        return p;
    }

    // The sentence load() refuses `content` with ("" if it is accepted).
    std::string refusal(const std::string& content) {
        try {
            ConsoleSettings::load(write(content));
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "";
    }

    fs::path dir_;
};

TEST_F(ConsoleSettingsFile, ReadsRetentionAndCannedRepliesWithDefaultLabels) {
    ConsoleSettings s = ConsoleSettings::load(write(R"({"retention_days": 30,
        "canned_replies": [{"label": "Hi", "text": "Hello there"},
                           {"text": "A reply without a label of its own"}]})"));
    EXPECT_EQ(s.retention_days, 30);
    ASSERT_EQ(s.canned.size(), 2u);
    EXPECT_EQ(s.canned[0]["label"], "Hi");
    EXPECT_EQ(s.canned[0]["text"], "Hello there");
    // Without a label, the first 24 bytes of the text stand for it.
    EXPECT_EQ(s.canned[1]["label"], "A reply without a label ");
}

TEST_F(ConsoleSettingsFile, AnEmptyObjectLeavesEverythingToTheOrganisation) {
    ConsoleSettings s = ConsoleSettings::load(write("{}"));
    EXPECT_EQ(s.retention_days, 0);
    EXPECT_TRUE(s.canned.empty());
}

TEST_F(ConsoleSettingsFile, EachMistakeIsRefusedWithASentenceNamingTheField) {
    EXPECT_NE(refusal(R"({"retention_days": 0})").find("'retention_days'"), std::string::npos);
    EXPECT_NE(refusal(R"({"retention_days": 36501})").find("'retention_days'"), std::string::npos);
    EXPECT_NE(refusal(R"({"retention_days": "30"})").find("'retention_days'"), std::string::npos);
    EXPECT_NE(refusal(R"({"canned_replies": {}})").find("'canned_replies' must be a list"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"canned_replies": [{"label": "no text"}]})").find("'text'"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"canned_replies": [{"text": ""}]})").find("'text'"), std::string::npos);
    EXPECT_NE(refusal(R"({"retention": 30})").find("unknown setting 'retention'"),
              std::string::npos);
}

TEST_F(ConsoleSettingsFile, DuressKeywordsAreRefusedBecauseTheyComeFromTheGateway) {
    std::string why = refusal(R"({"duress_keywords": ["red"]})");
    EXPECT_NE(why.find("'duress_keywords' is no longer a console setting"), std::string::npos);
    EXPECT_NE(why.find("duress-words-set"), std::string::npos);
}

TEST_F(ConsoleSettingsFile, AFileThatIsNotAJsonObjectOrCannotBeReadIsNamed) {
    EXPECT_NE(refusal("not json").find("is not valid JSON"), std::string::npos);
    EXPECT_NE(refusal("[1, 2]").find("must be a JSON object"), std::string::npos);
    try {
        ConsoleSettings::load(dir_ / "missing.json");
        ADD_FAILURE() << "a missing file was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("missing.json cannot be read"), std::string::npos);
    }
}

TEST(DefaultCannedReplies, AreTheBuiltInListWithALabelAndTextEach) {
    Json replies = default_canned_replies();
    ASSERT_TRUE(replies.is_array());
    ASSERT_FALSE(replies.empty());
    for (const Json& r : replies) {
        EXPECT_TRUE(r.contains("label") && r["label"].is_string());
        EXPECT_TRUE(r.contains("text") && r["text"].is_string());
    }
}

}  // namespace
}  // namespace ariadne::console
