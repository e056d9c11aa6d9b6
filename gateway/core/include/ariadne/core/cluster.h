// How gateway nodes that share one database reach each other: a bus that carries short
// text messages to every node (LISTEN/NOTIFY on PostgreSQL, ariadne/services/cluster_link.h).
// The Gateway publishes what other nodes' sessions need to know (mail committed for a
// device, a device's new login, an alert) and reads what they publish
// (Gateway::on_cluster_message). A message may be lost: correctness never depends on one,
// because every node also re-reads its online devices' backlogs on a timer.
//
// Messages ('|'-separated, origin = the publishing node's id):
//   m|origin|K.D,K.D,…      mail was committed for these devices (account key K, device D)
//   d|origin|K.D            device K.D logged in on origin: other nodes close its older
//                           connection (1008, "signed in on another node")
//   a|origin|E|id,id,…|frame an alert frame for these caseworker account ids (E=1: everyone)
//   (empty)                 news may have been missed: re-read every backlog
//
// Thread safety: publish() is called from any thread, with locks held: it must only queue.
#pragma once

#include <string>

namespace ariadne::gateway {

class ClusterBus {
  public:
    virtual ~ClusterBus() = default;
    /// Queues `payload` for every node (this one included). Never blocks, never throws.
    virtual void publish(std::string payload) noexcept = 0;
};

}  // namespace ariadne::gateway
