// One client connection's protocol state machine, without sockets: it decodes request
// frames, keeps the login state, answers in request order and pushes `deliver` frames with
// a bounded number in flight. The network layer (ariadne/net/server.h) owns one Session per
// WebSocket and only moves frames; tests drive Sessions directly.
//
// Ownership: Gateway::open_session creates a Session and hands back a shared_ptr; work
// queued on the store's writer thread and the gateway's worker pool holds further
// references, so a Session may outlive its connection by those completions. The Gateway
// must outlive every Session it opened.
//
// Errors: the public methods do not throw (but std::bad_alloc). Every failure becomes an
// error frame for the request concerned (docs/protocol.md section 5): a storage failure is
// `storage_unavailable` and loses nothing else; the session stays usable.
//
// Thread safety: every public method is safe from any thread (one mutex per session).
// Completions arrive from the store's writer thread and the worker pool. SessionOutput is
// called with that mutex held and in frame order, so an implementation must only queue:
// never block, never call back into the Session.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/core/login_budget.h"
#include "ariadne/core/rate_limits.h"
#include "ariadne/core/store.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {

class Gateway;

/// WebSocket close codes a Session asks for.
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;

/// Where a Session's frames go. Implemented by the network layer (and by tests).
class SessionOutput {
  public:
    virtual ~SessionOutput() = default;
    /// Queues one text frame. Called in order, under the session's lock: must not block.
    virtual void send_text(std::string frame) = 0;
    /// Asks for the connection to be closed with a WebSocket close code. Called under the
    /// session's lock: must not block.
    virtual void close(std::uint16_t code, std::string reason) = 0;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    /// Use Gateway::open_session. `peer` is the client's address key (client_address_key in
    /// login_budget.h) its login attempts are counted under; none for in-process clients.
    Session(Gateway& gateway, std::shared_ptr<SessionOutput> output,
            std::optional<std::string> peer = std::nullopt);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// One text frame from the client. Answers go out through SessionOutput in request
    /// order; a request that cannot be decoded is answered with its error and nothing else
    /// changes. Ignored after on_closed() or once the gateway stopped accepting.
    void on_text(std::string_view frame);
    /// A binary frame: refused with `invalid_frame`, the session stays usable.
    void on_binary();
    /// The connection ended: drop pending output, leave the online registry. Idempotent.
    void on_closed();

    bool authenticated() const;

  private:
    friend class Gateway;

    // Ordered answers and dispatch (session.cpp). A request gets a slot when it is
    // dispatched; its answer is sent once every earlier slot is answered.
    std::uint64_t reserve_slot_locked();
    void complete_locked(std::uint64_t slot, std::string frame);
    void complete(std::uint64_t slot, std::string frame, bool ends_barrier, bool ends_write);
    void pump_locked();
    void dispatch_locked(Request& request, std::uint64_t slot);

    // Authentication (session_auth.cpp). The handlers run their checks on a worker thread,
    // without the lock.
    void handle_challenge(std::int64_t id, std::uint64_t slot);
    void handle_register(std::int64_t id, RegisterDeviceRequest r, std::uint64_t slot);
    void handle_auth_device(std::int64_t id, AuthDeviceRequest r, std::uint64_t slot);
    void handle_auth_survivor(std::int64_t id, AuthSurvivorRequest r, std::uint64_t slot);
    std::optional<Bytes> take_challenge();
    std::int64_t throttled_for(const std::string& key);
    /// Answers rate_limited (and returns true) when `key` is still delayed or the client's
    /// address or the server has no login attempt left; otherwise takes one attempt. With a
    /// LoginLedger the failures of every node count as well (login_ledger.h), and a ledger
    /// that cannot be read is answered storage_unavailable.
    bool refuse_throttled(std::int64_t id, const std::string& key, std::uint64_t slot);
    /// What a LoginLedger holds for one attempt: its keys and the failure times read before
    /// the check, newest first.
    struct SharedFailures {
        std::string name_key;
        std::string address_key;  // empty: no address (in process)
        std::vector<std::int64_t> name;
        std::vector<std::int64_t> address;
    };
    /// Reads the ledger's failures for `key` and this session's address. Throws what the
    /// ledger or the server key throws.
    SharedFailures read_shared_failures(const std::string& key);
    /// The ledger's key for a throttling key: the server key's MAC, so the table holds no
    /// name, locator or address. Throws GatewayError(internal) if OpenSSL fails.
    std::string ledger_key(std::string_view key) const;
    std::string auth_failure(std::int64_t id, const std::string& key);
    /// Answers account_disabled (and returns true) when `account` is a disabled caseworker;
    /// storage_unavailable when the flag cannot be read.
    bool refuse_disabled(std::int64_t id, const Account& account, std::uint64_t slot);
    /// For a logged-in caseworker: answers account_disabled (or auth_failed for a revoked
    /// device) and closes the connection (and returns true) once an administrator has
    /// disabled her account or revoked this device, or when either cannot be read (fail
    /// closed).
    bool end_if_disabled_locked(std::int64_t id, std::uint64_t slot);
    void auth_success(std::int64_t id, const std::string& key, Account account,
                      std::uint32_t device, Bytes identity_key, std::uint64_t slot,
                      bool new_installation = false);

    // Keys and contacts (session_keys.cpp).
    void handle_keys_upload(std::int64_t id, KeysUploadRequest r, std::uint64_t slot);
    void handle_keys_fetch(std::int64_t id, const KeysFetchRequest& r, std::uint64_t slot);
    std::string handle_keys_count(std::int64_t id);
    std::string handle_contacts(std::int64_t id);

    // Caseworker console requests and pushes (session_console.cpp).
    std::string handle_alerts(std::int64_t id);
    std::string handle_alert_clear(std::int64_t id, const AlertClearRequest& r);
    std::string handle_settings(std::int64_t id);
    void handle_duress_report(std::int64_t id, DuressReportRequest r, std::uint64_t slot);
    /// Sends a server-originated `alert` frame if this session is a logged-in caseworker
    /// and, unless `to_everyone`, her account id is in `recipients`.
    void push_alert(const std::string& frame, bool to_everyone,
                    const std::vector<std::string>& recipients);

    // Call-back requests (session_callbacks.cpp): each runs on a worker (it decides and
    // commits) and later requests wait for it.
    void handle_callback_request(std::int64_t id, CallbackRequest r, std::uint64_t slot);
    void handle_callbacks(std::int64_t id, std::uint64_t slot);
    void handle_callback_reveal(std::int64_t id, CallbackRevealRequest r, std::uint64_t slot);
    void handle_callback_outcome(std::int64_t id, CallbackOutcomeRequest r, std::uint64_t slot);

    // Delivery (session_delivery.cpp).
    void handle_send(std::int64_t id, SendRequest r, std::uint64_t slot);
    void handle_ack(std::int64_t id, const AckRequest& r, std::uint64_t slot);
    void on_mail(const MailboxEntryPtr& entry);
    /// Re-reads the backlog (another node committed mail for this device, or the poll timer).
    void wake();
    void wake_locked();
    /// Another node logged this device in: close this older connection.
    void displace();
    /// An administrator revoked this device: close the connection now.
    void end_revoked();
    /// Whether entry `id` still goes out on this connection: clustered, when it was never
    /// pushed here; otherwise when it is past the cursor.
    bool not_yet_pushed_locked(std::int64_t id) const;
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
    std::size_t pending_writes_ = 0;  // pipelined send/ack awaiting commit
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
    std::unique_ptr<SharedFailures> shared_failures_;  // ledger: for the attempt checked

    // Delivery state: everything up to cursor_ was pushed on this connection. Clustered,
    // ids commit out of order across nodes: pushed_ holds what this connection was given
    // (the newest 4,096 ids and every one still in flight) and replaces the cursor.
    std::int64_t cursor_ = 0;
    std::set<std::int64_t> pushed_;
    std::map<std::int64_t, std::size_t> in_flight_;  // server_id → encoded frame bytes
    std::size_t in_flight_bytes_ = 0;
    bool backlog_ = false;
    bool fetching_ = false;
    bool notified_during_fetch_ = false;
};

}  // namespace ariadne::gateway
