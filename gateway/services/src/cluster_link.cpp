// The cluster bus over PostgreSQL LISTEN/NOTIFY (cluster_link.h): a queue and a sender
// thread, so a publish from the store's writer thread never waits for the network, and the
// poll timer that makes notifications a shortcut rather than a necessity.
#include "ariadne/services/cluster_link.h"

#include <spdlog/spdlog.h>

#include "ariadne/core/gateway.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/sqlite/notifications.h"

namespace ariadne::gateway {

namespace {

constexpr std::size_t kMaxQueued = 10000;

std::string random_node_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (auto b : crypto::random_bytes(8)) {
        id.push_back(kHex[b >> 4]);
        id.push_back(kHex[b & 0xf]);
    }
    return id;
}

}  // namespace

std::string cluster_channel(storage::Store& store) {
    return "ariadne_" + store.setting_or_insert("cluster_channel", random_node_id());
}

ClusterLink::ClusterLink(std::string uri, std::string channel, std::chrono::milliseconds poll)
    : uri_(std::move(uri)), channel_(std::move(channel)), poll_(poll), node_id_(random_node_id()) {}

ClusterLink::~ClusterLink() { stop(); }

void ClusterLink::start(Gateway& gateway) {
    gateway_ = &gateway;
    gateway.join_cluster(*this, node_id_);
    notifications_ =
        std::make_unique<sqlite::Notifications>(uri_, channel_, [this](std::string_view payload) {
            if (gateway_ != nullptr) gateway_->on_cluster_message(payload);
        });
    sender_ = std::thread([this] { send_loop(); });
}

void ClusterLink::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (sender_.joinable()) sender_.join();
    notifications_.reset();  // joins the listener
    gateway_ = nullptr;
}

void ClusterLink::publish(std::string payload) noexcept {
    try {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        // A node that cannot send keeps the newest news; the poll timer covers the rest.
        if (queue_.size() >= kMaxQueued) queue_.pop_front();
        queue_.push_back(std::move(payload));
    } catch (...) {
        return;  // out of memory: the poll timer delivers it
    }
    cv_.notify_one();
}

void ClusterLink::send_loop() {
    auto next_poll = std::chrono::steady_clock::now() + poll_;
    std::size_t failures = 0;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        cv_.wait_until(lock, next_poll, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        std::deque<std::string> batch;
        batch.swap(queue_);
        lock.unlock();
        for (const auto& payload : batch) {
            if (notifications_->notify(payload)) {
                if (failures > 0) spdlog::info("cluster: notifications are sent again");
                failures = 0;
            } else if (failures++ == 0) {
                spdlog::warn(
                    "cluster: a notification could not be sent; other nodes find the "
                    "news by polling");
            }
        }
        if (std::chrono::steady_clock::now() >= next_poll) {
            next_poll = std::chrono::steady_clock::now() + poll_;
            gateway_->wake_devices_with_mail();
        }
        lock.lock();
    }
}

}  // namespace ariadne::gateway
