// ConsoleService's life: construction, the background thread's schedule (receive, refresh,
// purge, pre-keys) and the connection status it reports.
#include "ariadne/console/service.h"

#include <chrono>
#include <exception>

#include "service_internal.h"

namespace ariadne::console {

using detail::unix_now_ms;

ConsoleService::ConsoleService(std::unique_ptr<client::Messenger> messenger,
                               std::unique_ptr<History> history,
                               std::unique_ptr<crypto::SealedStore> identities,
                               ConsoleSettings settings)
    : messenger_(std::move(messenger)),
      history_(std::move(history)),
      identities_(std::move(identities)),
      settings_(std::move(settings)) {
    if (settings_.canned.empty()) settings_.canned = default_canned_replies();
}

ConsoleService::~ConsoleService() { stop(); }

void ConsoleService::start() {
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void ConsoleService::stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
}

void ConsoleService::run() {
    auto next_contacts = std::chrono::steady_clock::now();
    auto next_housekeeping = std::chrono::steady_clock::now();
    auto next_settings = std::chrono::steady_clock::now();
    while (running_) {
        auto now = std::chrono::steady_clock::now();
        try {
            if (now >= next_contacts) {
                refresh_contacts();
                next_contacts = now + std::chrono::seconds(5);
            }
            if (now >= next_settings) {
                // Each minute: a change of the duress words reaches every console quickly.
                refresh_settings();
                next_settings = now + std::chrono::minutes(1);
            }
            if (now >= next_housekeeping) {
                history_->purge_older_than(unix_now_ms() -
                                           std::int64_t{effective_retention_days()} * 86'400'000);
                messenger_->top_up_pre_keys();
                next_housekeeping = now + std::chrono::minutes(10);
            }
            receive_one();
            std::lock_guard lock(mu_);
            connection_problem_.clear();
            last_sync_ms_ = unix_now_ms();
        } catch (const std::exception& e) {
            {
                std::lock_guard lock(mu_);
                connection_problem_ =
                    "The console cannot reach the gateway right now; it keeps trying. Messages "
                    "wait safely at the gateway until then.";
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

Json ConsoleService::status() {
    int retention = effective_retention_days();
    std::lock_guard lock(mu_);
    return {{"account", messenger_->account()},
            {"device_id", messenger_->device_id()},
            {"connection_problem", connection_problem_},
            {"last_sync_ms", last_sync_ms_},
            {"retention_days", retention},
            {"retention_from", org_retention_days_ > 0 ? "organisation" : "console"}};
}

}  // namespace ariadne::console
