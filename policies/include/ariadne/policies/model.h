// The policy model: survivor records, consent records, organisation policy and local-time
// windows. Plain values; `validate()` checks everything a constructor could not and throws
// Error{invalid_field | refused} naming the field. There is deliberately no name field
// anywhere: a survivor is her case code and her initials.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ariadne/policies/channel.h"
#include "ariadne/policies/values.h"

namespace ariadne::policies {

/// A local time-of-day range [start, end) in minutes since midnight, plus allowed weekdays.
/// For quiet hours `end` may be before `start` (the range wraps midnight: 21:00–08:00).
/// For check-in windows start < end is required (a window lies within one local day).
struct LocalWindow {
    int start_minute = 0;          // 0..1439
    int end_minute = 24 * 60;      // 1..1440
    std::uint8_t weekdays = 0x7F;  // bit i = weekday i (0 = Sunday … 6 = Saturday)

    bool contains(int minute_of_day, unsigned weekday_c_encoding) const noexcept;
    bool wraps_midnight() const noexcept { return end_minute <= start_minute; }
    /// Throws Error{invalid_field, field} for minutes out of range, no weekday, or (when
    /// `allow_wrap` is false) end <= start.
    void validate(std::string_view field, bool allow_wrap) const;
    /// "21:00–08:00".
    std::string str() const;
    bool operator==(const LocalWindow&) const = default;
};

enum class SurvivorStatus { active, dormant, closed };
const char* to_string(SurvivorStatus) noexcept;
std::optional<SurvivorStatus> parse_survivor_status(std::string_view) noexcept;

struct SurvivorFlags {
    bool never_confirm_client = false;  // never confirm to anyone that she was a client
    bool paused = false;                // she asked for a pause: no check-ins, no updates
    bool duress_lock = false;           // set by a duress signal; cleared only by a caseworker
    bool operator==(const SurvivorFlags&) const = default;
};

struct Survivor {
    CaseCode case_code;
    Initials initials;
    LanguageTag language;
    std::string time_zone;                 // IANA name, validated by loading it
    std::vector<AccountId> caseworkers{};  // assigned caseworkers (opaque account ids)
    std::optional<AccountId> team{};       // assigned team (opaque id)
    SurvivorStatus status = SurvivorStatus::active;
    SurvivorFlags flags{};
    std::optional<LocalWindow> quiet_hours{};  // her own quiet hours; else the organisation's
    /// With flags.paused: the instant her pause ends by itself (none = until it is lifted).
    std::optional<Instant> paused_until{};

    /// Whether her pause is in effect at `now` (paused, and paused_until not yet reached).
    bool is_paused(Instant now) const noexcept {
        return flags.paused && (!paused_until || now < *paused_until);
    }

    /// Throws Error{time_zone | invalid_field} naming the field.
    void validate() const;
};

enum class ConsentAction { given, withdrawn };
const char* to_string(ConsentAction) noexcept;
std::optional<ConsentAction> parse_consent_action(std::string_view) noexcept;

/// One version of her consent for one (channel, purpose). Append-only: a withdrawal is a
/// new record with action = withdrawn, effective from its recorded_at.
struct ConsentRecord {
    std::int64_t version = 0;  // assigned by the store (row id), 0 before storing
    CaseCode case_code;
    ChannelRef channel;
    /// Opaque reference to the sealed address (phone number, handle) held elsewhere, or a
    /// keyed hash of it. Never the address itself: 1–128 chars of [A-Za-z0-9._:=+/-], no '@'.
    std::string address_ref{};
    Purpose purpose = Purpose::replies;
    ConsentAction action = ConsentAction::given;
    /// Reference to the consent evidence (e.g. signed form id); required when a messenger
    /// consent is given. 0–128 chars of [A-Za-z0-9._:/-].
    std::string evidence_ref{};
    std::optional<LanguageTag> form_language{};
    AccountId recorded_by;
    Instant recorded_at{};

    /// Throws Error{refused} for social media and Error{invalid_field} for a messenger
    /// consent without evidence or any malformed field.
    void validate() const;
};

/// What role an account acts in when it records consent or changes policy.
enum class Role { admin, caseworker };
const char* to_string(Role) noexcept;

struct Actor {
    AccountId account;
    Role role = Role::caseworker;
};

/// Who may record consent.
enum class ConsentRecorders {
    assigned_caseworkers,    // only her assigned caseworkers
    caseworkers,             // any caseworker
    caseworkers_and_admins,  // any caseworker or an administrator
};

struct CheckinDefaults {
    LocalWindow window{10 * 60, 18 * 60, 0x7F};
    int every_days = 7;
    int grace_minutes = 24 * 60;
    bool operator==(const CheckinDefaults&) const = default;
};

/// A messenger the organisation accepts beyond Ariadne's own list (messenger_providers()),
/// with the reference of the assessment that justified it.
struct AcceptedMessenger {
    std::string provider;      // canonical_provider() form; never a social-media provider
    std::string evidence_ref;  // 1-128 chars of [A-Za-z0-9._:=+/-], e.g. a DPIA id
    bool operator==(const AcceptedMessenger&) const = default;
};

struct OrgPolicy {
    /// Always contains social_media: validate() refuses a policy without it.
    std::set<ChannelClass> banned_classes{ChannelClass::social_media};
    LocalWindow quiet_hours{21 * 60, 8 * 60, 0x7F};
    int retention_days = 365;
    CheckinDefaults checkin_defaults;
    ConsentRecorders consent_recorders = ConsentRecorders::caseworkers;
    /// The organisation's names, acronyms and short forms: no text it sends a survivor may
    /// contain one (templates naming it are refused). At most 20, each 2-80 bytes.
    std::vector<std::string> organisation_names{};
    /// Messengers accepted in addition to messenger_providers() (at most 16).
    std::vector<AcceptedMessenger> accepted_messengers{};

    /// True when `provider` (canonicalised) is one of Ariadne's messengers or one the
    /// organisation accepted. Never true for a social-media provider.
    bool accepts_messenger(std::string_view provider) const noexcept;
    /// "whatsapp, signal, viber, threema" plus the organisation's, for error sentences.
    std::string messenger_list() const;

    /// Throws Error{refused, "banned_classes"} when social media is not banned,
    /// Error{refused, "accepted_messengers"} for a social-media provider in the list, and
    /// Error{invalid_field} for out-of-range values.
    void validate() const;
    bool operator==(const OrgPolicy&) const = default;
};

}  // namespace ariadne::policies
