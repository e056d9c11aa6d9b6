// Call-back tasks: she asks to be called (or a check-in plan reaches `voice_callback`) and a
// caseworker assigned to her case phones her (docs/protocol.md 4.9). The gateway decides each
// request and each reveal of her number like any outbound contact (channel voice_callback,
// purpose replies), keeps one open task per case, and audits every step without the number.
//
// Her number on file is the sealed address of her latest voice_callback consent, else her
// verified SMS number (sms_numbers.h); it is unsealed only for a reveal and wiped after.
//
// Storage: storage::CallbackTasks on the PolicyStore's connection; each change and its audit
// entry commit in one storage::SharedTransaction, under the audit chain's lock (nodes sharing
// a database serialise their changes to one task).
//
// Thread-safety: every method is safe from any thread (the PolicyStore's lock serialises
// them). The listener runs on the calling thread after the commit, without any lock of this
// class; it must only queue (the gateway posts the push to its workers).
// Errors: the CallbackDesk methods throw policies::Error{storage} when the tables cannot be
// used (nothing changed).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/core/callback_desk.h"
#include "ariadne/core/server_key.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/services/alerts.h"
#include "ariadne/storage/callback_tasks.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

class CallbackBoard final : public CallbackDesk {
  public:
    /// Who is pushed a task that changed: its wire object and the caseworker account ids
    /// assigned to her case.
    using Listener = std::function<void(const nlohmann::json&, const std::vector<std::string>&)>;

    /// `store`, `key` and `alerts` must outlive the board.
    CallbackBoard(policies::PolicyStore& store, const ServerKey& key, AlertBoard& alerts);

    CallbackAnswer request(const Account& survivor, const std::string& channel,
                           const std::vector<CallbackWindow>& windows,
                           policies::Instant now) override;
    std::vector<nlohmann::json> open_tasks_for(const std::string& caseworker) const override;
    CallbackAnswer reveal(const std::string& caseworker, std::int64_t task_id,
                          const std::string& reason, policies::Instant now) override;
    CallbackAnswer outcome(const std::string& caseworker, std::int64_t task_id,
                           const std::string& outcome, const std::vector<CallbackWindow>& windows,
                           policies::Instant now) override;

    /// The check-in scheduler reached voice_callback for `send` (already decided for
    /// check_ins): opens a task (source checkin, the plan's window that day) unless she has
    /// an open one. True when a task is open for her afterwards.
    bool open_for_checkin(const policies::CheckinSend& send, policies::Instant now);

    /// Whether a number of hers is on file for calls (a voice_callback consent address, or a
    /// verified SMS number). Throws policies::Error{storage}.
    bool has_number(const policies::CaseCode& code) const;

    /// The task as sent on the wire (docs/protocol.md 4.9).
    nlohmann::json describe(const storage::CallbackTaskRow& task) const;

    /// Replaces the listener (set it once, before the server starts).
    void set_listener(Listener listener);

  private:
    /// Her number on file, unsealed (the caller wipes it), or nullopt.
    std::optional<std::string> number_of(const policies::CaseCode& code) const;
    /// The first instant at or after `at` outside her quiet hours, when `at` is inside them.
    std::optional<policies::Instant> quiet_until(const policies::Survivor& survivor,
                                                 policies::Instant at) const;
    void tell(const storage::CallbackTaskRow& task) const;

    policies::PolicyStore& store_;
    const ServerKey& key_;
    AlertBoard& alerts_;
    storage::CallbackTasks tasks_;
    Listener listener_;
};

}  // namespace ariadne::gateway
