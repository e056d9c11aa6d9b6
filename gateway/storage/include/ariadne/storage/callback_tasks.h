// CallbackTasks: call-back tasks (a caseworker is to phone her) in `gateway_callback_tasks`
// and their attempts in `gateway_callback_attempts`, on the PolicyStore's connection. Rows
// hold her case code, times, where the request came from, the state and the attempts: never
// her number, never text of hers. What a state means, who may see or change a task, and the
// decision and audit around each change belong to gateway::CallbackBoard, which composes these
// calls with PolicyStore calls in one storage::SharedTransaction.
//
// Thread safety: safe from any thread; every call holds the PolicyStore's lock (the store
// must outlive this object). Errors: storage::Error when the database cannot be read or
// written; a stored row that does not parse (windows) is storage::Error as well.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

/// When she can talk: [from_ms, to_ms), Unix ms.
struct CallbackWindow {
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
    bool operator==(const CallbackWindow&) const = default;
};

struct CallbackAttempt {
    std::int64_t at_ms = 0;
    std::string by;  // caseworker account id
    std::string outcome;
};

/// One task as stored.
struct CallbackTaskRow {
    std::int64_t id = 0;
    std::string case_code;
    std::string source;   // "request" | "checkin"
    std::string channel;  // "app" | "web" | "sms" | "checkin"
    std::int64_t requested_at_ms = 0;
    std::vector<CallbackWindow> windows;
    std::optional<std::int64_t> next_allowed_from_ms;
    std::string state;
    std::string reason;  // "" unless refused or cancelled
    std::int64_t updated_at_ms = 0;
    std::vector<CallbackAttempt> attempts;  // oldest first
};

class CallbackTasks {
  public:
    /// The tables come from migration 4 (the store migrates on open).
    explicit CallbackTasks(const policies::PolicyStore& store);

    /// The states in which a task still waits for a call.
    static bool is_open_state(const std::string& state) noexcept;

    /// Stores a new task (its id and attempts are ignored) and returns its id.
    std::int64_t insert(const CallbackTaskRow& task);
    /// The open task of a case, if any.
    std::optional<CallbackTaskRow> find_open(const std::string& case_code) const;
    std::optional<CallbackTaskRow> find(std::int64_t id) const;
    /// Every open task, by the start of its first window.
    std::vector<CallbackTaskRow> open_tasks() const;
    /// Rewrites the mutable fields of task `task.id` (channel, source, requested_at,
    /// windows, next_allowed_from, state, reason, updated_at). Returns whether it existed.
    bool update(const CallbackTaskRow& task);
    /// Appends one attempt to task `task_id`.
    void add_attempt(std::int64_t task_id, const CallbackAttempt& attempt);
    /// Retention: deletes the closed tasks (done, refused, cancelled) last changed before
    /// `cutoff_ms` (Unix ms) with their attempts, and returns how many tasks. Open tasks are
    /// never purged. On PostgreSQL one node purges per round (a try-lock; 0 when another holds it).
    std::int64_t purge_closed_before(std::int64_t cutoff_ms);

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
