#include "ariadne/adapters/edge.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "ariadne/core/gateway.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/session.h"
#include "ariadne/storage/edge_files.h"
#include "ariadne/storage/edge_history.h"
#include "local_link.h"

namespace ariadne::adapters {

using crypto::Bytes;
using crypto::ByteView;
using detail::Json;
using detail::LocalLink;
using Code = AdapterError::Code;

const char* to_string(EdgeChannel channel) noexcept {
    return channel == EdgeChannel::web ? "web" : "sms";
}

namespace {

constexpr std::size_t kMaxInboundText = 4000;

crypto::SecretBytes read_server_key(const std::filesystem::path& data_dir) {
    // ServerKey creates the file if needed (0600) and checks its size; read the raw bytes
    // only to derive purpose-bound sub-keys from them.
    (void)gateway::ServerKey::load_or_create(data_dir);
    std::ifstream in(data_dir / "server.key", std::ios::binary);
    Bytes raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.size() != 32)
        throw AdapterError(Code::storage, "the server key file could not be read");
    return crypto::SecretBytes(std::move(raw));
}

crypto::SecretBytes derive(const crypto::SecretBytes& key, std::string_view info, std::size_t n) {
    return crypto::hkdf_sha256(key.view(), {}, crypto::as_bytes(info), n);
}

/// What a storage failure of the edge history means to the hub's callers.
template <typename Call>
auto stored(const char* failure, Call call) -> decltype(call()) {
    try {
        return call();
    } catch (const storage::Error& e) {
        // The storage sentence never holds a bound value: safe to pass on.
        throw AdapterError(Code::storage, std::string(failure) + " (" + e.what() + ")");
    }
}

/// The edge history, sealed under the server key before it reaches the repository (which
/// sees only sealed blobs and a keyed tag of the account id).
class HistoryDb {
  public:
    HistoryDb(const std::filesystem::path& path, const gateway::ServerKey& key,
              crypto::SecretBytes tag_key)
        : key_(key),
          tag_key_(std::move(tag_key)),
          rows_(stored("the edge history database could not be opened",
                       [&] { return std::make_unique<storage::EdgeHistory>(path); })) {}

    std::string tag(const std::string& account) const {
        return crypto::hex_encode(
            crypto::hkdf_sha256(tag_key_.view(), {}, crypto::as_bytes(account), 16).view());
    }

    void append(const std::string& account, std::int64_t at_ms, bool from_survivor,
                std::string_view text, std::size_t limit) {
        Bytes sealed = seal_line(account, from_survivor, text);
        stored("the edge history could not be written",
               [&] { rows_->append(tag(account), at_ms, sealed, limit); });
    }

    /// A reply as it is decrypted: its history row and its pending copy in one transaction,
    /// so a crash leaves both or neither.
    void append_reply(const std::string& account, std::int64_t server_id, std::int64_t at_ms,
                      std::string_view text, std::size_t limit) {
        Bytes pending = key_.seal("edge-pending|" + account + "|" + std::to_string(server_id),
                                  crypto::as_bytes(text));
        Bytes line = seal_line(account, false, text);
        stored("the edge history could not be written", [&] {
            rows_->append_with_pending(tag(account), at_ms, line, server_id, pending, limit);
        });
    }

    /// The text of a reply decrypted earlier and not yet settled, if any.
    std::optional<std::string> pending(const std::string& account, std::int64_t server_id) {
        auto sealed = stored("the edge history could not be read",
                             [&] { return rows_->pending(tag(account), server_id); });
        if (!sealed) return std::nullopt;
        try {
            crypto::SecretBytes plain =
                key_.open("edge-pending|" + account + "|" + std::to_string(server_id), *sealed);
            return std::string(reinterpret_cast<const char*>(plain.data()), plain.size());
        } catch (const std::exception&) {
            return std::nullopt;  // not sealed for this entry: treated as absent
        }
    }

    void forget_pending(const std::string& account, std::int64_t server_id) {
        stored("the edge history could not be written",
               [&] { rows_->forget_pending(tag(account), server_id); });
    }

    void add_unread(const std::string& account, std::int64_t server_id, std::int64_t at_ms) {
        stored("the edge history could not be written",
               [&] { rows_->add_unread(tag(account), server_id, at_ms); });
    }
    std::vector<std::int64_t> unread_since(const std::string& account, std::int64_t from_ms) {
        return stored("the edge history could not be read",
                      [&] { return rows_->unread_since(tag(account), from_ms); });
    }
    void forget_unread(const std::string& account, std::int64_t server_id) {
        stored("the edge history could not be written",
               [&] { rows_->forget_unread(tag(account), server_id); });
    }

    void remember_account(const std::string& account) {
        Bytes sealed = key_.seal("edge-account", crypto::as_bytes(account));
        stored("the edge account list could not be written",
               [&] { rows_->remember_account(tag(account), sealed); });
    }

    std::vector<std::string> accounts() {
        auto rows =
            stored("the edge account list could not be read", [&] { return rows_->accounts(); });
        std::vector<std::string> out;
        for (const auto& sealed : rows) {
            try {
                crypto::SecretBytes plain = key_.open("edge-account", sealed);
                out.emplace_back(plain.data(), plain.data() + plain.size());
            } catch (const std::exception&) {
                // sealed under another server key: not an account of this deployment
            }
        }
        return out;
    }

    std::vector<HistoryEntry> read(const std::string& account) {
        auto rows =
            stored("the edge history could not be read", [&] { return rows_->rows(tag(account)); });
        std::vector<HistoryEntry> out;
        for (const auto& row : rows) {
            crypto::SecretBytes plain = key_.open("edge-history|" + account, row.sealed);
            if (plain.empty()) continue;
            HistoryEntry e;
            e.at_ms = row.at_ms;
            e.from_survivor = plain.data()[0] == 1;
            e.text.assign(reinterpret_cast<const char*>(plain.data()) + 1, plain.size() - 1);
            out.push_back(std::move(e));
        }
        return out;
    }

  private:
    Bytes seal_line(const std::string& account, bool from_survivor, std::string_view text) const {
        Bytes plain;
        plain.push_back(from_survivor ? 1 : 0);
        plain.insert(plain.end(), text.begin(), text.end());
        Bytes sealed = key_.seal("edge-history|" + account, plain);
        crypto::wipe(plain.data(), plain.size());
        return sealed;
    }

    const gateway::ServerKey& key_;
    crypto::SecretBytes tag_key_;
    std::unique_ptr<storage::EdgeHistory> rows_;
};

}  // namespace

/// One survivor's edge device: its Party, its in-process session and link.
struct EdgeDevice {
    std::string account;
    std::unique_ptr<crypto::Party> party;
    std::shared_ptr<LocalLink> link;
    std::shared_ptr<gateway::Session> session;
    // Serialises requests of this device (send vs. ack vs. top-up). Recursive: a reply
    // handler (holding it) may settle its own reply through EdgeHub::acknowledge.
    std::recursive_mutex mutex;
};

struct EdgeHub::Impl {
    gateway::Gateway& gateway;
    EdgeOptions options;
    gateway::ServerKey server_key;
    crypto::SecretBytes raw_key;
    storage::EdgeFiles files;
    std::unique_ptr<HistoryDb> history;

    std::mutex devices_mutex;
    std::map<std::string, std::shared_ptr<EdgeDevice>> devices;

    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<std::pair<std::shared_ptr<EdgeDevice>, Json>> queue;
    std::size_t busy = 0;
    bool stopping = false;
    std::function<void(EdgeReply&)> reply_handler;
    std::thread thread;

    Impl(gateway::Gateway& g, EdgeOptions o)
        : gateway(g),
          options(std::move(o)),
          server_key(gateway::ServerKey::load_or_create(options.data_dir)),
          raw_key(read_server_key(options.data_dir)),
          files(options.data_dir) {
        stored("the edge directory could not be created", [&] { files.create_directory(); });
        history = std::make_unique<HistoryDb>(files.history(), server_key,
                                              derive(raw_key, "ariadne/v1/edge-history-tag", 32));
        thread = std::thread([this] { run(); });
    }

    ~Impl() {
        {
            std::lock_guard lock(queue_mutex);
            stopping = true;
        }
        queue_cv.notify_all();
        thread.join();
        std::lock_guard lock(devices_mutex);
        for (auto& [_, d] : devices) {
            if (d->session) d->session->on_closed();
        }
    }

    Json call(EdgeDevice& d, Json request) {
        return d.link->call(*d.session, std::move(request), options.request_timeout);
    }

    static Json ok_or_throw(Json answer, const char* what) {
        if (answer.value("type", "") != "ok") {
            throw AdapterError(Code::gateway_refused,
                               std::string("the gateway refused the edge device's ") + what + " (" +
                                   answer.value("code", "unknown") + ")");
        }
        return answer;
    }

    void open_session(const std::shared_ptr<EdgeDevice>& d) {
        std::weak_ptr<EdgeDevice> weak = d;
        d->link = std::make_shared<LocalLink>([this, weak](Json push) {
            if (auto dev = weak.lock()) {
                {
                    std::lock_guard lock(queue_mutex);
                    queue.emplace_back(std::move(dev), std::move(push));
                }
                queue_cv.notify_all();
            }
        });
        d->session = gateway.open_session(d->link);
        Json ch = ok_or_throw(call(*d, {{"type", "challenge"}}), "challenge");
        Bytes challenge = crypto::base64_decode(ch.at("challenge").get<std::string>());
        auto identity = d->party->store().local_identity();
        if (!identity) throw AdapterError(Code::internal, "the edge store holds no identity");
        Bytes signature = crypto::sign_login_challenge(identity->private_key, challenge);
        ok_or_throw(call(*d, {{"type", "auth_device"},
                              {"account", d->account},
                              {"device_id", kEdgeDeviceId},
                              {"signature", crypto::base64_encode(signature)}}),
                    "login");
        top_up(*d);
    }

    void top_up(EdgeDevice& d) {
        Json count = ok_or_throw(call(d, {{"type", "keys_count"}}), "key count");
        if (count.value("pre_key_count", 0u) >= options.pre_key_batch / 2) return;
        crypto::UploadSet set =
            d.party->upload_set(static_cast<std::int32_t>(kEdgeDeviceId), options.pre_key_batch);
        Json pre_keys = Json::array();
        for (const auto& k : set.pre_keys) {
            pre_keys.push_back({{"id", k.id}, {"public_key", crypto::base64_encode(k.public_key)}});
        }
        ok_or_throw(
            call(d,
                 {{"type", "keys_upload"},
                  {"signed_pre_key",
                   {{"id", set.signed_pre_key.id},
                    {"public_key", crypto::base64_encode(set.signed_pre_key.public_key)},
                    {"signature", crypto::base64_encode(set.signed_pre_key.signature)}}},
                  {"pre_keys", std::move(pre_keys)},
                  {"last_resort",
                   {{"id", set.last_resort_pre_key.id},
                    {"public_key", crypto::base64_encode(set.last_resort_pre_key.public_key)}}}}),
            "key upload");
    }

    std::shared_ptr<EdgeDevice> attach(const std::string& account) {
        {
            std::lock_guard lock(devices_mutex);
            auto it = devices.find(account);
            if (it != devices.end() && it->second->link && !it->second->link->closed()) {
                return it->second;
            }
        }
        std::optional<gateway::Account> acc = gateway.store().find_account(account);
        if (!acc || acc->role != gateway::Role::survivor) {
            throw AdapterError(Code::not_survivor, "there is no survivor account with this id");
        }
        std::lock_guard lock(devices_mutex);
        auto& slot = devices[account];
        if (slot && slot->link && !slot->link->closed()) return slot;
        auto d = std::make_shared<EdgeDevice>();
        d->account = account;
        if (slot) {
            d->party = std::move(slot->party);
            if (slot->session) slot->session->on_closed();
        } else {
            const std::string tag = history->tag(account);
            crypto::StoreKey key = crypto::StoreKey::from_bytes(
                derive(raw_key, "ariadne/v1/edge-store|" + account, 32).view());
            d->party = crypto::Party::open(files.identity_store(tag), key);
            std::promise<gateway::CommitStatus> bound;
            gateway.store().bind_edge_device(
                acc->key, kEdgeDeviceId, d->party->identity_key(), d->party->registration_id(),
                [&bound](gateway::CommitStatus status, bool) { bound.set_value(status); });
            auto status = bound.get_future().get();
            if (status != gateway::CommitStatus::committed) {
                throw AdapterError(status == gateway::CommitStatus::rejected ? Code::gateway_refused
                                                                             : Code::storage,
                                   "the edge device could not be registered with the gateway");
            }
        }
        open_session(d);
        slot = d;
        history->remember_account(account);
        spdlog::info("edge device attached for account {}", account);
        return d;
    }

    void ensure_sessions(EdgeDevice& d, const std::string& to,
                         const std::vector<std::uint32_t>& want, bool force) {
        std::vector<std::uint32_t> need;
        for (auto dev : want) {
            if (force || !d.party->has_session({to, static_cast<std::int32_t>(dev)})) {
                need.push_back(dev);
            }
        }
        if (need.empty()) return;
        Json r = ok_or_throw(call(d, {{"type", "keys_fetch"}, {"account", to}}), "key fetch");
        for (const Json& b : r.at("bundles")) {
            auto device = b.at("device_id").get<std::uint32_t>();
            if (std::find(need.begin(), need.end(), device) == need.end()) continue;
            crypto::PreKeyBundle bundle = crypto::parse_bundle(b.dump());
            d.party->start_session({to, static_cast<std::int32_t>(device)}, bundle);
        }
    }

    void send_to(EdgeDevice& d, const std::string& to, std::vector<std::uint32_t> devices,
                 std::string_view text) {
        for (int attempt = 0;; ++attempt) {
            ensure_sessions(d, to, devices, false);
            Json messages = Json::array();
            for (auto dev : devices) {
                crypto::Ciphertext c =
                    d.party->encrypt({to, static_cast<std::int32_t>(dev)}, crypto::as_bytes(text));
                messages.push_back({{"device_id", dev},
                                    {"type", c.type},
                                    {"body", crypto::base64_encode(c.bytes)}});
            }
            Json r = call(d, {{"type", "send"}, {"to", to}, {"messages", std::move(messages)}});
            if (r.value("type", "") == "ok") return;
            if (r.value("code", "") != "stale_devices" || attempt >= 3) {
                ok_or_throw(std::move(r), "message");
            }
            for (auto extra : r.value("extra", std::vector<std::uint32_t>{})) {
                devices.erase(std::remove(devices.begin(), devices.end(), extra), devices.end());
            }
            for (auto missing : r.value("missing", std::vector<std::uint32_t>{})) {
                devices.push_back(missing);
                d.party->store().delete_session({to, static_cast<std::int32_t>(missing)});
            }
        }
    }

    void send_to_team(const std::string& account, std::string_view text) {
        if (text.empty() || text.size() > kMaxInboundText) {
            throw AdapterError(Code::invalid_input,
                               "a message must hold between 1 and 4000 bytes of text");
        }
        auto d = attach(account);
        std::lock_guard lock(d->mutex);
        Json contacts = ok_or_throw(call(*d, {{"type", "contacts"}}), "contact list");
        bool any = false;
        for (const Json& c : contacts.at("contacts")) {
            if (c.value("role", "") != "caseworker") continue;
            auto devs = c.at("devices").get<std::vector<std::uint32_t>>();
            if (devs.empty()) continue;
            send_to(*d, c.at("account").get<std::string>(), std::move(devs), text);
            any = true;
        }
        if (!any) {
            throw AdapterError(Code::gateway_refused,
                               "no caseworker device of her team can receive messages yet");
        }
    }

    void run() {
        for (;;) {
            std::shared_ptr<EdgeDevice> d;
            Json push;
            {
                std::unique_lock lock(queue_mutex);
                queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) return;
                d = std::move(queue.front().first);
                push = std::move(queue.front().second);
                queue.pop_front();
                ++busy;
            }
            try {
                process(*d, push);
            } catch (const std::exception& e) {
                spdlog::warn("edge reply for account {} not processed: {}", d->account, e.what());
            }
            {
                std::lock_guard lock(queue_mutex);
                --busy;
            }
            queue_cv.notify_all();
        }
    }

    void process(EdgeDevice& d, const Json& push) {
        const Json& m = push.at("message");
        const auto server_id = m.at("server_id").get<std::int64_t>();
        std::lock_guard lock(d.mutex);
        if (m.value("kind", "") == "message") {
            EdgeReply reply;
            reply.survivor_account = d.account;
            reply.from_account = m.at("from").get<std::string>();
            reply.server_time = m.value("server_time", std::int64_t{0});
            reply.server_id = server_id;
            const auto from_device = m.at("from_device").get<std::int32_t>();
            const int type = m.at("type").get<int>();
            Bytes body = crypto::base64_decode(m.at("body").get<std::string>());
            bool decrypted = false;
            if (auto text = history->pending(d.account, server_id)) {
                // Decrypted before a restart and not settled then: its message key is used
                // up, so the sealed copy taken at decryption is what is handed on again.
                reply.text = std::move(*text);
                decrypted = true;
            } else {
                try {
                    d.party->decrypt(
                        {reply.from_account, from_device}, type, body, [&](ByteView plain) {
                            reply.text.assign(plain.begin(), plain.end());
                            history->append_reply(d.account, server_id, reply.server_time,
                                                  reply.text, options.history_limit);
                        });
                    decrypted = true;
                } catch (const crypto::Error& e) {
                    spdlog::warn("edge device of account {} could not decrypt message {}: {}",
                                 d.account, server_id, e.what());
                }
            }
            std::function<void(EdgeReply&)> handler;
            {
                std::lock_guard qlock(queue_mutex);
                handler = reply_handler;
            }
            if (decrypted && handler) {
                try {
                    handler(reply);
                } catch (const std::exception& e) {
                    spdlog::warn("edge reply handler failed for account {}: {}", d.account,
                                 e.what());
                }
            }
            crypto::wipe(reply.text.data(), reply.text.size());
            if (type == crypto::kPreKeyMessage) top_up(d);
            if (decrypted && reply.acknowledge_later) return;
            if (!decrypted) {
                // She can never read it: the sender learns that, never "delivered".
                call(d, {{"type", "ack"},
                         {"server_id", server_id},
                         {"status", "failed"},
                         {"reason", "undecryptable"}});
                return;
            }
            // In her page's history now, not seen by her: the sender's receipt says "kept"
            // (waiting on her page), never "delivered"; when the page shows it to her, it is
            // acknowledged again as read (EdgeHub::mark_shown). Noted before the ack, so a
            // crash in between only repeats the ack on the redelivery.
            history->add_unread(d.account, server_id, reply.server_time);
            call(d, {{"type", "ack"}, {"server_id", server_id}, {"status", "kept"}});
            history->forget_pending(d.account, server_id);
            return;
        } else if (m.value("kind", "") == "notice") {
            // A check-in or handover notice from the gateway (docs/protocol.md 4.6): shown on
            // her page like a reply, sealed in her history.
            history->append(d.account, m.value("server_time", std::int64_t{0}), false,
                            m.value("text", ""), options.history_limit);
        }
        call(d, {{"type", "ack"}, {"server_id", server_id}});
    }
};

EdgeHub::EdgeHub(gateway::Gateway& gateway, EdgeOptions options)
    : impl_(std::make_unique<Impl>(gateway, std::move(options))) {}

EdgeHub::~EdgeHub() = default;

void EdgeHub::register_with(gateway::ExtensionRegistry& registry) {
    registry.set_device_channel(
        kEdgeDeviceId, [](const policies::CaseCode&) { return policies::ChannelKind::web; });
}

void EdgeHub::attach(const std::string& survivor_account) { impl_->attach(survivor_account); }

void EdgeHub::submit_inbound(const std::string& survivor_account, EdgeChannel channel,
                             std::string_view text) {
    if (impl_->options.inbound_channel) impl_->options.inbound_channel(survivor_account, channel);
    impl_->send_to_team(survivor_account, text);
    impl_->history->append(survivor_account, impl_->gateway.now_ms(), true, text,
                           impl_->options.history_limit);
    spdlog::info("edge inbound ({}) from account {} stored", to_string(channel), survivor_account);
    if (impl_->options.inbound_text) {
        try {
            impl_->options.inbound_text(survivor_account, channel, text);
        } catch (const std::exception& e) {
            spdlog::error("edge inbound check for account {} failed: {}", survivor_account,
                          e.what());
        }
    }
}

CallbackAccepted EdgeHub::request_callback(const std::string& survivor_account, EdgeChannel channel,
                                           const std::vector<CallbackWindow>& windows) {
    Json list = Json::array();
    for (const auto& w : windows) list.push_back({{"from", w.from_ms}, {"to", w.to_ms}});
    auto d = impl_->attach(survivor_account);
    Json answer;
    {
        std::lock_guard lock(d->mutex);
        answer = impl_->call(*d, {{"type", "callback_request"},
                                  {"windows", std::move(list)},
                                  {"channel", to_string(channel)}});
    }
    const std::string code = answer.value("code", "");
    if (answer.value("type", "") != "ok") {
        if (code == "callback_refused") {
            throw AdapterError(AdapterError::Code::refused,
                               "the gateway refused the call-back request",
                               answer.value("reason", "unavailable"));
        }
        if (code == "invalid_frame") {
            throw AdapterError(
                AdapterError::Code::invalid_input,
                "the call-back windows were not accepted: " + answer.value("message", ""));
        }
        if (code == "storage_unavailable") {
            throw AdapterError(AdapterError::Code::storage,
                               "the gateway could not store the call-back request");
        }
        throw AdapterError(AdapterError::Code::gateway_refused,
                           "the gateway refused the call-back request (" + code + ")");
    }
    const Json& cb = answer.at("callback");
    CallbackAccepted out;
    out.task_id = cb.at("task_id").get<std::int64_t>();
    out.window = {cb.at("window").at("from").get<std::int64_t>(),
                  cb.at("window").at("to").get<std::int64_t>()};
    if (cb.contains("next_allowed_from")) {
        out.next_allowed_from = cb.at("next_allowed_from").get<std::int64_t>();
    }
    out.replaced = cb.value("replaced", false);
    return out;
}

void EdgeHub::notify_team(const std::string& survivor_account, std::string_view text) {
    impl_->send_to_team(survivor_account, text);
}

bool EdgeHub::acknowledge(const std::string& survivor_account, std::int64_t server_id,
                          std::string_view failure) {
    std::shared_ptr<EdgeDevice> d;
    {
        std::lock_guard lock(impl_->devices_mutex);
        auto it = impl_->devices.find(survivor_account);
        if (it == impl_->devices.end() || !it->second->link || it->second->link->closed()) {
            return false;
        }
        d = it->second;
    }
    std::lock_guard lock(d->mutex);
    Json ack = {{"type", "ack"}, {"server_id", server_id}};
    if (!failure.empty()) {
        ack["status"] = "failed";
        ack["reason"] = std::string(failure);
    }
    Json answer = impl_->call(*d, std::move(ack));
    const bool ok = answer.value("type", "") == "ok";
    // Settled (now, or by an earlier ack whose answer was lost): its sealed copy goes.
    if (ok || answer.value("code", "") == "not_found") {
        impl_->history->forget_pending(survivor_account, server_id);
    }
    return ok;
}

void EdgeHub::mark_shown(const std::string& survivor_account, std::int64_t from_ms) {
    std::shared_ptr<EdgeDevice> d;
    {
        std::lock_guard lock(impl_->devices_mutex);
        auto it = impl_->devices.find(survivor_account);
        if (it == impl_->devices.end() || !it->second->link || it->second->link->closed()) return;
        d = it->second;
    }
    std::lock_guard lock(d->mutex);
    for (std::int64_t server_id : impl_->history->unread_since(survivor_account, from_ms)) {
        Json answer =
            impl_->call(*d, {{"type", "ack"}, {"server_id", server_id}, {"status", "read"}});
        // Read now, or no longer kept at the gateway (expired, or read before a lost answer).
        if (answer.value("type", "") == "ok" || answer.value("code", "") == "not_found") {
            impl_->history->forget_unread(survivor_account, server_id);
        }
    }
}

void EdgeHub::resume() {
    for (const std::string& account : impl_->history->accounts()) {
        try {
            impl_->attach(account);
        } catch (const std::exception& e) {
            spdlog::warn("edge device of account {} not attached at start-up: {}", account,
                         e.what());
        }
    }
}

void EdgeHub::on_reply(std::function<void(EdgeReply&)> handler) {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->reply_handler = std::move(handler);
}

std::vector<HistoryEntry> EdgeHub::history(const std::string& survivor_account) {
    return impl_->history->read(survivor_account);
}

bool EdgeHub::drain(std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->queue_mutex);
    return impl_->queue_cv.wait_for(lock, timeout,
                                    [&] { return impl_->queue.empty() && impl_->busy == 0; });
}

}  // namespace ariadne::adapters
