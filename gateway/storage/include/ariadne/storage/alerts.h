// AlertTable: caseworker alerts in the table `gateway_alerts` of the gateway database.
// Metadata only: kind, case code, urgency, times and who cleared it. What a kind means,
// who may see or clear an alert and what clearing does belong to gateway::AlertBoard,
// which composes these calls with PolicyStore calls in one storage::SharedTransaction.
//
// Thread safety: safe from any thread; every call holds the PolicyStore's lock (the store
// must outlive this object). Errors: storage::Error when the database cannot be read or
// written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/policies/store.h"

namespace ariadne::storage {

/// One stored alert, as stored: the caller parses the kind and the case code.
struct AlertRow {
    std::int64_t id = 0;
    std::optional<std::string> case_code;  // none: not linked to a case
    std::string kind;
    bool urgent = false;
    std::int64_t raised_at_ms = 0;  // Unix ms
    std::optional<std::int64_t> cleared_at_ms;
    std::string cleared_by;  // "" while open
};

class AlertTable {
  public:
    /// The table comes from migration 1 (the store migrates on open).
    explicit AlertTable(const policies::PolicyStore& store);

    /// The id of the open alert of this kind for this case (none: for no case), if any.
    std::optional<std::int64_t> find_open(const std::string& kind,
                                          const std::optional<std::string>& case_code) const;
    /// Stores a new open alert and returns its id.
    std::int64_t insert(const std::optional<std::string>& case_code, const std::string& kind,
                        bool urgent, std::int64_t raised_at_ms);
    /// Every open alert, urgent first, then oldest first.
    std::vector<AlertRow> open_alerts() const;
    std::optional<AlertRow> find(std::int64_t id) const;
    /// Clears alert `id` if it is open. Returns whether it was.
    bool clear(std::int64_t id, std::int64_t at_ms, const std::string& by);
    /// Clears every open alert of `kind` for the case. Returns how many were open.
    std::size_t clear_all(const std::string& case_code, const std::string& kind, std::int64_t at_ms,
                          const std::string& by);

  private:
    const policies::PolicyStore& store_;
};

}  // namespace ariadne::storage
