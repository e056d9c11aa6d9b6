// The state one server shares with every connection it accepted: the gateway, the routes,
// the connection caps, the open WebSockets, and whether it is shutting down.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "ariadne/core/http_routes.h"
#include "ariadne/core/http_workers.h"
#include "connection_slots.h"

namespace ariadne::gateway {
class Gateway;
}  // namespace ariadne::gateway

namespace ariadne::gateway::net_detail {

/// What the graceful shutdown asks of an open WebSocket (WsSession in ws_session.cpp): close
/// with 1001 once everything queued for it is written. Called from any thread.
class ClosableSession {
  public:
    virtual void close_when_drained() = 0;

  protected:
    ~ClosableSession() = default;
};

/// The WebSockets that completed their upgrade and have not ended. Thread-safe.
class OpenSessions {
  public:
    void add(ClosableSession* key, std::weak_ptr<ClosableSession> session);
    /// Forgets `key` (a session that ended) and wakes close_all().
    void remove(ClosableSession* key);
    /// Asks every open session to close once drained, then waits until all have ended or
    /// `grace` has passed.
    void close_all(std::chrono::steady_clock::duration grace);

  private:
    std::mutex mutex_;
    std::condition_variable ended_;
    std::unordered_map<ClosableSession*, std::weak_ptr<ClosableSession>> sessions_;
};

/// Lives in Server's implementation, which outlives every connection (see its members' order).
struct Shared {
    /// `metrics` is the gateway's (Gateway::metrics()).
    Shared(Gateway& gateway, Metrics& metrics, bool log_ip,
           std::shared_ptr<const HttpRoutes> routes, HttpWorkers& http_workers,
           ConnectionTable::Limits limits)
        : gateway(gateway),
          metrics(metrics),
          log_ip(log_ip),
          routes(std::move(routes)),
          http_workers(http_workers),
          connections(metrics, limits) {}

    Gateway& gateway;
    Metrics& metrics;
    const bool log_ip;
    const std::shared_ptr<const HttpRoutes> routes;  // may be null
    HttpWorkers& http_workers;                       // runs route handlers, one pool per class
    std::atomic<bool> stopping{false};
    ConnectionTable connections;
    OpenSessions sessions;
};

}  // namespace ariadne::gateway::net_detail
