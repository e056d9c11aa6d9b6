#include "provision.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "../e2e/accounts.h"
#include "../e2e/harness.h"
#include "ariadne/client/connection.h"
#include "ariadne/crypto/bytes.h"

namespace ariadne::bench {

using crypto::base64_encode;
using nlohmann::json;

json provision(const ProvisionRequest& r) {
    std::filesystem::create_directories(r.state_dir);
    const auto state_file = r.state_dir / "state.json";
    if (std::ifstream in(state_file); in) {
        json state = json::parse(in);
        if (state.at("receivers").size() >= r.pairs) return state;
    }
    ::setenv("ARIADNE_SERVER_BINARY", r.server_binary.c_str(), 1);
    e2e::Gateway admin(r.data_dir);  // never started: only runs `ariadne admin` on the data dir
    client::Endpoint endpoint;
    endpoint.host = r.host;
    endpoint.port = r.port;
    endpoint.fingerprint_sha256 = r.fingerprint;

    std::vector<e2e::Gateway::Caseworker> caseworkers;
    const std::string suffix = crypto::base64_encode(crypto::random_bytes(3)).substr(0, 4);
    for (std::size_t i = 0; i < r.pairs; ++i) {
        // A random suffix: a provisioning that failed half-way does not block the next one.
        caseworkers.push_back(admin.add_caseworker("bench" + std::to_string(i) + "-" + suffix));
    }
    auto survivor = admin.enrol_survivor(caseworkers[0].account);
    for (std::size_t i = 1; i < r.pairs; ++i)
        admin.assign(survivor.account, caseworkers[i].account);

    json receivers = json::array();
    for (std::size_t i = 0; i < r.pairs; ++i) {
        auto dir = r.state_dir / ("console" + std::to_string(i));
        auto device = e2e::make_raw_device(dir);
        auto conn = client::Connection::open(endpoint);
        json reg = e2e::register_raw(*conn, caseworkers[i], device, e2e::totp_for(caseworkers[i]));
        if (reg["type"] != "ok") throw std::runtime_error("register_device: " + reg.dump());
        auto id = reg["device_id"].get<std::uint32_t>();
        json up = conn->request(e2e::keys_upload_frame(dir, id, 10));
        if (up["type"] != "ok") throw std::runtime_error("keys_upload: " + up.dump());
        receivers.push_back({{"account", caseworkers[i].account},
                             {"device_id", id},
                             {"private_key", base64_encode(device.private_key.view())}});
        if ((i + 1) % 20 == 0) std::cerr << "provisioned " << i + 1 << "/" << r.pairs << "\n";
    }
    auto conn = client::Connection::open(endpoint);
    auto login =
        e2e::derive_survivor_login(*conn, survivor.recovery_code, r.state_dir / "survivor");
    json ok = e2e::auth_survivor_raw(*conn, login);
    if (ok["type"] != "ok") throw std::runtime_error("auth_survivor: " + ok.dump());
    json state = {{"survivor",
                   {{"account", ok["account"]},
                    {"locator", base64_encode(login.secrets.locator)},
                    {"auth_key", base64_encode(login.secrets.auth_key.view())},
                    {"identity_key", base64_encode(login.identity.identity_key)},
                    {"registration_id", login.identity.registration_id}}},
                  {"receivers", receivers}};
    std::ofstream(state_file) << state.dump(1) << "\n";
    return state;
}

}  // namespace ariadne::bench
