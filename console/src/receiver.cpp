// What arrives from the gateway: messages and receipts into the history, the contacts and
// alerts answers, and the duress-word check and report on each message from her.
#include "ariadne/console/service.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "ariadne/client/error.h"
#include "ariadne/crypto/phrase_digest.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::explain_not_delivered;
using detail::kEdgeDevice;
using detail::kEdgeDuressAlert;
using detail::unix_now_ms;

void ConsoleService::receive_one() {
    messenger_->receive(std::chrono::milliseconds(500), [this](const client::ReceivedMessage& m) {
        if (m.is_notice) return;  // gateway notices (check-ins, handovers) are for survivors
        if (m.is_receipt) {
            // Her edge device keeps a reply for her web page ("kept"), then says when the
            // page showed it ("read"): neither means her phone has it.
            if (m.receipt_status == "kept" || m.receipt_status == "read") {
                history_->mark_on_page(m.ref, m.receipt_status == "read");
            } else if (m.failure.empty()) {
                history_->mark_delivered(m.ref, m.from_device);
            } else {
                history_->mark_not_delivered(m.ref, explain_not_delivered(m.failure));
            }
            return;
        }
        if (m.decrypt_error) {
            // Never silently dropped: the caseworker learns a message could not be read.
            bool identity = m.decrypt_error->find("identity") != std::string::npos;
            std::lock_guard lock(mu_);
            if (identity &&
                std::find(untrusted_.begin(), untrusted_.end(), m.from) == untrusted_.end()) {
                untrusted_.push_back(m.from);
            }
            device_alerts_.push_back(
                {{"kind", identity ? "identity_changed" : "undecryptable"},
                 {"account", m.from},
                 {"urgent", identity},
                 {"time_ms", m.server_time},
                 {"sentence", identity ? "A message arrived from a new identity for this person; "
                                         "it cannot be read. Verify her with the agreed safe "
                                         "word before sharing anything, compare and accept her "
                                         "new safety number, then ask her to write again."
                                       : "A message from this person could not be decrypted. "
                                         "Ask her to send it again."}});
            return;
        }
        // Her app is device 1; device 2 is the gateway's edge for her web page and SMS, whose
        // current channel the gateway names in her contact entry (refreshed first, as her
        // message may be the first on that channel).
        std::string channel = "app";
        bool from_gateway = false;
        if (m.from_device == kEdgeDevice) {
            try {
                refresh_contacts();
            } catch (const std::exception&) {
            }
            channel = contact_json(m.from)["channel"].is_object()
                          ? contact_json(m.from)["channel"].value("kind", "")
                          : "";
            if (channel != "web" && channel != "sms") channel.clear();
            // The edge's own duress sign-in alert: the gateway's words, not hers.
            from_gateway = m.plaintext.rfind(kEdgeDuressAlert, 0) == 0;
        }
        // Stored (sealed, durable) before the Messenger acknowledges it to the gateway.
        history_->add_inbound(m.from, m.server_id, m.server_time, m.plaintext, channel,
                              from_gateway);
        // Her duress word: reported before the acknowledgement, so a report that cannot
        // reach the gateway is retried when the message is delivered again.
        if (holds_duress_word(m.plaintext)) report_duress(m.from);
    });
}

void ConsoleService::refresh_contacts() {
    Json answer = messenger_->connection().call({{"type", "contacts"}});
    Json open_alerts = Json::array();
    bool known = true;
    try {
        Json a = messenger_->connection().call({{"type", "alerts"}});
        if (a.contains("alerts") && a["alerts"].is_array()) open_alerts = a["alerts"];
    } catch (const client::ServerError&) {
        known = false;  // an older gateway: fall back to the flags in `contacts`
    }
    Json open_callbacks = Json::array();
    try {
        Json c = messenger_->connection().call({{"type", "callbacks"}});
        if (c.contains("callbacks") && c["callbacks"].is_array()) open_callbacks = c["callbacks"];
    } catch (const client::ServerError&) {
        // an older gateway has no call-back tasks
    }
    std::lock_guard lock(mu_);
    contacts_ = answer.value("contacts", Json::array());
    gateway_alerts_ = std::move(open_alerts);
    gateway_alerts_known_ = known;
    callbacks_ = std::move(open_callbacks);
}

bool ConsoleService::holds_duress_word(const std::string& text) {
    std::vector<std::uint8_t> key;
    std::set<std::vector<std::uint8_t>> digests;
    std::size_t max_words = 0;
    {
        std::lock_guard lock(mu_);
        if (duress_digests_.empty()) return false;
        key = duress_key_;
        digests = duress_digests_;
        max_words = duress_max_words_;
    }
    return crypto::holds_phrase(key, digests, max_words, text);
}

void ConsoleService::report_duress(const std::string& account) {
    try {
        messenger_->connection().call({{"type", "duress_report"}, {"survivor", account}});
    } catch (const client::ServerError& e) {
        if (e.server_code() != "forbidden") throw;  // asked again when it is redelivered
        std::lock_guard lock(mu_);
        device_alerts_.push_back(
            {{"kind", "duress"},
             {"account", account},
             {"urgent", true},
             {"time_ms", unix_now_ms()},
             {"sentence",
              "Danger signal: her message holds an agreed duress word, but the gateway did "
              "not accept this console's report (she is not assigned to you), so her team was "
              "not alerted and replies are not locked. Tell her caseworker at once."}});
        return;
    }
    try {
        refresh_contacts();  // the gateway's alert shows at once
    } catch (const std::exception&) {
    }
}

}  // namespace ariadne::console
