// The survivor page's texts and pages: the catalogue (adapters/web/catalogue.json) and
// language negotiation, the page for a visitor or for her session (thread, form, language
// menu), and the neutral cover page the quick exit shows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <spdlog/spdlog.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/policies/time_zone.h"
#include "call_windows.h"
#include "survivor_page_impl.h"
#include "web_form.h"

namespace ariadne::adapters {

using gateway::HttpRequest;
using gateway::HttpResponse;
using Json = nlohmann::json;
using PageSession = detail::PageSession;
using detail::html_escape;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Only these flashes are confirmations; every other one is a problem to fix.
bool is_confirmation(const std::string& flash) {
    return flash == "sent" || flash == "draft_kept" || flash == "call_asked" ||
           flash == "call_later";
}

/// The field a problem is about, described by the status and marked invalid when what she
/// typed is the problem (a wrong code, a note too long); when it is not (wait, the page is
/// full, not sent) the status only describes it.
std::string field_state(const std::string& flash) {
    if (flash.empty() || is_confirmation(flash)) return "";
    const bool her_input = flash == "failed" || flash == "too_long";
    return std::string(her_input ? "aria-invalid=\"true\" " : "") + "aria-describedby=\"status\" ";
}

/// "2026-03-14 09:05" in `zone` (UTC if it cannot be loaded): digits read the same in every
/// language the page speaks.
std::string local_time(std::int64_t at_ms, const std::string& zone) {
    using namespace std::chrono;
    const policies::Instant t{duration_cast<microseconds>(milliseconds(at_ms))};
    local_seconds local{duration_cast<seconds>(t.time_since_epoch())};
    try {
        if (!zone.empty()) local = policies::TimeZone::load(zone)->to_local(t).local();
    } catch (const std::exception&) {
    }
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss hms{local - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    return buf;
}

std::string iso_utc(std::int64_t at_ms) {
    using namespace std::chrono;
    const sys_seconds t{duration_cast<seconds>(milliseconds(at_ms))};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

}  // namespace

std::string SurvivorPage::Impl::text(const std::string& lang, const std::string& key) const {
    auto l = catalogue.find(lang);
    if (l != catalogue.end()) {
        auto v = l->find(key);
        if (v != l->end()) return v->get<std::string>();
    }
    return catalogue.at("en").at(key).get<std::string>();
}

const Json& SurvivorPage::Impl::list(const std::string& lang, const std::string& key) const {
    auto l = catalogue.find(lang);
    if (l != catalogue.end() && l->contains(key)) return l->at(key);
    return catalogue.at("en").at(key);
}

std::string SurvivorPage::Impl::negotiate(const HttpRequest& r) const {
    std::string header = r.header("accept-language");
    std::string_view h = header;
    while (!h.empty()) {
        while (!h.empty() && (h.front() == ' ' || h.front() == ',')) h.remove_prefix(1);
        auto comma = h.find(',');
        std::string_view item = h.substr(0, comma);
        std::string tag(item.substr(0, item.find_first_of(";-_ ")));
        std::transform(tag.begin(), tag.end(), tag.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (catalogue.contains(tag)) return tag;
        if (comma == std::string_view::npos) break;
        h.remove_prefix(comma + 1);
    }
    return "en";
}

std::string SurvivorPage::Impl::catalogue_language(const std::string& tag) const {
    std::string primary = tag.substr(0, tag.find_first_of("-_"));
    std::transform(primary.begin(), primary.end(), primary.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return catalogue.contains(primary) ? primary : std::string();
}

HttpResponse SurvivorPage::Impl::html(int status, std::string body) const {
    HttpResponse res;
    res.status = status;
    res.content_type = "text/html; charset=utf-8";
    res.body = std::move(body);
    res.headers = {{"Content-Security-Policy", kCsp},
                   {"Referrer-Policy", "no-referrer"},
                   {"X-Frame-Options", "DENY"},
                   {"Cross-Origin-Opener-Policy", "same-origin"},
                   {"Cross-Origin-Resource-Policy", "same-origin"},
                   {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
                   {"Pragma", "no-cache"}};
    return res;
}

std::string SurvivorPage::Impl::head(const std::string& lang, const std::string& title) const {
    const std::string dir =
        catalogue.contains(lang) ? catalogue.at(lang).value("dir", "ltr") : std::string("ltr");
    return "<!doctype html>\n<html lang=\"" + html_escape(lang) + "\" dir=\"" + dir +
           "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
           "content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" "
           "content=\"no-referrer\"><title>" +
           html_escape(title) + "</title><link rel=\"stylesheet\" href=\"" + options.path +
           "/notes.css\"><script src=\"" + options.path + "/notes.js\" defer></script>" + "</head>";
}

std::string SurvivorPage::Impl::render(const PageSession& s) {
    const std::string& l = s.lang;
    std::string b = head(l, text(l, "title"));
    // The exit is a link (it works without script) that acts as a button: notes.js makes
    // Space activate it as well as Enter.
    b += "<body data-away=\"" + options.path + "/away\"><header><a id=\"exit\" " +
         "class=\"exit\" role=\"button\" href=\"" + options.path + "/away\">" +
         html_escape(text(l, "exit")) + "</a></header><main><h1>" + html_escape(text(l, "title")) +
         "</h1>";
    // The Shift hint is hidden by CSS on touch-only devices (no keyboard to press it on).
    b += "<p class=\"hint keys\">" + html_escape(text(l, "exit_hint")) + "</p>";
    // The status of the last action is in the page that follows it: notes.js moves focus
    // to it so that screen readers read it (a live region present at load is not read).
    const bool problem = !s.flash.empty() && !is_confirmation(s.flash);
    if (!s.flash.empty()) {
        b += std::string("<p id=\"status\" tabindex=\"-1\" class=\"flash ") +
             (problem ? "problem\" role=\"alert\">" : "ok\" role=\"status\">") +
             html_escape(text(l, s.flash)) +
             (s.flash_detail.empty()
                  ? std::string()
                  : " <bdi dir=\"ltr\">" + html_escape(s.flash_detail) + "</bdi>") +
             "</p>";
    }
    const std::string form = "<form method=\"post\" action=\"" + options.path +
                             "\" autocomplete=\"off\"><input type=\"hidden\" name=\"t\" "
                             "value=\"" +
                             s.csrf + "\">";
    if (s.account.empty()) {
        b += form + "<label for=\"code\">" + html_escape(text(l, "code_label")) +
             "</label><input id=\"code\" name=\"code\" type=\"password\" "
             "autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"off\" " +
             field_state(s.flash) +
             "required><button class=\"primary\" name=\"a\" value=\"login\">" +
             html_escape(text(l, "sign_in")) + "</button></form>";
    } else {
        std::vector<HistoryEntry> entries;
        if (!s.duress) entries = hub.history(s.account);
        const int days = options.retention_days ? options.retention_days() : 365;
        const std::int64_t oldest = now_ms() - std::int64_t{days} * 86'400'000;
        std::erase_if(entries, [&](const HistoryEntry& e) { return e.at_ms < oldest; });
        if (entries.empty()) {
            b += "<p id=\"empty\">" + html_escape(text(l, "empty")) + "</p>";
        } else {
            b += "<ol class=\"thread\" id=\"thread\">";
            for (const auto& e : entries) {
                b += std::string("<li class=\"") + (e.from_survivor ? "me" : "them") +
                     "\"><span class=\"who\">" +
                     html_escape(text(l, e.from_survivor ? "me" : "them")) + " <time datetime=\"" +
                     iso_utc(e.at_ms) + "\">" + local_time(e.at_ms, s.time_zone) +
                     "</time></span><span dir=\"auto\">" + html_escape(e.text) + "</span></li>";
            }
            b += "</ol>";
            // The replies in what she is shown are read now: their senders' receipts say so.
            try {
                hub.mark_shown(s.account, entries.front().at_ms);
            } catch (const std::exception& e) {
                spdlog::warn("survivor page: read receipts not sent: {}", e.what());
            }
        }
        b += form + "<label for=\"text\">" + html_escape(text(l, "write_label")) +
             "</label><textarea id=\"text\" name=\"text\" maxlength=\"4000\" dir=\"auto\" " +
             field_state(s.flash) + "required>" + html_escape(s.draft) +
             "</textarea><div class=\"row\"><button class=\"primary\" name=\"a\" "
             "value=\"send\">" +
             html_escape(text(l, "send")) + "</button></div></form>";
        b += call_form(s, form);
        b += form + "<button name=\"a\" value=\"logout\">" + html_escape(text(l, "sign_out")) +
             "</button></form>";
    }
    // Language choice (a form, so the URL never changes).
    b += form + "<div class=\"row\"><div><label for=\"lang\">" + html_escape(text(l, "language")) +
         "</label><select id=\"lang\" name=\"lang\">";
    for (auto it = catalogue.begin(); it != catalogue.end(); ++it) {
        b += "<option value=\"" + html_escape(it.key()) + "\" lang=\"" + html_escape(it.key()) +
             "\" dir=\"" + it->value("dir", "ltr") + "\"" + (it.key() == l ? " selected" : "") +
             ">" + html_escape(it->value("name", it.key())) + "</option>";
    }
    b += "</select></div><button name=\"a\" value=\"lang\">" + html_escape(text(l, "change")) +
         "</button></div></form></main></body></html>\n";
    return b;
}

std::string SurvivorPage::Impl::call_form(const PageSession& s, const std::string& form) const {
    const std::string& l = s.lang;
    std::string b = "<section aria-labelledby=\"call-title\"><h2 id=\"call-title\">" +
                    html_escape(text(l, "call_title")) +
                    "</h2><p class=\"hint\" id=\"call-hint\">" + html_escape(text(l, "call_hint")) +
                    "</p>" + form +
                    "<fieldset class=\"call\" aria-describedby=\"call-hint\"><legend>" +
                    html_escape(text(l, "call_when")) + "</legend>";
    int i = 0;
    for (const auto& w : detail::call_windows(now_ms(), s.time_zone)) {
        const std::string id = "w" + std::to_string(i++);
        b += "<div class=\"choice\"><input type=\"checkbox\" id=\"" + id + "\" name=\"" + id +
             "\" value=\"" + html_escape(w.key) + "\"><label for=\"" + id + "\">" +
             html_escape(text(l, w.tomorrow ? "call_tomorrow" : "call_today")) +
             html_escape(text(l, "call_sep")) +
             html_escape(text(l, std::string("call_") + w.part)) + " <bdi dir=\"ltr\">" + w.hours +
             "</bdi></label></div>";
    }
    b += "</fieldset><button class=\"primary\" name=\"a\" value=\"call\">" +
         html_escape(text(l, "call_button")) + "</button></form></section>";
    return b;
}

std::string SurvivorPage::Impl::cover(const std::string& lang) const {
    const std::int64_t now = now_ms();
    const std::int64_t day = now / 86'400'000;
    const Json& names = list(lang, "away_days");
    const Json& conditions = list(lang, "away_conditions");
    // Plausible, stable within a day: a mild temperature wandering with the date.
    auto high = [](std::int64_t d) { return 12 + static_cast<int>((d * 7 + 3) % 11); };
    auto condition = [&](std::int64_t d) {
        return conditions.at(static_cast<std::size_t>((d * 5 + 1) % conditions.size()))
            .get<std::string>();
    };
    std::string b = "<body class=\"cover\"><header class=\"cover-head\"><span>" +
                    html_escape(text(lang, "away_title")) + "</span></header><main><h1>" +
                    html_escape(text(lang, "away_today")) +
                    "</h1><p class=\"now\"><span class=\"temp\">" + std::to_string(high(day) - 2) +
                    "°</span> " + html_escape(condition(day)) + "</p><p>" +
                    html_escape(text(lang, "away_body")) + "</p><h2>" +
                    html_escape(text(lang, "away_week")) + "</h2><ul class=\"days\">";
    for (std::int64_t d = day + 1; d <= day + 5; ++d) {
        // 1970-01-01 was a Thursday (index 4 from Sunday).
        const auto weekday = static_cast<std::size_t>((d + 4) % 7);
        b += "<li><span>" + html_escape(names.at(weekday).get<std::string>()) + "</span><span>" +
             html_escape(condition(d)) + "</span><span>" + std::to_string(high(d)) + "° / " +
             std::to_string(high(d) - 8) + "°</span></li>";
    }
    const std::int64_t minute = (now / 60'000) % (24 * 60);
    char updated[8];
    std::snprintf(updated, sizeof updated, "%02d:%02d", static_cast<int>(minute / 60),
                  static_cast<int>(minute % 60 / 30 * 30));
    b += "</ul><p class=\"small\">" + html_escape(text(lang, "away_updated")) + " " + updated +
         " UTC</p></main></body></html>\n";
    return b;
}

}  // namespace ariadne::adapters
