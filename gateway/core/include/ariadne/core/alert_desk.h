// What the gateway core needs of caseworker alerts: the `alerts` and `alert_clear` requests
// and the `alert` push (docs/protocol.md 4.7). The services layer's AlertBoard
// (ariadne/services/alerts.h) implements it; the core never sees how alerts are stored.
//
// Errors: every method may throw std::exception when the alert table cannot be used (the
// session answers `storage_unavailable`). Thread-safety: implementations are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/policies/values.h"

namespace ariadne::gateway {

/// The outcome of a clear request.
enum class ClearOutcome {
    cleared,          // cleared now (and, for duress, her lock lifted)
    already_cleared,  // cleared earlier: nothing changed (a replayed request)
    not_found,        // no alert has this id
    forbidden,        // the caseworker is not assigned to the alert's case
};

class AlertDesk {
  public:
    virtual ~AlertDesk() = default;

    /// The open alerts a caseworker account may see, as wire objects, urgent first.
    virtual std::vector<nlohmann::json> open_alerts_for(const std::string& caseworker) const = 0;

    /// Clears alert `id` on behalf of a caseworker at `at`; on cleared/already_cleared,
    /// `alert` is its wire object afterwards.
    struct Cleared {
        ClearOutcome outcome = ClearOutcome::not_found;
        nlohmann::json alert;
    };
    virtual Cleared clear_alert(std::int64_t id, const std::string& caseworker,
                                policies::Instant at) = 0;
};

}  // namespace ariadne::gateway
