// Edge encryption for survivors on plaintext channels (the web page, SMS).
//
// For each such survivor the gateway holds an **edge device**: a Signal identity of her
// account (device id kEdgeDeviceId), with its crypto::Party store sealed at rest under a key
// derived from `<data>/server.key`. The edge device is a client of the gateway core in the
// same process: it opens a gateway::Session through Gateway::open_session and speaks the
// wire protocol (docs/protocol.md) to it — no socket, but every check a remote client gets
// (authentication, who may address whom, stale device lists, rate limits, group commit).
//
//   inbound text  → encrypt once per device of her team → `send` → mailbox (ciphertext only)
//   reply to edge → `deliver` → decrypt in memory → sealed history row + reply handler → `ack`
//                   (`kept`: in her page's history; `read` later, when the page shows it)
//
// Plaintext is never written to the gateway database, its WAL, or a log. What the edge keeps
// (her web-page history) is sealed with AES-256-GCM under the server key, bound to her account
// (docs/threat-model.md says what that protects against and what it does not).
//
// Errors: every failure is an AdapterError (below) whose code says which kind and whose
// message holds no content, name or number; each method says which codes it throws.
//
// Ownership: the hub borrows the Gateway (it must outlive the hub) and owns the edge
// devices' stores, their in-process sessions and the reply thread.
//
// Thread-safety: all public methods are thread-safe. Replies are decrypted and handed to the
// reply handler on the hub's own thread, one at a time, and acknowledged when it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/core/devices.h"
#include "ariadne/core/extension.h"

namespace ariadne::gateway {
class Gateway;
}

namespace ariadne::adapters {

/// Device id of a survivor's edge device (core/devices.h; her own app is kAppDevice).
inline constexpr std::uint32_t kEdgeDeviceId = gateway::kEdgeDevice;

/// The plaintext channel a text came in on or goes out to.
enum class EdgeChannel { web, sms };
const char* to_string(EdgeChannel channel) noexcept;

/// Errors of the adapters. `code` is stable; what() is one sentence without content, names,
/// numbers or codes.
class AdapterError : public std::runtime_error {
  public:
    /// `refused`: the consent policy refused a call-back request; reason() holds its code.
    enum class Code {
        not_survivor,
        gateway_refused,
        timeout,
        storage,
        invalid_input,
        internal,
        refused
    };
    AdapterError(Code code, const std::string& message, std::string reason = {})
        : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}
    Code code() const noexcept { return code_; }
    /// The gateway's reason code for `refused` (docs/protocol.md 4.9: no_consent,
    /// consent_withdrawn, address_mismatch, no_number or unavailable); "" otherwise.
    const std::string& reason() const noexcept { return reason_; }

  private:
    Code code_;
    std::string reason_;
};

/// When she can talk, Unix ms: [from_ms, to_ms).
struct CallbackWindow {
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
};

/// The gateway's answer to her call-back request (docs/protocol.md 4.9).
struct CallbackAccepted {
    std::int64_t task_id = 0;
    CallbackWindow window;                          // the first window she gave
    std::optional<std::int64_t> next_allowed_from;  // set when it starts in her quiet hours
    bool replaced = false;                          // her open task's windows were replaced
};

/// One line of a survivor's conversation as the edge saw it.
struct HistoryEntry {
    std::int64_t at_ms = 0;  // Unix ms
    bool from_survivor = false;
    std::string text;  // UTF-8
};

/// A caseworker's reply addressed to a survivor's edge device, decrypted in memory.
struct EdgeReply {
    std::string survivor_account;  // her account id
    std::string from_account;      // the caseworker's account id
    std::int64_t server_time = 0;  // Unix ms when the gateway stored it
    std::int64_t server_id = 0;    // the mailbox entry (for a later acknowledge())
    std::string text;
    /// Set by the reply handler to keep the entry unacknowledged until it calls
    /// EdgeHub::acknowledge (the SMS adapter waits for the delivery report, so the sender's
    /// receipt means "delivered to her phone"). Until then it stays in the mailbox and is
    /// delivered again after a restart (with the same text: the edge keeps a sealed copy of
    /// a reply until it is acknowledged, since its Signal message key is used up).
    bool acknowledge_later = false;
};

struct EdgeOptions {
    /// The gateway's data directory: server.key is read from it, edge stores live in
    /// `<data_dir>/edge/` (0700).
    std::filesystem::path data_dir;
    /// One-time pre-keys uploaded when an edge device is created or runs low.
    std::size_t pre_key_batch = 50;
    /// How long a call into the gateway core may take before AdapterError(timeout).
    std::chrono::milliseconds request_timeout{10000};
    /// History rows kept per survivor (oldest dropped first).
    std::size_t history_limit = 200;
    /// Sees each inbound text in clear after it was committed for her team and before it is
    /// wiped (`ariadne serve` checks it for the organisation's duress words there, the one
    /// place the gateway can read it). Must not keep or log the text; exceptions are
    /// logged without content and ignored. Empty: nothing.
    std::function<void(const std::string& survivor_account, EdgeChannel channel,
                       std::string_view text)>
        inbound_text;
    /// Told the channel of each inbound text just before it is sent to her team, so the
    /// thread is labelled with the channel her last message came in on. Must not throw;
    /// empty: nothing.
    std::function<void(const std::string& survivor_account, EdgeChannel channel)> inbound_channel;
};

class EdgeHub final : public gateway::Extension {
  public:
    /// `gateway` must outlive the hub. Loads the server key (creating nothing else until a
    /// survivor is attached). Throws AdapterError(storage) if the key or the history database
    /// cannot be opened.
    EdgeHub(gateway::Gateway& gateway, EdgeOptions options);
    /// Stops the reply thread and closes the in-process sessions.
    ~EdgeHub() override;
    EdgeHub(const EdgeHub&) = delete;
    EdgeHub& operator=(const EdgeHub&) = delete;

    /// Declares her edge device (kEdgeDeviceId) as the `web` channel: replies to it are
    /// kept for the survivor page (the SMS adapter refines this for cases with a number).
    void register_with(gateway::ExtensionRegistry& registry) override;

    /// Makes sure the survivor account `survivor_account` has an edge device: creates its
    /// sealed store and registers it with the gateway on first use, logs it in, tops up its
    /// pre-keys and starts receiving its replies. Idempotent; blocks (first call ~100 ms).
    /// Throws AdapterError(not_survivor) for an unknown or non-survivor account,
    /// AdapterError(gateway_refused / timeout / storage) when the core refuses.
    void attach(const std::string& survivor_account);

    /// Inbound text from her on `channel`: encrypted at once for every device of every
    /// caseworker on her team and stored durably; also appended to her sealed history, then
    /// shown to options.inbound_text. Returns once the gateway committed it. Attaches first if
    /// needed. Throws AdapterError(invalid_input) for empty or over-long (> 4000 bytes) text, and
    /// like attach() otherwise. The text is never logged.
    void submit_inbound(const std::string& survivor_account, EdgeChannel channel,
                        std::string_view text);

    /// Sends `text` as from her edge device to her team without recording it in her
    /// history (used for the silent duress alert). Throws like submit_inbound.
    void notify_team(const std::string& survivor_account, std::string_view text);

    /// Asks the gateway, as her edge device, to have a caseworker call her in `windows`
    /// (1–3, each 30 min–12 h, not over, starting within 7 days): the `callback_request` frame
    /// with `channel` (web or sms), decided and audited like her app's. Attaches first if
    /// needed. Throws AdapterError(refused) with the reason code when the gateway refuses,
    /// (invalid_input) for windows the gateway does not take, and like attach() otherwise.
    CallbackAccepted request_callback(const std::string& survivor_account, EdgeChannel channel,
                                      const std::vector<CallbackWindow>& windows);

    /// Installs the one reply handler (empty: none; replaces the previous one).
    /// Called on the hub's thread for each reply to an edge device, after it was added to her
    /// sealed history and before it is acknowledged (if it throws, the reply is acknowledged
    /// anyway — it is in her history — and the error is logged without content). A reply the
    /// handler does not settle itself (acknowledge_later) is acknowledged as kept for her
    /// page, and as read once the page shows it (mark_shown). A reply the
    /// edge cannot decrypt is not handed on: it is acknowledged as failed (reason
    /// `undecryptable`), so its sender never sees "delivered" for it.
    void on_reply(std::function<void(EdgeReply&)> handler);

    /// Acknowledges a reply whose handler set acknowledge_later (queues the sender's receipt
    /// if one was asked for). `failure` non-empty: the reply did NOT reach her; the entry is
    /// removed all the same and the sender's receipt says "failed" with this reason code
    /// (docs/protocol.md 4.6). May be called from inside the reply handler. Returns false if
    /// her edge device is not attached or the gateway refused (unknown or already
    /// acknowledged entry).
    bool acknowledge(const std::string& survivor_account, std::int64_t server_id,
                     std::string_view failure = {});

    /// The survivor page showed her the history rows at or after `from_ms` (Unix ms): every
    /// reply among them that was kept for her page is acknowledged as read, so its sender's
    /// receipt says "read on her page". Does nothing when her edge device is not attached.
    /// Throws AdapterError(storage) when the history database fails, (timeout) when the
    /// gateway does not answer; what was acknowledged before stays so.
    void mark_shown(const std::string& survivor_account, std::int64_t from_ms);

    /// Attaches every survivor account that had an edge device before (they are remembered,
    /// sealed, in `<data_dir>/edge/`), so that replies queued for her while the gateway was
    /// down, or left unsettled by a restart, are delivered again and settled. Call once the
    /// reply handler is installed. Blocks (~100 ms per account); failures are logged.
    void resume();

    /// Her conversation as the edge knows it, oldest first (at most history_limit rows). A
    /// row that no longer opens under the server key is left out. Throws
    /// AdapterError(storage) when the history database cannot be read.
    std::vector<HistoryEntry> history(const std::string& survivor_account);

    /// Blocks until every reply delivered so far has been processed (tests). Returns false
    /// on timeout.
    bool drain(std::chrono::milliseconds timeout);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::adapters
