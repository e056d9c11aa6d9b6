// ConsoleService: the console's work behind its web UI. It owns this device's Messenger
// (gateway connection, Signal sessions) and the sealed History; a background thread receives,
// decrypts and stores what survivors send (before it is acknowledged), applies delivery
// receipts, keeps pre-keys topped up and purges history past the retention period. The UI's
// JSON API (handle()) reads and changes that state.
//
// Her duress words: app messages are end-to-end, so only the console can look for the
// organisation's duress words in them; on a match it reports to the gateway, which locks
// replies and alerts every console of her team (the console raises no alert of its own).
//
// What the console shows about a survivor (case code, initials, case status, channel and its
// security label, unverified number, check-in state, handover note) is the gateway's, read
// from optional fields of its `contacts` answer; the console never derives a label itself.
// Without them the UI shows the opaque account id and an unknown channel.
// See docs/caseworker-guide.md.
//
// Thread-safety: handle() may be called from several threads at once; start()/stop() once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/client/messenger.h"
#include "ariadne/console/history.h"
#include "ariadne/console/http_server.h"
#include "ariadne/crypto/store.h"

namespace ariadne::console {

using Json = nlohmann::json;

/// Organisation settings of a console (console config file, see the caseworker guide).
struct ConsoleSettings {
    /// Decrypted history older than this is deleted. 0 = not set here: the organisation's
    /// retention_days from the gateway (`settings`), else 365. When both are set, the
    /// shorter applies (deleting sooner is always allowed).
    int retention_days = 0;
    /// Canned replies: [{"label": "...", "text": "..."}], used only when the gateway does not
    /// give the organisation's (`settings`); empty: the built-in defaults.
    Json canned = Json::array();

    /// Reads a settings file (JSON object with optional "retention_days" and
    /// "canned_replies"). Throws std::runtime_error naming the bad field (also for the old
    /// "duress_keywords": the organisation's duress words now come from the gateway).
    static ConsoleSettings load(const std::filesystem::path& path);
};

/// The built-in canned replies (neutral, non-judgmental, never mention the past).
Json default_canned_replies();

/// What the UI shows about the conversation with `account`, from the gateway's `contacts`
/// entry for it (docs/protocol.md 4.5; null or {} when the gateway does not list her):
/// {"account", "role", "case_code", "initials", "status", "unverified", "channel",
/// "checkin", "checkin_note", "handover_note"}. `checkin_note` is checkin_sentence() of the
/// gateway's `checkin` and `checkin_reason` ("" for a slot that went out). Each text is the
/// gateway's own, unchanged ("" when absent or not a text); `channel` is the gateway's {"kind",
/// "security", "label"} (only those of them that are texts), or null when the gateway gave none:
/// the UI then shows it as unknown. `unverified` is true when the gateway gives the flag with any
/// value but false. Never throws on odd input.
Json conversation_view(const std::string& account, const Json& gateway_contact);

/// One plain sentence saying why a check-in slot was not sent (states denied, skipped,
/// interrupted, send_failed), from its state and stored reason code; "" for any other state.
/// Never a bare code: an unknown reason still gets a sentence.
std::string checkin_sentence(const std::string& state, const std::string& reason);

/// What a refused or failed reply shows in the reply box: a sentence saying why and what
/// would allow it. `code` is the gateway's error code (or "unreachable").
struct Refusal {
    std::string code;
    std::string reason;    // the policy reason code when the gateway gives one
    std::string sentence;  // why, and what would allow it
};
/// Turns a gateway error (code, message, whole error frame) into a Refusal.
Refusal explain_refusal(const std::string& code, const std::string& message, const Json& frame);

class ConsoleService {
  public:
    /// `identities` is a second handle on the device's Signal store (signal.db), read only
    /// for the survivors' identity keys (safety numbers); may be null (no safety numbers).
    ConsoleService(std::unique_ptr<client::Messenger> messenger, std::unique_ptr<History> history,
                   std::unique_ptr<crypto::SealedStore> identities, ConsoleSettings settings);
    ~ConsoleService();
    ConsoleService(const ConsoleService&) = delete;
    ConsoleService& operator=(const ConsoleService&) = delete;

    /// Starts the background receive thread.
    void start();
    /// Stops it (bounded by the receive poll interval, ~1 s).
    void stop();

    /// Serves the UI's assets and JSON API. Requests must already be screened by WebGuard.
    HttpResponse handle(const HttpRequest& request);

    // The JSON API, also callable directly.
    Json inbox();
    Json thread(const std::string& account);
    Json reply(const std::string& account, const std::string& text);
    Json alerts();
    /// Clears a gateway alert (docs/protocol.md 4.7) after the caseworker confirmed it.
    /// Throws std::invalid_argument with a sentence when the gateway refuses.
    Json clear_alert(std::int64_t alert_id);
    Json set_verified(const std::string& account, bool verified,
                      const std::string& by = "safety_number");
    /// Her safety number changed (a gateway `identity_changed` alert, or a message from an
    /// identity this device does not trust): the safety number her account lists now, to
    /// compare with her in person. Uses up one of her one-time pre-keys.
    Json new_identity(const std::string& account);
    /// Accepts the new identity whose safety number the caseworker compared
    /// (`safety_number` must be the one new_identity() showed, else std::invalid_argument):
    /// replies flow again; `verified` marks the new number verified.
    Json accept_identity(const std::string& account, const std::string& safety_number,
                         bool verified);
    /// {"replies": [default language], "by_language": {"en": [...], ...},
    ///  "default_language": "en"}: the page picks her language's list.
    Json canned();
    Json status();

  private:
    void run();
    void receive_one();
    void refresh_contacts();
    /// Reads the organisation's retention and canned replies (`settings`).
    void refresh_settings();
    /// The retention in days that applies now (see ConsoleSettings::retention_days).
    int effective_retention_days();
    Json contact_json(const std::string& account);
    std::string safety_number_of(const std::string& account);
    /// True when `text` holds one of the organisation's duress words (from `settings`).
    bool holds_duress_word(const std::string& text);
    /// Tells the gateway (`duress_report`) that a message from `account` holds a duress
    /// word: it sets her duress lock and alerts her whole team. Throws when the gateway
    /// cannot be asked (the message then stays unacknowledged and is checked again).
    void report_duress(const std::string& account);
    /// True while her changed identity waits for the caseworker's acceptance.
    bool identity_pending(const std::string& account);
    bool was_cleared_locked(const Json& alert) const;  // mu_ held

    std::unique_ptr<client::Messenger> messenger_;
    std::unique_ptr<History> history_;
    std::unique_ptr<crypto::SealedStore> identities_;
    std::mutex identities_mu_;
    ConsoleSettings settings_;

    std::mutex mu_;                        // guards the fields below
    Json contacts_ = Json::array();        // last `contacts` answer (raw entries)
    Json gateway_alerts_ = Json::array();  // last `alerts` answer (open alerts)
    bool gateway_alerts_known_ = false;    // false: the gateway does not offer `alerts`
    std::vector<std::string> untrusted_;   // accounts whose message came from a new identity
    // Alerts this console cleared: hidden even if a `alerts` answer fetched just before the
    // clear arrives after it.
    std::vector<std::int64_t> cleared_alerts_;
    std::vector<Json> device_alerts_;  // undecryptable messages, identity changes
    std::string connection_problem_;   // empty when connected
    int org_retention_days_ = 0;       // 0: the gateway did not say
    Json org_canned_;                  // null: the gateway did not say
    Json org_canned_by_language_;      // {"en": [...], "ar": [...]}; null: not said
    std::string org_default_language_ = "en";
    // The organisation's duress words as keyed digests (crypto/phrase_digest.h), from the
    // gateway's `settings`; never the words themselves.
    std::vector<std::uint8_t> duress_key_;
    std::set<std::vector<std::uint8_t>> duress_digests_;
    std::size_t duress_max_words_ = 0;
    std::int64_t last_sync_ms_ = 0;

    std::atomic<bool> running_{false};
    std::thread thread_;
};

}  // namespace ariadne::console
