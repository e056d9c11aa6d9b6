#include "ariadne/storage/channel_senders.h"

namespace ariadne::storage {

ChannelSenders::ChannelSenders(const policies::PolicyStore& store) : db_(store) {}

void ChannelSenders::clear() {
    auto db = db_.lock();
    db->exec("DELETE FROM gateway_channel_senders");
}

void ChannelSenders::record(policies::ChannelKind kind, std::int64_t registered_at_ms) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_channel_senders(kind, registered_at_ms) VALUES(?1, ?2) "
          "ON CONFLICT(kind) DO UPDATE SET registered_at_ms = excluded.registered_at_ms")
        .bind(1, policies::to_string(kind))
        .bind(2, registered_at_ms)
        .run();
}

void ChannelSenders::forget(policies::ChannelKind kind) {
    auto db = db_.lock();
    db->cached("DELETE FROM gateway_channel_senders WHERE kind = ?1")
        .bind(1, policies::to_string(kind))
        .run();
}

bool ChannelSenders::recorded(policies::ChannelKind kind) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT 1 FROM gateway_channel_senders WHERE kind = ?1");
    s.bind(1, policies::to_string(kind));
    return s.step();
}

}  // namespace ariadne::storage
