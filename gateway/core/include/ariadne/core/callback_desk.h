// What the gateway core needs of call-back tasks: `callback_request` from her devices,
// `callbacks`, `callback_reveal` and `callback_outcome` from caseworker consoles, and the
// `callback` push (docs/protocol.md 4.9). The services layer's CallbackBoard
// (ariadne/services/callbacks.h) implements it: the policy decision, the sealed number, the
// task table and the audit stay behind this interface.
//
// Errors: every method may throw std::exception when the tables cannot be used (the session
// answers `storage_unavailable`; nothing was changed). Thread-safety: implementations are
// safe from any thread; the methods block on the database, so the session calls them on a
// worker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/core/store.h"
#include "ariadne/policies/values.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {

/// The answer to one call-back request, as the session turns it into a frame.
struct CallbackAnswer {
    enum class Status {
        ok,         // `fields` are the ok frame's fields
        refused,    // error callback_refused with `reason` and `message`
        forbidden,  // error forbidden with `message`
        not_found,  // error not_found with `message`
    };
    Status status = Status::ok;
    nlohmann::json fields = nlohmann::json::object();
    std::string reason;
    std::string message;

    static CallbackAnswer ok(nlohmann::json fields) {
        return {Status::ok, std::move(fields), {}, {}};
    }
    static CallbackAnswer refused(std::string reason, std::string message) {
        return {Status::refused, nlohmann::json::object(), std::move(reason), std::move(message)};
    }
    static CallbackAnswer error(Status status, std::string message) {
        return {status, nlohmann::json::object(), {}, std::move(message)};
    }
};

class CallbackDesk {
  public:
    virtual ~CallbackDesk() = default;

    /// Survivor account `survivor` asks to be called in `windows` (validated: 1–3, each
    /// 30 min–12 h, not over at `now`, starting within 7 days, sorted); `channel` is where the
    /// request came from ("app", "web", "sms").
    virtual CallbackAnswer request(const Account& survivor, const std::string& channel,
                                   const std::vector<CallbackWindow>& windows,
                                   policies::Instant now) = 0;
    /// The open tasks of the cases assigned to caseworker account `caseworker`, as wire
    /// objects, the earliest first window first.
    virtual std::vector<nlohmann::json> open_tasks_for(const std::string& caseworker) const = 0;
    /// Her number for task `task_id`, for caseworker account `caseworker`, given `reason`.
    virtual CallbackAnswer reveal(const std::string& caseworker, std::int64_t task_id,
                                  const std::string& reason, policies::Instant now) = 0;
    /// Records `outcome` of task `task_id` by caseworker account `caseworker` (`windows`:
    /// the new ones for "rescheduled", validated like request()'s).
    virtual CallbackAnswer outcome(const std::string& caseworker, std::int64_t task_id,
                                   const std::string& outcome,
                                   const std::vector<CallbackWindow>& windows,
                                   policies::Instant now) = 0;
};

}  // namespace ariadne::gateway
