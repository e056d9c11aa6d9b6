// The protocol engine: everything between "a text frame arrived" and "these frames go out",
// without sockets. The network layer (net/server.h) creates one Session per WebSocket and
// only moves frames; tests drive Sessions directly.
//
//   Gateway  — shared state: store, server key, rate limits, send policy, the registry of
//              online devices (for pushes), a worker pool for blocking work, metrics.
//   Session  — one connection: decodes requests, keeps the auth state, answers in request
//              order (slots), pushes `deliver` frames with at most 64 in flight.
//
// Threading: Session methods are thread-safe (one mutex per session). Completions arrive
// from the store's writer thread and the worker pool. SessionOutput is always called with
// the session's mutex held and in frame order, so implementations must only queue (never
// block, never call back into the Session).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ariadne/core/alert_desk.h"
#include "ariadne/core/login_budget.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/core/send_policy.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/core/worker_pool.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/metrics.h"

namespace ariadne::gateway {

/// WebSocket close codes the engine asks for.
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;

/// Where a Session's frames go. Implemented by the network layer (and by tests).
class SessionOutput {
  public:
    virtual ~SessionOutput() = default;
    /// Queues one text frame. Called in order, under the session's lock: must not block.
    virtual void send_text(std::string frame) = 0;
    /// Asks for the connection to be closed with a WebSocket close code.
    virtual void close(std::uint16_t code, std::string reason) = 0;
};

struct GatewayOptions {
    crypto::RecoveryParams recovery_params;  // published by `recovery_params`
    std::function<std::int64_t()> clock_ms;  // Unix ms; empty = system clock
    std::size_t worker_threads = 2;
    double sends_per_second = 50;
    double send_burst = 200;
    std::size_t max_in_flight = 64;  // unacknowledged deliveries per connection
    // Encoded bytes of unacknowledged deliveries per connection. Kept well under the
    // network layer's 1 MiB outbound cap so a reader that acks is never closed as slow.
    std::size_t max_in_flight_bytes = 512 * 1024;
    std::size_t max_queued_requests = 256;  // decoded requests waiting per connection
    std::size_t max_pending_writes = 32;    // pipelined send/ack awaiting commit per connection
    unsigned totp_window = 1;               // accepted TOTP steps either side of now
    // Login attempts by client address and in total (login_budget.h); sessions opened
    // without an address (in-process adapters) are not counted.
    LoginBudgetOptions login_budget;
    // The `settings` answer for caseworker consoles (org_settings.h); empty: an empty answer.
    // Called on a network thread: must be thread-safe.
    std::function<nlohmann::json()> console_settings;
    /// Renders a notice's text (organisation template in her language) when it is pushed.
    /// Called with the session's lock held: must not block on the store's writer or take
    /// locks the policy scheduler holds while it waits for a commit. Empty: no text.
    std::function<std::string(const Delivery&)> render_notice;
};

class Session;

class Gateway {
  public:
    /// `store`, `server_key` and `metrics` must outlive the gateway. A null policy means
    /// AssignmentPolicy over `store`. Hashes a dummy password (tens of ms) so logins for
    /// unknown usernames cost the same as real ones. `alerts` (may be null: `alerts` answers
    /// an empty list) must outlive the gateway.
    Gateway(Store& store, const ServerKey& server_key, Metrics& metrics, GatewayOptions options,
            std::shared_ptr<const SendPolicy> policy = nullptr, AlertDesk* alerts = nullptr);
    /// Finishes queued blocking work and flushes the store (completions that still refer to
    /// sessions run before it returns).
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    /// A new unauthenticated session writing to `output`. `peer` is the client's address key
    /// (server.h) that its login attempts are counted under; none for in-process clients
    /// (the adapters' edge devices), whose logins only the per-name delays limit.
    /// Thread-safe.
    std::shared_ptr<Session> open_session(std::shared_ptr<SessionOutput> output,
                                          std::optional<std::string> peer = std::nullopt);

    /// From now on sessions ignore new frames (shutdown: what was acknowledged stays
    /// acknowledged, what was not is re-sent by clients after reconnecting). Thread-safe.
    void stop_accepting() noexcept;
    bool accepting() const noexcept;

    /// Stores a notice (durably, group-committed) and pushes it to her online device. The
    /// completion runs on the store's writer thread after the commit (or failure).
    void queue_notice(NewNotice notice, Completion<MailboxEntryPtr> done);
    /// The `deliver` frame of an entry (notices rendered with options.render_notice).
    std::string encode_delivery(const Delivery& delivery) const;

    Metrics& metrics() noexcept { return metrics_; }
    Store& store() noexcept { return store_; }
    std::int64_t now_ms() const;

    /// Pushes an `alert` frame (docs/protocol.md 4.7) to the online devices of the
    /// caseworker accounts in `recipients`, or of every online caseworker when `to_everyone`
    /// (an alert without a case). `describe` gives the wire object; it runs on a worker
    /// (a throw drops the push: the alert stays stored and listed). Only queues work on the
    /// worker pool: safe to call with any lock held.
    void push_alert(std::function<nlohmann::json()> describe, bool to_everyone,
                    std::vector<std::string> recipients);

  private:
    friend class Session;
    using DeviceKey = std::pair<AccountKey, std::uint32_t>;

    void register_online(DeviceKey device, const std::shared_ptr<Session>& session);
    void unregister_online(DeviceKey device, const Session* session);
    /// Pushes freshly committed entries to the recipients' online sessions.
    void notify(const std::vector<MailboxEntryPtr>& entries);

    Store& store_;
    const ServerKey& server_key_;
    Metrics& metrics_;
    GatewayOptions options_;
    std::shared_ptr<const SendPolicy> policy_;
    AlertDesk* alerts_;
    std::string recovery_params_json_;
    std::string dummy_password_hash_;
    AuthThrottle auth_throttle_;
    LoginBudget login_budget_;
    SendLimiter send_limiter_;
    std::atomic<bool> accepting_{true};

    std::mutex online_mutex_;
    std::multimap<DeviceKey, std::weak_ptr<Session>> online_;

    WorkerPool workers_;  // last: its threads stop before the members they use
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(Gateway& gateway, std::shared_ptr<SessionOutput> output,
            std::optional<std::string> peer = std::nullopt);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// One text frame from the client. Answers go out through SessionOutput in order.
    void on_text(std::string_view frame);
    /// A binary frame: refused with `invalid_frame`, the session stays usable.
    void on_binary();
    /// The connection ended: drop pending output, leave the online registry. Idempotent.
    void on_closed();

    bool authenticated() const;

  private:
    friend class Gateway;

    std::uint64_t reserve_slot_locked();
    void complete_locked(std::uint64_t slot, std::string frame);
    void complete(std::uint64_t slot, std::string frame, bool ends_barrier, bool ends_write);
    void pump_locked();
    void dispatch_locked(Request& request, std::uint64_t slot);

    void handle_challenge(std::int64_t id, std::uint64_t slot);
    void handle_register(std::int64_t id, RegisterDeviceRequest r, std::uint64_t slot);
    void handle_auth_device(std::int64_t id, AuthDeviceRequest r, std::uint64_t slot);
    void handle_auth_survivor(std::int64_t id, AuthSurvivorRequest r, std::uint64_t slot);
    void handle_keys_upload(std::int64_t id, KeysUploadRequest r, std::uint64_t slot);
    void handle_keys_fetch(std::int64_t id, const KeysFetchRequest& r, std::uint64_t slot);
    std::string handle_contacts(std::int64_t id);
    std::string handle_keys_count(std::int64_t id);
    void handle_send(std::int64_t id, SendRequest r, std::uint64_t slot);
    void handle_ack(std::int64_t id, const AckRequest& r, std::uint64_t slot);
    std::string handle_alerts(std::int64_t id);
    std::string handle_alert_clear(std::int64_t id, const AlertClearRequest& r);
    std::string handle_settings(std::int64_t id);
    void handle_duress_report(std::int64_t id, DuressReportRequest r, std::uint64_t slot);
    /// Sends a server-originated frame (an `alert`) if this session is logged in.
    void push_frame(const std::string& frame);

    // Auth helpers (called on a worker thread, without the lock).
    std::optional<Bytes> take_challenge();
    std::int64_t throttled_for(const std::string& key);
    /// Answers rate_limited (and returns true) when `key` is still delayed or the client's
    /// address or the server has no login attempt left; otherwise takes one attempt.
    bool refuse_throttled(std::int64_t id, const std::string& key, std::uint64_t slot);
    std::string auth_failure(std::int64_t id, const std::string& key);
    /// Answers account_disabled (and returns true) when `account` is a disabled caseworker.
    bool refuse_disabled(std::int64_t id, const Account& account, std::uint64_t slot);
    void auth_success(std::int64_t id, const std::string& key, Account account,
                      std::uint32_t device, Bytes identity_key, std::uint64_t slot,
                      bool new_installation = false);

    // Delivery.
    void on_mail(const MailboxEntryPtr& entry);
    bool window_full_locked() const;
    void push_locked(const MailboxEntryPtr& entry);
    void start_fetch_locked();
    void fetch_done(std::vector<MailboxEntryPtr> entries, std::size_t limit);

    Gateway& gateway_;
    mutable std::mutex mutex_;
    std::shared_ptr<SessionOutput> output_;
    bool closed_ = false;

    // Requests and ordered answers.
    // Vectors, not deques: an empty std::deque allocates ~0.5 KB, and these are almost
    // always empty on an idle connection.
    std::vector<Request> input_;
    bool busy_ = false;               // a barrier request is in progress
    std::size_t pending_writes_ = 0;  // pipelined requests awaiting commit
    std::vector<std::optional<std::string>> slots_;
    std::uint64_t first_slot_ = 0;

    // Authentication.
    bool authenticated_ = false;
    Account account_;
    std::uint32_t device_ = 0;
    Bytes identity_key_;
    Bytes challenge_;
    std::int64_t challenge_expires_ms_ = 0;
    Backoff connection_backoff_;
    std::optional<std::string> peer_;                  // address key, none in process
    std::optional<LoginBudget::Ticket> login_ticket_;  // the attempt being checked

    // Delivery state: everything up to cursor_ was pushed on this connection.
    std::int64_t cursor_ = 0;
    std::map<std::int64_t, std::size_t> in_flight_;  // server_id → encoded frame bytes
    std::size_t in_flight_bytes_ = 0;
    bool backlog_ = false;
    bool fetching_ = false;
    bool notified_during_fetch_ = false;
};

}  // namespace ariadne::gateway
