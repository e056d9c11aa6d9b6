#include "ariadne/policies/model.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"

namespace ariadne::policies {

namespace {

[[noreturn]] void invalid(std::string_view field, const std::string& what) {
    throw Error(ErrorCode::invalid_field, std::string(field), std::string(field) + ": " + what);
}

bool opaque_ref_ok(std::string_view s, std::size_t max, bool allow_empty) {
    if (s.size() > max || (!allow_empty && s.empty())) return false;
    for (char c : s) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
                  c == '=' || c == '+' || c == '/' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// A reference that is nothing but digits (with an optional '+') is a phone number in disguise.
bool looks_like_phone_number(std::string_view s) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    return s.size() >= 5 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
           });
}

}  // namespace

bool LocalWindow::contains(int minute_of_day, unsigned weekday_c) const noexcept {
    if (weekday_c > 6 || ((weekdays >> weekday_c) & 1U) == 0) return false;
    if (!wraps_midnight()) return minute_of_day >= start_minute && minute_of_day < end_minute;
    return minute_of_day >= start_minute || minute_of_day < end_minute;
}

void LocalWindow::validate(std::string_view field, bool allow_wrap) const {
    if (start_minute < 0 || start_minute > 1439) {
        invalid(field, "the start must be a local time between 00:00 and 23:59");
    }
    if (end_minute < 1 || end_minute > 1440) {
        invalid(field, "the end must be a local time between 00:01 and 24:00");
    }
    if ((weekdays & 0x7F) == 0 || (weekdays & 0x80) != 0) {
        invalid(field, "at least one weekday must be allowed");
    }
    if (!allow_wrap && end_minute <= start_minute) {
        invalid(field,
                "the window must end after it starts on the same local day (e.g. 10:00-18:00)");
    }
    if (start_minute == end_minute) invalid(field, "the start and end must differ");
}

std::string LocalWindow::str() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", start_minute / 60, start_minute % 60,
                  end_minute / 60, end_minute % 60);
    return buf;
}

const char* to_string(SurvivorStatus s) noexcept {
    switch (s) {
        case SurvivorStatus::active:
            return "active";
        case SurvivorStatus::dormant:
            return "dormant";
        case SurvivorStatus::closed:
            return "closed";
    }
    return "unknown";
}

std::optional<SurvivorStatus> parse_survivor_status(std::string_view s) noexcept {
    for (auto v : {SurvivorStatus::active, SurvivorStatus::dormant, SurvivorStatus::closed}) {
        if (s == to_string(v)) return v;
    }
    return std::nullopt;
}

const char* to_string(ConsentAction a) noexcept {
    return a == ConsentAction::given ? "given" : "withdrawn";
}

std::optional<ConsentAction> parse_consent_action(std::string_view s) noexcept {
    if (s == "given") return ConsentAction::given;
    if (s == "withdrawn") return ConsentAction::withdrawn;
    return std::nullopt;
}

const char* to_string(Role r) noexcept { return r == Role::admin ? "admin" : "caseworker"; }

void Survivor::validate() const {
    TimeZone::load(time_zone, "survivor.time_zone");
    if (caseworkers.size() > 32) invalid("survivor.caseworkers", "at most 32 caseworkers");
    if (quiet_hours) quiet_hours->validate("survivor.quiet_hours", true);
    if (parse_survivor_status(to_string(status)) == std::nullopt) {
        invalid("survivor.status", "must be active, dormant or closed");
    }
}

void ConsentRecord::validate() const {
    if (!is_known(channel.kind)) invalid("consent.channel", "unknown channel kind");
    // Re-normalise: a social-media provider filed under another kind is still social media.
    ChannelRef normal = ChannelRef::make(channel.kind, channel.provider, "consent.channel");
    if (normal.kind == ChannelKind::social_media) {
        throw Error(ErrorCode::refused, "consent.channel",
                    "consent.channel: social media (" + normal.str() +
                        ") can never be used to contact a survivor; choose the app, the web "
                        "page, SMS, a call-back, e-mail or a messenger with a signed consent "
                        "form");
    }
    if (!opaque_ref_ok(address_ref, 128, true) || address_ref.find('@') != std::string::npos ||
        looks_like_phone_number(address_ref)) {
        invalid("consent.address_ref",
                "must be an opaque reference to the sealed address (1-128 of A-Z a-z 0-9 . _ : "
                "= + / -), never the phone number or handle itself");
    }
    if (!opaque_ref_ok(evidence_ref, 128, true)) {
        invalid("consent.evidence_ref",
                "must be a reference such as a signed form id (up to 128 of A-Z a-z 0-9 . _ : "
                "= + / -)");
    }
    if (channel.kind == ChannelKind::messenger && action == ConsentAction::given &&
        evidence_ref.empty()) {
        invalid("consent.evidence_ref",
                "a messenger channel needs the id of her signed consent form before consent "
                "can be recorded");
    }
    if (!parse_purpose(to_string(purpose))) invalid("consent.purpose", "unknown purpose");
    if (to_micros(recorded_at) <= 0) invalid("consent.recorded_at", "must be set");
}

void OrgPolicy::validate() const {
    if (!banned_classes.count(ChannelClass::social_media)) {
        throw Error(ErrorCode::refused, "banned_classes",
                    "banned_classes: social media is always banned and cannot be removed: "
                    "professionals never contact survivors through social media");
    }
    for (ChannelClass c : banned_classes) {
        if (!parse_channel_class(to_string(c))) invalid("banned_classes", "unknown channel class");
    }
    quiet_hours.validate("quiet_hours", true);
    if (retention_days < 1 || retention_days > 36500) {
        invalid("retention_days", "must be between 1 and 36500 days");
    }
    checkin_defaults.window.validate("checkin_defaults.window", false);
    if (checkin_defaults.every_days < 1 || checkin_defaults.every_days > 366) {
        invalid("checkin_defaults.every_days", "must be between 1 and 366");
    }
    if (checkin_defaults.grace_minutes < 0 || checkin_defaults.grace_minutes > 14 * 24 * 60) {
        invalid("checkin_defaults.grace_minutes", "must be between 0 and 20160 (14 days)");
    }
    auto r = static_cast<int>(consent_recorders);
    if (r < 0 || r > 2) invalid("consent_recorders", "unknown value");
    if (organisation_names.size() > 20) invalid("organisation_names", "at most 20 names");
    for (std::size_t i = 0; i < organisation_names.size(); ++i) {
        const std::string& n = organisation_names[i];
        const std::string field = "organisation_names[" + std::to_string(i) + "]";
        bool printable = std::none_of(n.begin(), n.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7F;
        });
        if (n.size() < 2 || n.size() > 80 || !printable) {
            invalid(field, "must be 2 to 80 bytes of printable text");
        }
    }
    if (accepted_messengers.size() > 16) {
        invalid("accepted_messengers", "at most 16 messengers can be added");
    }
    for (std::size_t i = 0; i < accepted_messengers.size(); ++i) {
        const auto& m = accepted_messengers[i];
        const std::string field = "accepted_messengers[" + std::to_string(i) + "]";
        auto canonical = canonical_provider(m.provider);
        if (!canonical || *canonical != m.provider || m.provider.size() > 32) {
            invalid(field + ".provider",
                    "a provider name is up to 32 letters and digits, e.g. 'session'");
        }
        if (is_social_media_provider(m.provider)) {
            throw Error(ErrorCode::refused, field + ".provider",
                        field + ".provider: '" + m.provider +
                            "' is social media and can never be accepted as a messenger: "
                            "professionals never contact survivors through social media");
        }
        if (is_builtin_messenger(m.provider)) {
            invalid(field + ".provider", "'" + m.provider + "' is accepted already");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (accepted_messengers[j].provider == m.provider) {
                invalid(field + ".provider", "'" + m.provider + "' is listed twice");
            }
        }
        if (m.evidence_ref.empty() || !opaque_ref_ok(m.evidence_ref, 128, false)) {
            invalid(field + ".evidence_ref",
                    "name the assessment that accepted it (1-128 of A-Z a-z 0-9 . _ : = + / -), "
                    "e.g. 'DPIA-2026-04'");
        }
    }
}

bool OrgPolicy::accepts_messenger(std::string_view provider) const noexcept {
    try {
        auto canonical = canonical_provider(provider);
        if (!canonical || is_social_media_provider(*canonical)) return false;
        if (is_builtin_messenger(*canonical)) return true;
        for (const auto& m : accepted_messengers) {
            if (m.provider == *canonical) return true;
        }
        return false;
    } catch (...) {
        return false;
    }
}

std::string OrgPolicy::messenger_list() const {
    std::string out;
    for (std::string_view m : messenger_providers())
        out += (out.empty() ? "" : ", ") + std::string(m);
    for (const auto& m : accepted_messengers) out += ", " + m.provider;
    return out;
}

}  // namespace ariadne::policies
