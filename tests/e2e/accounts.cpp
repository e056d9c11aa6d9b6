#include "accounts.h"

#include <ctime>

#include "ariadne/crypto/session.h"
#include "ariadne/crypto/store.h"
#include "ariadne/crypto/totp.h"

namespace ariadne::e2e {

using crypto::base64_decode;
using crypto::base64_encode;

std::string totp_for(const Gateway::Caseworker& cw, int step_offset) {
    auto secret = crypto::base32_decode(cw.totp_secret);
    auto now = static_cast<std::int64_t>(std::time(nullptr)) + 30 * step_offset;
    return crypto::totp_code(secret, static_cast<std::uint64_t>(now));
}

client::MessengerOptions messenger_options(const Gateway& gateway,
                                           const std::filesystem::path& dir) {
    client::MessengerOptions o;
    o.endpoint = gateway.endpoint();
    o.store_dir = dir;
    o.reconnect_deadline = client::milliseconds{10000};
    return o;
}

const crypto::StoreKey& test_store_key() {
    static const crypto::StoreKey key = crypto::StoreKey::from_bytes(crypto::Bytes(32, 0x42));
    return key;
}

std::unique_ptr<client::Messenger> register_console(const Gateway& gateway,
                                                    const Gateway::Caseworker& cw,
                                                    const std::filesystem::path& dir,
                                                    int step_offset) {
    return client::Messenger::register_device(messenger_options(gateway, dir), test_store_key(),
                                              cw.username, cw.password, totp_for(cw, step_offset));
}

std::unique_ptr<client::Messenger> recover_survivor(const Gateway& gateway,
                                                    const Gateway::Survivor& survivor,
                                                    const std::filesystem::path& dir) {
    return client::Messenger::recover_survivor(messenger_options(gateway, dir), test_store_key(),
                                               survivor.recovery_code);
}

RawDevice make_raw_device(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    auto party = crypto::Party::open(dir / "raw.db", test_store_key());
    auto id = party->store().local_identity();
    return RawDevice{id->public_key, id->private_key, id->registration_id};
}

crypto::Bytes fresh_challenge(client::Connection& conn) {
    Json r = conn.call({{"type", "challenge"}});
    return base64_decode(r.at("challenge").get<std::string>());
}

Json register_raw(client::Connection& conn, const Gateway::Caseworker& cw, const RawDevice& device,
                  const std::string& totp, const std::string& password_override) {
    auto sig = crypto::sign_login_challenge(device.private_key, fresh_challenge(conn));
    return conn.request({{"type", "register_device"},
                         {"username", cw.username},
                         {"password", password_override.empty() ? cw.password : password_override},
                         {"totp", totp},
                         {"identity_key", base64_encode(device.identity_key)},
                         {"registration_id", device.registration_id},
                         {"signature", base64_encode(sig)}});
}

Json auth_device_raw(client::Connection& conn, const std::string& account, std::uint32_t device_id,
                     const RawDevice& device) {
    auto sig = crypto::sign_login_challenge(device.private_key, fresh_challenge(conn));
    return conn.request({{"type", "auth_device"},
                         {"account", account},
                         {"device_id", device_id},
                         {"signature", base64_encode(sig)}});
}

SurvivorLogin derive_survivor_login(client::Connection& conn, const std::string& recovery_code,
                                    const std::filesystem::path& dir) {
    Json p = conn.call({{"type", "recovery_params"}}).at("params");
    crypto::RecoveryParams params;
    params.t_cost = p.at("t").get<std::uint32_t>();
    params.m_kib = p.at("m_kib").get<std::uint32_t>();
    params.parallelism = p.at("p").get<std::uint32_t>();
    params.salt = base64_decode(p.at("salt").get<std::string>());
    SurvivorLogin login{crypto::derive_recovery_secrets(recovery_code, params), {}};
    std::filesystem::create_directories(dir);
    auto party = crypto::Party::create_from_seed(dir / "survivor.db", test_store_key(),
                                                 login.secrets.identity_seed.view());
    auto id = party->store().local_identity();
    login.identity = RawDevice{id->public_key, id->private_key, id->registration_id};
    return login;
}

Json auth_survivor_raw(client::Connection& conn, const SurvivorLogin& login) {
    auto sig = crypto::sign_login_challenge(login.secrets.auth_key, fresh_challenge(conn));
    return conn.request({{"type", "auth_survivor"},
                         {"locator", base64_encode(login.secrets.locator)},
                         {"signature", base64_encode(sig)},
                         {"identity_key", base64_encode(login.identity.identity_key)},
                         {"registration_id", login.identity.registration_id}});
}

}  // namespace ariadne::e2e

namespace ariadne::e2e {
Json keys_upload_frame(const std::filesystem::path& dir, std::uint32_t device_id,
                       std::size_t count) {
    auto party = crypto::Party::open(dir / "raw.db", test_store_key());
    auto set = party->upload_set(static_cast<std::int32_t>(device_id), count);
    Json pre_keys = Json::array();
    for (const auto& k : set.pre_keys) {
        pre_keys.push_back({{"id", k.id}, {"public_key", base64_encode(k.public_key)}});
    }
    return {{"type", "keys_upload"},
            {"signed_pre_key",
             {{"id", set.signed_pre_key.id},
              {"public_key", base64_encode(set.signed_pre_key.public_key)},
              {"signature", base64_encode(set.signed_pre_key.signature)}}},
            {"pre_keys", pre_keys},
            {"last_resort",
             {{"id", set.last_resort_pre_key.id},
              {"public_key", base64_encode(set.last_resort_pre_key.public_key)}}}};
}
}  // namespace ariadne::e2e
