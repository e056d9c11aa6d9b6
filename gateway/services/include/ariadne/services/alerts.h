// Durable alerts for caseworkers (issue 5): a danger signal or a reason to look at a case,
// kept until a caseworker assigned to the case clears it. Metadata only — kind, case code,
// urgency, times, who cleared it — never message content, a name or a phone number.
//
// Storage: storage::AlertTable (`gateway_alerts`) on the PolicyStore's connection, so
// clearing a duress alert, lifting her duress lock and the audit entries commit in one
// storage::SharedTransaction. Every raise and clear is appended to the policies audit chain
// (`alert.raised`, `alert.cleared`; lifting the lock adds `duress.cleared`).
//
// Raising is deduplicated: while an alert of the same kind for the same case is open, raising
// it again returns the open alert's id and records nothing new (a duress code typed ten
// times is one alert). After it is cleared, the next raise opens a new alert.
//
// Thread-safety: every method is safe to call from any thread (the PolicyStore's lock
// serialises them). The listener runs on the raising thread, after the commit, without any
// lock of this class held; it must only queue (the gateway posts the push to its workers).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/core/alert_desk.h"
#include "ariadne/storage/alerts.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

enum class AlertKind {
    duress,                 // her duress login code or duress keyword: urgent
    missed_checkin,         // a check-in went unanswered and she chose to be looked after
    identity_changed,       // her Signal identity changed: verify her before sharing anything
    new_device,             // she writes from a new device
    unverified_channel,     // a message arrived on a channel/address not verified as hers
    checkin_undeliverable,  // a check-in slot could go out on none of her plan's channels
    device_revoked,         // an administrator revoked a console device of one of her caseworkers
    callback_not_reached,   // two call attempts of one call-back task did not reach her
};
/// "duress", "missed_checkin", "identity_changed", "new_device", "unverified_channel",
/// "checkin_undeliverable", "device_revoked", "callback_not_reached".
const char* to_string(AlertKind) noexcept;
std::optional<AlertKind> parse_alert_kind(std::string_view) noexcept;
/// Duress is urgent; every other kind is not.
bool is_urgent(AlertKind) noexcept;

struct AlertRecord {
    std::int64_t id = 0;
    /// The case it is about; none for an alert not (yet) linked to a case, e.g. an SMS from
    /// an unknown number: such an alert is shown to every caseworker.
    std::optional<policies::CaseCode> case_code;
    AlertKind kind = AlertKind::duress;
    bool urgent = false;
    std::int64_t raised_at_ms = 0;                // Unix ms
    std::optional<std::int64_t> cleared_at_ms{};  // Unix ms, when cleared
    std::string cleared_by;                       // caseworker account id, when cleared
};

class AlertBoard final : public AlertDesk {
  public:
    /// Who gets pushed a freshly raised alert: the caseworker account ids assigned to its
    /// case (empty for an alert without a case: the gateway pushes it to every online
    /// caseworker).
    using Listener = std::function<void(const AlertRecord&, const std::vector<std::string>&)>;

    /// `store` must outlive the board. Creates the table. Throws policies::Error{storage}.
    explicit AlertBoard(policies::PolicyStore& store);

    /// THE way to raise an alert (stable; used by the scheduler, the duress login and the
    /// SMS adapter). Records it durably, audits it, then tells the listener. Returns the
    /// alert's id (the open one's if an identical alert is already open).
    /// Throws policies::Error{storage} when it cannot be committed.
    std::int64_t raise(const std::optional<policies::CaseCode>& case_code, AlertKind kind);
    /// Same, at a given time (tests, the scheduler's clock).
    std::int64_t raise(const std::optional<policies::CaseCode>& case_code, AlertKind kind,
                       policies::Instant at);

    /// Open alerts a caseworker may see: those of cases assigned to her and those without a
    /// case, urgent first, then oldest first. Throws policies::Error{storage}.
    std::vector<AlertRecord> open_for(const std::string& caseworker_account) const;
    std::optional<AlertRecord> find(std::int64_t id) const;

    /// Clears one alert on behalf of a caseworker account. Clearing a duress alert also
    /// lifts her duress lock (automated outreach may resume). Throws policies::Error{storage}.
    ClearOutcome clear(std::int64_t id, const std::string& caseworker_account,
                       policies::Instant at);
    /// Lifts her duress lock and clears every open duress alert of the case (the admin's
    /// `duress-clear`). Returns how many alerts were cleared. Throws policies::Error
    /// {not_found} for an unknown case, {refused} when the caseworker is not assigned.
    std::size_t clear_duress(const policies::CaseCode& code, const std::string& caseworker_account,
                             policies::Instant at);

    /// The alert as sent on the wire (docs/protocol.md 4.7): alert_id, kind, urgent,
    /// raised_at and, when linked to a case, case_code, initials and the survivor's account.
    nlohmann::json describe(const AlertRecord& alert) const;

    /// Replaces the listener (set it once, before raising from other threads).
    void set_listener(Listener listener);

    /// AlertDesk: open_for() described; clear() then the alert described.
    std::vector<nlohmann::json> open_alerts_for(const std::string& caseworker) const override;
    Cleared clear_alert(std::int64_t id, const std::string& caseworker,
                        policies::Instant at) override;

    /// The survivor's assigned caseworker account ids (empty for an unknown case).
    std::vector<std::string> caseworkers_of(const policies::CaseCode& code) const;

  private:
    policies::PolicyStore& store_;
    storage::AlertTable table_;
    Listener listener_;
};

}  // namespace ariadne::gateway
