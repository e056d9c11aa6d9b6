// Connection accounting: the per-address and total caps, and who is cut for a newcomer.
#include "connection_slots.h"

#include <algorithm>
#include <utility>

namespace ariadne::gateway::net_detail {

ConnectionTable::ConnectionTable(Metrics& metrics, Limits limits)
    : metrics_(metrics),
      max_connections_(limits.max_connections),
      max_per_address_(limits.max_per_address),
      max_unauthenticated_per_address_(limits.max_unauthenticated_per_address),
      max_unauthenticated_(
          std::max<std::uint32_t>(1, limits.max_connections - limits.max_connections / 10)) {}

AddressCount ConnectionTable::count(const std::string& address) const {
    std::lock_guard lock(mutex_);
    auto it = addresses_.find(address);
    return it == addresses_.end() ? AddressCount{} : it->second;
}

std::optional<ConnectionSlot> ConnectionSlot::acquire(ConnectionTable& t, std::string address) {
    std::weak_ptr<TlsCore> victim;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(t.mutex_);
        auto [it, added] = t.addresses_.try_emplace(address);
        AddressCount& count = it->second;
        if (count.open >= t.max_per_address_ ||
            count.unauthenticated >= t.max_unauthenticated_per_address_) {
            if (added) t.addresses_.erase(it);
            return std::nullopt;
        }
        if (t.metrics_.connections_open.load(std::memory_order_relaxed) >=
                static_cast<std::int64_t>(t.max_connections_) ||
            t.unauthenticated_ >= t.max_unauthenticated_) {
            if (t.waiting_.empty()) {  // every slot is logged in
                if (added) t.addresses_.erase(it);
                return std::nullopt;
            }
            victim = std::move(t.waiting_.begin()->second);
            t.waiting_.erase(t.waiting_.begin());
        }
        ++count.open;
        ++count.unauthenticated;
        ++t.unauthenticated_;
        seq = t.next_seq_++;
        t.metrics_.connections_open.fetch_add(1, std::memory_order_relaxed);
    }
    if (!victim.expired()) {
        t.metrics_.connections_cut.fetch_add(1, std::memory_order_relaxed);
        cut_connection(victim);
    }
    return ConnectionSlot(t, std::move(address), seq);
}

ConnectionSlot::ConnectionSlot(ConnectionSlot&& o) noexcept
    : table_(std::exchange(o.table_, nullptr)),
      address_(std::move(o.address_)),
      seq_(o.seq_),
      authenticated_(o.authenticated_) {}

void ConnectionSlot::attach(std::weak_ptr<TlsCore> core) {
    std::lock_guard lock(table_->mutex_);
    if (!authenticated_) table_->waiting_.emplace(seq_, std::move(core));
}

ConnectionSlot::~ConnectionSlot() {
    if (!table_) return;
    std::lock_guard lock(table_->mutex_);
    if (!authenticated_) table_->waiting_.erase(seq_);
    auto it = table_->addresses_.find(address_);
    if (it != table_->addresses_.end()) {
        if (!authenticated_) --it->second.unauthenticated;
        if (--it->second.open == 0) table_->addresses_.erase(it);
    }
    if (!authenticated_) --table_->unauthenticated_;
    table_->metrics_.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionSlot::mark_authenticated() {
    if (!table_ || authenticated_) return;
    authenticated_ = true;
    std::lock_guard lock(table_->mutex_);
    table_->waiting_.erase(seq_);
    auto it = table_->addresses_.find(address_);
    if (it != table_->addresses_.end()) --it->second.unauthenticated;
    --table_->unauthenticated_;
}

}  // namespace ariadne::gateway::net_detail
