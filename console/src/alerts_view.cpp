// The alerts the caseworker sees (the gateway's, this device's own, changed safety numbers)
// and clearing a gateway alert.
#include "ariadne/console/service.h"

#include <algorithm>
#include <stdexcept>

#include "ariadne/client/error.h"
#include "ariadne/crypto/safety_number.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::gateway_alert_sentence;
using detail::kSafeWordMark;
using detail::text_field;

bool ConsoleService::was_cleared_locked(const Json& alert) const {
    auto it = alert.find("alert_id");
    return it != alert.end() && it->is_number_integer() &&
           std::find(cleared_alerts_.begin(), cleared_alerts_.end(), it->get<std::int64_t>()) !=
               cleared_alerts_.end();
}

Json ConsoleService::alerts() {
    Json urgent = Json::array(), other = Json::array();
    auto summaries = history_->conversations();
    for (const auto& s : summaries) {
        Json who = contact_json(s.account);
        std::string number = safety_number_of(s.account);
        std::string verified = history_->marks(s.account).verified_number;
        // "Not verified yet" is a routine state, not an alert: one calm line in her thread and
        // a count in the inbox. Only a change of a verified number is raised here.
        if (!verified.empty() && verified != kSafeWordMark && !number.empty() &&
            !crypto::safety_numbers_match(verified, number)) {
            urgent.push_back({{"kind", "identity_changed"},
                              {"account", s.account},
                              {"who", who},
                              {"sentence",
                               "Her safety number changed since you verified it. "
                               "Verify her with the agreed safe word before sharing "
                               "anything."}});
        }
    }
    {
        std::lock_guard lock(mu_);
        for (const Json& g : gateway_alerts_) {
            if (!g.is_object() || !g.contains("alert_id") || !g["alert_id"].is_number_integer() ||
                was_cleared_locked(g)) {
                continue;
            }
            std::string kind = text_field(g, "kind");
            Json who = {{"case_code", text_field(g, "case_code")},
                        {"initials", text_field(g, "initials")},
                        {"account", text_field(g, "account")}};
            Json entry = {{"kind", kind},
                          {"alert_id", g["alert_id"]},
                          {"account", text_field(g, "account")},
                          {"who", who},
                          {"time_ms", g.value("raised_at", std::int64_t{0})},
                          {"clearable", true},
                          {"sentence", gateway_alert_sentence(kind)}};
            (g.value("urgent", false) ? urgent : other).push_back(entry);
        }
        for (const Json& c : contacts_) {
            if (gateway_alerts_known_) break;  // the gateway's alerts replace these flags
            std::string a = c.value("account", "");
            if (c.value("duress", false)) {
                urgent.push_back({{"kind", "duress"},
                                  {"account", a},
                                  {"sentence",
                                   "Danger signal raised at the gateway (duress). "
                                   "Follow the safety plan she chose."}});
            }
            if (c.value("checkin", "") == "missed") {
                other.push_back({{"kind", "missed_checkin"},
                                 {"account", a},
                                 {"sentence",
                                  "She did not answer her last check-in (she asked "
                                  "to be looked after when that happens)."}});
            }
        }
        for (const Json& d : device_alerts_) {
            (d.value("urgent", false) ? urgent : other).push_back(d);
        }
    }
    Json all = Json::array();
    for (Json& a : urgent) {
        a["urgent"] = true;
        if (!a.contains("who")) a["who"] = contact_json(a["account"]);
        all.push_back(a);
    }
    for (Json& a : other) {
        a["urgent"] = false;
        if (!a.contains("who")) a["who"] = contact_json(a["account"]);
        all.push_back(a);
    }
    return {{"alerts", all}};
}

Json ConsoleService::clear_alert(std::int64_t alert_id) {
    Json answer;
    try {
        answer = messenger_->connection().call({{"type", "alert_clear"}, {"alert_id", alert_id}});
    } catch (const client::ServerError& e) {
        if (e.server_code() == "forbidden") {
            throw std::invalid_argument(
                "Not cleared: only a caseworker assigned to this case may clear its alert.");
        }
        if (e.server_code() == "not_found") {
            throw std::invalid_argument("Not cleared: the gateway has no such alert.");
        }
        throw std::invalid_argument("Not cleared: the gateway refused (" + e.server_code() + ").");
    }
    {
        std::lock_guard lock(mu_);
        cleared_alerts_.push_back(alert_id);
    }
    refresh_contacts();
    Json a = answer.value("alert", Json::object());
    return {{"alert_id", alert_id},
            {"cleared", true},
            {"already_cleared", a.value("already_cleared", false)}};
}

}  // namespace ariadne::console
