// PostgreSQL LISTEN/NOTIFY on one channel, for gateway nodes that share a database: a thread
// listens on its own connection and hands each payload to a callback; notify() sends one on a
// second connection, outside any transaction (a NOTIFY inside the message-insert transaction
// would take PostgreSQL's notification lock at every commit).
//
// Notifications are hints, never the only way news arrives: after the listening connection
// was lost and re-established, the callback is called with an empty payload ("something may
// have been missed: look again"). Payloads are at most 7,900 bytes.
//
// Thread safety: notify() may be called from any thread (it serialises on its connection);
// the callback runs on the listener thread, one call at a time, and must not block long.
// Errors: the constructor throws Error (open) if the server cannot be reached; later
// connection failures are retried every second and counted, never thrown.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "ariadne/sqlite/sqlite.h"

namespace ariadne::sqlite {

class Notifications {
  public:
    Notifications(std::string uri, std::string channel,
                  std::function<void(std::string_view payload)> on_message);
    /// Stops the listener thread and closes both connections.
    ~Notifications();
    Notifications(const Notifications&) = delete;
    Notifications& operator=(const Notifications&) = delete;

    /// Sends `payload` to every listener of the channel (this one included). Returns false if
    /// it could not be sent (the server is unreachable); the listeners then rely on polling.
    bool notify(std::string_view payload) noexcept;

    static constexpr std::size_t kMaxPayload = 7900;

  private:
    void listen_loop();

    std::string uri_;
    std::string channel_;
    std::function<void(std::string_view)> on_message_;
    std::mutex send_mutex_;
    std::unique_ptr<Connection> sender_;
    std::atomic<bool> stopping_{false};
    int wake_pipe_[2] = {-1, -1};
    std::thread listener_;
};

}  // namespace ariadne::sqlite
