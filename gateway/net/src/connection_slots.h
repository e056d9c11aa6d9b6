// Connection accounting: how many connections are open in total and per client address, and
// how many of them have not logged in yet; the caps of ServerOptions are enforced here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "ariadne/protocol/metrics.h"

namespace ariadne::gateway::net_detail {

struct TlsCore;

/// Closes a connection from any thread (posted to its strand); a connection already gone is
/// left alone. Defined in tls_stream.cpp, with TlsCore.
void cut_connection(const std::weak_ptr<TlsCore>& core);

/// Connections of one client address.
struct AddressCount {
    std::uint32_t open = 0;
    std::uint32_t unauthenticated = 0;
};

/// The connection counts of one server. Thread-safe (one mutex); it must outlive every
/// ConnectionSlot taken from it. Metrics::connections_open and connections_cut are kept here.
class ConnectionTable {
  public:
    /// The caps (ServerOptions).
    struct Limits {
        std::uint32_t max_connections = 0;
        std::uint32_t max_per_address = 0;
        std::uint32_t max_unauthenticated_per_address = 0;
    };
    /// A tenth of `limits.max_connections` is kept for connections that have logged in.
    ConnectionTable(Metrics& metrics, Limits limits);
    ConnectionTable(const ConnectionTable&) = delete;
    ConnectionTable& operator=(const ConnectionTable&) = delete;

    /// Connections open from `address` now (0 for an address with none).
    AddressCount count(const std::string& address) const;

  private:
    friend class ConnectionSlot;
    Metrics& metrics_;
    const std::uint32_t max_connections_;
    const std::uint32_t max_per_address_;
    const std::uint32_t max_unauthenticated_per_address_;
    const std::uint32_t max_unauthenticated_;  // in total: the rest is kept for logged-in ones
    mutable std::mutex mutex_;
    // Entries exist only while the address has a connection, so the table is bounded by
    // max_connections.
    std::unordered_map<std::string, AddressCount> addresses_;
    std::uint32_t unauthenticated_ = 0;
    // Connections not logged in, oldest first: when their share is full, a new connection
    // cuts the oldest (a legitimate client logs in within a second; one that holds a slot
    // without doing so is the first to go).
    std::uint64_t next_seq_ = 0;
    std::map<std::uint64_t, std::weak_ptr<TlsCore>> waiting_;
};

/// Counts one open connection for as long as it lives (moved from HTTP to WebSocket), in
/// total, for its client address, and as not logged in until mark_authenticated(). Not
/// thread-safe itself: it belongs to one connection and is used on its strand.
class ConnectionSlot {
  public:
    /// A slot for a new connection from `address`, or nullopt when a cap is reached. When only
    /// the share of connections not logged in is full, the oldest of them is cut to make room
    /// (counted in Metrics::connections_cut).
    static std::optional<ConnectionSlot> acquire(ConnectionTable& table, std::string address);

    ConnectionSlot(ConnectionSlot&& o) noexcept;
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ~ConnectionSlot();

    /// Makes the connection one that a newcomer may cut while it is not logged in.
    void attach(std::weak_ptr<TlsCore> core);

    /// The connection logged in: it no longer counts as unauthenticated.
    void mark_authenticated();

    const std::string& address() const noexcept { return address_; }

  private:
    ConnectionSlot(ConnectionTable& table, std::string address, std::uint64_t seq)
        : table_(&table), address_(std::move(address)), seq_(seq) {}
    ConnectionTable* table_;  // null once moved from
    std::string address_;
    std::uint64_t seq_ = 0;
    bool authenticated_ = false;
};

}  // namespace ariadne::gateway::net_detail
