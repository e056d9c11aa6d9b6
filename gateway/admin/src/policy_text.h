// Text forms of policy values shared by `ariadne admin` and the HTTPS admin API (private to
// gateway/admin). Every parser throws AdminError naming the field; a value type it builds
// (policies::LanguageTag, ChannelRef) may throw policies::Error, which the admin boundary
// (run_admin, the API's router, translating_errors) translates.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/model.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

inline policies::ChannelRef parse_channel_arg(const std::string& text, const std::string& field) {
    auto colon = text.find(':');
    std::string kind = text.substr(0, colon);
    std::string provider = colon == std::string::npos ? "" : text.substr(colon + 1);
    auto k = policies::parse_channel_kind(kind);
    if (!k) {
        throw AdminError(AdminErrorCode::invalid_field, field,
                         field +
                             ": unknown channel kind; use app, web, sms, "
                             "voice_callback, email or messenger:PROVIDER.");
    }
    return policies::ChannelRef::make(*k, provider, field);
}

/// "HH:MM-HH:MM" → window (all weekdays).
inline policies::LocalWindow parse_window(const std::string& text, const std::string& field,
                                          bool allow_wrap) {
    int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
    char tail = 0;
    if (text.size() != 11 ||
        std::sscanf(text.c_str(), "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 < 0 ||
        h1 > 23 || m1 < 0 || m1 > 59 || h2 < 0 || h2 > 24 || m2 < 0 || m2 > 59) {
        throw AdminError(AdminErrorCode::invalid_field, field,
                         field + ": must be HH:MM-HH:MM, e.g. 21:00-08:00.");
    }
    policies::LocalWindow w{h1 * 60 + m1, h2 * 60 + m2, 0x7F};
    w.validate(field, allow_wrap);
    return w;
}

/// "2026-05-01T08:00Z", "2026-05-01T08:00:00+02:00" → the instant (UTC).
inline policies::Instant parse_instant(const std::string& text, const std::string& field) {
    auto fail = [&]() -> policies::Instant {
        throw AdminError(AdminErrorCode::invalid_field, field,
                         field +
                             ": must be a date and time with its UTC offset, e.g. "
                             "2026-05-01T08:00Z or 2026-05-01T10:00+02:00.");
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
    if (text.size() > 40 ||
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &consumed) != 5 ||
        consumed != 16) {
        return fail();
    }
    std::string rest = text.substr(16);
    if (rest.size() >= 3 && rest[0] == ':') {
        int n = 0;
        if (std::sscanf(rest.c_str(), ":%2d%n", &sec, &n) != 1 || n != 3) return fail();
        rest = rest.substr(3);
    }
    int offset_minutes = 0;
    if (rest == "Z") {
        offset_minutes = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        int oh = 0, om = 0, n = 0;
        if (std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 14 ||
            om > 59) {
            return fail();
        }
        offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
        return fail();
    }
    std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                    std::chrono::day(unsigned(d))};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return fail();
    auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
             std::chrono::seconds(sec) - std::chrono::minutes(offset_minutes);
    return std::chrono::time_point_cast<std::chrono::microseconds>(t);
}

/// "2026-05-01T08:00:00Z".
inline std::string instant_text(policies::Instant t) {
    auto s = std::chrono::floor<std::chrono::seconds>(t);
    auto day = std::chrono::floor<std::chrono::days>(s);
    std::chrono::year_month_day ymd{day};
    std::chrono::hh_mm_ss hms{s - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

inline std::string window_text(const policies::LocalWindow& w) {
    auto two = [](int v) {
        std::string t = std::to_string(v);
        return t.size() < 2 ? "0" + t : t;
    };
    return two(w.start_minute / 60) + ":" + two(w.start_minute % 60) + "-" +
           two(w.end_minute / 60) + ":" + two(w.end_minute % 60);
}

inline const char* recorders_name(policies::ConsentRecorders r) {
    switch (r) {
        case policies::ConsentRecorders::assigned_caseworkers:
            return "assigned_caseworkers";
        case policies::ConsentRecorders::caseworkers:
            return "caseworkers";
        case policies::ConsentRecorders::caseworkers_and_admins:
            return "caseworkers_and_admins";
    }
    return "caseworkers";
}

inline nlohmann::json policy_json(const policies::OrgPolicy& p) {
    nlohmann::json banned = nlohmann::json::array();
    for (auto c : p.banned_classes) banned.push_back(policies::to_string(c));
    nlohmann::json messengers = nlohmann::json::array();
    for (auto m : policies::messenger_providers()) {
        messengers.push_back({{"provider", std::string(m)}, {"built_in", true}});
    }
    for (const auto& m : p.accepted_messengers) {
        messengers.push_back(
            {{"provider", m.provider}, {"built_in", false}, {"evidence_ref", m.evidence_ref}});
    }
    return {{"banned_classes", banned},
            {"quiet_hours", window_text(p.quiet_hours)},
            {"retention_days", p.retention_days},
            {"consent_recorders", recorders_name(p.consent_recorders)},
            {"organisation_names", p.organisation_names},
            {"checkin_defaults",
             {{"window", window_text(p.checkin_defaults.window)},
              {"every_days", p.checkin_defaults.every_days},
              {"grace_minutes", p.checkin_defaults.grace_minutes}}},
            {"accepted_messengers", messengers}};
}

/// Changes to the organisation policy, as given on the command line or in a request body.
struct PolicyChanges {
    std::optional<std::string> quiet_hours;  // "HH:MM-HH:MM"
    std::optional<int> retention_days;
    std::vector<std::string> ban, unban;  // channel classes
    std::optional<std::string> consent_recorders;
    std::optional<std::vector<std::string>> organisation_names;  // replaces the list
    // checkin_defaults: what a new plan gets when it does not say
    std::optional<std::string> checkin_window;  // "HH:MM-HH:MM"
    std::optional<int> checkin_every_days;
    std::optional<int> checkin_grace_minutes;
    // a messenger the organisation accepts (with the reference of its assessment) or drops
    std::optional<std::string> accept_messenger;
    std::string messenger_evidence;
    std::optional<std::string> drop_messenger;
};

/// One text the organisation sets for what Ariadne sends her: "KIND:LANG=TEXT" on the command
/// line, {"template","language","text"} in a request. An empty text removes the
/// organisation's own (the built-in text applies again).
struct TemplateChange {
    std::string template_id;
    policies::LanguageTag language;
    std::string text;
};

/// The template id of KIND: "checkin" and "handover" are short for "neutral_checkin" and
/// "neutral_handover"; other names are taken as ids (checked by PolicyStore::set_template).
inline std::string template_id_of(const std::string& kind) {
    if (kind == "checkin") return "neutral_checkin";
    if (kind == "handover") return "neutral_handover";
    return kind;
}

/// "checkin:sw=Habari, nakusalimia tu." → the change. Throws AdminError naming `field`.
inline TemplateChange parse_template_arg(const std::string& arg, const std::string& field) {
    auto colon = arg.find(':');
    auto eq = arg.find('=');
    if (colon == std::string::npos || eq == std::string::npos || eq < colon || colon == 0) {
        throw AdminError(AdminErrorCode::invalid_field, field,
                         field +
                             ": must be KIND:LANG=TEXT, e.g. checkin:sw=Habari, nakusalimia "
                             "tu. (KIND checkin, handover or discreet_handover).");
    }
    return TemplateChange{template_id_of(arg.substr(0, colon)),
                          policies::LanguageTag(arg.substr(colon + 1, eq - colon - 1), field),
                          arg.substr(eq + 1)};
}

/// Applies `c` to `p` (validated later by PolicyStore::set_org_policy, which refuses to
/// lift the social-media ban). Throws AdminError{invalid_field} naming the field.
inline void apply_policy_changes(policies::OrgPolicy& p, const PolicyChanges& c) {
    if (c.quiet_hours) p.quiet_hours = parse_window(*c.quiet_hours, "quiet_hours", true);
    if (c.retention_days) p.retention_days = *c.retention_days;
    auto parse_class = [](const std::string& text) {
        auto k = policies::parse_channel_class(text);
        if (!k) {
            throw AdminError(AdminErrorCode::invalid_field, "banned_classes",
                             "banned_classes: unknown channel class; use app, web, "
                             "telephony, email, messenger or social_media.");
        }
        return *k;
    };
    if (c.organisation_names) p.organisation_names = *c.organisation_names;
    for (const auto& k : c.ban) p.banned_classes.insert(parse_class(k));
    for (const auto& k : c.unban) p.banned_classes.erase(parse_class(k));
    if (c.checkin_window) {
        p.checkin_defaults.window =
            parse_window(*c.checkin_window, "checkin_defaults.window", false);
    }
    if (c.checkin_every_days) p.checkin_defaults.every_days = *c.checkin_every_days;
    if (c.checkin_grace_minutes) p.checkin_defaults.grace_minutes = *c.checkin_grace_minutes;
    if (c.accept_messenger) {
        auto name = policies::canonical_provider(*c.accept_messenger);
        if (!name) {
            throw AdminError(AdminErrorCode::invalid_field, "accept_messenger",
                             "accept_messenger: a provider name is letters and digits, "
                             "e.g. 'session'.");
        }
        if (policies::is_social_media_provider(*name)) {
            throw AdminError(AdminErrorCode::refused, "accept_messenger",
                             "accept_messenger: '" + *c.accept_messenger + "' is social media (" +
                                 *name + ") and can never be used to contact a survivor.");
        }
        if (c.messenger_evidence.empty()) {
            throw AdminError(AdminErrorCode::invalid_field, "messenger_evidence",
                             "messenger_evidence: name the assessment that accepted this "
                             "messenger (e.g. DPIA-2026-04).");
        }
        auto& list = p.accepted_messengers;
        std::erase_if(list, [&](const auto& m) { return m.provider == *name; });
        list.push_back({*name, c.messenger_evidence});
    }
    if (c.drop_messenger) {
        auto name = policies::canonical_provider(*c.drop_messenger);
        auto& list = p.accepted_messengers;
        auto before = list.size();
        if (name) std::erase_if(list, [&](const auto& m) { return m.provider == *name; });
        if (list.size() == before) {
            throw AdminError(AdminErrorCode::not_found, "drop_messenger",
                             "drop_messenger: '" + *c.drop_messenger +
                                 "' is not a messenger the organisation added.");
        }
    }
    if (c.consent_recorders) {
        const std::string& r = *c.consent_recorders;
        if (r == "assigned_caseworkers") {
            p.consent_recorders = policies::ConsentRecorders::assigned_caseworkers;
        } else if (r == "caseworkers") {
            p.consent_recorders = policies::ConsentRecorders::caseworkers;
        } else if (r == "caseworkers_and_admins") {
            p.consent_recorders = policies::ConsentRecorders::caseworkers_and_admins;
        } else {
            throw AdminError(AdminErrorCode::invalid_field, "consent_recorders",
                             "consent_recorders: must be assigned_caseworkers, "
                             "caseworkers or caseworkers_and_admins.");
        }
    }
}

/// Sets (or, with an empty text, removes) each organisation text in `actor`'s name, in order.
/// Errors name the change: `<field>[i].template` or `<field>[i].text` (e.g. "templates[0].text",
/// "--template[1].text"); the changes before a bad one stay made.
inline void apply_template_changes(policies::PolicyStore& store,
                                   const std::vector<TemplateChange>& changes,
                                   const policies::Actor& actor, policies::Instant now,
                                   const std::string& field) {
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const TemplateChange& c = changes[i];
        try {
            if (c.text.empty()) {
                store.clear_template(c.template_id, c.language, actor, now);
            } else {
                store.set_template(c.template_id, c.language, c.text, actor, now);
            }
        } catch (const policies::Error& e) {
            std::string named = field + "[" + std::to_string(i) + "]." +
                                (e.field() == "template_id" ? "template" : "text");
            std::string message = e.what();
            auto colon = message.find(':');
            throw AdminError(
                to_admin_error(e).code(), named,
                named + (colon == std::string::npos ? ": " + message : message.substr(colon)));
        }
    }
}

/// The organisation's own texts: [{"template","language","text"}] (built-in ones not listed).
inline nlohmann::json templates_json(const policies::PolicyStore& store) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : store.org_templates()) {
        out.push_back({{"template", t.template_id}, {"language", t.language}, {"text", t.text}});
    }
    return out;
}

}  // namespace ariadne::gateway
