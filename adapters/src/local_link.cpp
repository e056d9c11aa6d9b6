#include "local_link.h"

#include "ariadne/adapters/edge.h"

namespace ariadne::adapters::detail {

void LocalLink::send_text(std::string frame) {
    Json j = Json::parse(frame, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    auto id = j.find("id");
    if (id == j.end() || !id->is_number_integer()) {
        if (j.value("type", "") == "deliver") on_push_(std::move(j));
        return;
    }
    // Read the id before moving: json's operator= takes its argument by value, so the move
    // would happen before the left-hand side (and this iterator) is evaluated.
    const auto key = id->get<std::int64_t>();
    {
        std::lock_guard lock(mutex_);
        answers_[key] = std::move(j);
    }
    cv_.notify_all();
}

void LocalLink::close(std::uint16_t, std::string) {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    cv_.notify_all();
}

bool LocalLink::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

Json LocalLink::call(gateway::Session& session, Json request, std::chrono::milliseconds timeout) {
    std::int64_t id;
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            throw AdapterError(AdapterError::Code::gateway_refused,
                               "the in-process gateway session is closed");
        }
        id = next_id_++;
    }
    request["v"] = 1;
    request["id"] = id;
    session.on_text(request.dump());
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return answers_.count(id) > 0 || closed_; })) {
        throw AdapterError(AdapterError::Code::timeout, "the gateway core did not answer in time");
    }
    auto it = answers_.find(id);
    if (it == answers_.end()) {
        throw AdapterError(AdapterError::Code::gateway_refused,
                           "the in-process gateway session was closed");
    }
    Json answer = std::move(it->second);
    answers_.erase(it);
    return answer;
}

}  // namespace ariadne::adapters::detail
