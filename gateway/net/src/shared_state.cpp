// The registry of open WebSockets, which the graceful shutdown closes.
#include "shared_state.h"

#include <vector>

namespace ariadne::gateway::net_detail {

void OpenSessions::add(ClosableSession* key, std::weak_ptr<ClosableSession> session) {
    std::lock_guard lock(mutex_);
    sessions_.emplace(key, std::move(session));
}

void OpenSessions::remove(ClosableSession* key) {
    std::lock_guard lock(mutex_);
    sessions_.erase(key);
    ended_.notify_all();
}

void OpenSessions::close_all(std::chrono::steady_clock::duration grace) {
    std::vector<std::shared_ptr<ClosableSession>> open;
    {
        std::lock_guard lock(mutex_);
        for (auto& [key, weak] : sessions_) {
            if (auto session = weak.lock()) open.push_back(std::move(session));
        }
    }
    for (auto& session : open) session->close_when_drained();
    open.clear();
    std::unique_lock lock(mutex_);
    ended_.wait_for(lock, grace, [&] { return sessions_.empty(); });
}

}  // namespace ariadne::gateway::net_detail
