// LocalLink: an in-process client connection to the gateway core. It is the SessionOutput of a
// gateway::Session, so the edge speaks the wire protocol (docs/protocol.md) to the same code
// remote clients reach over WSS, without a socket.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"

namespace ariadne::adapters::detail {

using Json = nlohmann::json;

class LocalLink : public gateway::SessionOutput {
  public:
    /// `on_push` runs (under the session's lock: it must only queue) for each frame without
    /// an id (the server's `deliver` pushes).
    explicit LocalLink(std::function<void(Json)> on_push) : on_push_(std::move(on_push)) {}

    void send_text(std::string frame) override;
    void close(std::uint16_t code, std::string reason) override;

    /// Sends `request` (v and id are filled in) to `session` and waits for its answer.
    /// Returns the answer (ok or error frame). Throws AdapterError(timeout) after `timeout`
    /// and AdapterError(gateway_refused) if the session closed.
    Json call(gateway::Session& session, Json request, std::chrono::milliseconds timeout);

    bool closed() const;

  private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::int64_t, Json> answers_;
    std::int64_t next_id_ = 1;
    bool closed_ = false;
    std::function<void(Json)> on_push_;
};

}  // namespace ariadne::adapters::detail
