// A Session's call-back requests (docs/protocol.md 4.9): her `callback_request`, and a
// console's `callbacks`, `callback_reveal` and `callback_outcome`. The session checks who is
// asking and what depends on the time; the CallbackDesk decides, stores and audits.
#include <chrono>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/core/devices.h"
#include "ariadne/core/gateway.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

namespace {

constexpr std::int64_t kCallbackHorizonMs = std::int64_t{7} * 24 * 60 * 60 * 1000;

/// The frame for a desk's answer.
std::string answer_frame(std::int64_t id, const CallbackAnswer& a) {
    switch (a.status) {
        case CallbackAnswer::Status::ok:
            return encode_ok(id, a.fields);
        case CallbackAnswer::Status::refused:
            return error_frame(id, ErrorCode::callback_refused, a.message, {{"reason", a.reason}});
        case CallbackAnswer::Status::forbidden:
            return error_frame(id, ErrorCode::forbidden, a.message);
        case CallbackAnswer::Status::not_found:
            return error_frame(id, ErrorCode::not_found, a.message);
    }
    return error_frame(id, ErrorCode::internal, "Unhandled answer.");
}

/// The time-dependent checks of windows the codec could not make: invalid_frame naming the
/// field, or "" when every window is still to come (or under way) and starts within 7 days.
std::string windows_problem(const std::vector<CallbackWindow>& windows, std::int64_t now_ms) {
    for (std::size_t i = 0; i < windows.size(); ++i) {
        const std::string path = "windows[" + std::to_string(i) + "]";
        if (windows[i].to_ms <= now_ms) return "field '" + path + ".to' is in the past";
        if (windows[i].from_ms > now_ms + kCallbackHorizonMs) {
            return "field '" + path + ".from' must be within the next 7 days";
        }
    }
    return {};
}

const char* kUnavailable =
    "We cannot arrange a call at the moment. You can still write to us here.";

}  // namespace

void Session::handle_callback_request(std::int64_t id, CallbackRequest r, std::uint64_t slot) {
    auto finish_now = [&](std::string frame) {
        busy_ = false;
        complete_locked(slot, std::move(frame));
    };
    if (account_.role != Role::survivor) {
        return finish_now(error_frame(id, ErrorCode::forbidden,
                                      "Only a survivor's own device may ask to be called."));
    }
    // Her app speaks for itself; her edge device (the page and SMS) says which of the two.
    if (device_ == kEdgeDevice) {
        if (r.channel.empty()) r.channel = "web";
        if (r.channel == "app") {
            return finish_now(error_frame(id, ErrorCode::forbidden,
                                          "The channel 'app' is only for her own app."));
        }
    } else {
        if (r.channel.empty()) r.channel = "app";
        if (r.channel != "app") {
            return finish_now(error_frame(
                id, ErrorCode::forbidden,
                "Only the gateway's web page and SMS may name the channel 'web' or 'sms'."));
        }
    }
    if (auto problem = windows_problem(r.windows, gateway_.now_ms()); !problem.empty()) {
        return finish_now(error_frame(id, ErrorCode::invalid_frame, problem));
    }
    if (gateway_.options_.callbacks == nullptr) {
        return finish_now(error_frame(id, ErrorCode::callback_refused, kUnavailable,
                                      {{"reason", "unavailable"}}));
    }
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, r = std::move(r), survivor = account_] {
        Gateway& g = self->gateway_;
        try {
            auto answer =
                g.options_.callbacks->request(survivor, r.channel, r.windows, g.clock().now());
            self->complete(slot, answer_frame(id, answer), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

namespace {
std::string not_a_caseworker(std::int64_t id) {
    return error_frame(id, ErrorCode::forbidden,
                       "Only a caseworker device may list, reveal or settle call-back tasks.");
}
}  // namespace

void Session::handle_callbacks(std::int64_t id, std::uint64_t slot) {
    if (account_.role != Role::caseworker) {
        busy_ = false;
        complete_locked(slot, not_a_caseworker(id));
        return;
    }
    if (gateway_.options_.callbacks == nullptr) {
        busy_ = false;
        complete_locked(slot, encode_ok(id, {{"callbacks", json::array()}}));
        return;
    }
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, caseworker = account_.id] {
        try {
            json list = json::array();
            for (auto& task : self->gateway_.options_.callbacks->open_tasks_for(caseworker)) {
                list.push_back(std::move(task));
            }
            self->complete(slot, encode_ok(id, {{"callbacks", std::move(list)}}), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

void Session::handle_callback_reveal(std::int64_t id, CallbackRevealRequest r, std::uint64_t slot) {
    if (account_.role != Role::caseworker) {
        busy_ = false;
        complete_locked(slot, not_a_caseworker(id));
        return;
    }
    if (gateway_.options_.callbacks == nullptr) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::not_found,
                                          "No open call-back task has that task_id."));
        return;
    }
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, r = std::move(r), caseworker = account_.id] {
        Gateway& g = self->gateway_;
        try {
            auto answer =
                g.options_.callbacks->reveal(caseworker, r.task_id, r.reason, g.clock().now());
            // The number is in this frame only: never logged, never stored.
            self->complete(slot, answer_frame(id, answer), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

void Session::handle_callback_outcome(std::int64_t id, CallbackOutcomeRequest r,
                                      std::uint64_t slot) {
    if (account_.role != Role::caseworker) {
        busy_ = false;
        complete_locked(slot, not_a_caseworker(id));
        return;
    }
    if (auto problem = windows_problem(r.windows, gateway_.now_ms()); !problem.empty()) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::invalid_frame, problem));
        return;
    }
    if (gateway_.options_.callbacks == nullptr) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::not_found,
                                          "No open call-back task has that task_id."));
        return;
    }
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, r = std::move(r), caseworker = account_.id] {
        Gateway& g = self->gateway_;
        try {
            auto answer = g.options_.callbacks->outcome(caseworker, r.task_id, r.outcome, r.windows,
                                                        g.clock().now());
            self->complete(slot, answer_frame(id, answer), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

}  // namespace ariadne::gateway
