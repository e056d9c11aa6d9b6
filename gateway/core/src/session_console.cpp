// A Session's caseworker console requests and pushes: open alerts, clearing one, duress
// reports, the organisation's settings, and the `alert` frames pushed to consoles.
#include <algorithm>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

namespace {
std::string not_a_caseworker(std::int64_t id) {
    return error_frame(id, ErrorCode::forbidden,
                       "Only a caseworker device may read or clear alerts.");
}
}  // namespace

std::string Session::handle_alerts(std::int64_t id) {
    if (account_.role != Role::caseworker) return not_a_caseworker(id);
    json list = json::array();
    if (gateway_.alerts_) {
        try {
            for (auto& a : gateway_.alerts_->open_alerts_for(account_.id)) {
                list.push_back(std::move(a));
            }
        } catch (const std::exception&) {
            return storage_unavailable(id);
        }
    }
    return encode_ok(id, {{"alerts", std::move(list)}});
}

std::string Session::handle_alert_clear(std::int64_t id, const AlertClearRequest& r) {
    if (account_.role != Role::caseworker) return not_a_caseworker(id);
    const char* unknown = "No alert with that alert_id exists.";
    if (!gateway_.alerts_) return error_frame(id, ErrorCode::not_found, unknown);
    try {
        // Whole milliseconds, as the wire counts time.
        auto at = std::chrono::floor<std::chrono::milliseconds>(gateway_.clock().now());
        auto [outcome, out] = gateway_.alerts_->clear_alert(r.alert_id, account_.id, at);
        if (outcome == ClearOutcome::not_found) {
            return error_frame(id, ErrorCode::not_found, unknown);
        }
        if (outcome == ClearOutcome::forbidden) {
            return error_frame(id, ErrorCode::forbidden,
                               "Only a caseworker assigned to this case may clear its alert.");
        }
        out["already_cleared"] = outcome == ClearOutcome::already_cleared;
        return encode_ok(id, {{"alert", std::move(out)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

void Session::handle_duress_report(std::int64_t id, DuressReportRequest r, std::uint64_t slot) {
    if (account_.role != Role::caseworker) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "Only a caseworker device may report a duress word."));
        return;
    }
    // Raising commits the lock, the alert and the audit: off the network thread.
    auto self = shared_from_this();
    gateway_.workers_.post([self, id, slot, r = std::move(r), reporter = account_] {
        Gateway& g = self->gateway_;
        const char* not_hers =
            "Only a caseworker assigned to this survivor's case may report a duress word.";
        try {
            auto survivor = g.store_.find_account(r.survivor);
            auto outcome = survivor ? g.policy_->report_duress(reporter, *survivor)
                                    : SendPolicy::DuressReport::forbidden;
            if (outcome != SendPolicy::DuressReport::raised) {
                self->complete(slot, error_frame(id, ErrorCode::forbidden, not_hers), true, false);
                return;
            }
            spdlog::warn("duress word reported by a console");  // never for whom
            self->complete(slot, encode_ok(id, {{"duress", true}}), true, false);
        } catch (const std::exception&) {
            self->complete(slot, storage_unavailable(id), true, false);
        }
    });
}

std::string Session::handle_settings(std::int64_t id) {
    if (account_.role != Role::caseworker) {
        return error_frame(id, ErrorCode::forbidden,
                           "Only a caseworker device may read the organisation's settings.");
    }
    json fields = json::object();
    if (gateway_.options_.console_settings) {
        try {
            fields = gateway_.options_.console_settings();
        } catch (const std::exception&) {
            return storage_unavailable(id);
        }
    }
    return encode_ok(id, std::move(fields));
}

void Session::push_alert(const std::string& frame, bool to_everyone,
                         const std::vector<std::string>& recipients) {
    std::lock_guard lock(mutex_);
    if (closed_ || !authenticated_ || !output_ || account_.role != Role::caseworker) return;
    if (!to_everyone &&
        std::find(recipients.begin(), recipients.end(), account_.id) == recipients.end()) {
        return;
    }
    gateway_.metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
    output_->send_text(frame);
}

}  // namespace ariadne::gateway
