// Consent at the gateway: survivor ACCOUNTS (gateway `accounts`) are linked to
// survivor RECORDS (policies_ tables: case code, initials, consent, check-ins), and every
// message a caseworker addresses to a survivor is decided by
// policies::PolicyStore::decide_and_record at the moment of sending (purpose `replies`, on
// the thread's channel: `app`, `web` for the survivor page's edge device, `sms` for a
// linked number — thread_channel()), audited without content. Survivor → caseworker is never
// decided (she can always write in); it is recorded as a check-in response, without its text.
//
// Storage: the policy tables and the case tables (storage::CaseLinks, case_links.h: the
// account <-> case links, initials, last inbound channel, new-device notices, handover notes)
// live in the gateway's database file, but the PolicyStore uses its OWN SQLite connection (WAL
// allows a second writer connection; both connections wait up to 5 s on the write lock), so the
// mailbox's group-commit writer thread is never blocked by, nor interleaved with, a policy
// transaction. Policy writes are small (one audit row per decided message).
//
// A duress code is a second survivor account (her app derives it from the duress code like
// any recovery code) linked to her case with duress = 1: it has no caseworkers, so it logs
// in to an empty-looking view (no contacts, nothing delivered), and its login raises the
// duress alert + duress_lock on her real case silently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "ariadne/core/devices.h"
#include "ariadne/core/extension.h"
#include "ariadne/core/send_policy.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/callbacks.h"
#include "ariadne/storage/case_links.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// The case a survivor account belongs to (case_code, duress_account).
using SurvivorCase = storage::CaseLink;

/// Links a survivor account to a case (insert; Error{conflict} if the account is linked).
void link_survivor_case(policies::PolicyStore& store, const std::string& account_id,
                        const policies::CaseCode& code, bool duress_account);
/// The case of a survivor account, or nullopt. Throws policies::Error{storage}.
std::optional<SurvivorCase> find_survivor_case(const policies::PolicyStore& store,
                                               const std::string& account_id);
/// The (non-duress) account of a case, or nullopt.
std::optional<std::string> find_case_account(const policies::PolicyStore& store,
                                             const policies::CaseCode& code);

/// The survivor record of the case `account` belongs to (her record also for her duress
/// login), or nullopt. Throws policies::Error{storage}.
std::optional<policies::Survivor> find_survivor_record(const policies::PolicyStore& store,
                                                       const std::string& account_id);

/// Her (non-duress) account when `account` is her duress login (the second account of
/// `survivor-enrol --with-duress-code`), else nullopt. Never throws (nullopt on failure).
std::optional<std::string> duress_login_target(const policies::PolicyStore& store,
                                               const std::string& account);

/// Sets/reads the handover note shown to the caseworkers of a case (≤ 500 bytes of
/// printable text, no control characters: Error{invalid_field, "handover_note"}). The note is
/// written by caseworkers/admins about the handover, never by the gateway.
/// The note is sealed at rest under the server key (it is free text and could name someone).
void set_handover_note(policies::PolicyStore& store, const ServerKey& key,
                       const policies::CaseCode& code, const std::string& note);
std::optional<std::string> handover_note(const policies::PolicyStore& store, const ServerKey& key,
                                         const policies::CaseCode& code);

class ConsentPolicy final : public SendPolicy {
  public:
    /// `store` and `policies` must outlive this object. `on_inbound(case)` is called for
    /// every message a survivor sends (the scheduler's record_inbound; may be empty);
    /// `on_duress(case)` when a duress account logs in (raise_duress; empty = store-level);
    /// `on_new_device(account, case)` when her own (never her duress) account logs in from a
    /// new installation of her app.
    ConsentPolicy(
        const Store& store, policies::PolicyStore& policies, const ServerKey& key,
        std::function<void(const policies::CaseCode&)> on_inbound = {},
        std::function<void(const policies::CaseCode&)> on_duress = {},
        std::function<void(const Account&, const policies::CaseCode&)> on_new_device = {});

    SendDecision decide(const Account& sender, std::uint32_t sender_device,
                        const Account& recipient) const override;
    SendDecision decide_message(const Account& sender, std::uint32_t sender_device,
                                const Account& recipient) const override;
    nlohmann::json contact_details(const Account& viewer, const Account& other) const override;
    void on_login(const Account& account, bool new_installation) const override;
    /// Allowed only for a caseworker listed on her survivor record (the same rule as clearing
    /// the alert); audited as `duress.reported` (reporter, case code, never the word), then
    /// on_duress(case).
    DuressReport report_duress(const Account& reporter, const Account& survivor) const override;
    ~ConsentPolicy() override;
    ConsentPolicy(const ConsentPolicy&) = delete;
    ConsentPolicy& operator=(const ConsentPolicy&) = delete;

    /// The channel a reply to `survivor` is decided and audited as: the weakest one it
    /// actually reaches: for the first of her ready devices that an adapter declared
    /// (set_device_channel; her edge device: `web`, or `sms` where the SMS adapter runs and
    /// her case has a linked number), that channel; with no declared device, `app`.
    policies::ChannelKind thread_channel(const Account& survivor,
                                         const policies::CaseCode& code) const;
    /// The channel her last message came in on (note_inbound_channel), or nullopt when none
    /// was recorded. Throws policies::Error{storage}.
    std::optional<policies::ChannelKind> last_inbound_channel(const std::string& account) const;
    /// Records the channel of a message from survivor account `account` (her app's messages
    /// are recorded by decide_message; the edge calls this for the page and SMS). Kept in
    /// memory and written to the policy database only when it changes. Never throws.
    void note_inbound_channel(const std::string& account, policies::ChannelKind kind) const;
    /// Declares the channel device `device_id` of a survivor's account stands for
    /// (ExtensionRegistry::set_device_channel), replacing an earlier declaration. Set before
    /// the server starts; read on every reply. Thread-safe.
    void set_device_channel(std::uint32_t device_id, ExtensionRegistry::DeviceChannel channel);

  private:
    /// find_survivor_case on links_, whose statements are prepared once: it runs for every
    /// message, and preparing it each time was ~10 % of the gateway's CPU at saturation.
    std::optional<SurvivorCase> survivor_case(const std::string& account_id) const;

    AssignmentPolicy assignment_;
    const Store& store_;
    policies::PolicyStore& policies_;
    const ServerKey& key_;
    std::function<void(const policies::CaseCode&)> on_inbound_;
    std::function<void(const policies::CaseCode&)> on_duress_;
    std::function<void(const Account&, const policies::CaseCode&)> on_new_device_;
    mutable storage::CaseLinks links_;  // note_inbound_channel (const) writes through it
    mutable std::mutex device_channels_mu_;
    std::map<std::uint32_t, ExtensionRegistry::DeviceChannel> device_channels_;
    mutable std::mutex last_channel_mu_;
    mutable std::map<std::string, policies::ChannelKind> last_channel_;  // cache of the table
};

/// Whether she asked to be told on her own channel when her code signs in on a new phone
/// (a neutral `new_device` notice; off by default). Setting it is audited
/// (`survivor.new_device_notice` on/off, by `actor`). Throws policies::Error{not_found} for an
/// unknown case, {storage}.
void set_new_device_notice(policies::PolicyStore& store, const policies::CaseCode& code,
                           bool notify, const std::string& actor, policies::Instant at);
bool new_device_notice(const policies::PolicyStore& store, const policies::CaseCode& code);

/// Sets/reads a caseworker's initials (validated as policies::Initials; shown to survivors in
/// handover notices, never a name). Error{invalid_field, "initials"} for anything else.
void set_caseworker_initials(policies::PolicyStore& store, const std::string& account_id,
                             const std::string& initials);
std::optional<std::string> caseworker_initials(const policies::PolicyStore& store,
                                               const std::string& account_id);

class Gateway;

/// Stores one notice through `store` and waits for its commit (CLI; no push). True when
/// committed. Throws std::runtime_error if the commit does not finish within 30 s.
bool store_notice_sync(Store& store, NewNotice notice);
/// What happened to a notice the organisation addressed to her (handover, new device).
struct NoticeOutcome {
    bool sent = false;    // stored for a device that will carry it, or handed to the SMS sender
    std::string channel;  // the channel it was decided on ("app", "web", "sms"); "" if none
    std::string reason;   // when not sent: a policy reason code, "no_channel" or "not_stored"
    std::string message;  // when not sent: a sentence for the administrator
};
/// {"sent":true,"channel":KIND} or {"sent":false,"reason":CODE,"message":SENTENCE[,"channel"]}.
nlohmann::json handover_notice_json(const NoticeOutcome& outcome);

/// The channel that will actually carry a notice to her, as thread_channel decides replies:
/// her edge device (kEdgeDevice) makes it `sms` when her case has a linked number, else `web`
/// (the survivor page); without it, her app (kAppDevice) makes it `app`. Nullopt when she has
/// neither (she never logged in anywhere): nothing could carry it. Throws on storage errors.
std::optional<policies::ChannelKind> notice_channel(const Store& store,
                                                    const policies::PolicyStore& policies,
                                                    AccountKey survivor,
                                                    const policies::CaseCode& code);

/// Sends one notice by SMS to her case's verified number: `notice` carries the kind, her
/// language, the template id and `from`; the sender renders the text. True once handed over.
using SmsNoticeSender = std::function<bool(const policies::CaseCode&, const Delivery& notice)>;

/// Queues one notice of kind `notice` (template `template_id`, from `sender`, null = the
/// organisation) to her on notice_channel(): decided first (purpose case_updates; audited as
/// `decision.case_updates`, then `notice.<notice>` sent/failed/deny), then stored for her
/// app (kAppDevice) and her edge device (kEdgeDevice, web) through `queue` (true once committed),
/// or for `sms` handed to `send_sms` (which renders and sends it; true once handed over; empty:
/// this process cannot send SMS, reported as no_channel). Throws policies::Error{storage}.
NoticeOutcome queue_survivor_notice(policies::PolicyStore& policies, Store& store,
                                    const Account& survivor, const policies::CaseCode& code,
                                    const Account* sender, const std::string& notice,
                                    const std::string& template_id, const std::string& actor,
                                    const std::function<bool(NewNotice)>& queue,
                                    const SmsNoticeSender& send_sms, policies::Instant now);

/// A `handover` notice naming the new caseworker by initials only (set_caseworker_initials;
/// without initials nothing is sent), through queue_survivor_notice. Throws
/// policies::Error{storage}.
NoticeOutcome queue_handover_notice(policies::PolicyStore& policies, Store& store,
                                    const std::string& survivor_account,
                                    const std::string& caseworker_account, const std::string& actor,
                                    const std::function<bool(NewNotice)>& queue,
                                    const SmsNoticeSender& send_sms, policies::Instant now);

/// Renders notice texts at delivery time (GatewayOptions::render_notice) from the
/// organisation's templates in her language (policies::PolicyStore::template_text) and, for
/// handovers, the new caseworker's initials. It uses its OWN connection and lock, so a push
/// never waits for the scheduler (which holds the main policy store while a send commits).
class NoticeRenderer {
  public:
    /// Throws policies::Error{storage} if the database cannot be opened.
    explicit NoticeRenderer(const std::string& database);
    /// The text of `notice`; falls back to English, then to the built-in neutral text. Thread-safe.
    std::string render(const Delivery& notice) const;

  private:
    std::unique_ptr<policies::PolicyStore> store_;
};

/// What `ariadne serve` runs for the policies: its own PolicyStore connection on the
/// database file, the ConsentPolicy, and a check-in scheduler thread that calls run_due()
/// every `tick` (and record_inbound/raise_duress, all serialised by one mutex).
///
/// Check-in delivery: the scheduler's send callback looks up the sender registered for the
/// channel's kind (set_channel_sender); `attach(gateway)` registers `app` (her app, kAppDevice) and
/// `web` (her edge device, kEdgeDevice) as mailbox notices of kind `checkin` (no text stored; the
/// text is rendered when pushed). Each registered kind is recorded in the database
/// (checkin_reach.h) so that a plan set from the CLI is checked against this deployment's senders.
/// A channel with no sender answers not_sent and the scheduler tries the next consented channel in
/// her order; a slot no channel carried raises checkin_undeliverable. Alerts (missed check-in where
/// she chose an alert target, duress) go to the AlertBoard (alerts.h): durable until a caseworker
/// clears them. Her messages count as check-in responses through record_inbound; the sending thread
/// only notes the case and the time, and the scheduler thread records everything noted since its
/// last turn in ONE transaction, within 200 ms (and always before run_due). One fsync'd
/// transaction per message on the sending thread, contending with the mailbox writer for the
/// database's write lock, capped the gateway at ~1,000 survivor messages/s
/// (docs/benchmarks.md). A crash can lose the notes of the last milliseconds: her message
/// itself is committed (that is what `ok` promises), but a check-in it answered may then be
/// sent anyway or settled as missed (an alert to her caseworker), never the reverse.
class PolicyService {
  public:
    using ChannelSender = std::function<policies::SendOutcome(const policies::CheckinSend&)>;

    /// Opens the policy tables in `database` (a file path or PostgreSQL URI); the audit
    /// checkpoints go to `data_dir`. `clock` (optional, must outlive the service) replaces the
    /// system clock for the scheduler (tests). Throws policies::Error{storage}.
    PolicyService(const Store& store, const ServerKey& key, const std::string& database,
                  const std::filesystem::path& data_dir,
                  std::chrono::milliseconds tick = std::chrono::seconds(15),
                  const policies::Clock* clock = nullptr);
    /// Stops the scheduler thread.
    ~PolicyService();
    PolicyService(const PolicyService&) = delete;
    PolicyService& operator=(const PolicyService&) = delete;

    std::shared_ptr<const SendPolicy> send_policy() const { return policy_; }
    policies::PolicyStore& store() { return *store_; }
    /// The organisation's alerts; raise() here to alert her caseworkers (e.g. the SMS
    /// adapter's unverified_channel). Set its listener before the server starts.
    AlertBoard& alerts() { return *alerts_; }
    /// Call-back tasks (callbacks.h), for GatewayOptions::callbacks. Set its listener before
    /// the server starts.
    CallbackBoard& callbacks() { return *callbacks_; }
    /// A duress signal for her case from elsewhere (her duress code on the survivor page):
    /// duress lock + urgent alert, as her duress login in the app does. Never throws.
    void raise_duress(const policies::CaseCode& code);
    /// What the edge runs on each text from the survivor page or SMS (EdgeOptions::
    /// inbound_text), the one place the gateway reads her words: when `text` from survivor
    /// account `account` holds one of the organisation's duress words (duress_words.h),
    /// raises the duress lock and alert on her case (raise_duress), audited `duress.word`
    /// with `channel` only, never the word. Returns true if it did. Never throws.
    bool check_duress_words(const std::string& account, std::string_view channel,
                            std::string_view text);
    /// ConsentPolicy::note_inbound_channel and set_device_channel of the send policy.
    void note_inbound_channel(const std::string& account, policies::ChannelKind kind);
    void set_device_channel(std::uint32_t device_id, ExtensionRegistry::DeviceChannel channel);
    /// For GatewayOptions::render_notice.
    std::function<std::string(const Delivery&)> notice_renderer() const;

    /// Registers (or, with an empty function, removes) the sender for one channel kind.
    /// It runs on the scheduler thread with the policy store locked: return `sent` only once
    /// the check-in is durably handed over, `not_sent` if it certainly was not; throwing
    /// means "unknown" (the slot is recorded send_failed, never re-sent). Thread-safe.
    void set_channel_sender(policies::ChannelKind kind, ChannelSender sender);
    /// Delivers check-ins on `app` and `web` and handover notices through `gateway`'s
    /// mailbox, and opens a call-back task for a check-in due on `voice_callback`. `gateway` must
    /// outlive the service (or stop() must run first). Call once, before start().
    void attach(Gateway& gateway);

    /// Queues a `handover` notice to the survivor account `survivor_account` naming
    /// `caseworker_account` by initials (queue_handover_notice; on `sms` through the SMS
    /// channel sender). Needs attach().
    NoticeOutcome notify_handover(const std::string& survivor_account,
                                  const std::string& caseworker_account, const std::string& actor);

    /// Her own account logged in from a new installation of her app: audits
    /// `survivor.new_installation`, raises the (non-urgent, durable) `new_device` alert to her
    /// team and, if she chose it (new_device_notice), queues her a neutral `new_device`
    /// notice (queue_survivor_notice). Never throws. Needs attach() for the notice.
    void on_new_device(const Account& survivor, const policies::CaseCode& code);

    /// assign_caseworker (handover.h) in `actor`'s name (an administrator), with this
    /// process's carriers: the gateway's mailbox (pushed if she is online) and the SMS
    /// channel sender. Needs attach(). Throws what assign_caseworker throws.
    nlohmann::json assign(const std::string& survivor, const std::string& caseworker,
                          const std::string& actor);

    /// Runs the scheduler once now (tests; serve's thread calls it every tick).
    void run_once();

    struct Purged {
        std::int64_t occurrences =
            0;                       // settled check-in slots whose window ended before the cutoff
        std::int64_t mailbox = 0;    // undelivered mailbox entries stored before the cutoff
        std::int64_t callbacks = 0;  // closed call-back tasks last changed before the cutoff
    };
    /// Applies the organisation policy's retention_days at clock.now(): deletes settled
    /// check-in occurrences, closed call-back tasks and (once attached) undelivered mailbox entries
    /// older than it, and audits `retention.purge` with the counts only. The audit chain itself is
    /// kept (it is metadata only and must stay verifiable). serve's thread runs it once an hour.
    Purged apply_retention();
    /// Starts the scheduler thread. Call once.
    void start();
    /// Stops it (idempotent).
    void stop();

  private:
    void loop();
    const ServerKey& key_;
    /// Stores one notice through the gateway (pushed if she is online); true once committed.
    bool queue_and_wait(NewNotice notice);
    /// The registered `sms` channel sender as a notice sender (empty when SMS is off).
    SmsNoticeSender sms_notice_sender();
    std::chrono::steady_clock::time_point next_retention_{};
    policies::SendOutcome dispatch(const policies::CheckinSend& send);
    std::unique_ptr<policies::PolicyStore> store_;
    std::unique_ptr<AlertBoard> alerts_;
    std::unique_ptr<CallbackBoard> callbacks_;
    policies::SystemClock system_clock_;
    const policies::Clock& clock_;
    std::shared_ptr<NoticeRenderer> renderer_;
    std::mutex senders_mutex_;
    std::map<policies::ChannelKind, ChannelSender> senders_;
    Gateway* gateway_ = nullptr;
    std::mutex scheduler_mutex_;
    std::unique_ptr<policies::CheckinScheduler> scheduler_;
    std::shared_ptr<ConsentPolicy> policy_;
    std::chrono::milliseconds tick_;
    std::filesystem::path data_dir_;  // beside the database: where audit checkpoints go
    void publish_checkpoint();        // appends and logs one; never throws
    void record_noted_inbound();
    std::mutex stop_mutex_;  // also guards noted_inbound_
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    bool running_ = false;  // the scheduler thread records noted messages
    std::map<std::string, policies::Instant> noted_inbound_;  // case code -> latest message
    std::thread thread_;
};

}  // namespace ariadne::gateway
