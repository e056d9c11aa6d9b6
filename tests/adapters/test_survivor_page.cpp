// The survivor web page, driven through its route handler with a cookie jar: sign-in with the
// recovery code, reading and writing, duress, quick exit, rate limits, languages, headers.
#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>
#include "ariadne/admin/admin.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/policy_store.h"
#include "stack.h"

namespace ariadne::adapters::test {
namespace {

using namespace std::chrono_literals;
using gateway::HttpRequest;
using gateway::HttpResponse;

std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return {};
}

/// A browser as far as the page can tell: one cookie, same-origin forms.
class Browser {
  public:
    Browser(SurvivorPage& page, std::string peer = "127.0.0.1", std::string lang = "en")
        : page_(page), peer_(std::move(peer)), lang_(std::move(lang)) {}

    HttpResponse get(const std::string& path = "/notes") { return send("GET", path, ""); }

    /// Posts a form from the current page (with its CSRF token) and follows the redirect.
    HttpResponse post(std::string form) {
        HttpResponse page = get();
        auto at = page.body.find("name=\"t\" value=\"");
        std::string token = page.body.substr(at + 16, page.body.find('"', at + 16) - at - 16);
        HttpResponse r = send("POST", "/notes", "t=" + token + "&" + form);
        EXPECT_EQ(r.status, 303);
        EXPECT_EQ(header(r, "Location"), "/notes");
        return get();
    }

    HttpResponse send(const std::string& method, const std::string& path, std::string body) {
        HttpRequest r;
        r.method = method;
        r.path = r.target = path;
        r.body = std::move(body);
        r.peer_address = peer_;
        r.peer_is_loopback = true;
        r.headers["host"] = "127.0.0.1:8443";
        r.headers["accept-language"] = lang_ + ";q=0.9";
        if (method == "POST") r.headers["origin"] = "https://127.0.0.1:8443";
        if (!cookie_.empty()) r.headers["cookie"] = "n=" + cookie_;
        HttpResponse res = page_.handle(r);
        std::string set = header(res, "Set-Cookie");
        if (!set.empty()) {
            cookie_ = set.substr(2, set.find(';') - 2);
            last_set_cookie = set;
        }
        return res;
    }

    std::string last_set_cookie;

  private:
    SurvivorPage& page_;
    std::string peer_;
    std::string lang_;
    std::string cookie_;
};

std::string form_code(std::string code) {
    for (char& c : code) {
        if (c == ' ') c = '+';
    }
    return "a=login&code=" + code;
}

TEST(SurvivorPage, PageIsTracelessByHeadersAndMarkup) {
    Stack stack;
    Browser b(*stack.page);
    HttpResponse r = b.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(b.last_set_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(b.last_set_cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(b.last_set_cookie.find("Secure"), std::string::npos);
    EXPECT_EQ(b.last_set_cookie.find("Max-Age"), std::string::npos);  // session cookie only
    EXPECT_NE(header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(header(r, "Content-Security-Policy").find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);  // no inline script
    EXPECT_EQ(r.body.find("http://"), std::string::npos);   // no third-party resources
    EXPECT_EQ(r.body.find("https://"), std::string::npos);
    EXPECT_NE(r.body.find("id=\"exit\""), std::string::npos);
    EXPECT_NE(r.body.find("action=\"/notes\""), std::string::npos);
    EXPECT_EQ(stack.page
                  ->handle([] {
                      HttpRequest q;
                      q.method = "GET";
                      q.path = "/notes/notes.js";
                      return q;
                  }())
                  .status,
              200);
}

TEST(SurvivorPage, SignInReadAndWriteThroughTheEdgeWithOneUrl) {
    Stack stack;
    auto console = stack.console();
    Browser b(*stack.page);
    HttpResponse r = b.post(form_code(stack.code));
    EXPECT_NE(r.body.find("id=\"empty\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("name=\"text\""), std::string::npos);

    r = b.post("a=send&text=canary-web-5d1e+hello");
    EXPECT_NE(r.body.find("Sent."), std::string::npos);
    auto got = console->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "canary-web-5d1e hello");
    EXPECT_EQ(got->from_device, kEdgeDeviceId);

    console->send_text(stack.survivor, "canary-answer-<b>8e</b>");
    for (int i = 0; i < 100 && stack.hub->history(stack.survivor).size() < 2; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    r = b.get();
    EXPECT_NE(r.body.find("canary-answer-&lt;b&gt;8e&lt;/b&gt;"), std::string::npos);  // escaped
    EXPECT_NE(r.body.find("canary-web-5d1e hello"), std::string::npos);

    // Close: the conversation is gone from this browser.
    r = b.post("a=logout");
    EXPECT_NE(r.body.find("name=\"code\""), std::string::npos);
    EXPECT_EQ(r.body.find("canary-web-5d1e"), std::string::npos);

    stack.store->flush();
    const std::string disk = read_all_files(stack.data);
    for (const char* canary : {"canary-web-5d1e", "canary-answer-"}) {
        EXPECT_EQ(disk.find(canary), std::string::npos) << canary;
    }
    std::string digits = crypto::normalize_recovery_code(stack.code);
    EXPECT_EQ(disk.find(digits), std::string::npos);
    EXPECT_EQ(disk.find(stack.code), std::string::npos);
}

TEST(SurvivorPage, WrongCodeFailsWithOneSentenceAndTheNextTryMustWait) {
    Stack stack;
    Browser b(*stack.page);
    HttpResponse r = b.post(form_code("0000 000 0000 0001"));
    EXPECT_NE(r.body.find("That did not work."), std::string::npos);
    // Malformed input reads the same (it does not say what a code looks like or whether it
    // exists).
    r = b.post(form_code("hello"));
    EXPECT_TRUE(r.body.find("That did not work.") != std::string::npos ||
                r.body.find("Please wait") != std::string::npos);
    // Right code, but too soon after failures from this client: refused, and not checked.
    r = b.post(form_code(stack.code));
    EXPECT_NE(r.body.find("Please wait"), std::string::npos);
    EXPECT_EQ(r.body.find("name=\"text\""), std::string::npos);
    // Another client is not held up by this one (per-client and per-code limits).
    Browser other(*stack.page, "10.0.0.9");
    r = other.post(form_code(stack.code));
    EXPECT_NE(r.body.find("name=\"text\""), std::string::npos);
    // After the delay, the first client gets in.
    std::this_thread::sleep_for(2100ms);
    r = b.post(form_code(stack.code));
    EXPECT_NE(r.body.find("name=\"text\""), std::string::npos);
}

TEST(SurvivorPage, DuressCodeShowsAnOrdinaryEmptyPageAndSilentlyAlertsHerTeam) {
    std::atomic<int> duress_calls{0};
    SurvivorPageOptions o;
    o.on_duress = [&](const std::string&) { ++duress_calls; };
    Stack stack(o);  // her enrolment duress code, wired as `ariadne serve` does
    auto console = stack.console();
    const std::string duress = stack.duress_code;
    stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, "earlier note");
    ASSERT_TRUE(console->receive(10s).has_value());

    Browser b(*stack.page);
    HttpResponse r = b.post(form_code(duress));
    EXPECT_NE(r.body.find("id=\"empty\""), std::string::npos);   // ordinary, empty
    EXPECT_EQ(r.body.find("earlier note"), std::string::npos);   // history not shown
    EXPECT_NE(r.body.find("name=\"text\""), std::string::npos);  // looks like the real page
    EXPECT_EQ(r.body.find("ALERT"), std::string::npos);
    EXPECT_EQ(duress_calls.load(), 1);
    auto alert = console->receive(10s);
    ASSERT_TRUE(alert.has_value());
    EXPECT_NE(alert->plaintext.find("duress"), std::string::npos);
    EXPECT_EQ(alert->from, stack.survivor);
    // The real code still shows her conversation.
    Browser real(*stack.page, "10.0.0.2");
    r = real.post(form_code(stack.code));
    EXPECT_NE(r.body.find("earlier note"), std::string::npos);
}

TEST(SurvivorPage, HerDuressCodeFromEnrolmentIsDuressOnThePageTooOneMechanism) {
    std::unique_ptr<policies::PolicyStore> links;
    std::atomic<int> duress_calls{0};
    std::string duress_for;
    SurvivorPageOptions o;
    // What `ariadne serve` wires: the enrolment's duress login → her account.
    o.duress_target = [&](const std::string& account) -> std::optional<std::string> {
        return links ? gateway::duress_login_target(*links, account) : std::nullopt;
    };
    o.on_duress = [&](const std::string& account) {
        duress_for = account;
        ++duress_calls;
    };
    Stack stack(o);
    auto sv = nlohmann::json::parse(
        stack.admin({"survivor-enrol", "--caseworker", stack.caseworker, "--initials", "A.B.",
                     "--language", "en", "--time-zone", "UTC", "--with-duress-code",
                     "--recovery-m-kib", "8192", "--insecure-test-params"}));
    links = policies::PolicyStore::open(gateway::database_path(stack.data).string());
    const std::string her = sv.at("account");
    auto console = stack.console();
    stack.hub->submit_inbound(her, EdgeChannel::web, "her earlier note");
    ASSERT_TRUE(console->receive(10s).has_value());

    Browser b(*stack.page);
    HttpResponse r = b.post(form_code(sv.at("duress_code").get<std::string>()));
    EXPECT_NE(r.body.find("id=\"empty\""), std::string::npos);
    EXPECT_EQ(r.body.find("her earlier note"), std::string::npos);
    EXPECT_EQ(duress_calls.load(), 1);
    EXPECT_EQ(duress_for, her);
    auto alert = console->receive(10s);
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->from, her);
    EXPECT_NE(alert->plaintext.find("duress"), std::string::npos);
    // Her real code is not duress.
    Browser real(*stack.page, "10.0.0.2");
    r = real.post(form_code(sv.at("recovery_code").get<std::string>()));
    EXPECT_NE(r.body.find("her earlier note"), std::string::npos);
    EXPECT_EQ(duress_calls.load(), 1);
}

TEST(SurvivorPage, QuickExitEndsTheSessionAndShowsANeutralPage) {
    Stack stack;
    Browser b(*stack.page);
    b.post(form_code(stack.code));
    HttpResponse away = b.get("/notes/away");
    EXPECT_EQ(away.status, 200);
    EXPECT_NE(away.body.find("Weather"), std::string::npos);
    EXPECT_EQ(away.body.find("Notes"), std::string::npos);
    EXPECT_NE(header(away, "Set-Cookie").find("Max-Age=0"), std::string::npos);
    HttpResponse back = b.get();
    EXPECT_NE(back.body.find("name=\"code\""), std::string::npos);
}

TEST(SurvivorPage, FormsWithoutTheSessionTokenOrFromAnotherOriginDoNothing) {
    Stack stack;
    auto console = stack.console();
    Browser b(*stack.page);
    b.post(form_code(stack.code));
    HttpResponse r = b.send("POST", "/notes", "t=wrong&a=send&text=forged");
    EXPECT_EQ(r.status, 303);
    EXPECT_FALSE(console->receive(500ms).has_value());
    HttpRequest q;
    q.method = "POST";
    q.path = "/notes";
    q.headers["origin"] = "https://evil.example";
    q.headers["host"] = "127.0.0.1:8443";
    EXPECT_EQ(stack.page->handle(q).status, 403);
}

TEST(SurvivorPage, OneCodeHoldsAtMostFourSessionsAndNoneIsEndedForAFifth) {
    Stack stack;
    std::vector<std::unique_ptr<Browser>> browsers;
    for (int i = 0; i < 5; ++i) {
        browsers.push_back(
            std::make_unique<Browser>(*stack.page, "10.0.1." + std::to_string(i + 1)));
    }
    for (int i = 0; i < 4; ++i) {
        EXPECT_NE(browsers[i]->post(form_code(stack.code)).body.find("name=\"text\""),
                  std::string::npos);
    }
    HttpResponse r = browsers[4]->post(form_code(stack.code));
    EXPECT_EQ(r.body.find("name=\"text\""), std::string::npos);
    EXPECT_NE(r.body.find("cannot open more conversations"), std::string::npos);
    for (int i = 0; i < 4; ++i) {
        EXPECT_NE(browsers[i]->get().body.find("name=\"text\""), std::string::npos) << i;
    }
    browsers[0]->post("a=logout");
    EXPECT_NE(browsers[4]->post(form_code(stack.code)).body.find("name=\"text\""),
              std::string::npos);
}

TEST(SurvivorPage, SpeaksHerLanguageAndArabicIsRightToLeft) {
    Stack stack;
    Browser ar(*stack.page, "127.0.0.1", "ar");
    HttpResponse r = ar.get();
    EXPECT_NE(r.body.find("dir=\"rtl\""), std::string::npos);
    EXPECT_NE(r.body.find("lang=\"ar\""), std::string::npos);
    EXPECT_NE(r.body.find("خروج سريع"), std::string::npos);
    for (const char* lang : {"en", "es", "it", "ro", "el", "fr", "ar"}) {
        Browser b(*stack.page, "127.0.0.1", lang);
        r = b.get();
        EXPECT_NE(r.body.find(std::string("<html lang=\"") + lang + "\""), std::string::npos)
            << lang;
        // Each language's name in the menu is marked as that language.
        EXPECT_NE(r.body.find(std::string("value=\"") + lang + "\" lang=\"" + lang + "\""),
                  std::string::npos)
            << lang;
    }
    Browser en(*stack.page);
    r = en.post("a=lang&lang=el");
    EXPECT_NE(r.body.find("<html lang=\"el\""), std::string::npos);
}

TEST(SurvivorPage, AfterSignInItSpeaksHerRecordsLanguageNotTheBrowsers) {
    Stack stack;
    stack.admin({"survivor-update", "--case", stack.case_code, "--language", "ro"});
    Browser b(*stack.page, "127.0.0.1", "en");
    EXPECT_NE(b.get().body.find("<html lang=\"en\""), std::string::npos);
    HttpResponse r = b.post(form_code(stack.code));
    EXPECT_NE(r.body.find("<html lang=\"ro\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("Trimite"), std::string::npos);
    // She may still choose another language for this session.
    r = b.post("a=lang&lang=fr");
    EXPECT_NE(r.body.find("<html lang=\"fr\""), std::string::npos);
    // Her duress code shows the same ordinary page in her language.
    Browser d(*stack.page, "127.0.0.2", "en");
    r = d.post(form_code(stack.duress_code));
    EXPECT_NE(r.body.find("<html lang=\"ro\""), std::string::npos);
}

TEST(SurvivorPage, HerThreadIsShownWithinRetentionEachMessageWithItsTime) {
    auto offset = std::make_shared<std::atomic<std::int64_t>>(0);
    SurvivorPageOptions o;
    o.idle_timeout = std::chrono::minutes(10 * 24 * 60);
    o.clock_ms = [offset] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() +
               offset->load();
    };
    Stack stack(o);
    auto console = stack.console();
    Browser b(*stack.page);
    b.post(form_code(stack.code));
    HttpResponse r = b.post("a=send&text=canary-kept-3f1");
    ASSERT_TRUE(console->receive(10s).has_value());
    console->send_text(stack.survivor, "reply-kept-9c2");
    for (int i = 0; i < 100 && stack.hub->history(stack.survivor).size() < 2; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    // A new sign-in (a new session) shows her earlier messages, each with its time.
    Browser again(*stack.page);
    r = again.post(form_code(stack.code));
    EXPECT_NE(r.body.find("canary-kept-3f1"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("reply-kept-9c2"), std::string::npos);
    const auto times = [&] {
        std::size_t n = 0;
        for (auto at = r.body.find("<time datetime=\""); at != std::string::npos;
             at = r.body.find("<time datetime=\"", at + 1)) {
            ++n;
        }
        return n;
    };
    EXPECT_EQ(times(), 2u) << r.body;
    // Past the organisation's retention they are no longer shown.
    stack.admin({"policy-set", "--retention-days", "1"});
    *offset = 2LL * 86'400'000;
    r = again.get();
    EXPECT_EQ(r.body.find("canary-kept-3f1"), std::string::npos);
    EXPECT_EQ(r.body.find("reply-kept-9c2"), std::string::npos);
    EXPECT_NE(r.body.find("id=\"empty\""), std::string::npos);
}

TEST(SurvivorPage, StatusIsAConfirmationOrAnAlertAndOnlyAWrongCodeIsMarkedInvalid) {
    Stack stack;
    auto console = stack.console();
    Browser wrong(*stack.page, "127.0.0.3");
    HttpResponse r = wrong.post("a=login&code=1234");
    EXPECT_NE(r.body.find("id=\"status\" tabindex=\"-1\" class=\"flash problem\" role=\"alert\""),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("aria-invalid=\"true\" aria-describedby=\"status\""), std::string::npos);
    // At once again: she is asked to wait and her code is not checked, so not called wrong.
    r = wrong.post("a=login&code=1234");
    EXPECT_NE(r.body.find("Please wait a moment"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("aria-describedby=\"status\""), std::string::npos);
    EXPECT_EQ(r.body.find("aria-invalid"), std::string::npos);
    Browser b(*stack.page);
    r = b.post(form_code(stack.code));
    EXPECT_EQ(r.body.find("aria-invalid"), std::string::npos);
    r = b.post("a=send&text=hello");
    EXPECT_NE(r.body.find("class=\"flash ok\" role=\"status\">Sent."), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("role=\"button\""), std::string::npos);  // the exit link
}

TEST(SurvivorPage, AnUnsentNoteSurvivesTheQuickExitInMemoryOnlyAndNeverForDuress) {
    Stack stack;
    Browser b(*stack.page);
    b.post(form_code(stack.code));
    // The page saves her box as she types (notes.js posts a=draft).
    HttpResponse page = b.get();
    auto at = page.body.find("name=\"t\" value=\"");
    std::string token = page.body.substr(at + 16, page.body.find('"', at + 16) - at - 16);
    HttpResponse saved = b.send("POST", "/notes", "t=" + token + "&a=draft&text=canary-draft-77a");
    EXPECT_EQ(saved.status, 204);
    b.get("/notes/away");
    stack.store->flush();
    EXPECT_EQ(read_all_files(stack.data).find("canary-draft-77a"), std::string::npos);
    // Her duress code does not bring it back.
    Browser d(*stack.page, "127.0.0.2");
    HttpResponse r = d.post(form_code(stack.duress_code));
    EXPECT_EQ(r.body.find("canary-draft-77a"), std::string::npos);
    // Her own code does; once she has sent it, it is gone.
    auto console = stack.console();
    Browser again(*stack.page);
    r = again.post(form_code(stack.code));
    EXPECT_NE(r.body.find(">canary-draft-77a</textarea>"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("Your unsent note was kept."), std::string::npos);
    r = again.post("a=send&text=canary-draft-77a");
    EXPECT_NE(r.body.find("Sent."), std::string::npos);
    EXPECT_EQ(r.body.find("canary-draft-77a</textarea>"), std::string::npos);
    again.get("/notes/away");
    Browser third(*stack.page);
    r = third.post(form_code(stack.code));
    EXPECT_EQ(r.body.find("canary-draft-77a</textarea>"), std::string::npos);
    EXPECT_EQ(r.body.find("Your unsent note was kept."), std::string::npos);
}

TEST(SurvivorPage, TheCoverPageAfterTheQuickExitIsAnOrdinaryWeatherPage) {
    Stack stack;
    Browser b(*stack.page, "127.0.0.1", "ro");
    HttpResponse away = b.get("/notes/away");
    EXPECT_NE(away.body.find("Vremea"), std::string::npos);
    EXPECT_NE(away.body.find("Zilele următoare"), std::string::npos);
    std::size_t days = 0;
    for (auto at = away.body.find("<li>"); at != std::string::npos;
         at = away.body.find("<li>", at + 1)) {
        ++days;
    }
    EXPECT_EQ(days, 5u) << away.body;
    EXPECT_NE(away.body.find("°"), std::string::npos);
    EXPECT_EQ(away.body.find("Noti"), std::string::npos);  // nothing of the notes page
}

}  // namespace
}  // namespace ariadne::adapters::test
