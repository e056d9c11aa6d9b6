// The inbox, one conversation's thread, and sending a reply.
#include "ariadne/console/service.h"

#include <algorithm>
#include <exception>

#include "ariadne/client/error.h"
#include "ariadne/crypto/safety_number.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::kSafeWordMark;
using detail::unix_now_ms;

Json ConsoleService::contact_json(const std::string& account) {
    Json c;
    {
        std::lock_guard lock(mu_);
        for (const Json& e : contacts_) {
            if (e.value("account", "") == account) c = e;
        }
    }
    return conversation_view(account, c);
}

Json ConsoleService::inbox() {
    std::vector<std::string> accounts;
    auto summaries = history_->conversations();
    for (const auto& s : summaries) accounts.push_back(s.account);
    {
        std::lock_guard lock(mu_);
        for (const Json& c : contacts_) {
            std::string a = c.value("account", "");
            if (c.value("role", "") == "survivor" &&
                std::find(accounts.begin(), accounts.end(), a) == accounts.end()) {
                accounts.push_back(a);
            }
        }
    }
    Json rows = Json::array();
    for (const std::string& a : accounts) {
        Json row = contact_json(a);
        row["last_activity_ms"] = 0;
        row["unread"] = 0;
        for (const auto& s : summaries) {
            if (s.account == a) {
                row["last_activity_ms"] = s.last_activity_ms;
                row["unread"] = s.unread;
            }
        }
        row["verified"] = !history_->marks(a).verified_number.empty();
        // The inbox marks a thread with an open call-back task; the task itself (never a
        // number) is in her thread.
        Json task = callback_of(a);
        row["callback"] = task.is_object() ? Json{{"task_id", task["task_id"]},
                                                  {"state", task.value("state", "open")},
                                                  {"windows", task.value("windows", Json::array())}}
                                           : Json(nullptr);
        rows.push_back(row);
    }
    // Newest first; equal times by account, so the order never changes between reloads.
    std::sort(rows.begin(), rows.end(), [](const Json& x, const Json& y) {
        auto tx = x["last_activity_ms"].get<std::int64_t>();
        auto ty = y["last_activity_ms"].get<std::int64_t>();
        if (tx != ty) return tx > ty;
        return x["account"].get<std::string>() < y["account"].get<std::string>();
    });
    return {{"conversations", rows}};
}

Json ConsoleService::thread(const std::string& account) {
    Json msgs = Json::array();
    for (const StoredMessage& m : history_->conversation(account)) {
        Json j = {{"id", m.id},
                  {"outbound", m.outbound},
                  {"time_ms", m.time_ms},
                  {"text", m.text},
                  {"state", to_string(m.state)}};
        if (!m.refusal.empty()) j["refusal"] = m.refusal;
        if (!m.channel.empty()) j["channel"] = m.channel;
        if (m.from_gateway) j["from_gateway"] = true;
        if (!m.delivered_by.empty()) j["delivered_by"] = m.delivered_by;
        msgs.push_back(j);
    }
    history_->mark_read(account);
    std::string number = safety_number_of(account);
    std::string verified = history_->marks(account).verified_number;
    Json out = contact_json(account);
    out["messages"] = msgs;
    out["callback"] = callback_of(account);
    out["safety_number"] = number;
    const bool by_safe_word = verified == kSafeWordMark;
    out["verified"] =
        by_safe_word || (!verified.empty() && crypto::safety_numbers_match(verified, number));
    out["verified_by"] = !out["verified"].get<bool>() ? ""
                         : by_safe_word               ? "safe_word"
                                                      : "safety_number";
    out["identity_pending"] = identity_pending(account);
    // The verified mark belongs to her old number while a new one waits for acceptance.
    if (out["identity_pending"].get<bool>()) out["verified"] = false;
    out["identity_changed"] = out["identity_pending"].get<bool>() ||
                              (!verified.empty() && !by_safe_word && !number.empty() &&
                               !crypto::safety_numbers_match(verified, number));
    return out;
}

Json ConsoleService::reply(const std::string& account, const std::string& text) {
    // The channel the gateway decides replies on (and names in its audit); the thread's
    // channel when the gateway does not say.
    Json contact = contact_json(account);
    const Json& via =
        contact["reply_channel"].is_object() ? contact["reply_channel"] : contact["channel"];
    std::string channel = via.is_object() ? via.value("kind", "") : "";
    std::int64_t id = history_->add_outbound(account, unix_now_ms(), text, channel);
    if (identity_pending(account)) {
        // Encrypting now would go to her old identity (or to someone else's): held here.
        const std::string sentence =
            "Held, not sent: her safety number changed (a new phone or a new recovery code). "
            "Compare the new safety number with her in person and accept it, then send "
            "again.";
        history_->set_not_sent(id, DeliveryState::refused, sentence);
        return {{"sent", false},
                {"id", id},
                {"state", "held"},
                {"code", "identity_changed"},
                {"reason", "identity_changed"},
                {"sentence", sentence}};
    }
    try {
        client::SendReceipt receipt = messenger_->send_text(account, text, true);
        std::vector<std::int64_t> ids;
        for (const auto& [device, server_id] : receipt.server_ids) ids.push_back(server_id);
        history_->set_committed(id, ids);
        return {{"sent", true}, {"id", id}, {"state", "committed"}};
    } catch (const client::ServerError& e) {
        Refusal r = explain_refusal(e.server_code(), e.frame().value("message", ""), e.frame());
        history_->set_not_sent(id, DeliveryState::refused, r.sentence);
        return {{"sent", false},  {"id", id},           {"state", "refused"},
                {"code", r.code}, {"reason", r.reason}, {"sentence", r.sentence}};
    } catch (const std::exception&) {
        Refusal r = explain_refusal("unreachable", "", Json());
        history_->set_not_sent(id, DeliveryState::failed, r.sentence);
        return {{"sent", false},  {"id", id},     {"state", "failed"},
                {"code", r.code}, {"reason", ""}, {"sentence", r.sentence}};
    }
}

}  // namespace ariadne::console
