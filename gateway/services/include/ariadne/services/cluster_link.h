// The bus between gateway nodes that share a PostgreSQL database (core/cluster.h), over
// LISTEN/NOTIFY on the deployment's channel (`ariadne_` and a random id kept in the database's settings, so deployments sharing one PostgreSQL database never hear each other): publish() queues, a sender thread sends
// (outside every transaction), the listener hands other nodes' messages to the Gateway, and a
// timer makes the online devices that have mail waiting re-read their backlog each `poll`
// (one query per node and poll; so a lost notification delays mail by at most `poll`, never
// loses it).
//
// Lifetime: create it before the Gateway (which keeps a pointer to it), start() once the
// Gateway exists, stop() before the Gateway is destroyed; publish() after stop() only queues.
// Errors: the constructor throws storage::Error if the database cannot be reached.
// Thread safety: publish() from any thread; start()/stop() from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ariadne/core/cluster.h"
#include "ariadne/core/store.h"

namespace ariadne::sqlite {
class Notifications;
}

namespace ariadne::gateway {

class Gateway;

/// The notification channel of the deployment whose database `store` is: `ariadne_` and a
/// random id kept in the database's settings (made by the first node to start), so two
/// deployments in schemas of one PostgreSQL database never hear each other (channels are
/// per database). Throws storage::Error if the setting cannot be read or written.
std::string cluster_channel(storage::Store& store);

class ClusterLink final : public ClusterBus {
  public:
    /// `channel`: the deployment's notification channel (cluster_channel()).
    ClusterLink(std::string uri, std::string channel, std::chrono::milliseconds poll);
    ~ClusterLink() override;
    ClusterLink(const ClusterLink&) = delete;
    ClusterLink& operator=(const ClusterLink&) = delete;

    /// This node's id: 16 random hex digits, new at every start.
    const std::string& node_id() const noexcept { return node_id_; }
    /// Joins `gateway` to the cluster and starts the threads.
    void start(Gateway& gateway);
    /// Stops the threads (the Gateway is no longer called).
    void stop();

    void publish(std::string payload) noexcept override;

  private:
    void send_loop();

    std::string uri_;
    std::string channel_;
    std::chrono::milliseconds poll_;
    std::string node_id_;
    Gateway* gateway_ = nullptr;
    std::unique_ptr<sqlite::Notifications> notifications_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool stopping_ = false;
    std::thread sender_;
};

}  // namespace ariadne::gateway
