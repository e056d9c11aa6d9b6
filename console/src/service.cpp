#include "ariadne/console/service.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

#include "ariadne/client/error.h"
#include "ariadne/console/assets.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/phrase_digest.h"
#include "ariadne/crypto/safety_number.h"

namespace ariadne::console {

namespace {

using std::chrono::milliseconds;

// A survivor's edge device (the gateway's web page and SMS adapter, docs/protocol.md).
constexpr std::uint32_t kEdgeDevice = 2;
// How the edge begins the alert it sends her team after a duress sign-in or duress SMS.
constexpr const char* kEdgeDuressAlert = "ALERT: her duress code was just ";
// The verified mark of a conversation checked by the agreed safe word (web page and SMS
// threads have no safety number); kept in the console's history like a verified number.
constexpr const char* kSafeWordMark = "safe-word";

std::int64_t now_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

HttpResponse json_response(const Json& j, int status = 200) {
    return HttpResponse{status, "application/json", {}, j.dump()};
}

HttpResponse error_response(int status, const std::string& sentence) {
    return json_response({{"error", sentence}}, status);
}

// Account ids are "a_" + base64url (docs/protocol.md); anything else never reaches the
// gateway or the history.
bool valid_account(const std::string& a) {
    if (a.size() < 3 || a.size() > 64 || a.rfind("a_", 0) != 0) return false;
    return std::all_of(a.begin() + 2, a.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

Json default_canned_replies() {
    // The defaults live in console/web/canned.json, compiled into the binary.
    const Asset* a = find_asset("/canned.json");
    return a ? Json::parse(a->body) : Json::array();
}

ConsoleSettings ConsoleSettings::load(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("the console settings file " + path.string() + " cannot be read");
    Json j;
    try {
        j = Json::parse(in);
    } catch (const Json::exception&) {
        throw std::runtime_error("the console settings file " + path.string() +
                                 " is not valid JSON");
    }
    if (!j.is_object()) throw std::runtime_error("the console settings must be a JSON object");
    ConsoleSettings s;
    for (auto& [key, value] : j.items()) {
        if (key == "retention_days") {
            if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 36500) {
                throw std::runtime_error(
                    "'retention_days' must be a whole number of days, 1 to "
                    "36500");
            }
            s.retention_days = value.get<int>();
        } else if (key == "duress_keywords") {
            throw std::runtime_error(
                "'duress_keywords' is no longer a console setting: the organisation's duress "
                "words are set at the gateway by an administrator (ariadne admin "
                "duress-words-set) and every console receives them; remove it from this file");
        } else if (key == "canned_replies") {
            if (!value.is_array()) throw std::runtime_error("'canned_replies' must be a list");
            for (const Json& c : value) {
                if (!c.is_object() || !c.contains("text") || !c["text"].is_string() ||
                    c["text"].get<std::string>().empty() ||
                    c["text"].get<std::string>().size() > 1000) {
                    throw std::runtime_error(
                        "each of 'canned_replies' needs a 'text' of 1 to 1000 bytes");
                }
                s.canned.push_back(
                    {{"label", c.value("label", c["text"].get<std::string>().substr(0, 24))},
                     {"text", c["text"]}});
            }
        } else {
            throw std::runtime_error("unknown setting '" + key +
                                     "' (known: retention_days, canned_replies)");
        }
    }
    return s;
}

Refusal explain_refusal(const std::string& code, const std::string& message, const Json& frame) {
    Refusal r;
    r.code = code;
    r.reason = frame.is_object() ? frame.value("reason", "") : "";
    if (code == "policy_denied") {
        // The policy engine's sentence already says why and what would allow it.
        r.sentence = message.empty() ? "Not sent: the organisation's policy does not allow this "
                                       "reply now."
                                     : message;
    } else if (code == "forbidden") {
        r.sentence =
            "Not sent: the gateway does not allow you to write to this person (she is not, or "
            "no longer, assigned to you, or contact is not allowed). An administrator can "
            "assign her to you.";
    } else if (code == "rate_limited") {
        r.sentence =
            "Not sent: too many messages in a short time. Wait a few seconds and send "
            "again.";
    } else if (code == "unreachable") {
        r.sentence =
            "Not sent: the gateway could not be reached. Check the network; the reply "
            "may not have been stored, so look at the thread before sending again.";
    } else {
        r.sentence = "Not sent: the gateway refused the reply (" + code + "). " + message;
    }
    return r;
}

namespace {

/// What the caseworker sees on a reply the gateway reported as not delivered (a failed
/// receipt, docs/protocol.md 4.6): why, in plain words, and neutral advice. Never the number.
std::string explain_not_delivered(const std::string& reason) {
    std::string why;
    if (reason == "sms_not_delivered") {
        why =
            "the mobile network could not deliver the SMS to her phone (switched off, out of "
            "coverage or the number no longer works).";
    } else if (reason == "sms_rejected") {
        why = "the mobile network refused the SMS.";
    } else if (reason == "sms_too_long") {
        why =
            "it is longer than one SMS thread can carry (10 parts, about 1,500 letters); "
            "send it in shorter pieces.";
    } else if (reason == "sms_unavailable") {
        why = "the organisation's SMS gateway could not send it just now.";
    } else if (reason == "sms_unconfirmed") {
        why =
            "the organisation's SMS gateway restarted while sending it, so it is not known "
            "whether it left (it may still reach her).";
    } else if (reason == "undecryptable") {
        why = "her SMS/web-page connection could not decrypt it, so she cannot read it.";
    } else {
        why = "the consent policy did not allow it to leave when it was about to be sent (" +
              reason + ").";
    }
    return "Not delivered (SMS): " + why +
           " It will not be sent again by itself. Try again later, or reach her on another "
           "channel she has consented to.";
}

}  // namespace

ConsoleService::ConsoleService(std::unique_ptr<client::Messenger> messenger,
                               std::unique_ptr<History> history,
                               std::unique_ptr<crypto::SealedStore> identities,
                               ConsoleSettings settings)
    : messenger_(std::move(messenger)),
      history_(std::move(history)),
      identities_(std::move(identities)),
      settings_(std::move(settings)) {
    if (settings_.canned.empty()) settings_.canned = default_canned_replies();
}

ConsoleService::~ConsoleService() { stop(); }

void ConsoleService::start() {
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void ConsoleService::stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
}

void ConsoleService::run() {
    auto next_contacts = std::chrono::steady_clock::now();
    auto next_housekeeping = std::chrono::steady_clock::now();
    auto next_settings = std::chrono::steady_clock::now();
    while (running_) {
        auto now = std::chrono::steady_clock::now();
        try {
            if (now >= next_contacts) {
                refresh_contacts();
                next_contacts = now + std::chrono::seconds(5);
            }
            if (now >= next_settings) {
                // Each minute: a change of the duress words reaches every console quickly.
                refresh_settings();
                next_settings = now + std::chrono::minutes(1);
            }
            if (now >= next_housekeeping) {
                history_->purge_older_than(now_ms() -
                                           std::int64_t{effective_retention_days()} * 86'400'000);
                messenger_->top_up_pre_keys();
                next_housekeeping = now + std::chrono::minutes(10);
            }
            receive_one();
            std::lock_guard lock(mu_);
            connection_problem_.clear();
            last_sync_ms_ = now_ms();
        } catch (const std::exception& e) {
            {
                std::lock_guard lock(mu_);
                connection_problem_ =
                    "The console cannot reach the gateway right now; it keeps trying. Messages "
                    "wait safely at the gateway until then.";
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

void ConsoleService::receive_one() {
    messenger_->receive(milliseconds(500), [this](const client::ReceivedMessage& m) {
        if (m.is_notice) return;  // gateway notices (check-ins, handovers) are for survivors
        if (m.is_receipt) {
            if (m.failure.empty()) {
                history_->mark_delivered(m.ref);
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
    std::lock_guard lock(mu_);
    contacts_ = answer.value("contacts", Json::array());
    gateway_alerts_ = std::move(open_alerts);
    gateway_alerts_known_ = known;
}

namespace {
// Contact fields come from the gateway: read each defensively, so an unexpected type shows
// as "unknown" instead of breaking the inbox.
std::string text_field(const Json& c, const char* key) {
    if (!c.is_object()) return {};
    auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string checkin_sentence(const std::string& state, const std::string& reason) {
    if (state == "interrupted") {
        return "Not known if sent: the gateway stopped while sending it (it is never sent "
               "twice). Check on her if you expected an answer.";
    }
    if (state == "send_failed") {
        return "Not known if sent: the channel failed while sending it (it is never sent "
               "twice). Check on her if you expected an answer.";
    }
    if (state == "skipped") {
        if (reason == "window_does_not_exist") {
            return "Not sent: her check-in window did not exist that day (a clock change).";
        }
        return "Not sent: the gateway was not running during her check-in window.";
    }
    if (state != "denied") return {};
    if (reason == "not_sent") {
        return "Not sent: no channel of her plan could carry it (no device of hers, no verified "
               "number, or no sender for the channel). Check on her by another agreed means "
               "and fix her plan with her.";
    }
    if (reason == "consent_withdrawn") {
        return "Not sent: she withdrew her consent to check-ins on the channels of her plan.";
    }
    if (reason == "no_consent") {
        return "Not sent: she has not consented to check-ins on the channels of her plan.";
    }
    if (reason == "duress_lock") {
        return "Not sent: a danger signal stopped all contact until a caseworker clears it.";
    }
    if (reason == "survivor_paused") return "Not sent: she asked for a pause.";
    if (reason == "case_closed") return "Not sent: her case is closed.";
    if (reason == "quiet_hours") return "Not sent: her check-in window fell in her quiet hours.";
    if (reason == "outside_window") {
        return "Not sent: it fell outside her plan's window or weekdays.";
    }
    if (reason == "banned_channel_class") {
        return "Not sent: the organisation no longer allows the channel of her plan.";
    }
    if (reason == "address_mismatch") {
        return "Not sent: her consent names a different number or address than the one on "
               "file.";
    }
    if (reason == "missing_evidence") {
        return "Not sent: her messenger consent has no signed-consent evidence.";
    }
    if (reason == "no_template") return "Not sent: there is no check-in text in her language.";
    if (reason == "unknown_time_zone" || reason == "unknown_survivor" ||
        reason == "policy_unavailable" || reason == "unknown_channel") {
        return "Not sent: her record or the organisation's policy could not be read; ask an "
               "administrator to check her record.";
    }
    return "Not sent: the organisation's policy did not allow it.";
}

namespace {

// What the caseworker should do about a gateway alert (docs/caseworker-guide.md).
std::string gateway_alert_sentence(const std::string& kind) {
    if (kind == "duress") {
        return "Danger signal: she used her duress code or word. Follow the safety plan she "
               "chose and do not reply with anything revealing. Replies and check-ins are "
               "stopped until you clear this alert after checking on her by another agreed "
               "means.";
    }
    if (kind == "missed_checkin") {
        return "She did not answer her last check-in (she asked to be looked after when that "
               "happens).";
    }
    if (kind == "identity_changed" || kind == "new_device") {
        return "She is writing from a new device or her identity changed. Verify her with the "
               "agreed safe word before sharing anything, then compare the safety number.";
    }
    if (kind == "checkin_undeliverable") {
        return "Her last check-in could not be sent on any channel of her plan (no device, no "
               "verified number, or a channel banned since). She asked to be looked after: "
               "check on her by another agreed means and fix her plan with her.";
    }
    if (kind == "unverified_channel") {
        return "A message arrived on a channel or number not verified as hers. Verify who "
               "wrote with the agreed safe word before sharing anything; until then, never "
               "confirm that anyone is or was a client.";
    }
    return "The gateway raised an alert for this case. Check on her before sharing anything.";
}

}  // namespace

Json conversation_view(const std::string& account, const Json& c) {
    // The channel and its label are the gateway's alone (policies::describe). A contact not
    // (yet) listed, or listed without a channel, has none: shown as unknown, never guessed,
    // so a new SMS thread is not labelled end-to-end before the next contacts refresh.
    auto channel_field = [&c](const char* name) {
        Json channel = nullptr;
        if (!c.is_object()) return channel;
        auto it = c.find(name);
        if (it != c.end() && it->is_object()) {
            channel = Json::object();
            for (const char* key : {"kind", "security", "label"}) {
                if (it->contains(key) && (*it)[key].is_string()) channel[key] = (*it)[key];
            }
        }
        return channel;
    };
    // `channel`: where her last message came from; `reply_channel`: where a reply goes now.
    Json channel = channel_field("channel");
    Json reply_channel = channel_field("reply_channel");
    // Any flag other than an explicit false shows as unverified: the careful side.
    bool unverified = c.is_object() && c.contains("unverified") && c["unverified"] != false;
    return {{"account", account},
            {"role", text_field(c, "role")},
            {"case_code", text_field(c, "case_code")},
            {"initials", text_field(c, "initials")},
            {"status", text_field(c, "status")},
            {"unverified", unverified},
            {"channel", channel},
            {"reply_channel", reply_channel},
            {"checkin", text_field(c, "checkin")},
            {"checkin_note",
             checkin_sentence(text_field(c, "checkin"), text_field(c, "checkin_reason"))},
            {"handover_note", text_field(c, "handover_note")},
            // Her language tag: the console offers the prepared replies written in it.
            {"language", text_field(c, "language")},
            // The gateway sends it only when set; anything but true counts as not set.
            {"never_confirm_client", c.is_object() && c.contains("never_confirm_client") &&
                                         c["never_confirm_client"] == true}};
}

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

std::string ConsoleService::safety_number_of(const std::string& account) {
    if (!identities_) return {};
    std::lock_guard lock(identities_mu_);
    auto remote = identities_->remote_identity(crypto::Address{account, 1});
    if (!remote) return {};
    auto local = messenger_->identity_key();
    try {
        return crypto::safety_number(messenger_->account(), local, account, *remote);
    } catch (const crypto::Error&) {
        return {};
    }
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
             {"time_ms", now_ms()},
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
        msgs.push_back(j);
    }
    history_->mark_read(account);
    std::string number = safety_number_of(account);
    std::string verified = history_->marks(account).verified_number;
    Json out = contact_json(account);
    out["messages"] = msgs;
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

bool ConsoleService::was_cleared_locked(const Json& alert) const {
    auto it = alert.find("alert_id");
    return it != alert.end() && it->is_number_integer() &&
           std::find(cleared_alerts_.begin(), cleared_alerts_.end(), it->get<std::int64_t>()) !=
               cleared_alerts_.end();
}

bool ConsoleService::identity_pending(const std::string& account) {
    std::lock_guard lock(mu_);
    if (std::find(untrusted_.begin(), untrusted_.end(), account) != untrusted_.end()) return true;
    for (const Json& g : gateway_alerts_) {
        if (text_field(g, "kind") == "identity_changed" && text_field(g, "account") == account &&
            !was_cleared_locked(g)) {
            return true;
        }
    }
    return false;
}

Json ConsoleService::reply(const std::string& account, const std::string& text) {
    // The channel the gateway decides replies on (and names in its audit); the thread's
    // channel when the gateway does not say.
    Json contact = contact_json(account);
    const Json& via =
        contact["reply_channel"].is_object() ? contact["reply_channel"] : contact["channel"];
    std::string channel = via.is_object() ? via.value("kind", "") : "";
    std::int64_t id = history_->add_outbound(account, now_ms(), text, channel);
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

Json ConsoleService::new_identity(const std::string& account) {
    if (!identity_pending(account)) {
        throw std::invalid_argument("Her identity has not changed: nothing to accept.");
    }
    std::vector<std::uint8_t> key;
    try {
        key = messenger_->listed_identity(account);
    } catch (const std::exception&) {
        throw std::invalid_argument(
            "Her new identity is not at the gateway yet: she has to log in on her new phone "
            "with her new recovery code first.");
    }
    std::string number =
        crypto::safety_number(messenger_->account(), messenger_->identity_key(), account, key);
    return {{"account", account}, {"new_safety_number", number}};
}

Json ConsoleService::accept_identity(const std::string& account, const std::string& safety_number,
                                     bool verified) {
    if (!identity_pending(account)) {
        throw std::invalid_argument("Her identity has not changed: nothing to accept.");
    }
    std::vector<std::uint8_t> key;
    try {
        key = messenger_->listed_identity(account);
    } catch (const std::exception&) {
        throw std::invalid_argument("Her new identity is not at the gateway yet.");
    }
    std::string number =
        crypto::safety_number(messenger_->account(), messenger_->identity_key(), account, key);
    if (!crypto::safety_numbers_match(number, safety_number)) {
        throw std::invalid_argument(
            "Not accepted: her safety number changed again since you compared it. Compare the "
            "new one first.");
    }
    {
        std::lock_guard lock(identities_mu_);
        messenger_->accept_identity(account, key);
    }
    // The old verified number no longer applies; the new one only if she compared it.
    history_->set_verified(account, verified ? number : "");
    std::vector<std::int64_t> to_clear;
    {
        std::lock_guard lock(mu_);
        untrusted_.erase(std::remove(untrusted_.begin(), untrusted_.end(), account),
                         untrusted_.end());
        device_alerts_.erase(std::remove_if(device_alerts_.begin(), device_alerts_.end(),
                                            [&](const Json& d) {
                                                return d.value("account", "") == account &&
                                                       d.value("kind", "") == "identity_changed";
                                            }),
                             device_alerts_.end());
        for (const Json& g : gateway_alerts_) {
            if (text_field(g, "kind") == "identity_changed" &&
                text_field(g, "account") == account && g["alert_id"].is_number_integer()) {
                to_clear.push_back(g["alert_id"].get<std::int64_t>());
            }
        }
    }
    for (std::int64_t id : to_clear) clear_alert(id);
    return {{"account", account},
            {"accepted", true},
            {"verified", verified},
            {"safety_number", number}};
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

Json ConsoleService::set_verified(const std::string& account, bool verified,
                                  const std::string& by) {
    if (by == "safe_word") {
        // Only where no safety number exists: her web-page and SMS threads come through the
        // gateway's edge, which holds their keys.
        Json c = contact_json(account);
        std::string kind = c["channel"].is_object() ? c["channel"].value("kind", "") : "";
        if ((kind != "web" && kind != "sms") || !safety_number_of(account).empty()) {
            throw std::invalid_argument(
                "Verification by safe word is for her web-page and SMS conversations; in her "
                "app, compare the safety number with her.");
        }
        history_->set_verified(account, verified ? kSafeWordMark : "");
        return {{"account", account}, {"verified", verified}, {"verified_by", "safe_word"}};
    }
    std::string number = safety_number_of(account);
    if (verified && number.empty()) {
        throw std::invalid_argument(
            "There is no safety number for this conversation yet: it appears after her first "
            "message.");
    }
    history_->set_verified(account, verified ? number : "");
    return {{"account", account}, {"verified", verified}, {"safety_number", number}};
}

void ConsoleService::refresh_settings() {
    Json answer;
    try {
        answer = messenger_->connection().call({{"type", "settings"}});
    } catch (const client::ServerError&) {
        return;  // an older gateway: the console's own settings apply
    }
    std::lock_guard lock(mu_);
    auto days = answer.find("retention_days");
    if (days != answer.end() && days->is_number_integer() && days->get<int>() >= 1 &&
        days->get<int>() <= 36500) {
        org_retention_days_ = days->get<int>();
    }
    auto clean_list = [](const Json& replies) {
        Json clean = Json::array();
        for (const Json& r : replies) {
            std::string text = text_field(r, "text");
            if (text.empty() || text.size() > 1000) continue;
            std::string label = text_field(r, "label");
            clean.push_back(
                {{"label", label.empty() ? text.substr(0, 24) : label}, {"text", text}});
        }
        return clean;
    };
    auto replies = answer.find("canned_replies");
    if (replies != answer.end() && replies->is_array()) org_canned_ = clean_list(*replies);
    // {"en": [...], "ar": [...]}: an older gateway sends only the one list.
    auto by_language = answer.find("canned_replies_by_language");
    if (by_language != answer.end() && by_language->is_object()) {
        Json clean = Json::object();
        for (const auto& [language, list] : by_language->items()) {
            if (list.is_array() && !language.empty() && language.size() <= 35) {
                clean[language] = clean_list(list);
            }
        }
        org_canned_by_language_ = std::move(clean);
    } else {
        org_canned_by_language_ = nullptr;
    }
    std::string language = text_field(answer, "default_language");
    org_default_language_ = language.empty() ? "en" : language;
    // {"key": base64, "max_words": N, "digests": [base64, ...]}; anything malformed leaves
    // the last good list in place.
    auto words = answer.find("duress_words");
    if (words != answer.end() && words->is_object()) {
        try {
            auto key = crypto::base64_decode(words->at("key").get<std::string>());
            std::set<std::vector<std::uint8_t>> digests;
            for (const Json& d : words->at("digests")) {
                digests.insert(crypto::base64_decode(d.get<std::string>()));
            }
            auto max_words = words->at("max_words").get<std::size_t>();
            if (key.size() == crypto::kPhraseDigestBytes) {
                duress_key_ = std::move(key);
                duress_digests_ = std::move(digests);
                duress_max_words_ = max_words;
            }
        } catch (const std::exception&) {
        }
    }
}

int ConsoleService::effective_retention_days() {
    std::lock_guard lock(mu_);
    int local = settings_.retention_days;
    if (org_retention_days_ > 0) {
        return local > 0 ? std::min(local, org_retention_days_) : org_retention_days_;
    }
    return local > 0 ? local : 365;
}

Json ConsoleService::canned() {
    std::lock_guard lock(mu_);
    Json replies = org_canned_.is_array() ? org_canned_ : settings_.canned;
    Json by_language = org_canned_by_language_.is_object() ? org_canned_by_language_
                                                           : Json{{org_default_language_, replies}};
    return {{"replies", replies},
            {"by_language", by_language},
            {"default_language", org_default_language_}};
}

Json ConsoleService::status() {
    int retention = effective_retention_days();
    std::lock_guard lock(mu_);
    return {{"account", messenger_->account()},
            {"device_id", messenger_->device_id()},
            {"connection_problem", connection_problem_},
            {"last_sync_ms", last_sync_ms_},
            {"retention_days", retention},
            {"retention_from", org_retention_days_ > 0 ? "organisation" : "console"}};
}

HttpResponse ConsoleService::handle(const HttpRequest& request) {
    const std::string path = request.path();
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && (path == "/" || path == "/index.html")) {
        const Asset* a = find_asset("/index.html");
        return HttpResponse{200, std::string(a->content_type), {}, std::string(a->body)};
    }
    if (path.rfind("/api/", 0) != 0) {
        const Asset* a = get ? find_asset(path) : nullptr;
        if (!a) return HttpResponse{404, "text/plain; charset=utf-8", {}, "Not found.\n"};
        return HttpResponse{200, std::string(a->content_type), {}, std::string(a->body)};
    }
    // /api/<what>[/<account>[/<action>]]
    std::vector<std::string> parts;
    for (std::size_t pos = 5; pos <= path.size();) {
        auto slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        parts.push_back(path.substr(pos, slash - pos));
        pos = slash + 1;
    }
    try {
        const std::string& what = parts[0];
        if (get && parts.size() == 1) {
            if (what == "inbox") return json_response(inbox());
            if (what == "alerts") return json_response(alerts());
            if (what == "canned") return json_response(canned());
            if (what == "status") return json_response(status());
        }
        if (what == "alerts" && request.method == "POST" && parts.size() == 3 &&
            parts[2] == "clear") {
            const std::string& id_text = parts[1];
            if (id_text.empty() || id_text.size() > 15 ||
                id_text.find_first_not_of("0123456789") != std::string::npos) {
                return error_response(400, "That is not an alert id.");
            }
            Json body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
            if (!body.is_object() || !body.contains("confirm") || !body["confirm"].is_boolean() ||
                !body["confirm"].get<bool>()) {
                return error_response(
                    400, "Clearing an alert needs your explicit confirmation ('confirm': true).");
            }
            std::int64_t id = std::stoll(id_text);
            if (id < 1) return error_response(400, "That is not an alert id.");
            return json_response(clear_alert(id));
        }
        if (what == "identity" && parts.size() >= 2) {
            const std::string& account = parts[1];
            if (!valid_account(account)) return error_response(400, "That is not an account id.");
            if (get && parts.size() == 2) return json_response(new_identity(account));
            if (request.method == "POST" && parts.size() == 3 && parts[2] == "accept") {
                Json body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
                if (!body.is_object() || !body.contains("safety_number") ||
                    !body["safety_number"].is_string() ||
                    body["safety_number"].get<std::string>().size() > 200) {
                    return error_response(
                        400, "Accepting needs the 'safety_number' you compared with her.");
                }
                bool verified = body.contains("verified") && body["verified"].is_boolean() &&
                                body["verified"].get<bool>();
                return json_response(
                    accept_identity(account, body["safety_number"].get<std::string>(), verified));
            }
        }
        if (parts.size() >= 2 && (what == "thread" || what == "verify")) {
            const std::string& account = parts[1];
            if (!valid_account(account)) return error_response(400, "That is not an account id.");
            if (what == "thread" && get && parts.size() == 2) return json_response(thread(account));
            Json body;
            if (!get) {
                body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
                if (!body.is_object()) return error_response(400, "The request is not valid JSON.");
            }
            if (what == "thread" && request.method == "POST" && parts.size() == 3 &&
                parts[2] == "reply") {
                if (!body.contains("text") || !body["text"].is_string()) {
                    return error_response(400, "A reply needs a 'text'.");
                }
                std::string text = body["text"].get<std::string>();
                if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
                    return error_response(400, "The reply is empty.");
                }
                if (text.size() > 16000) {
                    return error_response(400, "The reply is too long (at most 16,000 bytes).");
                }
                return json_response(reply(account, text));
            }
            if (what == "verify" && request.method == "POST" && parts.size() == 2) {
                if (!body.contains("verified") || !body["verified"].is_boolean()) {
                    return error_response(400, "Say 'verified': true or false.");
                }
                std::string by = body.value("by", "safety_number");
                if (by != "safety_number" && by != "safe_word") {
                    return error_response(400, "'by' is 'safety_number' or 'safe_word'.");
                }
                return json_response(set_verified(account, body["verified"].get<bool>(), by));
            }
        }
    } catch (const std::invalid_argument& e) {
        return error_response(409, e.what());
    }
    return error_response(404, "No such console operation.");
}

}  // namespace ariadne::console
