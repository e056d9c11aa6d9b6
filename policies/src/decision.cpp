#include "ariadne/policies/decision.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace ariadne::policies {

namespace {

struct ReasonInfo {
    ReasonCode code;
    const char* name;
    const char* sentence;
};

constexpr std::array kReasons{
    ReasonInfo{ReasonCode::allowed, "allowed",
               "Allowed: she consented to this channel for this purpose and no rule forbids "
               "it now."},
    ReasonInfo{ReasonCode::policy_unavailable, "policy_unavailable",
               "Not sent: the organisation policy could not be read or evaluated, so nothing "
               "goes out; it will be allowed once the policy is available again."},
    ReasonInfo{ReasonCode::unknown_survivor, "unknown_survivor",
               "Not sent: there is no survivor record for this case code; enrol her first."},
    ReasonInfo{ReasonCode::unknown_time_zone, "unknown_time_zone",
               "Not sent: her time zone could not be loaded, so her local time is unknown; set "
               "a valid time zone (e.g. 'Europe/Rome') on her record."},
    ReasonInfo{ReasonCode::unknown_channel, "unknown_channel",
               "Not sent: this channel is not one Ariadne knows (a messenger also needs its "
               "provider); choose the app, the web page, SMS, a call-back, e-mail or a "
               "named messenger."},
    ReasonInfo{ReasonCode::banned_channel_class, "banned_channel_class",
               "Not sent: the organisation never contacts survivors on this class of channel "
               "(social media is always banned); use a channel she consented to instead."},
    ReasonInfo{ReasonCode::duress_lock, "duress_lock",
               "Not sent: a duress signal was raised and all outbound contact is suspended; a "
               "caseworker must check her safety by another agreed means and clear the duress "
               "lock."},
    ReasonInfo{ReasonCode::survivor_paused, "survivor_paused",
               "Not sent: she asked to pause contact, so only replies to her own messages go "
               "out; it will be allowed when the pause ends or is lifted at her request."},
    ReasonInfo{ReasonCode::case_closed, "case_closed",
               "Not sent: her case is closed, so no check-ins or case updates go out; she can "
               "still write in at any time and replies to her are allowed."},
    ReasonInfo{ReasonCode::no_consent, "no_consent",
               "Not sent: she has not consented to this channel for this purpose; record her "
               "consent first."},
    ReasonInfo{ReasonCode::consent_withdrawn, "consent_withdrawn",
               "Not sent: she withdrew her consent for this channel and purpose; only a new "
               "consent from her would allow it."},
    ReasonInfo{ReasonCode::address_mismatch, "address_mismatch",
               "Not sent: her consent on this channel is for a different address; record "
               "consent for the new address first."},
    ReasonInfo{ReasonCode::missing_evidence, "missing_evidence",
               "Not sent: a messenger channel needs her signed consent form on record; record "
               "the form's id with her consent."},
    ReasonInfo{ReasonCode::quiet_hours, "quiet_hours",
               "Not sent: it is within quiet hours in her time zone; it will be allowed when "
               "quiet hours end."},
    ReasonInfo{ReasonCode::outside_window, "outside_window",
               "Not sent: a check-in may go out only inside the plan's local-time window and "
               "weekdays; it will be allowed in the next window."},
};

const ReasonInfo* info(ReasonCode code) {
    for (const auto& r : kReasons) {
        if (r.code == code) return &r;
    }
    return nullptr;
}

Decision deny(ReasonCode code, const char* rule, const std::string& detail = {}) {
    std::string sentence = reason_sentence(code);
    if (!detail.empty()) sentence += " " + detail;
    return Decision{false, code, std::move(sentence), rule};
}

std::string hhmm(int minute) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
    return buf;
}

// The channel as it must be treated: an alias is its canonical provider, and a social-media
// provider is social media whatever kind the caller (or an old stored record) filed it under.
ChannelKind effective_kind(const ChannelRef& c) { return effective_channel(c).kind; }

std::optional<Decision> rule_input(const DecisionInput& in) {
    if (in.org_policy == nullptr) return deny(ReasonCode::policy_unavailable, "input");
    if (in.survivor == nullptr) return deny(ReasonCode::unknown_survivor, "input");
    if (!in.time_zone) return deny(ReasonCode::unknown_time_zone, "input");
    if (!parse_purpose(to_string(in.purpose))) return deny(ReasonCode::policy_unavailable, "input");
    return std::nullopt;
}

std::optional<Decision> rule_channel(const DecisionInput& in) {
    if (!is_known(in.channel.kind)) return deny(ReasonCode::unknown_channel, "channel");
    bool needs_provider =
        in.channel.kind == ChannelKind::messenger || in.channel.kind == ChannelKind::social_media;
    if (needs_provider && in.channel.provider.empty()) {
        return deny(ReasonCode::unknown_channel, "channel");
    }
    // Only the messengers Ariadne lists, or that the organisation accepted with evidence, are
    // messengers at all; social media is left to the next rule (banned whatever it is called).
    ChannelRef effective = effective_channel(in.channel);
    if (effective.kind == ChannelKind::messenger &&
        !in.org_policy->accepts_messenger(effective.provider)) {
        return deny(ReasonCode::unknown_channel, "channel",
                    "(messenger provider '" + effective.provider +
                        "' is not an accepted messenger: " + in.org_policy->messenger_list() + ")");
    }
    return std::nullopt;
}

std::optional<Decision> rule_banned_class(const DecisionInput& in) {
    ChannelClass cls = class_of(effective_kind(in.channel));
    // Social media is banned even if a stored policy somehow lacks the ban.
    if (cls == ChannelClass::social_media || in.org_policy->banned_classes.count(cls)) {
        ChannelRef effective = effective_channel(in.channel);
        std::string provider =
            effective.provider.empty() ? "" : ", provider: " + effective.provider;
        return deny(ReasonCode::banned_channel_class, "banned_class",
                    std::string("(channel class: ") + to_string(cls) + provider + ")");
    }
    return std::nullopt;
}

std::optional<Decision> rule_duress(const DecisionInput& in) {
    if (in.survivor->flags.duress_lock) return deny(ReasonCode::duress_lock, "duress");
    return std::nullopt;
}

std::optional<Decision> rule_survivor_state(const DecisionInput& in) {
    if (in.survivor->is_paused(in.now) && in.purpose != Purpose::replies) {
        std::string until;
        if (in.survivor->paused_until) {
            auto t = std::chrono::floor<std::chrono::minutes>(*in.survivor->paused_until);
            auto day = std::chrono::floor<std::chrono::days>(t);
            std::chrono::year_month_day ymd{day};
            int minute = static_cast<int>((t - day).count());
            char buf[48];
            std::snprintf(buf, sizeof buf, "(paused until %04d-%02u-%02uT%sZ)",
                          static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), hhmm(minute).c_str());
            until = buf;
        }
        return deny(ReasonCode::survivor_paused, "survivor_state", until);
    }
    // A closed case gets nothing automated (check-ins, case updates); replies still go out,
    // because she may write in at any time and a closed case never closes the channel.
    if (in.survivor->status == SurvivorStatus::closed && in.purpose != Purpose::replies) {
        return deny(ReasonCode::case_closed, "survivor_state");
    }
    return std::nullopt;
}

std::optional<Decision> rule_consent(const DecisionInput& in) {
    ChannelKind kind = effective_kind(in.channel);
    const ConsentRecord* latest =
        latest_consent(in.consent_history, in.survivor->case_code, in.channel, in.purpose, in.now);
    std::string what =
        std::string("(channel: ") + in.channel.str() + ", purpose: " + to_string(in.purpose) + ")";
    if (latest == nullptr) return deny(ReasonCode::no_consent, "consent", what);
    if (latest->action == ConsentAction::withdrawn) {
        return deny(ReasonCode::consent_withdrawn, "consent", what);
    }
    if (kind == ChannelKind::messenger && latest->evidence_ref.empty()) {
        return deny(ReasonCode::missing_evidence, "consent", what);
    }
    if (!in.address_ref.empty() && in.address_ref != latest->address_ref) {
        return deny(ReasonCode::address_mismatch, "consent", what);
    }
    return std::nullopt;
}

std::optional<Decision> rule_quiet_hours(const DecisionInput& in) {
    const LocalWindow& quiet =
        in.survivor->quiet_hours ? *in.survivor->quiet_hours : in.org_policy->quiet_hours;
    LocalDateTime local = in.time_zone->to_local(in.now);
    int minute = static_cast<int>(local.time.count() / 60);
    if (quiet.contains(minute, local.weekday.c_encoding())) {
        return deny(ReasonCode::quiet_hours, "quiet_hours",
                    "(quiet hours " + quiet.str() + " in " + in.time_zone->name() + "; it is now " +
                        hhmm(minute) + " there)");
    }
    return std::nullopt;
}

std::optional<Decision> rule_window(const DecisionInput& in) {
    if (in.purpose != Purpose::check_ins || !in.window) return std::nullopt;
    LocalDateTime local = in.time_zone->to_local(in.now);
    int minute = static_cast<int>(local.time.count() / 60);
    if (!in.window->contains(minute, local.weekday.c_encoding())) {
        return deny(ReasonCode::outside_window, "window",
                    "(window " + in.window->str() + " in " + in.time_zone->name() + "; it is now " +
                        hhmm(minute) + " there)");
    }
    return std::nullopt;
}

constexpr std::array kRules{
    DecisionRule{"input", &rule_input},
    DecisionRule{"channel", &rule_channel},
    DecisionRule{"banned_class", &rule_banned_class},
    DecisionRule{"duress", &rule_duress},
    DecisionRule{"survivor_state", &rule_survivor_state},
    DecisionRule{"consent", &rule_consent},
    DecisionRule{"quiet_hours", &rule_quiet_hours},
    DecisionRule{"window", &rule_window},
};

}  // namespace

const ConsentRecord* latest_consent(std::span<const ConsentRecord> history, const CaseCode& code,
                                    const ChannelRef& channel, Purpose purpose, Instant now) {
    const ChannelRef wanted = effective_channel(channel);
    const ConsentRecord* latest = nullptr;
    for (const ConsentRecord& r : history) {
        if (r.case_code != code || r.purpose != purpose) continue;
        if (effective_channel(r.channel) != wanted) continue;
        if (r.recorded_at > now) continue;  // not yet in effect
        if (latest == nullptr || r.recorded_at > latest->recorded_at ||
            (r.recorded_at == latest->recorded_at && r.version > latest->version)) {
            latest = &r;
        }
    }
    return latest;
}

const char* to_string(ReasonCode code) noexcept {
    const ReasonInfo* r = info(code);
    return r ? r->name : "unknown";
}

std::optional<ReasonCode> parse_reason_code(std::string_view s) noexcept {
    for (const auto& r : kReasons) {
        if (s == r.name) return r.code;
    }
    return std::nullopt;
}

const std::vector<ReasonCode>& all_reason_codes() {
    static const std::vector<ReasonCode> codes = [] {
        std::vector<ReasonCode> v;
        for (const auto& r : kReasons) v.push_back(r.code);
        return v;
    }();
    return codes;
}

std::string reason_sentence(ReasonCode reason) {
    const ReasonInfo* r = info(reason);
    return r ? r->sentence : "Not sent: the decision could not be evaluated.";
}

std::span<const DecisionRule> decision_rules() noexcept { return kRules; }

Decision decide_outbound(const DecisionInput& input) noexcept {
    try {
        for (const DecisionRule& rule : kRules) {
            if (auto denied = rule.check(input)) return *std::move(denied);
        }
        return Decision{true, ReasonCode::allowed, reason_sentence(ReasonCode::allowed), "all"};
    } catch (...) {
        // Fail closed: anything that cannot be evaluated denies.
        try {
            return deny(ReasonCode::policy_unavailable, "error");
        } catch (...) {
            return Decision{};
        }
    }
}

}  // namespace ariadne::policies
