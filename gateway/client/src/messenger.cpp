// Messenger: protocol v1 semantics (login, keys, send, deliver/ack) over Connection, with the
// Signal state in a crypto::Party. No Beast here: the transport is connection.cpp's.
#include "ariadne/client/messenger.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/session.h"
#include "ariadne/crypto/store.h"

namespace ariadne::client {

namespace fs = std::filesystem;
using crypto::Address;
using crypto::base64_decode;
using crypto::base64_encode;
using crypto::Bytes;
using crypto::ByteView;

namespace {

// The client's own state lives sealed in the Party's store, in the sender-key table (which
// Ariadne never uses for groups) under a reserved group id, so no file on the device holds
// the account id or a survivor's login key in clear.
constexpr std::string_view kStateGroup = "ariadne/client-state/v1";
const Address kStateAddress{"ariadne-client", 1};

struct SavedState {
    Role role = Role::caseworker;
    std::string account;
    std::uint32_t device_id = 0;
    Bytes locator;                 // survivor only
    crypto::SecretBytes auth_key;  // survivor only
    // Survivor only: this installation's own login key, generated once per store and never
    // derived from her code, so the gateway can tell this phone from another with her code.
    crypto::SecretBytes installation_key;
};

crypto::SecretBytes new_installation_key() { return crypto::SecretBytes(crypto::random_bytes(32)); }

std::optional<SavedState> load_state(crypto::Party& party) {
    auto record = party.store().load_sender_key(crypto::as_bytes(kStateGroup), kStateAddress);
    if (!record) return std::nullopt;
    Json j = Json::parse(record->data(), record->data() + record->size(), nullptr, false);
    if (!j.is_object()) {
        throw Error(ErrorCode::state, "The local client state is unreadable.");
    }
    SavedState s;
    s.role = j.value("role", "") == "survivor" ? Role::survivor : Role::caseworker;
    s.account = j.value("account", "");
    s.device_id = j.value("device_id", 0u);
    if (j.contains("locator")) s.locator = base64_decode(j["locator"].get<std::string>());
    if (j.contains("auth_key")) {
        s.auth_key = crypto::SecretBytes(base64_decode(j["auth_key"].get<std::string>()));
    }
    if (j.contains("installation_key")) {
        s.installation_key =
            crypto::SecretBytes(base64_decode(j["installation_key"].get<std::string>()));
    }
    std::string dump = j.dump();
    crypto::wipe(dump.data(), dump.size());
    return s;
}

void save_state(crypto::Party& party, const SavedState& s) {
    Json j = {{"role", s.role == Role::survivor ? "survivor" : "caseworker"},
              {"account", s.account},
              {"device_id", s.device_id}};
    if (!s.locator.empty()) j["locator"] = base64_encode(s.locator);
    if (!s.auth_key.empty()) j["auth_key"] = base64_encode(s.auth_key.view());
    if (!s.installation_key.empty()) {
        j["installation_key"] = base64_encode(s.installation_key.view());
    }
    std::string text = j.dump();
    party.store().store_sender_key(crypto::as_bytes(kStateGroup), kStateAddress,
                                   crypto::as_bytes(text));
    crypto::wipe(text.data(), text.size());
    for (const char* secret : {"auth_key", "installation_key"}) {
        if (!j.contains(secret)) continue;
        auto& k = j[secret].get_ref<std::string&>();
        crypto::wipe(k.data(), k.size());
    }
}

Json upload_frame(const crypto::UploadSet& set) {
    Json pre_keys = Json::array();
    for (const auto& k : set.pre_keys) {
        pre_keys.push_back({{"id", k.id}, {"public_key", base64_encode(k.public_key)}});
    }
    return {{"type", "keys_upload"},
            {"signed_pre_key",
             {{"id", set.signed_pre_key.id},
              {"public_key", base64_encode(set.signed_pre_key.public_key)},
              {"signature", base64_encode(set.signed_pre_key.signature)}}},
            {"pre_keys", std::move(pre_keys)},
            {"last_resort",
             {{"id", set.last_resort_pre_key.id},
              {"public_key", base64_encode(set.last_resort_pre_key.public_key)}}}};
}

crypto::PreKeyBundle bundle_from_json(const Json& b) {
    try {
        crypto::PreKeyBundle bundle;
        bundle.registration_id = b.at("registration_id").get<std::uint32_t>();
        bundle.device_id = b.at("device_id").get<std::int32_t>();
        bundle.identity_key = base64_decode(b.at("identity_key").get<std::string>());
        const Json& spk = b.at("signed_pre_key");
        bundle.signed_pre_key.id = spk.at("id").get<std::uint32_t>();
        bundle.signed_pre_key.public_key = base64_decode(spk.at("public_key").get<std::string>());
        bundle.signed_pre_key.signature = base64_decode(spk.at("signature").get<std::string>());
        if (b.contains("pre_key") && !b["pre_key"].is_null()) {
            const Json& pk = b["pre_key"];
            bundle.pre_key =
                crypto::PublicPreKey{pk.at("id").get<std::uint32_t>(),
                                     base64_decode(pk.at("public_key").get<std::string>())};
        }
        return bundle;
    } catch (const Json::exception&) {
        throw Error(ErrorCode::protocol, "The gateway sent a malformed key bundle.");
    } catch (const crypto::Error&) {
        throw Error(ErrorCode::protocol, "The gateway sent a key bundle with bad base64.");
    }
}

}  // namespace

struct Messenger::Impl {
    MessengerOptions options;
    std::unique_ptr<crypto::Party> party;
    SavedState state;

    // Serialises request sequences and Party/store use. Recursive: a receive() handler may
    // reply with send_text() on the same thread.
    std::recursive_mutex op_mu;
    std::mutex conn_mu;  // guards `conn` (swapped on reconnect)
    std::shared_ptr<Connection> conn;
    std::deque<std::int64_t> recent_ids;  // server ids handed to the caller, for de-duplication
    std::set<std::int64_t> recent_set;
    std::mt19937 jitter{std::random_device{}()};

    std::shared_ptr<Connection> current() {
        std::lock_guard lock(conn_mu);
        return conn;
    }

    std::shared_ptr<Connection> connect_raw() {
        return std::shared_ptr<Connection>(
            Connection::open(options.endpoint, options.connection, options.runtime));
    }

    Json call(const std::shared_ptr<Connection>& c, Json frame) {
        return c->call(std::move(frame), options.request_timeout);
    }

    Bytes challenge(const std::shared_ptr<Connection>& c) {
        Json r = call(c, {{"type", "challenge"}});
        return base64_decode(r.at("challenge").get<std::string>());
    }

    // Logs in on `c` with the saved state (auth_device or auth_survivor); returns the `ok`.
    Json login(const std::shared_ptr<Connection>& c) {
        Bytes ch = challenge(c);
        if (state.role == Role::survivor) {
            Bytes sig = crypto::sign_login_challenge(state.auth_key, ch);
            Json frame = {{"type", "auth_survivor"},
                          {"locator", base64_encode(state.locator)},
                          {"signature", base64_encode(sig)},
                          {"identity_key", base64_encode(party->identity_key())},
                          {"registration_id", party->registration_id()}};
            if (!state.installation_key.empty()) {
                frame["installation_key"] =
                    base64_encode(crypto::login_public_key(state.installation_key));
                frame["installation_signature"] =
                    base64_encode(crypto::sign_login_challenge(state.installation_key, ch));
            }
            return call(c, std::move(frame));
        } else {
            auto identity = party->store().local_identity();
            if (!identity) throw Error(ErrorCode::state, "The local store holds no identity.");
            Bytes sig = crypto::sign_login_challenge(identity->private_key, ch);
            return call(c, {{"type", "auth_device"},
                            {"account", state.account},
                            {"device_id", state.device_id},
                            {"signature", base64_encode(sig)}});
        }
    }

    // Returns an open, logged-in connection, reconnecting with backoff if needed.
    std::shared_ptr<Connection> ensure_connected() {
        auto c = current();
        if (c && c->is_open()) return c;
        auto deadline = std::chrono::steady_clock::now() + options.reconnect_deadline;
        milliseconds delay{500};
        for (;;) {
            try {
                auto fresh = connect_raw();
                login(fresh);
                {
                    std::lock_guard lock(conn_mu);
                    conn = fresh;
                }
                return fresh;
            } catch (const ServerError&) {
                throw;  // the gateway refused the login: retrying will not help
            } catch (const Error& e) {
                if (std::chrono::steady_clock::now() + delay > deadline) throw;
            }
            std::uniform_real_distribution<double> spread(0.8, 1.2);
            std::this_thread::sleep_for(
                std::chrono::duration_cast<milliseconds>(delay * spread(jitter)));
            delay = std::min(delay * 2, milliseconds{30000});
        }
    }

    void upload_keys(const std::shared_ptr<Connection>& c, std::size_t count) {
        crypto::UploadSet set =
            party->upload_set(static_cast<std::int32_t>(state.device_id), count);
        call(c, upload_frame(set));
    }

    void top_up(const std::shared_ptr<Connection>& c) {
        Json r = call(c, {{"type", "keys_count"}});
        if (r.at("pre_key_count").get<std::size_t>() < options.pre_key_low_water) {
            upload_keys(c, options.pre_key_batch);
        }
    }

    // Starts sessions with the devices of `account` listed in `wanted` (all when empty).
    void fetch_sessions(const std::shared_ptr<Connection>& c, const std::string& account,
                        const std::vector<std::uint32_t>& wanted) {
        Json r = call(c, {{"type", "keys_fetch"}, {"account", account}});
        for (const Json& b : r.at("bundles")) {
            crypto::PreKeyBundle bundle = bundle_from_json(b);
            auto device = static_cast<std::uint32_t>(bundle.device_id);
            if (!wanted.empty() &&
                std::find(wanted.begin(), wanted.end(), device) == wanted.end()) {
                continue;
            }
            Address addr{account, bundle.device_id};
            if (wanted.empty() && party->has_session(addr)) continue;
            party->start_session(addr, bundle);
        }
    }

    void remember(std::int64_t server_id) {
        if (recent_set.insert(server_id).second) recent_ids.push_back(server_id);
        if (recent_ids.size() > 4096) {
            recent_set.erase(recent_ids.front());
            recent_ids.pop_front();
        }
    }
};

Messenger::Messenger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Messenger::~Messenger() = default;

namespace {

fs::path prepare_store_dir(const MessengerOptions& options) {
    if (options.store_dir.empty()) {
        throw Error(ErrorCode::invalid_argument, "No store directory was given.");
    }
    fs::create_directories(options.store_dir);
    ::chmod(options.store_dir.c_str(), 0700);
    return options.store_dir / "signal.db";
}

}  // namespace

std::unique_ptr<Messenger> Messenger::register_device(const MessengerOptions& options,
                                                      const crypto::StoreKey& key,
                                                      std::string_view username,
                                                      std::string_view password,
                                                      std::string_view totp_code) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->party = crypto::Party::open(prepare_store_dir(options), key);
    if (load_state(*impl->party)) {
        throw Error(ErrorCode::state,
                    "This store already holds a registered device: open it instead.");
    }
    auto c = impl->connect_raw();
    Bytes ch = impl->challenge(c);
    auto identity = impl->party->store().local_identity();
    if (!identity) throw Error(ErrorCode::state, "The new store has no identity.");
    Bytes sig = crypto::sign_login_challenge(identity->private_key, ch);
    Json r = impl->call(c, {{"type", "register_device"},
                            {"username", std::string(username)},
                            {"password", std::string(password)},
                            {"totp", std::string(totp_code)},
                            {"identity_key", base64_encode(impl->party->identity_key())},
                            {"registration_id", impl->party->registration_id()},
                            {"signature", base64_encode(sig)}});
    impl->state.role = Role::caseworker;
    impl->state.account = r.at("account").get<std::string>();
    impl->state.device_id = r.at("device_id").get<std::uint32_t>();
    save_state(*impl->party, impl->state);
    impl->conn = c;
    impl->upload_keys(c, options.pre_key_batch);
    return std::unique_ptr<Messenger>(new Messenger(std::move(impl)));
}

std::unique_ptr<Messenger> Messenger::recover_survivor(const MessengerOptions& options,
                                                       const crypto::StoreKey& key,
                                                       std::string_view recovery_code) {
    // Check the code's shape before any network traffic or Argon2id work.
    crypto::normalize_recovery_code(recovery_code);
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    auto c = impl->connect_raw();
    Json p = impl->call(c, {{"type", "recovery_params"}}).at("params");
    crypto::RecoveryParams params;
    params.t_cost = p.at("t").get<std::uint32_t>();
    params.m_kib = p.at("m_kib").get<std::uint32_t>();
    params.parallelism = p.at("p").get<std::uint32_t>();
    params.salt = base64_decode(p.at("salt").get<std::string>());
    crypto::RecoverySecrets secrets = crypto::derive_recovery_secrets(recovery_code, params);

    fs::path db = prepare_store_dir(options);
    bool fresh = !fs::exists(db);
    impl->party = crypto::Party::create_from_seed(db, key, secrets.identity_seed.view());
    // The same phone typing her code again stays the same installation.
    if (!fresh) {
        if (auto saved = load_state(*impl->party)) {
            impl->state.installation_key = std::move(saved->installation_key);
        }
    }
    if (impl->state.installation_key.empty()) {
        impl->state.installation_key = new_installation_key();
    }
    impl->state.role = Role::survivor;
    impl->state.device_id = 1;
    impl->state.locator = secrets.locator;
    impl->state.auth_key = crypto::SecretBytes(
        Bytes(secrets.auth_key.data(), secrets.auth_key.data() + secrets.auth_key.size()));
    // Throws ServerError(auth_failed) for a code the gateway does not know. A store created
    // for a wrong code is removed, so that the right code can be typed next.
    Json ok;
    try {
        ok = impl->login(c);
    } catch (...) {
        if (fresh) {
            impl->party.reset();
            std::error_code ec;
            for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
                fs::remove(db.string() + suffix, ec);
            }
        }
        throw;
    }
    impl->state.account = ok.at("account").get<std::string>();
    impl->state.device_id = ok.value("device_id", 1u);
    save_state(*impl->party, impl->state);
    impl->conn = c;
    // A new phone holds none of the pre-keys the gateway may still list for her: publish a
    // full batch so senders find keys this store can open.
    if (fresh) {
        impl->upload_keys(c, options.pre_key_batch);
    } else {
        impl->top_up(c);
    }
    return std::unique_ptr<Messenger>(new Messenger(std::move(impl)));
}

std::unique_ptr<Messenger> Messenger::open(const MessengerOptions& options,
                                           const crypto::StoreKey& key) {
    fs::path db = prepare_store_dir(options);
    if (!fs::exists(db)) {
        throw Error(ErrorCode::state, "No local store in " + options.store_dir.string() +
                                          ": register or recover first.");
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->party = crypto::Party::open(db, key);
    auto s = load_state(*impl->party);
    if (!s || s->account.empty()) {
        throw Error(ErrorCode::state, "The local store holds no registered device.");
    }
    impl->state = std::move(*s);
    if (impl->state.role == Role::survivor && impl->state.installation_key.empty()) {
        // A store from before installation keys: it becomes an installation now.
        impl->state.installation_key = new_installation_key();
        save_state(*impl->party, impl->state);
    }
    auto c = impl->ensure_connected();
    impl->top_up(c);
    return std::unique_ptr<Messenger>(new Messenger(std::move(impl)));
}

const std::string& Messenger::account() const noexcept { return impl_->state.account; }
std::uint32_t Messenger::device_id() const noexcept { return impl_->state.device_id; }
Role Messenger::role() const noexcept { return impl_->state.role; }
std::vector<std::uint8_t> Messenger::identity_key() const { return impl_->party->identity_key(); }

std::vector<Contact> Messenger::contacts() {
    std::lock_guard lock(impl_->op_mu);
    auto c = impl_->ensure_connected();
    Json r = impl_->call(c, {{"type", "contacts"}});
    std::vector<Contact> out;
    for (const Json& j : r.at("contacts")) {
        out.push_back({j.at("account").get<std::string>(), j.value("role", ""),
                       j.at("devices").get<std::vector<std::uint32_t>>()});
    }
    return out;
}

Json Messenger::request_callback(
    const std::vector<std::pair<std::int64_t, std::int64_t>>& windows) {
    Json list = Json::array();
    for (const auto& [from, to] : windows) list.push_back({{"from", from}, {"to", to}});
    std::lock_guard lock(impl_->op_mu);
    auto c = impl_->ensure_connected();
    Json r = impl_->call(c, {{"type", "callback_request"}, {"windows", std::move(list)}});
    return r.at("callback");
}

SendReceipt Messenger::send_text(const std::string& account, std::string_view plaintext,
                                 bool want_receipt) {
    std::lock_guard lock(impl_->op_mu);
    auto c = impl_->ensure_connected();
    crypto::Party& party = *impl_->party;
    auto device_ids = [&] { return party.store().session_device_ids(account); };
    if (device_ids().empty()) impl_->fetch_sessions(c, account, {});
    for (int attempt = 0;; ++attempt) {
        Json messages = Json::array();
        for (std::int32_t device : device_ids()) {
            crypto::Ciphertext ct =
                party.encrypt(Address{account, device}, crypto::as_bytes(plaintext));
            messages.push_back(
                {{"device_id", device}, {"type", ct.type}, {"body", base64_encode(ct.bytes)}});
        }
        if (messages.empty()) {
            throw Error(ErrorCode::state, "That account has no device to send to.");
        }
        Json r = c->request({{"type", "send"},
                             {"to", account},
                             {"receipt", want_receipt},
                             {"messages", std::move(messages)}},
                            impl_->options.request_timeout);
        if (r.value("type", "") == "ok") {
            SendReceipt receipt;
            for (const Json& s : r.at("server_ids")) {
                receipt.server_ids.emplace_back(s.at("device_id").get<std::uint32_t>(),
                                                s.at("server_id").get<std::int64_t>());
            }
            return receipt;
        }
        std::string code = r.value("code", "");
        if (code != "stale_devices" || attempt >= 3) {
            throw ServerError(
                code, "The gateway refused the message (" + code + "): " + r.value("message", ""),
                r);
        }
        for (std::uint32_t extra : r.value("extra", std::vector<std::uint32_t>{})) {
            party.store().delete_session(Address{account, static_cast<std::int32_t>(extra)});
        }
        auto missing = r.value("missing", std::vector<std::uint32_t>{});
        if (!missing.empty()) impl_->fetch_sessions(c, account, missing);
    }
}

bool Messenger::receive(milliseconds timeout,
                        const std::function<void(const ReceivedMessage&)>& handler) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::shared_ptr<Connection> c;
        {
            std::lock_guard lock(impl_->op_mu);
            c = impl_->ensure_connected();
        }
        auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) left = milliseconds{0};
        std::optional<Json> frame = c->next_unsolicited(left);
        if (!frame) {
            if (!c->is_open() && std::chrono::steady_clock::now() < deadline) continue;
            return false;
        }
        if (!frame->is_object() || frame->value("type", "") != "deliver") continue;
        const Json& m = (*frame)["message"];
        ReceivedMessage msg;
        std::string kind;
        try {
            msg.server_id = m.at("server_id").get<std::int64_t>();
            msg.server_time = m.value("server_time", std::int64_t{0});
            kind = m.value("kind", std::string("message"));
            msg.is_notice = kind == "notice";
            if (msg.is_notice) {
                msg.from = m.value("from", "");
                msg.notice = m.at("notice").get<std::string>();
                msg.reference = m.value("reference", "");
                msg.language = m.value("language", "");
                msg.plaintext = m.value("text", "");
            } else {
                msg.from = m.at("from").get<std::string>();
                msg.from_device = m.at("from_device").get<std::uint32_t>();
                msg.is_receipt = m.value("kind", "") == "receipt";
                if (msg.is_receipt && m.value("status", "") == "failed") {
                    msg.failure = m.value("reason", "");
                    if (msg.failure.empty()) msg.failure = "unknown";
                } else if (msg.is_receipt) {
                    const std::string status = m.value("status", "");
                    if (status == "kept" || status == "read") msg.receipt_status = status;
                }
            }
        } catch (const Json::exception&) {
            throw Error(ErrorCode::protocol, "The gateway pushed a malformed delivery.");
        }
        if (kind != "message" && kind != "receipt" && kind != "notice") {
            // A kind this client does not know (a newer gateway): acknowledged and skipped,
            // never shown as an unreadable message (docs/protocol.md).
            try {
                c->call({{"type", "ack"}, {"server_id", msg.server_id}},
                        impl_->options.request_timeout);
            } catch (const Error&) {
                // Delivered again later and skipped again.
            }
            continue;
        }
        std::lock_guard lock(impl_->op_mu);
        bool duplicate = impl_->recent_set.count(msg.server_id) != 0;
        if (msg.is_notice) {
            if (!duplicate) handler(msg);
        } else if (msg.is_receipt) {
            msg.ref = m.value("ref", std::int64_t{0});
            if (!duplicate) handler(msg);
        } else if (!duplicate) {
            int type = m.value("type", 0);
            Bytes body;
            try {
                body = base64_decode(m.value("body", ""));
            } catch (const crypto::Error&) {
                msg.decrypt_error = "the delivery's body is not valid base64";
            }
            if (!msg.decrypt_error) {
                try {
                    impl_->party->decrypt(Address{msg.from, static_cast<int>(msg.from_device)},
                                          type, body, [&](ByteView plaintext) {
                                              msg.plaintext = crypto::to_string(plaintext);
                                              handler(msg);
                                          });
                } catch (const crypto::Error& e) {
                    msg.plaintext.clear();
                    msg.decrypt_error = e.what();
                    handler(msg);
                }
            } else {
                handler(msg);
            }
            if (type == crypto::kPreKeyMessage && !msg.decrypt_error) {
                try {
                    impl_->top_up(c);
                } catch (const Error&) {
                    // Topping up is best effort here; login tops up too.
                }
            }
        }
        impl_->remember(msg.server_id);
        try {
            c->call({{"type", "ack"}, {"server_id", msg.server_id}},
                    impl_->options.request_timeout);
        } catch (const ServerError& e) {
            if (e.server_code() != "not_found") throw;  // already acknowledged: fine
        } catch (const Error&) {
            // Connection dropped before the ack: the gateway delivers it again and the
            // duplicate is recognised by its server id.
        }
        return true;
    }
}

std::optional<ReceivedMessage> Messenger::receive(milliseconds timeout) {
    std::optional<ReceivedMessage> out;
    receive(timeout, [&](const ReceivedMessage& m) { out = m; });
    return out;
}

void Messenger::top_up_pre_keys() {
    std::lock_guard lock(impl_->op_mu);
    impl_->top_up(impl_->ensure_connected());
}

Connection& Messenger::connection() {
    std::lock_guard lock(impl_->op_mu);
    return *impl_->ensure_connected();
}

void Messenger::disconnect() {
    auto c = impl_->current();
    if (c) c->close(1000, milliseconds{1000});
}

std::vector<std::uint8_t> Messenger::listed_identity(const std::string& account) {
    std::lock_guard lock(impl_->op_mu);
    auto c = impl_->ensure_connected();
    Json r = impl_->call(c, {{"type", "keys_fetch"}, {"account", account}});
    for (const Json& b : r.at("bundles")) return bundle_from_json(b).identity_key;
    throw Error(ErrorCode::state, "That account has no device listed at the gateway.");
}

void Messenger::accept_identity(const std::string& account,
                                const std::vector<std::uint8_t>& identity_key) {
    std::lock_guard lock(impl_->op_mu);
    auto c = impl_->ensure_connected();
    Json r = impl_->call(c, {{"type", "keys_fetch"}, {"account", account}});
    std::vector<crypto::PreKeyBundle> bundles;
    for (const Json& b : r.at("bundles")) {
        bundles.push_back(bundle_from_json(b));
        // Every device must carry exactly the identity the user compared.
        if (bundles.back().identity_key != identity_key) {
            throw Error(ErrorCode::state,
                        "Her identity changed again since you compared it: compare the new "
                        "safety number first.");
        }
    }
    if (bundles.empty()) {
        throw Error(ErrorCode::state, "That account has no device listed at the gateway.");
    }
    for (const auto& bundle : bundles) {
        Address addr{account, bundle.device_id};
        impl_->party->trust_identity(addr, bundle.identity_key);
        impl_->party->start_session(addr, bundle);
    }
}

}  // namespace ariadne::client
