// The gateway's shared state: construction and shutdown, the online registry, and the
// pushes of committed mail and alerts to online sessions.
#include "ariadne/core/gateway.h"

#include <charconv>
#include <set>

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
    if (cluster_ == nullptr || entries.empty()) return;
    // Other nodes wake their sessions of these devices (chunked under NOTIFY's payload limit).
    std::set<DeviceKey> devices;
    for (const auto& e : entries) devices.emplace(e->recipient, e->recipient_device);
    std::string payload = "m|" + node_id_ + "|";
    const std::size_t header = payload.size();
    for (const auto& [account, device] : devices) {
        if (payload.size() > 7000) {
            payload.pop_back();
            cluster_->publish(std::exchange(payload, "m|" + node_id_ + "|"));
        }
        payload += std::to_string(account) + "." + std::to_string(device) + ",";
    }
    if (payload.size() > header) {
        payload.pop_back();
        cluster_->publish(std::move(payload));
    }
}

std::vector<std::shared_ptr<Session>> Gateway::sessions_of(DeviceKey device) {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard lock(online_mutex_);
    auto [begin, end] = online_.equal_range(device);
    for (auto it = begin; it != end; ++it) {
        if (auto s = it->second.lock()) out.push_back(std::move(s));
    }
    return out;
}

void Gateway::join_cluster(ClusterBus& bus, std::string node_id) {
    node_id_ = std::move(node_id);
    cluster_ = &bus;
}

void Gateway::announce_login(DeviceKey device) {
    if (cluster_ == nullptr) return;
    cluster_->publish("d|" + node_id_ + "|" + std::to_string(device.first) + "." +
                      std::to_string(device.second));
}

void Gateway::end_device_sessions(AccountKey account, std::uint32_t device) {
    for (auto& s : sessions_of({account, device})) s->end_revoked();
    if (cluster_ != nullptr) {
        cluster_->publish("r|" + node_id_ + "|" + std::to_string(account) + "." +
                          std::to_string(device));
    }
}

void Gateway::wake_all() {
    std::vector<std::shared_ptr<Session>> all;
    {
        std::lock_guard lock(online_mutex_);
        for (auto& [device, weak] : online_) {
            if (auto s = weak.lock()) all.push_back(std::move(s));
        }
    }
    for (auto& s : all) s->wake();
}

void Gateway::wake_devices_with_mail() {
    std::vector<std::pair<AccountKey, std::uint32_t>> devices;
    try {
        devices = store_.mailbox().devices_with_mail();
    } catch (const std::exception&) {
        return;
    }
    for (const auto& device : devices) {
        for (auto& s : sessions_of(device)) s->wake();
    }
}

namespace {

/// "K.D" → the device key; nullopt when malformed.
std::optional<std::pair<AccountKey, std::uint32_t>> parse_device(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    AccountKey account = 0;
    std::uint32_t device = 0;
    auto a = std::from_chars(text.data(), text.data() + dot, account);
    auto d = std::from_chars(text.data() + dot + 1, text.data() + text.size(), device);
    if (a.ec != std::errc() || a.ptr != text.data() + dot || d.ec != std::errc() ||
        d.ptr != text.data() + text.size()) {
        return std::nullopt;
    }
    return std::make_pair(account, device);
}

/// Splits `text` at `separator` into at most `parts` pieces (the last keeps the rest).
std::vector<std::string_view> split(std::string_view text, char separator, std::size_t parts) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < parts) {
        const auto at = text.find(separator);
        if (at == std::string_view::npos) break;
        out.push_back(text.substr(0, at));
        text.remove_prefix(at + 1);
    }
    out.push_back(text);
    return out;
}

}  // namespace

void Gateway::on_cluster_message(std::string_view payload) {
    if (payload.empty()) {
        wake_all();
        return;
    }
    auto parts = split(payload, '|', payload.starts_with("a|") ? 5 : 3);
    if (parts.size() < 3 || parts[1] == node_id_) return;  // ours: handled when published
    if (parts[0] == "m") {
        for (auto item : split(parts[2], ',', 100000)) {
            if (auto device = parse_device(item)) {
                for (auto& s : sessions_of(*device)) s->wake();
            }
        }
    } else if (parts[0] == "d") {
        if (auto device = parse_device(parts[2])) {
            for (auto& s : sessions_of(*device)) s->displace();
        }
    } else if (parts[0] == "r") {
        if (auto device = parse_device(parts[2])) {
            for (auto& s : sessions_of(*device)) s->end_revoked();
        }
    } else if (parts[0] == "a" && parts.size() == 5) {
        std::vector<std::string> recipients;
        for (auto id : split(parts[3], ',', 100000)) {
            if (!id.empty()) recipients.emplace_back(id);
        }
        push_alert_frame(std::string(parts[4]), parts[2] == "1", recipients);
    }
}

void Gateway::push_alert(std::function<nlohmann::json()> describe, bool to_everyone,
                         std::vector<std::string> recipients) {
    push_to_caseworkers("alert", std::move(describe), to_everyone, std::move(recipients));
}

void Gateway::push_callback(std::function<nlohmann::json()> describe,
                            std::vector<std::string> recipients) {
    push_to_caseworkers("callback", std::move(describe), false, std::move(recipients));
}

void Gateway::push_to_caseworkers(const char* type, std::function<nlohmann::json()> describe,
                                  bool to_everyone, std::vector<std::string> recipients) {
    workers_.post([this, type, describe = std::move(describe), to_everyone,
                   recipients = std::move(recipients)] {
        std::string frame;
        try {
            frame = nlohmann::json({{"v", 1}, {"type", type}, {type, describe()}}).dump();
        } catch (const std::exception&) {
            return;  // it is stored; the console's `alerts`/`callbacks` still lists it
        }
        push_alert_frame(frame, to_everyone, recipients);
        if (cluster_ != nullptr) {
            std::string ids;
            for (const auto& r : recipients) ids += (ids.empty() ? "" : ",") + r;
            std::string payload =
                "a|" + node_id_ + "|" + (to_everyone ? "1" : "0") + "|" + ids + "|" + frame;
            // Too long for one notification: the other nodes' consoles see it at their
            // next `alerts` request instead of as a push.
            if (payload.size() <= 7900) cluster_->publish(std::move(payload));
        }
    });
}

void Gateway::push_alert_frame(const std::string& frame, bool to_everyone,
                               const std::vector<std::string>& recipients) {
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
}

}  // namespace ariadne::gateway
