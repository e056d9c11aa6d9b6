// The gateway's shared state: construction and shutdown, the online registry, and the
// pushes of committed mail and alerts to online sessions.
#include "ariadne/core/gateway.h"

#include <nlohmann/json.hpp>

#include "ariadne/crypto/password.h"

namespace ariadne::gateway {

Gateway::Gateway(Store& store, const ServerKey& server_key, Metrics& metrics,
                 GatewayOptions options, std::shared_ptr<const SendPolicy> policy,
                 AlertDesk* alerts)
    : store_(store),
      server_key_(server_key),
      metrics_(metrics),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : system_clock_),
      policy_(policy ? std::move(policy) : std::make_shared<AssignmentPolicy>(store)),
      alerts_(alerts),
      login_budget_(options_.login_budget),
      send_limiter_(options_.sends_per_second, options_.send_burst),
      workers_(options_.worker_threads) {
    const auto& p = options_.recovery_params;
    nlohmann::json params = {{"alg", "argon2id"},  {"version", 19},
                             {"t", p.t_cost},      {"m_kib", p.m_kib},
                             {"p", p.parallelism}, {"salt", crypto::base64_encode(p.salt)}};
    recovery_params_json_ = params.dump();
    // A login for an unknown username verifies against this, so it costs as much as a real one.
    dummy_password_hash_ = crypto::hash_password(crypto::base64_encode(crypto::random_bytes(18)));
}

Gateway::~Gateway() {
    // Order matters: blocking work may queue store jobs whose completions use this object.
    accepting_.store(false);
    workers_.shutdown();
    store_.flush();
}

std::shared_ptr<Session> Gateway::open_session(std::shared_ptr<SessionOutput> output,
                                               std::optional<std::string> peer) {
    return std::make_shared<Session>(*this, std::move(output), std::move(peer));
}

void Gateway::stop_accepting() noexcept { accepting_.store(false); }
bool Gateway::accepting() const noexcept { return accepting_.load(); }

void Gateway::register_online(DeviceKey device, const std::shared_ptr<Session>& session) {
    std::lock_guard lock(online_mutex_);
    online_.emplace(device, session);
}

void Gateway::unregister_online(DeviceKey device, const Session* session) {
    std::lock_guard lock(online_mutex_);
    auto [begin, end] = online_.equal_range(device);
    for (auto it = begin; it != end;) {
        auto s = it->second.lock();
        it = (!s || s.get() == session) ? online_.erase(it) : std::next(it);
    }
}

void Gateway::queue_notice(NewNotice notice, Completion<MailboxEntryPtr> done) {
    store_.store_notice(std::move(notice),
                        [this, done = std::move(done)](CommitStatus status, MailboxEntryPtr e) {
                            if (status == CommitStatus::committed && e) notify({e});
                            if (done) done(status, std::move(e));
                        });
}

std::string Gateway::encode_delivery(const Delivery& delivery) const {
    if (!delivery.is_notice || !options_.render_notice) return encode_deliver(delivery);
    Delivery rendered = delivery;
    try {
        rendered.text = options_.render_notice(delivery);
    } catch (const std::exception&) {
        rendered.text.clear();  // the notice still arrives; the client shows its own default
    }
    return encode_deliver(rendered);
}

void Gateway::notify(const std::vector<MailboxEntryPtr>& entries) {
    // Collect first, call sessions without holding online_mutex_ (they take their own lock).
    std::vector<std::pair<std::shared_ptr<Session>, MailboxEntryPtr>> targets;
    {
        std::lock_guard lock(online_mutex_);
        for (const auto& e : entries) {
            auto [begin, end] = online_.equal_range(DeviceKey{e->recipient, e->recipient_device});
            for (auto it = begin; it != end; ++it) {
                if (auto s = it->second.lock()) targets.emplace_back(std::move(s), e);
            }
        }
    }
    for (auto& [session, entry] : targets) session->on_mail(entry);
}

void Gateway::push_alert(std::function<nlohmann::json()> describe, bool to_everyone,
                         std::vector<std::string> recipients) {
    workers_.post(
        [this, describe = std::move(describe), to_everyone, recipients = std::move(recipients)] {
            std::string frame;
            try {
                frame = nlohmann::json({{"v", 1}, {"type", "alert"}, {"alert", describe()}}).dump();
            } catch (const std::exception&) {
                return;  // the alert is stored; the console's `alerts` request still shows it
            }
            std::vector<std::shared_ptr<Session>> targets;
            {
                std::lock_guard lock(online_mutex_);
                for (auto& [device, weak] : online_) {
                    auto s = weak.lock();
                    if (!s) continue;
                    targets.push_back(std::move(s));
                }
            }
            for (auto& s : targets) s->push_alert(frame, to_everyone, recipients);
        });
}

}  // namespace ariadne::gateway
