// The network layer's limits and timeouts in one place: the numbers ariadne/net/server.h
// and docs/protocol.md promise to clients, and the ones that bound a closing connection.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>

namespace ariadne::gateway::net_detail {

// Output queued for one connection, counting what its TCP send buffer holds: a client that
// does not read is closed once this much waits for it (docs/protocol.md).
inline constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
// Teardown: everything queued (the close frame last) must reach the kernel within this...
inline constexpr auto kTeardownDrain = std::chrono::seconds(5);
// ...then the server stops writing and reads and discards what the peer still sends, for at
// most this long or this many bytes, so that closing the descriptor does not answer the
// peer's unread bytes with an RST that destroys the close frame in its receive buffer. A
// client cut off in the middle of a WebSocket frame (one too big) will still send the rest
// of it: the byte bound grows by what that frame still declares (the time bound stays).
inline constexpr auto kLingerTime = std::chrono::seconds(2);
inline constexpr std::size_t kLingerBytes = 1024 * 1024;
// A TLS handshake takes well under a second even on a slow mobile link; a client that has
// not finished in this long is holding a slot, not connecting.
inline constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
inline constexpr auto kHandshakeTimeout = std::chrono::seconds(30);  // HTTP request, WS upgrade
inline constexpr auto kHttpShutdownTimeout = std::chrono::seconds(5);
inline constexpr auto kAuthDeadline = std::chrono::seconds(60);
inline constexpr auto kIdleTimeout = std::chrono::seconds(60);  // Beast pings at half of it
inline constexpr auto kCloseGrace = std::chrono::seconds(5);
inline constexpr auto kSlowConsumerGrace = std::chrono::seconds(1);
inline constexpr auto kShutdownGrace = std::chrono::seconds(5);
inline constexpr std::size_t kMaxHttpBody = 64 * 1024;
inline constexpr std::size_t kMaxHttpHeader = 8192;
// The first read of a WebSocket message asks for this much (most requests fit).
inline constexpr std::size_t kFirstRead = 512;
// Descriptors the server needs besides its connections (databases and their WAL files,
// read pool, epoll, timers, stdio, the listening socket), with room to spare.
inline constexpr rlim_t kSpareDescriptors = 64;

}  // namespace ariadne::gateway::net_detail
