// The WebSocket side of a connection: after the HTTP upgrade request, frames move between
// the socket and a gateway::Session (ws_session.cpp). Only this declaration is shared, so the
// HTTP session does not compile Beast's WebSocket templates.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "connection_slots.h"
#include "shared_state.h"
#include "tls_stream.h"

namespace ariadne::gateway::net_detail {

/// Takes over `stream` (TLS done, `upgrade` read from it) and answers the upgrade; the session
/// keeps itself alive until the connection ends, holding `slot`, and registers in
/// shared.sessions once accepted. Call on the connection's strand. `shared` must outlive it.
/// Limits: kHandshakeTimeout for the upgrade, kAuthDeadline to log in (else close 1008),
/// kIdleTimeout with pings, kMaxFrameBytes per message (else 1009), kMaxQueuedBytes
/// waiting for the client (else 1008 "slow consumer").
void start_ws_session(TlsStream&& stream, Shared& shared, ConnectionSlot slot,
                      boost::beast::http::request<boost::beast::http::string_body>&& upgrade);

}  // namespace ariadne::gateway::net_detail
