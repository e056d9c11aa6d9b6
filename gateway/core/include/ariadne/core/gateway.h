// The gateway's shared state, which every Session of a process uses: the store, the server
// key, the send policy, the login and send limits, the worker pool for blocking work, the
// metrics and the registry of online devices that committed mail and alerts are pushed to.
// One Gateway per process; the network layer (ariadne/net/server.h) opens a Session
// (session.h) per connection through it, and the adapters' in-process devices use it too.
//
// Ownership: the store, server key, metrics, alert desk and clock passed in must outlive the
// Gateway; the Gateway must outlive every Session it opened (its destructor drains the work
// that still refers to them).
//
// Errors: the constructor throws crypto::Error if the dummy password hash cannot be made;
// the other methods do not throw (but std::bad_alloc). Storage failures reach callers as a
// CommitStatus, never as an exception.
//
// Thread safety: every public method is safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ariadne/core/alert_desk.h"
#include "ariadne/core/callback_desk.h"
#include "ariadne/core/cluster.h"
#include "ariadne/core/login_budget.h"
#include "ariadne/core/login_ledger.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/core/send_policy.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/session.h"
#include "ariadne/core/store.h"
#include "ariadne/core/worker_pool.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/policies/clock.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/protocol/metrics.h"

namespace ariadne::gateway {

struct GatewayOptions {
    crypto::RecoveryParams recovery_params;  // published by `recovery_params`
    // The wall clock of challenges, TOTP steps, login and send limits, `ping`'s server_time
    // and alert clears. Null: the system clock. Must outlive the gateway; read from any
    // thread.
    const policies::Clock* clock = nullptr;
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
    /// Failed logins shared with the other nodes on the database (login_ledger.h): they
    /// count with this node's. Null: this process's memory alone counts them. Must outlive
    /// the gateway.
    LoginLedger* login_ledger = nullptr;
    // The `settings` answer for caseworker consoles (ariadne/services/org_settings.h); empty:
    // an empty answer.
    // Called on a network thread: must be thread-safe.
    std::function<nlohmann::json()> console_settings;
    /// Renders a notice's text (organisation template in her language) when it is pushed.
    /// Called with the session's lock held: must not block on the store's writer or take
    /// locks the policy scheduler holds while it waits for a commit. Empty: no text.
    std::function<std::string(const Delivery&)> render_notice;
    /// The database is shared with other gateway nodes (PostgreSQL): server ids then commit
    /// out of order across nodes, so a session delivers by "not yet pushed on this
    /// connection" instead of by cursor, and re-reads its backlog from the start.
    bool clustered = false;
    /// Call-back tasks (callback_desk.h); null: every call-back request is refused
    /// (`callback_refused`, reason `unavailable`) and `callbacks` lists none. Must outlive
    /// the gateway.
    CallbackDesk* callbacks = nullptr;
};

class Gateway {
  public:
    /// `store`, `server_key`, `metrics` and `alerts` must outlive the gateway. A null policy
    /// means AssignmentPolicy over `store`; a null `alerts` answers `alerts` with an empty
    /// list. Hashes a dummy password (tens of ms) so logins for unknown usernames cost the
    /// same as real ones; throws crypto::Error if it cannot.
    Gateway(Store& store, const ServerKey& server_key, Metrics& metrics, GatewayOptions options,
            std::shared_ptr<const SendPolicy> policy = nullptr, AlertDesk* alerts = nullptr);
    /// Finishes queued blocking work and flushes the store (completions that still refer to
    /// sessions run before it returns).
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    /// A new unauthenticated session writing to `output`. `peer` is the client's address key
    /// (client_address_key in login_budget.h) that its login attempts are counted under;
    /// none for in-process clients (the adapters' edge devices), whose logins only the
    /// per-name delays limit.
    std::shared_ptr<Session> open_session(std::shared_ptr<SessionOutput> output,
                                          std::optional<std::string> peer = std::nullopt);

    /// From now on sessions ignore new frames (shutdown: what was acknowledged stays
    /// acknowledged, what was not is re-sent by clients after reconnecting).
    void stop_accepting() noexcept;
    bool accepting() const noexcept;

    /// Stores a notice (durably, group-committed) and pushes it to her online device. The
    /// completion runs on the store's writer thread after the commit (or failure: the
    /// CommitStatus says which).
    void queue_notice(NewNotice notice, Completion<MailboxEntryPtr> done);
    /// The `deliver` frame of an entry (notices rendered with options.render_notice).
    std::string encode_delivery(const Delivery& delivery) const;

    Metrics& metrics() noexcept { return metrics_; }
    Store& store() noexcept { return store_; }
    /// The gateway's clock (GatewayOptions::clock, or the system clock).
    const policies::Clock& clock() const noexcept { return clock_; }
    /// clock().now() in Unix milliseconds, the unit of the wire's times.
    std::int64_t now_ms() const { return policies::unix_ms(clock_.now()); }

    /// Pushes an `alert` frame (docs/protocol.md 4.7) to the online devices of the
    /// caseworker accounts in `recipients`, or of every online caseworker when `to_everyone`
    /// (an alert without a case). `describe` gives the wire object; it runs on a worker
    /// (a throw drops the push: the alert stays stored and listed). Only queues work on the
    /// worker pool: safe to call with any lock held.
    void push_alert(std::function<nlohmann::json()> describe, bool to_everyone,
                    std::vector<std::string> recipients);

    /// Pushes a `callback` frame (docs/protocol.md 4.9) with the task `describe` gives to the
    /// online devices of the caseworker accounts in `recipients`, like push_alert.
    void push_callback(std::function<nlohmann::json()> describe,
                       std::vector<std::string> recipients);

    /// Several nodes (options.clustered): from now on committed mail, logins and alerts are
    /// published on `bus` under `node_id` (letters and digits), and what other nodes publish
    /// is read by on_cluster_message. `bus` must outlive the gateway. Call before serving.
    void join_cluster(ClusterBus& bus, std::string node_id);
    /// A message from the bus (cluster.h); any thread. Malformed messages are ignored.
    void on_cluster_message(std::string_view payload);
    /// Closes the connections of device `device` of `account` at once, on this node and,
    /// clustered, on the others (1008 "device revoked"): an administrator revoked it. Its
    /// stored rows are the caller's to delete first. Safe from any thread.
    void end_device_sessions(AccountKey account, std::uint32_t device);
    /// Every online device re-reads its backlog (after a gap in the cluster's news).
    void wake_all();
    /// The online devices with mail waiting re-read their backlog (the cluster's poll timer:
    /// one query, then only those). Never throws (a failed read waits for the next poll).
    void wake_devices_with_mail();

  private:
    friend class Session;
    using DeviceKey = std::pair<AccountKey, std::uint32_t>;

    void register_online(DeviceKey device, const std::shared_ptr<Session>& session);
    void unregister_online(DeviceKey device, const Session* session);
    /// Pushes freshly committed entries to the recipients' online sessions (and tells the
    /// other nodes, when clustered).
    void notify(const std::vector<MailboxEntryPtr>& entries);
    /// The online sessions of one device on this node.
    std::vector<std::shared_ptr<Session>> sessions_of(DeviceKey device);
    void push_alert_frame(const std::string& frame, bool to_everyone,
                          const std::vector<std::string>& recipients);
    /// push_alert and push_callback: a `type` frame holding `describe()` under `type`.
    void push_to_caseworkers(const char* type, std::function<nlohmann::json()> describe,
                             bool to_everyone, std::vector<std::string> recipients);
    /// Called by a session once it logged in: other nodes close the device's older connection.
    void announce_login(DeviceKey device);

    Store& store_;
    const ServerKey& server_key_;
    Metrics& metrics_;
    GatewayOptions options_;
    policies::SystemClock system_clock_;
    const policies::Clock& clock_;  // options_.clock or system_clock_
    std::shared_ptr<const SendPolicy> policy_;
    AlertDesk* alerts_;
    std::string recovery_params_json_;
    std::string dummy_password_hash_;
    AuthThrottle auth_throttle_;
    LoginBudget login_budget_;
    SendLimiter send_limiter_;
    std::atomic<bool> accepting_{true};

    ClusterBus* cluster_ = nullptr;
    std::string node_id_;

    std::mutex online_mutex_;
    std::multimap<DeviceKey, std::weak_ptr<Session>> online_;

    WorkerPool workers_;  // last: its threads stop before the members they use
};

}  // namespace ariadne::gateway
