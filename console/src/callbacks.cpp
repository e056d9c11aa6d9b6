// Call-back tasks (docs/protocol.md 4.9): the open tasks of her team as the gateway lists
// them, revealing her number to dial and recording how the call went. The number passes
// through this process in memory only: it is never written to the history, a log or a file.
#include <algorithm>
#include <stdexcept>

#include "ariadne/client/error.h"
#include "ariadne/console/service.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::text_field;

namespace {

/// The caseworker's sentence for a refused call-back request (reveal or outcome).
std::string callback_refusal(const client::ServerError& e, const char* what) {
    const std::string& code = e.server_code();
    if (code == "forbidden") {
        return std::string(what) +
               ": only a caseworker assigned to her case may do this (an administrator may "
               "not).";
    }
    if (code == "not_found") {
        return std::string(what) +
               ": this call-back task is no longer open (a colleague may "
               "have dealt with it).";
    }
    if (code == "callback_refused") {
        // The gateway's own sentence says why (consent withdrawn, no number, safety lock).
        std::string sentence = e.frame().value("message", "");
        if (sentence.empty()) sentence = "the gateway may not let her be called now.";
        return std::string(what) + ": " + sentence;
    }
    if (code == "invalid_frame") {
        return std::string(what) + ": the gateway did not accept it (" +
               e.frame().value("message", std::string("invalid request")) + ").";
    }
    return std::string(what) + ": the gateway refused (" + code + ").";
}

}  // namespace

Json ConsoleService::callback_of(const std::string& account) {
    std::lock_guard lock(mu_);
    for (const Json& t : callbacks_) {
        if (t.is_object() && text_field(t, "account") == account) return t;
    }
    return nullptr;
}

Json ConsoleService::callbacks() {
    Json out = Json::array();
    std::lock_guard lock(mu_);
    for (const Json& t : callbacks_) {
        if (t.is_object() && t.contains("task_id")) out.push_back(t);
    }
    return {{"callbacks", out}};
}

Json ConsoleService::reveal_callback_number(std::int64_t task_id, const std::string& reason) {
    Json answer;
    try {
        answer = messenger_->connection().call(
            {{"type", "callback_reveal"}, {"task_id", task_id}, {"reason", reason}});
    } catch (const client::ServerError& e) {
        throw std::invalid_argument(callback_refusal(e, "The number is not shown"));
    }
    // Handed straight to the page that asked; nothing here keeps it.
    return {{"task_id", task_id}, {"number", answer.value("number", "")}};
}

Json ConsoleService::record_callback_outcome(std::int64_t task_id, const std::string& outcome,
                                             const Json& windows) {
    Json frame = {{"type", "callback_outcome"}, {"task_id", task_id}, {"outcome", outcome}};
    if (outcome == "rescheduled") frame["windows"] = windows;
    Json answer;
    try {
        answer = messenger_->connection().call(frame);
    } catch (const client::ServerError& e) {
        throw std::invalid_argument(callback_refusal(e, "Not recorded"));
    }
    try {
        refresh_contacts();  // the task's new state shows at once
    } catch (const std::exception&) {
    }
    Json task = answer.value("callback", Json::object());
    return {{"task_id", task_id}, {"outcome", outcome}, {"callback", task}};
}

}  // namespace ariadne::console
