// What the survivor page reads from its forms and cookies, and how it escapes what it
// shows: a wrong decode would lose or change her words, a wrong cookie read would hand her
// page another cookie's value, a missed escape would let her thread inject markup.
#include <gtest/gtest.h>

#include <set>

#include "web_form.h"

namespace ariadne::adapters::detail {
namespace {

TEST(WebForm, DecodesPlusAndPercentEscapesInNamesAndValues) {
    auto form = parse_form("a=send&text=Ci+vediamo+alle+5%3A30%2C+ok%3F&t=x%2By&caf%C3%A9=1");
    EXPECT_EQ(form["a"], "send");
    EXPECT_EQ(form["text"], "Ci vediamo alle 5:30, ok?");
    EXPECT_EQ(form["t"], "x+y");
    EXPECT_EQ(form["caf\xC3\xA9"], "1");
    EXPECT_EQ(form.size(), 4u);
}

TEST(WebForm, KeepsWhatIsNotAnEscapeAndSkipsPairsWithoutEquals) {
    auto form = parse_form("text=100%25+sure+50%+off%zz%4&flag&=empty&a=1&a=2&last=");
    EXPECT_EQ(form["text"], "100% sure 50% off%zz%4");
    EXPECT_EQ(form.count("flag"), 0u);
    EXPECT_EQ(form[""], "empty");
    EXPECT_EQ(form["a"], "2");  // a name given twice keeps its last value
    EXPECT_EQ(form["last"], "");
    EXPECT_TRUE(parse_form("").empty());
}

TEST(WebForm, ReadsOnlyTheCookieWithExactlyThatName) {
    gateway::HttpRequest r;
    r.headers["cookie"] = "nn=other; n2=x;n=session.token; n=later";
    EXPECT_EQ(cookie_value(r, "n"), "session.token");
    EXPECT_EQ(cookie_value(r, "nn"), "other");
    EXPECT_EQ(cookie_value(r, "m"), "");
    gateway::HttpRequest none;
    EXPECT_EQ(cookie_value(none, "n"), "");
}

TEST(WebForm, EscapesEveryCharacterThatCouldOpenMarkupOrAnAttribute) {
    EXPECT_EQ(html_escape(R"(<b onclick='x()'>"Tom & Jerry"</b>)"),
              "&lt;b onclick=&#39;x()&#39;&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;");
    EXPECT_EQ(html_escape("Ώρα: 09:05 مساء"), "Ώρα: 09:05 مساء");
}

TEST(WebForm, TokensAreUnpaddedBase64UrlOf24RandomBytes) {
    std::set<std::string> seen;
    for (int i = 0; i < 64; ++i) {
        std::string t = random_token();
        EXPECT_EQ(t.size(), 32u);
        EXPECT_EQ(
            t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
            << t;
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 64u);
    const std::uint8_t bytes[] = {0xfb, 0xff, 0xbf};
    EXPECT_EQ(base64url(bytes), "-_-_");
    const std::uint8_t one[] = {0xff};
    EXPECT_EQ(base64url(one), "_w");
}

}  // namespace
}  // namespace ariadne::adapters::detail
