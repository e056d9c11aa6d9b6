// A Session's delivery: `send` (policy, device list, quota, commit), `ack`, and pushing
// committed mail to the device within its in-flight window, fetching the backlog from the
// mailbox when the window reopens.
#include <algorithm>
#include <iterator>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

void Session::handle_send(std::int64_t id, SendRequest r, std::uint64_t slot) {
    Gateway& g = gateway_;
    if (auto wait = g.send_limiter_.take(account_.id, g.now_ms()); wait > 0) {
        g.metrics().rate_limited.fetch_add(1, std::memory_order_relaxed);
        complete_locked(slot, error_frame(id, ErrorCode::rate_limited,
                                          "This account is sending too fast; wait and retry.",
                                          {{"retry_after_ms", wait}}));
        return;
    }
    // The lookups below (account, assignment, devices, her case) read one snapshot in one
    // read transaction; consent is still decided here, at send time.
    std::optional<Store::ReadScope> reads;
    std::optional<Account> target;
    std::vector<std::uint32_t> devices;
    try {
        reads.emplace(g.store_);
        target = g.store_.find_account(r.to);
        if (target) {
            auto decision = g.policy_->decide(account_, device_, *target);
            if (!decision.allowed) {
                spdlog::debug("send from {} refused by policy: {}", account_.id, decision.reason);
                target.reset();
            }
        }
        if (target) devices = g.store_.ready_devices(target->key);
    } catch (const std::exception&) {
        complete_locked(slot, storage_unavailable(id));
        return;
    }
    // A reply to a survivor is decided by the consent policy on its own connection, which
    // may wait for the database's write lock: no read snapshot is held across that wait
    // (a checkpoint waiting for readers would wait for this one). A survivor's own send
    // only reads the store (her case link), so it stays in the scope.
    if (account_.role != Role::survivor) reads.reset();
    if (target) {
        // Consent decides each message at the moment of sending (docs/policies.md). A policy
        // must not throw; if one does, nothing is sent (fail closed).
        SendDecision decision;
        try {
            decision = g.policy_->decide_message(account_, device_, *target);
        } catch (const std::exception&) {
            complete_locked(slot, storage_unavailable(id));
            return;
        }
        if (!decision.allowed && !decision.message.empty()) {
            complete_locked(slot, error_frame(id, ErrorCode::policy_denied, decision.message,
                                              {{"reason", decision.reason}}));
            return;
        }
        if (!decision.allowed) target.reset();
    }
    reads.reset();
    if (!target) {
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "This account may not address that account."));
        return;
    }
    std::vector<std::uint32_t> given;
    for (const auto& m : r.messages) given.push_back(m.device_id);
    std::sort(given.begin(), given.end());
    std::vector<std::uint32_t> missing, extra;
    std::set_difference(devices.begin(), devices.end(), given.begin(), given.end(),
                        std::back_inserter(missing));
    std::set_difference(given.begin(), given.end(), devices.begin(), devices.end(),
                        std::back_inserter(extra));
    if (!missing.empty() || !extra.empty()) {
        complete_locked(slot, error_frame(id, ErrorCode::stale_devices,
                                          "The recipient's device list changed: fetch keys for the "
                                          "missing devices and drop the extra ones.",
                                          {{"missing", missing}, {"extra", extra}}));
        return;
    }
    std::vector<NewMessage> messages;
    messages.reserve(r.messages.size());
    for (auto& m : r.messages) {
        NewMessage n;
        n.recipient = target->key;
        n.recipient_device = m.device_id;
        n.sender = account_;
        n.sender_device = device_;
        n.type = m.type;
        n.body = std::move(m.body);
        n.receipt_requested = r.receipt;
        messages.push_back(std::move(n));
    }
    ++pending_writes_;
    auto self = shared_from_this();
    QuotaVerdict quota = g.store_.store_messages_within_quota(
        std::move(messages),
        [self, id, slot](CommitStatus status, std::vector<MailboxEntryPtr> entries) {
            if (status != CommitStatus::committed) {
                self->complete(slot, storage_unavailable(id), false, true);
                return;
            }
            std::vector<std::pair<std::uint32_t, std::int64_t>> ids;
            ids.reserve(entries.size());
            for (const auto& e : entries)
                ids.emplace_back(e->recipient_device, e->delivery.server_id);
            self->complete(slot, encode_send_ok(id, ids), false, true);
            self->gateway_.notify(entries);
        });
    if (quota == QuotaVerdict::within) return;
    --pending_writes_;
    const bool recipient = quota == QuotaVerdict::recipient_full;
    complete_locked(
        slot,
        error_frame(id, ErrorCode::quota_exceeded,
                    recipient ? "Not sent: too much is already waiting for this recipient to "
                                "collect; retry after they have received their messages."
                              : "Not sent: too much of what this account sent is still waiting "
                                "to be collected; retry after its recipients have received it.",
                    {{"quota", recipient ? "recipient" : "sender"}}));
}

void Session::handle_ack(std::int64_t id, const AckRequest& r, std::uint64_t slot) {
    // Only a survivor's edge device (device >= 2, its key held by this gateway's adapters)
    // can say a reply did not reach her, or that it waits for or was read on her web page:
    // such a receipt from anyone else would be a lie.
    if (r.status != AckStatus::delivered && (account_.role != Role::survivor || device_ < 2)) {
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "Only the gateway's SMS/web adapter may report a "
                                          "message as not delivered, kept or read ('status': "
                                          "'failed', 'kept' or 'read')."));
        return;
    }
    ++pending_writes_;
    auto self = shared_from_this();
    std::int64_t server_id = r.server_id;
    gateway_.store_.acknowledge(
        account_.key, device_, server_id,
        [self, id, slot, server_id](CommitStatus status, Store::AckOutcome outcome) {
            if (status != CommitStatus::committed) {
                self->complete(slot, storage_unavailable(id), false, true);
                return;
            }
            {
                std::lock_guard lock(self->mutex_);
                if (self->pending_writes_ > 0) --self->pending_writes_;
                if (auto it = self->in_flight_.find(server_id); it != self->in_flight_.end()) {
                    self->in_flight_bytes_ -= it->second;
                    self->in_flight_.erase(it);
                }
                self->complete_locked(
                    slot, outcome.found
                              ? encode_ok_plain(id)
                              : error_frame(
                                    id, ErrorCode::not_found,
                                    "No message with that server_id is waiting for this device."));
                if (self->backlog_ && !self->fetching_) self->start_fetch_locked();
                self->pump_locked();
            }
            if (outcome.receipt) self->gateway_.notify({outcome.receipt});
        },
        r.failure, r.status);
}

// ---- delivery ----

// The window closes on count or on bytes; one delivery always fits, however large, so a
// message near the frame limit is never stuck behind the byte cap.
bool Session::window_full_locked() const {
    return in_flight_.size() >= gateway_.options_.max_in_flight ||
           (!in_flight_.empty() && in_flight_bytes_ >= gateway_.options_.max_in_flight_bytes);
}

bool Session::not_yet_pushed_locked(std::int64_t id) const {
    return gateway_.options_.clustered ? pushed_.count(id) == 0 : id > cursor_;
}

void Session::push_locked(const MailboxEntryPtr& entry) {
    std::string frame = gateway_.encode_delivery(entry->delivery);
    const std::int64_t id = entry->delivery.server_id;
    in_flight_.emplace(id, frame.size());
    in_flight_bytes_ += frame.size();
    if (gateway_.options_.clustered) {
        pushed_.insert(id);
        // Forget the oldest acknowledged ids: a late wake-up for one of them reads a mailbox
        // that no longer holds it.
        while (pushed_.size() > 4096 && in_flight_.count(*pushed_.begin()) == 0) {
            pushed_.erase(pushed_.begin());
        }
    }
    cursor_ = std::max(cursor_, id);
    gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
    output_->send_text(std::move(frame));
}

void Session::on_mail(const MailboxEntryPtr& entry) {
    std::lock_guard lock(mutex_);
    if (closed_ || !authenticated_) return;
    if (gateway_.options_.clustered) {
        // Another node may have committed an older message for this device that this one
        // has not heard of yet: pushing this one now could overtake it. A read of the
        // mailbox delivers both, in id order (reads coalesce while one is in progress).
        wake_locked();
        return;
    }
    if (fetching_) {
        notified_during_fetch_ = true;
        return;
    }
    if (backlog_ || window_full_locked()) {
        backlog_ = true;
        return;
    }
    if (not_yet_pushed_locked(entry->delivery.server_id)) push_locked(entry);
}

void Session::wake() {
    std::lock_guard lock(mutex_);
    if (closed_ || !authenticated_) return;
    wake_locked();
}

void Session::wake_locked() {
    if (fetching_) {
        notified_during_fetch_ = true;
        return;
    }
    backlog_ = true;
    start_fetch_locked();
}

void Session::displace() {
    std::lock_guard lock(mutex_);
    if (closed_ || !output_) return;
    output_->close(kClosePolicy, "signed in on another node");
}

void Session::end_revoked() {
    std::lock_guard lock(mutex_);
    if (closed_ || !output_) return;
    output_->close(kClosePolicy, "device revoked");
}

void Session::start_fetch_locked() {
    if (closed_ || fetching_) return;
    if (window_full_locked()) {
        backlog_ = true;
        return;
    }
    // Clustered, a lower id may commit (on another node) after a higher one was pushed: read
    // from the start, as many as the window holds with what is in flight, and skip what
    // this connection already has.
    const bool clustered = gateway_.options_.clustered;
    std::size_t limit = clustered ? gateway_.options_.max_in_flight
                                  : gateway_.options_.max_in_flight - in_flight_.size();
    fetching_ = true;
    notified_during_fetch_ = false;
    auto self = shared_from_this();
    AccountKey account = account_.key;
    std::uint32_t device = device_;
    std::int64_t after = clustered ? 0 : cursor_;
    gateway_.workers_.post([self, account, device, after, limit] {
        std::vector<MailboxEntryPtr> entries;
        try {
            entries = self->gateway_.store_.pending(account, device, after, limit);
        } catch (const std::exception&) {
            spdlog::warn("mailbox read failed for a device of account {}", self->account_.id);
            entries.clear();
        }
        self->fetch_done(std::move(entries), limit);
    });
}

void Session::fetch_done(std::vector<MailboxEntryPtr> entries, std::size_t limit) {
    std::lock_guard lock(mutex_);
    fetching_ = false;
    if (closed_) return;
    for (const auto& e : entries) {
        if (!not_yet_pushed_locked(e->delivery.server_id)) continue;
        if (window_full_locked()) {
            // The rest is fetched again once acks open the window.
            backlog_ = true;
            return;
        }
        push_locked(e);
    }
    if (entries.size() < limit && !notified_during_fetch_) {
        backlog_ = false;
        return;
    }
    backlog_ = true;
    if (!window_full_locked()) start_fetch_locked();
}

}  // namespace ariadne::gateway
