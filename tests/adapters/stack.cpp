#include "stack.h"

#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ariadne/admin/admin.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/store.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/protocol/metrics.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/services/consent_policy.h"

namespace ariadne::adapters::test {

using Json = nlohmann::json;

std::string Stack::admin(std::vector<std::string> args, const std::string& stdin_text) {
    args.push_back("--data-dir");
    args.push_back(data.string());
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    int rc = gateway::run_admin(args, in, out, err);
    if (rc != 0) throw std::runtime_error("admin failed: " + err.str());
    return out.str();
}

Stack::Stack(SurvivorPageOptions page_options) {
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() /
            ("ariadne-adapters-" + std::to_string(rd()) + std::to_string(::time(nullptr)));
    std::filesystem::create_directories(root_);
    data = root_ / "data";
    gateway::ensure_data_dir(data);

    Json cw = Json::parse(admin({"caseworker-add", "--username", username}, password + "\n"));
    caseworker = cw.at("account");
    totp_secret = cw.at("totp_secret");
    // survivor-enrol gained her record's fields (initials, language, time zone) with the
    // policies; older builds refuse them, so fall back to the plain form.
    Json sv =
        Json::parse(admin({"survivor-enrol", "--caseworker", caseworker, "--initials", "M.K.",
                           "--language", "en", "--time-zone", "Europe/Rome", "--with-duress-code",
                           "--recovery-m-kib", "8192", "--insecure-test-params"}));
    survivor = sv.at("account");
    case_code = sv.at("case_code");
    code = sv.at("recovery_code");
    duress_code = sv.at("duress_code");
    links = policies::PolicyStore::open(gateway::database_path(data).string());
    if (!page_options.duress_target) {
        page_options.duress_target = [this](const std::string& account) {
            return gateway::duress_login_target(*links, account);
        };
    }

    if (!page_options.profile) {
        page_options.profile =
            [this](const std::string& account) -> std::optional<SurvivorPageProfile> {
            auto record = gateway::find_survivor_record(*links, account);
            if (!record) return std::nullopt;
            return SurvivorPageProfile{record->language.str(), record->time_zone};
        };
    }
    if (!page_options.retention_days) {
        page_options.retention_days = [this] { return links->org_policy().retention_days; };
    }

    server_key = std::make_unique<gateway::ServerKey>(gateway::ServerKey::load_or_create(data));
    metrics = std::make_unique<gateway::Metrics>();
    gateway::StoreOptions so;
    so.path = gateway::database_path(data);
    so.metrics = metrics.get();
    store = std::make_unique<gateway::Store>(so);
    gateway::GatewayOptions go;
    params = gateway::load_or_create_recovery_params(*store, 8192, true);
    go.recovery_params = params;
    gateway::key_audit_chain(*links, *server_key, data);  // as `ariadne serve` does
    alert_board = std::make_unique<gateway::AlertBoard>(*links);
    callback_board = std::make_unique<gateway::CallbackBoard>(*links, *server_key, *alert_board);
    go.callbacks = callback_board.get();
    gateway = std::make_unique<gateway::Gateway>(*store, *server_key, *metrics, go);

    EdgeOptions eo;
    eo.data_dir = data;
    hub = std::make_unique<EdgeHub>(*gateway, eo);
    page = std::make_unique<SurvivorPage>(*store, *hub, params, std::move(page_options));
    routes = std::make_shared<gateway::HttpRoutes>();
    page->register_routes(*routes);
}

Stack::~Stack() {
    page.reset();
    hub.reset();
    gateway.reset();
    store.reset();
    callback_board.reset();
    alert_board.reset();
    links.reset();
    std::error_code ec;
    if (!keep_files) std::filesystem::remove_all(root_, ec);
}

std::unique_ptr<LocalConsole> Stack::console(int step_offset) {
    auto secret = crypto::base32_decode(totp_secret);
    auto now = static_cast<std::uint64_t>(::time(nullptr)) + 30 * step_offset;
    return std::make_unique<LocalConsole>(*gateway,
                                          root_ / ("console" + std::to_string(consoles_++)),
                                          username, password, crypto::totp_code(secret, now));
}

std::string read_all_files(const std::filesystem::path& dir) {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
}

}  // namespace ariadne::adapters::test
