// HMAC-SHA256 (RFC 2104): the keyed hash behind every index tag that lets Ariadne find a row
// without storing a name in clear (store name tags, console history tags, the gateway's
// address references).
// Thread-safe (no shared state).
#pragma once

#include "ariadne/crypto/bytes.h"

namespace ariadne::crypto {

/// The 32-byte HMAC-SHA256 of `data` under `key` (non-empty, any length).
/// Throws Error(internal) if OpenSSL fails.
Bytes hmac_sha256(ByteView key, ByteView data);

}  // namespace ariadne::crypto
