// libFuzzer target for the HTTPS admin API (/v1/admin/..., gateway/admin_api.h): the real
// handlers over a real SQLite database in a temp directory, called as an administrator who
// logged in with password + TOTP. Input: first line "METHOD /v1/admin/PATH[?QUERY]", the
// rest is the body. Every request must get a documented answer — never a crash, a hang, an
// escaped exception or a 500 — and every JSON answer must be valid JSON.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/totp.h"
#include "ariadne/admin/admin.h"
#include "ariadne/admin/admin_api.h"
#include "ariadne/protocol/metrics.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/storage/policy_store.h"

namespace {

using namespace ariadne;
using Json = nlohmann::json;

struct Fixture {
    std::filesystem::path root, data;
    std::unique_ptr<gateway::ServerKey> key;
    gateway::Metrics metrics;
    std::unique_ptr<gateway::Store> store;
    std::unique_ptr<policies::PolicyStore> policies;
    gateway::HttpRoutes routes;
    std::string token;
    int admins = 0;

    Json admin_cli(std::vector<std::string> args, const std::string& input) {
        args.push_back("--data-dir");
        args.push_back(data.string());
        std::istringstream in(input);
        std::ostringstream out, err;
        if (gateway::run_admin(args, in, out, err) != 0) {
            throw std::runtime_error("fuzz_admin_api set-up: " + err.str());
        }
        return Json::parse(out.str());
    }

    /// A new administrator (the previous one may have been disabled or reset by an input),
    /// logged in through POST /v1/admin/session.
    void log_in() {
        const std::string user = "fuzz.admin" + std::to_string(admins++);
        const std::string password = "correct horse battery staple";
        Json cw =
            admin_cli({"caseworker-add", "--username", user, "--role", "admin"}, password + "\n");
        auto secret = crypto::base32_decode(cw.at("totp_secret").get<std::string>());
        gateway::HttpRequest r;
        r.method = "POST";
        r.target = r.path = "/v1/admin/session";
        r.peer_address = "127.0.0.1";
        r.peer_is_loopback = true;
        r.body = Json({{"username", user},
                       {"password", password},
                       {"totp",
                        crypto::totp_code(secret, static_cast<std::uint64_t>(std::time(nullptr)))}})
                     .dump();
        auto answer = routes.find(r.path)->handler(r);
        if (answer.status != 200) {
            throw std::runtime_error("fuzz_admin_api set-up: login refused: " + answer.body);
        }
        token = Json::parse(answer.body).at("token").get<std::string>();
    }
};

Fixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fixture = new Fixture;
    Fixture& f = *fixture;
    f.root = std::filesystem::temp_directory_path() /
             ("ariadne-fuzz-admin-" + std::to_string(::getpid()));
    f.data = f.root / "data";
    gateway::ensure_data_dir(f.data);
    f.admin_cli({"caseworker-add", "--username", "cw.one"}, "correct horse battery staple\n");
    f.key = std::make_unique<gateway::ServerKey>(gateway::ServerKey::load_or_create(f.data));
    gateway::StoreOptions so;
    so.path = gateway::database_path(f.data);
    so.metrics = &f.metrics;
    so.synchronous_full = false;
    f.store = std::make_unique<gateway::Store>(so);
    f.policies = policies::PolicyStore::open(gateway::database_path(f.data).string());
    // As the gateway does: its audit chain is keyed (account creation is audited).
    gateway::key_audit_chain(*f.policies, *f.key, f.data, true);
    gateway::add_admin_api(f.routes, *f.store, *f.key, *f.policies);
    f.log_in();
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(fixture->root, ec);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fixture& f = *fixture;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    gateway::HttpRequest r;
    auto space = line.find(' ');
    r.method = std::string(line.substr(0, space));
    r.target = space == std::string_view::npos ? "/v1/admin/" : std::string(line.substr(space + 1));
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
    r.body = nl == std::string_view::npos ? "" : std::string(input.substr(nl + 1, 64 * 1024));
    r.peer_address = "127.0.0.1";
    r.peer_is_loopback = true;
    r.headers["authorization"] = "Bearer " + f.token;
    r.headers["content-type"] = "application/json";
    const gateway::HttpRoute* route = f.routes.find(r.path);
    if (route == nullptr) return 0;
    gateway::HttpResponse answer = route->handler(r);
    static const std::set<int> documented = {200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 429};
    if (!documented.count(answer.status)) __builtin_trap();
    if (answer.content_type == "application/json" &&
        Json::parse(answer.body, nullptr, false).is_discarded()) {
        // The audit listing is JSON lines: each line must parse.
        std::istringstream lines(answer.body);
        for (std::string l; std::getline(lines, l);) {
            if (Json::parse(l, nullptr, false).is_discarded()) __builtin_trap();
        }
    }
    if (answer.status == 401) f.log_in();  // the input disabled or reset this admin
    return 0;
}
