// The HTTP side of a connection: the TLS handshake, then HTTP requests (health, routes,
// metrics) until the connection closes or upgrades to a WebSocket (http_session.cpp).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>

#include "connection_slots.h"
#include "shared_state.h"

namespace ariadne::gateway::net_detail {

/// Which listener accepted a connection: the main one, or the metrics listener (which
/// serves /metrics and /healthz only).
enum class Listener { main, metrics };

/// Serves a connection just accepted on `socket` (its strand is the socket's executor). The
/// session keeps itself alive until the connection ends or becomes a WebSocket, holding
/// `slot`. `ctx` (the server's TLS configuration) and `shared` must outlive it. Nothing is
/// thrown once it runs; failures close the connection.
void start_http_session(boost::asio::ip::tcp::socket&& socket, SSL_CTX* ctx, Shared& shared,
                        ConnectionSlot slot, Listener listener);

}  // namespace ariadne::gateway::net_detail
