// Traffic for the durability tests: survivors send numbered messages with acknowledgements
// to a caseworker's two devices through the real `ariadne` server (tests/e2e/harness.h), and
// a Ledger records what each sender was told and what each device received, then checks the
// delivery guarantees of docs/protocol.md section 4.6:
//   - a message acknowledged to its sender is delivered to every recipient device;
//   - nothing is stored twice (one server_id per message and device);
//   - a server_id is never delivered again once the device's `ack` was answered `ok`;
//   - a send answered with an error is never delivered;
//   - per sender, a device receives messages in the order they were sent.
// Bodies are opaque (the server relays bytes it cannot read): 0x33, the sender's index, a
// 4-byte sequence number, random padding, 200 bytes in all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../e2e/accounts.h"
#include "../e2e/harness.h"

namespace ariadne::durability {

using e2e::Json;
using namespace std::chrono_literals;

inline constexpr std::size_t kBodySize = 200;

/// A send frame to `to` carrying message `seq` of sender `sender` for each device.
Json numbered_send(const std::string& to, const std::vector<std::uint32_t>& devices, int sender,
                   std::uint32_t seq);

/// One caseworker with two console devices (keys uploaded) and `survivors` survivors
/// assigned to her, each with her recovery-derived login computed once.
struct Cluster {
    Cluster(const std::filesystem::path& dir, std::size_t survivors,
            std::vector<std::string> server_args = {});

    /// Logs in a connection as console device `index` (0 or 1) of the caseworker.
    std::unique_ptr<client::Connection> console(std::size_t index) const;
    /// Logs in a connection as survivor `index`.
    std::unique_ptr<client::Connection> survivor(std::size_t index) const;

    e2e::Gateway gateway;
    e2e::Gateway::Caseworker caseworker;
    std::vector<e2e::RawDevice> console_devices;
    std::vector<std::uint32_t> console_ids;  // sorted
    std::vector<e2e::SurvivorLogin> survivors;
    std::filesystem::path dir;
};

/// What senders were told and what devices received. Thread-safe.
class Ledger {
  public:
    enum class Outcome { pending, acked, refused, unknown };

    /// A send of (sender, seq) is about to go out.
    void sent(int sender, std::uint32_t seq);
    /// The gateway answered ok with these server ids (device -> server_id).
    void acked(int sender, std::uint32_t seq, const std::map<std::uint32_t, std::int64_t>& ids);
    /// The gateway answered with an error code.
    void refused(int sender, std::uint32_t seq, const std::string& code);
    /// The connection ended before the answer arrived.
    void unknown(int sender, std::uint32_t seq);

    /// A `deliver` frame arrived on `device`; records it, and a violation if this server_id
    /// was acknowledged on that device before.
    void delivered(std::uint32_t device, const Json& message);
    /// The device's `ack` of `server_id` was answered ok.
    void ack_confirmed(std::uint32_t device, std::int64_t server_id);

    /// Checks every guarantee; returns one sentence per violation (empty: all hold).
    std::vector<std::string> violations(const std::vector<std::uint32_t>& devices) const;

    std::size_t count(Outcome outcome) const;
    std::map<std::string, std::size_t> refusal_codes() const;
    /// Distinct server ids received on `device`.
    std::size_t received(std::uint32_t device) const;
    std::size_t ack_confirmed_count(std::uint32_t device) const;

  private:
    struct SendRecord {
        Outcome outcome = Outcome::pending;
        std::map<std::uint32_t, std::int64_t> server_ids;
        std::string code;
    };
    struct Received {
        int sender = -1;
        std::uint32_t seq = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<int, std::uint32_t>, SendRecord> sends_;
    std::map<std::string, std::size_t> refusal_codes_;
    std::map<std::uint32_t, std::map<std::int64_t, Received>> received_;  // device -> sid
    std::map<std::uint32_t, std::set<std::int64_t>> confirmed_;
    std::vector<std::string> live_violations_;
};

/// Sends numbered messages from survivor `sender` on `conn` to the caseworker's devices,
/// with up to `window` requests in flight, until `stop` is set or the connection ends.
/// `rate_limited` answers pause for their retry_after_ms. Sequence numbers continue from
/// `next_seq` (updated), so a message is never sent twice. Never throws.
void run_sender(client::Connection& conn, const Cluster& cluster, int sender,
                std::uint32_t& next_seq, Ledger& ledger, const std::atomic<bool>& stop,
                std::size_t window = 16);

/// Receives on console device `index`: records each `deliver` and acknowledges it, until
/// the connection ends, `stop` is set, or (if `idle_exit` is set) nothing has arrived for
/// that long with every ack answered. Never throws.
void run_receiver(client::Connection& conn, const Cluster& cluster, std::size_t index,
                  Ledger& ledger, const std::atomic<bool>& stop,
                  std::optional<std::chrono::milliseconds> idle_exit = std::nullopt);

/// One send of (sender 0, seq) on `conn`, recorded in `ledger`; returns the error code or
/// "ok". A `rate_limited` answer is retried after its delay under a new sequence number.
std::string send_numbered(client::Connection& conn, const Cluster& cluster, Ledger& ledger,
                          std::uint32_t& seq);

}  // namespace ariadne::durability
