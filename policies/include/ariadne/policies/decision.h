// The outbound decision: one pure function decides whether a message or reminder may go to
// a survivor on a channel for a purpose at an instant. It is composed of small rule units
// (Envoy-filter style: each answers "continue" or "deny with a reason"), run in a fixed
// order; the first deny wins. It fails closed: missing input, an unknown channel or any
// exception inside a rule denies. It does no I/O and is thread-safe.
//
// Inbound contact is NOT decided here: a survivor can always write in, whatever her status,
// consent or flags; only what the organisation sends to her is decided.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ariadne/policies/channel.h"
#include "ariadne/policies/model.h"
#include "ariadne/policies/time_zone.h"

namespace ariadne::policies {

enum class ReasonCode {
    allowed,               // every rule passed
    policy_unavailable,    // no organisation policy, or a rule could not be evaluated
    unknown_survivor,      // no survivor record
    unknown_time_zone,     // her time zone could not be loaded
    unknown_channel,       // not a known channel kind, or a messenger without a provider
    banned_channel_class,  // social media (always) or a class the organisation banned
    duress_lock,           // a duress signal was raised; a caseworker must clear it
    survivor_paused,       // she asked for a pause (check-ins and case updates)
    case_closed,           // closed case: no automated check-ins (replies still allowed)
    no_consent,            // no consent for this channel and purpose
    consent_withdrawn,     // the latest consent record is a withdrawal
    address_mismatch,      // consent was given for a different address on this channel
    missing_evidence,      // messenger consent without a signed-consent evidence reference
    quiet_hours,           // inside her (or the organisation's) quiet hours
    outside_window,        // a check-in outside the plan's local-time window or weekdays
};

/// Stable name ("no_consent", ...), used in the audit log and the wire protocol.
const char* to_string(ReasonCode) noexcept;
std::optional<ReasonCode> parse_reason_code(std::string_view) noexcept;
const std::vector<ReasonCode>& all_reason_codes();

struct DecisionInput {
    /// Her current record; null → deny unknown_survivor.
    const Survivor* survivor = nullptr;
    /// The channel the message would go out on, and the sealed-address reference it would
    /// use (empty = the address of her latest consent on that channel).
    ChannelRef channel{};
    std::string address_ref{};
    Purpose purpose = Purpose::replies;
    /// The instant of sending (UTC) and her time zone (loaded by the caller; null → deny).
    Instant now{};
    std::shared_ptr<const TimeZone> time_zone{};
    /// Every consent record for her (any order; records after `now` are ignored).
    std::span<const ConsentRecord> consent_history{};
    /// The organisation policy; null → deny policy_unavailable.
    const OrgPolicy* org_policy = nullptr;
    /// For check-ins: the plan's allowed local-time window and weekdays.
    std::optional<LocalWindow> window{};
};

struct Decision {
    bool allowed = false;
    ReasonCode reason = ReasonCode::policy_unavailable;
    /// Says why, and what would allow it; never contains her name, address or content.
    std::string sentence{};
    /// Name of the rule that decided ("consent", "quiet_hours", …; "all" when allowed).
    std::string rule{};
};

/// Her latest consent record in effect at `now` for (channel, purpose), or null. Records are
/// ordered by recorded_at, then version; a social-media provider counts as social media.
const ConsentRecord* latest_consent(std::span<const ConsentRecord> history, const CaseCode& code,
                                    const ChannelRef& channel, Purpose purpose, Instant now);

/// Decides one outbound message. Pure, noexcept, thread-safe.
Decision decide_outbound(const DecisionInput& input) noexcept;

/// One rule unit: returns nullopt to continue, or a deny Decision.
struct DecisionRule {
    const char* name;
    std::optional<Decision> (*check)(const DecisionInput&);
};
/// The rules in the order decide_outbound runs them (documented in docs/policies.md).
std::span<const DecisionRule> decision_rules() noexcept;

/// The sentence used for a reason (for docs and the console); `detail` is appended.
std::string reason_sentence(ReasonCode reason);

}  // namespace ariadne::policies
