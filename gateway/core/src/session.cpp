// A Session's frame and slot lifecycle: decoding each frame, queueing requests, dispatching
// them to their handlers, and sending the answers in request order. The handlers live in
// session_auth.cpp, session_keys.cpp, session_console.cpp, session_callbacks.cpp and
// session_delivery.cpp.
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

Session::Session(Gateway& gateway, std::shared_ptr<SessionOutput> output,
                 std::optional<std::string> peer)
    : gateway_(gateway), output_(std::move(output)), peer_(std::move(peer)) {}

Session::~Session() = default;

bool Session::authenticated() const {
    std::lock_guard lock(mutex_);
    return authenticated_;
}

void Session::on_closed() {
    Gateway::DeviceKey device;
    bool was_authenticated;
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        output_.reset();
        input_.clear();
        slots_.clear();
        was_authenticated = authenticated_;
        device = {account_.key, device_};
    }
    if (was_authenticated) {
        gateway_.unregister_online(device, this);
        gateway_.metrics().sessions_authenticated.fetch_sub(1, std::memory_order_relaxed);
    }
}

// ---- ordered answers ----

std::uint64_t Session::reserve_slot_locked() {
    slots_.emplace_back();
    return first_slot_ + slots_.size() - 1;
}

void Session::complete_locked(std::uint64_t slot, std::string frame) {
    if (closed_ || slot < first_slot_ || slot - first_slot_ >= slots_.size()) return;
    slots_[slot - first_slot_] = std::move(frame);
    std::size_t ready = 0;
    while (ready < slots_.size() && slots_[ready].has_value()) {
        gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
        output_->send_text(std::move(*slots_[ready]));
        ++ready;
    }
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(ready));
    first_slot_ += ready;
    if (slots_.empty() && slots_.capacity() > 64) slots_.shrink_to_fit();
}

void Session::complete(std::uint64_t slot, std::string frame, bool ends_barrier, bool ends_write) {
    std::lock_guard lock(mutex_);
    if (ends_barrier) busy_ = false;
    if (ends_write && pending_writes_ > 0) --pending_writes_;
    complete_locked(slot, std::move(frame));
    pump_locked();
}

void Session::on_binary() {
    std::lock_guard lock(mutex_);
    if (closed_ || !gateway_.accepting()) return;
    gateway_.metrics().frames_in.fetch_add(1, std::memory_order_relaxed);
    auto slot = reserve_slot_locked();
    complete_locked(
        slot, encode_error(ProtocolError{ErrorCode::invalid_frame,
                                         "frames must be text frames holding JSON", std::nullopt}));
}

void Session::on_text(std::string_view frame) {
    auto decoded = decode_request(frame);
    std::lock_guard lock(mutex_);
    if (closed_ || !gateway_.accepting()) return;
    gateway_.metrics().frames_in.fetch_add(1, std::memory_order_relaxed);
    if (auto* error = std::get_if<ProtocolError>(&decoded)) {
        auto slot = reserve_slot_locked();
        complete_locked(slot, encode_error(*error));
        return;
    }
    auto& request = std::get<Request>(decoded);
    if (input_.size() >= gateway_.options_.max_queued_requests) {
        auto slot = reserve_slot_locked();
        gateway_.metrics().rate_limited.fetch_add(1, std::memory_order_relaxed);
        complete_locked(slot, error_frame(request.id, ErrorCode::overloaded,
                                          "Too many requests are waiting on this connection.",
                                          {{"retry_after_ms", 1000}}));
        return;
    }
    input_.push_back(std::move(request));
    pump_locked();
}

void Session::pump_locked() {
    while (!closed_ && !busy_ && pending_writes_ < gateway_.options_.max_pending_writes &&
           !input_.empty()) {
        Request request = std::move(input_.front());
        input_.erase(input_.begin());
        if (input_.empty() && input_.capacity() > 16) input_.shrink_to_fit();
        auto slot = reserve_slot_locked();
        dispatch_locked(request, slot);
    }
}

void Session::dispatch_locked(Request& request, std::uint64_t slot) {
    const std::int64_t id = request.id;
    auto& body = request.body;
    const bool is_auth = std::holds_alternative<RegisterDeviceRequest>(body) ||
                         std::holds_alternative<AuthDeviceRequest>(body) ||
                         std::holds_alternative<AuthSurvivorRequest>(body);
    const bool open_op = is_auth || std::holds_alternative<PingRequest>(body) ||
                         std::holds_alternative<RecoveryParamsRequest>(body) ||
                         std::holds_alternative<ChallengeRequest>(body);

    if (std::holds_alternative<PingRequest>(body)) {
        complete_locked(slot, encode_ok(id, {{"server_time", gateway_.now_ms()}}));
        return;
    }
    if (std::holds_alternative<RecoveryParamsRequest>(body)) {
        complete_locked(slot,
                        encode_ok(id, {{"params", json::parse(gateway_.recovery_params_json_)}}));
        return;
    }
    if (!authenticated_ && !open_op) {
        complete_locked(slot, error_frame(id, ErrorCode::not_authenticated,
                                          "This operation needs a login first."));
        return;
    }
    if (authenticated_ && is_auth) {
        complete_locked(slot, error_frame(id, ErrorCode::already_authenticated,
                                          "This connection is already logged in."));
        return;
    }
    if (authenticated_ && end_if_disabled_locked(id, slot)) return;
    if (std::holds_alternative<ChallengeRequest>(body)) {
        handle_challenge(id, slot);
        return;
    }
    if (std::holds_alternative<KeysCountRequest>(body)) {
        complete_locked(slot, handle_keys_count(id));
        return;
    }
    if (std::holds_alternative<ContactsRequest>(body)) {
        complete_locked(slot, handle_contacts(id));
        return;
    }
    if (auto* ack = std::get_if<AckRequest>(&body)) {
        handle_ack(id, *ack, slot);
        return;
    }
    if (std::holds_alternative<AlertsRequest>(body)) {
        complete_locked(slot, handle_alerts(id));
        return;
    }
    if (std::holds_alternative<SettingsRequest>(body)) {
        complete_locked(slot, handle_settings(id));
        return;
    }
    if (auto* clear = std::get_if<AlertClearRequest>(&body)) {
        complete_locked(slot, handle_alert_clear(id, *clear));
        return;
    }
    if (auto* send = std::get_if<SendRequest>(&body)) {
        handle_send(id, std::move(*send), slot);
        return;
    }
    // Everything else finishes asynchronously and later requests wait for it (they may
    // depend on the login or the keys it stores).
    busy_ = true;
    if (auto* r = std::get_if<RegisterDeviceRequest>(&body)) {
        handle_register(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<AuthDeviceRequest>(&body)) {
        handle_auth_device(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<AuthSurvivorRequest>(&body)) {
        handle_auth_survivor(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<KeysUploadRequest>(&body)) {
        handle_keys_upload(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<KeysFetchRequest>(&body)) {
        handle_keys_fetch(id, *r, slot);
    } else if (auto* r = std::get_if<DuressReportRequest>(&body)) {
        handle_duress_report(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<CallbackRequest>(&body)) {
        handle_callback_request(id, std::move(*r), slot);
    } else if (std::holds_alternative<CallbacksRequest>(body)) {
        handle_callbacks(id, slot);
    } else if (auto* r = std::get_if<CallbackRevealRequest>(&body)) {
        handle_callback_reveal(id, std::move(*r), slot);
    } else if (auto* r = std::get_if<CallbackOutcomeRequest>(&body)) {
        handle_callback_outcome(id, std::move(*r), slot);
    } else {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::internal, "Unhandled operation."));
    }
}

}  // namespace ariadne::gateway
