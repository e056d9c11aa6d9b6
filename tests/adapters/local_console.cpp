#include "local_console.h"

#include <stdexcept>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/store.h"

namespace ariadne::adapters::test {

using detail::Json;

LocalConsole::LocalConsole(gateway::Gateway& gateway, const std::filesystem::path& store_dir,
                           const std::string& username, const std::string& password,
                           const std::string& totp)
    : gateway_(gateway) {
    std::filesystem::create_directories(store_dir);
    party_ = crypto::Party::open(store_dir / "signal.db",
                                 crypto::StoreKey::from_bytes(crypto::Bytes(32, 9)));
    link_ = std::make_shared<detail::LocalLink>([this](Json push) {
        {
            std::lock_guard lock(mutex_);
            pushes_.push_back(std::move(push));
        }
        cv_.notify_all();
    });
    session_ = gateway_.open_session(link_);
    Json ch = call({{"type", "challenge"}});
    auto challenge = crypto::base64_decode(ch.at("challenge").get<std::string>());
    auto identity = party_->store().local_identity();
    Json reg = call({{"type", "register_device"},
                     {"username", username},
                     {"password", password},
                     {"totp", totp},
                     {"identity_key", crypto::base64_encode(identity->public_key)},
                     {"registration_id", identity->registration_id},
                     {"signature", crypto::base64_encode(crypto::sign_login_challenge(
                                       identity->private_key, challenge))}});
    auto device = reg.at("device_id").get<std::int32_t>();
    crypto::UploadSet set = party_->upload_set(device, 20);
    Json pre_keys = Json::array();
    for (const auto& k : set.pre_keys) {
        pre_keys.push_back({{"id", k.id}, {"public_key", crypto::base64_encode(k.public_key)}});
    }
    call({{"type", "keys_upload"},
          {"signed_pre_key",
           {{"id", set.signed_pre_key.id},
            {"public_key", crypto::base64_encode(set.signed_pre_key.public_key)},
            {"signature", crypto::base64_encode(set.signed_pre_key.signature)}}},
          {"pre_keys", pre_keys},
          {"last_resort",
           {{"id", set.last_resort_pre_key.id},
            {"public_key", crypto::base64_encode(set.last_resort_pre_key.public_key)}}}});
}

LocalConsole::~LocalConsole() {
    if (session_) session_->on_closed();
}

Json LocalConsole::call(Json request) {
    Json answer = link_->call(*session_, std::move(request), std::chrono::seconds(20));
    if (answer.value("type", "") != "ok") {
        throw std::runtime_error("console request refused: " + answer.dump());
    }
    return answer;
}

Json LocalConsole::contacts() { return call({{"type", "contacts"}}); }

std::vector<std::int64_t> LocalConsole::send_text(const std::string& account,
                                                  const std::string& text, bool receipt) {
    std::vector<std::uint32_t> devices;
    const Json contacts = call({{"type", "contacts"}});
    for (const Json& c : contacts.at("contacts")) {
        if (c.at("account") == account) devices = c.at("devices").get<std::vector<std::uint32_t>>();
    }
    Json bundles = call({{"type", "keys_fetch"}, {"account", account}});
    for (const Json& b : bundles.at("bundles")) {
        crypto::Address addr{account, b.at("device_id").get<std::int32_t>()};
        if (!party_->has_session(addr)) party_->start_session(addr, crypto::parse_bundle(b.dump()));
    }
    Json messages = Json::array();
    for (auto d : devices) {
        auto c = party_->encrypt({account, static_cast<std::int32_t>(d)}, crypto::as_bytes(text));
        messages.push_back(
            {{"device_id", d}, {"type", c.type}, {"body", crypto::base64_encode(c.bytes)}});
    }
    Json ok =
        call({{"type", "send"}, {"to", account}, {"messages", messages}, {"receipt", receipt}});
    std::vector<std::int64_t> ids;
    for (const Json& s : ok.value("server_ids", Json::array())) ids.push_back(s.at("server_id"));
    return ids;
}

std::optional<Received> LocalConsole::receive(std::chrono::milliseconds timeout) {
    Json push;
    {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !pushes_.empty(); })) return std::nullopt;
        push = std::move(pushes_.front());
        pushes_.pop_front();
    }
    const Json& m = push.at("message");
    Received r;
    r.from = m.at("from");
    r.from_device = m.at("from_device");
    r.receipt = m.value("kind", "") == "receipt";
    r.ref = m.value("ref", std::int64_t{0});
    if (m.value("status", "") == "failed") r.failure = m.value("reason", "?");
    if (m.value("kind", "") == "message") {
        auto plain = party_->decrypt({r.from, static_cast<std::int32_t>(r.from_device)},
                                     m.at("type").get<int>(),
                                     crypto::base64_decode(m.at("body").get<std::string>()));
        r.plaintext.assign(plain.begin(), plain.end());
    }
    call({{"type", "ack"}, {"server_id", m.at("server_id")}});
    return r;
}

}  // namespace ariadne::adapters::test
