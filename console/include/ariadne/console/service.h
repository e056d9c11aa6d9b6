// ConsoleService: the console's work behind its web UI. It owns this device's Messenger
// (gateway connection, Signal sessions) and the sealed History; a background thread receives,
// decrypts and stores what survivors send (before it is acknowledged), applies delivery
// receipts, refreshes the gateway's contacts, alerts and settings, keeps pre-keys topped up
// and purges history past the retention period. The UI's JSON API (handle(), or the methods
// below called directly) reads and changes that state.
//
// Her duress words: app messages are end-to-end, so only the console can look for the
// organisation's duress words in them; on a match it reports to the gateway, which locks
// replies and alerts every console of her team (the console raises no alert of its own).
//
// What the console shows about a survivor (case code, initials, case status, channel and its
// security label, unverified number, check-in state, handover note) is the gateway's, read
// from optional fields of its `contacts` answer (views.h); the console never derives a label
// itself. Without them the UI shows the opaque account id and an unknown channel.
// See docs/caseworker-guide.md.
//
// Errors: the JSON API methods throw std::invalid_argument with a sentence for the
// caseworker when an operation is refused (handle() answers those with 409 and the
// sentence); a failure of the history file (crypto::Error) or of the gateway connection
// (client errors) propagates, and the HTTP server answers it with a generic 500. reply()
// never throws for a refused or failed send: its answer says why (views.h Refusal).
//
// Ownership: the service owns the Messenger, the History and the identity store it is given.
//
// Thread-safety: handle() and the JSON API may be called from several threads at once;
// start() and stop() once each, from one thread. The destructor stops the thread.
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

#include "ariadne/client/messenger.h"
#include "ariadne/console/history.h"
#include "ariadne/console/http_server.h"
#include "ariadne/console/settings.h"
#include "ariadne/console/views.h"
#include "ariadne/crypto/store.h"

namespace ariadne::console {

class ConsoleService {
  public:
    /// `identities` is a second handle on the device's Signal store (signal.db), read only
    /// for the survivors' identity keys (safety numbers); may be null (no safety numbers).
    /// `settings` are the console's own (settings.h); empty canned replies mean the built-in
    /// ones. Nothing is contacted until start().
    ConsoleService(std::unique_ptr<client::Messenger> messenger, std::unique_ptr<History> history,
                   std::unique_ptr<crypto::SealedStore> identities, ConsoleSettings settings);
    /// Stops the background thread if it runs.
    ~ConsoleService();
    ConsoleService(const ConsoleService&) = delete;
    ConsoleService& operator=(const ConsoleService&) = delete;

    /// Starts the background thread: receive (every ~0.5 s), contacts and alerts (every
    /// 5 s), the organisation's settings (every minute), retention purge and pre-key top-up
    /// (every 10 minutes). It never throws: a failure shows as status()'s
    /// connection_problem and is retried after a second.
    void start();
    /// Stops it (bounded by the receive poll interval, ~1 s).
    void stop();

    /// Serves the UI's assets and JSON API (/api/inbox, /api/alerts, /api/canned,
    /// /api/status, /api/thread/ACCOUNT[/reply], /api/verify/ACCOUNT, /api/identity/ACCOUNT
    /// [/accept], /api/alerts/ID/clear, /api/callbacks, /api/callbacks/ID/reveal,
    /// /api/callbacks/ID/outcome). Requests must already be screened by WebGuard.
    /// Malformed input gets 400 with a sentence, a refused operation 409 with its sentence,
    /// an unknown operation 404; other failures propagate (see Errors above).
    HttpResponse handle(const HttpRequest& request);

    // The JSON API, also callable directly. `account` must be a valid account id (handle()
    // checks it).

    /// {"conversations": [...]}: one conversation_view() per conversation in the history or
    /// survivor in `contacts`, with last_activity_ms, unread and verified; newest first.
    Json inbox();
    /// Her conversation_view() with its messages (oldest first), safety number and
    /// verification state; marks the conversation read.
    Json thread(const std::string& account);
    /// Records the reply in the history, then sends it: {"sent": true, "id", "state":
    /// "committed"} or {"sent": false, "id", "state": "held"/"refused"/"failed", "code",
    /// "reason", "sentence"}. Held (never encrypted) while her identity change waits for
    /// acceptance.
    Json reply(const std::string& account, const std::string& text);
    /// {"alerts": [...]}: urgent first; the gateway's open alerts (or, from an older
    /// gateway, its contact flags), this device's own (undecryptable messages, identity
    /// changes, unaccepted duress reports) and changed verified safety numbers.
    Json alerts();
    /// Clears a gateway alert (docs/protocol.md 4.7) after the caseworker confirmed it.
    /// Throws std::invalid_argument with a sentence when the gateway refuses.
    Json clear_alert(std::int64_t alert_id);
    /// Marks her conversation verified or not, `by` "safety_number" (the current safety
    /// number) or "safe_word" (only for her web-page and SMS threads, which have none).
    /// Throws std::invalid_argument with a sentence when that does not apply.
    Json set_verified(const std::string& account, bool verified,
                      const std::string& by = "safety_number");
    /// Her safety number changed (a gateway `identity_changed` alert, or a message from an
    /// identity this device does not trust): the safety number her account lists now, to
    /// compare with her in person. Uses up one of her one-time pre-keys. Throws
    /// std::invalid_argument when no change is pending or the gateway lists no new identity.
    Json new_identity(const std::string& account);
    /// Accepts the new identity whose safety number the caseworker compared
    /// (`safety_number` must be the one new_identity() showed, else std::invalid_argument):
    /// replies flow again and her identity_changed alerts are cleared; `verified` marks the
    /// new number verified.
    Json accept_identity(const std::string& account, const std::string& safety_number,
                         bool verified);
    /// {"replies": [default language], "by_language": {"en": [...], ...},
    ///  "default_language": "en"}: the page picks her language's list. The organisation's
    /// (from the gateway) when given, else the console's settings.
    Json canned();
    /// {"account", "device_id", "connection_problem" ("" when connected), "last_sync_ms",
    ///  "retention_days", "retention_from" ("organisation" or "console")}.
    Json status();
    /// {"callbacks": [...]}: the open call-back tasks of her team as the gateway last listed
    /// them (docs/protocol.md 4.9), oldest window first; [] from a gateway without them.
    Json callbacks();
    /// The number to dial for an open task, asked of the gateway with `reason`
    /// ("her_request", "checkin" or "welfare_concern"): {"task_id", "number"}. The number is
    /// returned to the caller only: never stored, logged or kept. Throws
    /// std::invalid_argument with a sentence when the gateway refuses (not assigned, no open
    /// task, her consent or safety lock).
    Json reveal_callback_number(std::int64_t task_id, const std::string& reason);
    /// Records how a call went: `outcome` "done", "not_reached" or "rescheduled" (then
    /// `windows`, [{"from","to"}] Unix ms, 1 to 3). {"task_id", "outcome", "callback"}.
    /// Throws std::invalid_argument with a sentence when the gateway refuses.
    Json record_callback_outcome(std::int64_t task_id, const std::string& outcome,
                                 const Json& windows);

  private:
    void run();
    void receive_one();
    void refresh_contacts();
    /// Reads the organisation's retention and canned replies (`settings`).
    void refresh_settings();
    /// The retention in days that applies now (see ConsoleSettings::retention_days).
    int effective_retention_days();
    Json contact_json(const std::string& account);
    /// Her open call-back task from the last `callbacks` answer, or null.
    Json callback_of(const std::string& account);
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
    Json callbacks_ = Json::array();       // last `callbacks` answer (open tasks, no number)
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
