// Which channel kinds the last server to start on this data directory can send check-ins on
// (gateway_channel_senders): the server records each sender it registers and forgets them all
// when it starts, so the admin CLI, which may run while no server does, sees what it had
// (the gateway's checkin_reach.h decides from it).
//
// The table lives in the policy store's database, on its connection (policy_connection.h).
// Thread safety: safe from any thread (every method holds the store's lock); must not outlive
// the store.
// Errors: every method throws storage::Error when SQLite fails.
#pragma once

#include <cstdint>

#include "ariadne/policies/channel.h"
#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

class ChannelSenders {
  public:
    explicit ChannelSenders(const policies::PolicyStore& store);

    /// Forgets every recorded sender.
    void clear();
    /// Records that `kind` has a sender, registered at `registered_at_ms` (Unix ms).
    void record(policies::ChannelKind kind, std::int64_t registered_at_ms);
    /// Records that `kind` no longer has a sender.
    void forget(policies::ChannelKind kind);
    /// Whether a sender for `kind` is recorded.
    bool recorded(policies::ChannelKind kind) const;

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
