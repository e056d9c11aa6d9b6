// `ariadne serve` starts the gateway; `ariadne admin ...` manages accounts in a data dir.
#include <spdlog/spdlog.h>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/adapters/survivor_page.h"
#include "ariadne/admin/admin.h"
#include "ariadne/admin/admin_api.h"
#include "ariadne/app/certificate.h"
#include "ariadne/app/config.h"
#include "ariadne/app/logging.h"
#include "ariadne/core/gateway.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/net/server.h"
#include "ariadne/protocol/build_info.h"
#include "ariadne/protocol/error.h"
#include "ariadne/services/cluster_link.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/services/extensions.h"
#include "ariadne/services/org_settings.h"
#include "ariadne/services/stored_login_ledger.h"
#include "ariadne/storage/data_dir_lock.h"
#include "ariadne/storage/sqlite.h"

namespace {

using namespace ariadne::gateway;

constexpr const char* kUsage =
    "Usage:\n"
    "  ariadne serve [options]     run the gateway (ariadne serve --help for options)\n"
    "  ariadne admin <command>     manage accounts (ariadne admin --help)\n"
    "  ariadne --version           print the release and commit\n";

void write_port_file(const std::filesystem::path& path, std::uint16_t port) {
    auto tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp);
        out << port << "\n";
        if (!out)
            throw GatewayError(GatewayErrorCode::io,
                               "Cannot write --port-file " + path.string() + ".");
    }
    std::filesystem::rename(tmp, path);
}

int serve(const std::vector<std::string>& args) {
    ServeCommand command = parse_serve_config(args);
    if (command.help) {
        std::cout << command.usage;
        return 0;
    }
    const ServeConfig& c = command.config;
    // A reload (`systemctl reload`, a certbot hook) that comes while the gateway still starts
    // must not end it; the server reads the certificate after this, and handles SIGHUP once
    // it listens.
    std::signal(SIGHUP, SIG_IGN);
    // stdout carries the one "listening" line; logs go to stderr.
    configure_logging(c.log_level);
    spdlog::info("{} starting", build_description());

    ensure_data_dir(c.data_dir);
    // One gateway per data directory, and none while `admin restore` swaps its files.
    auto data_dir_lock = ariadne::storage::DataDirLock::acquire(c.data_dir);
    std::filesystem::path cert = c.cert, key = c.key;
    if (cert.empty()) {
        cert = c.data_dir / "tls-cert.pem";
        key = c.data_dir / "tls-key.pem";
        if (!std::filesystem::exists(cert) || !std::filesystem::exists(key)) {
            generate_dev_certificate(cert, key);
            spdlog::info("generated a self-signed development certificate in {}", cert.string());
        }
    }
    std::string fingerprint = certificate_sha256_fingerprint(cert);
    ServerKey server_key = ServerKey::load_or_create(c.data_dir);

    if (!c.database.empty()) record_database(c.data_dir, c.database);
    const std::filesystem::path database = database_path(c.data_dir);
    const bool postgresql = ariadne::storage::is_postgres_uri(database.native());

    Metrics metrics;
    StoreOptions store_options;
    store_options.path = database;
    store_options.synchronous_full = c.sync_full;
    store_options.max_batch = c.commit_max_batch;
    store_options.max_delay = std::chrono::milliseconds(c.commit_max_delay_ms);
    store_options.mailbox_ttl = std::chrono::hours(24) * c.mailbox_ttl_days;
    store_options.queue_quota.per_recipient_bytes = std::uint64_t{c.queue_mib_per_recipient} << 20;
    store_options.queue_quota.per_sender_bytes = std::uint64_t{c.queue_mib_per_sender} << 20;
    store_options.metrics = &metrics;
    // A database that cannot be reached or set up stops the start, naming the setting (the
    // URI only with its password replaced).
    std::optional<Store> opened;
    try {
        opened.emplace(store_options);
    } catch (const ariadne::storage::Error& e) {
        if (!postgresql) throw;
        throw GatewayError(
            GatewayErrorCode::config,
            std::string("--database (") + (c.data_dir / "database").string() + "): " + e.what());
    }
    Store& store = *opened;

    GatewayOptions gateway_options;
    gateway_options.recovery_params =
        load_or_create_recovery_params(store, c.recovery_m_kib, c.insecure_test_params);
    gateway_options.worker_threads = c.worker_threads;
    gateway_options.sends_per_second = c.sends_per_second;
    gateway_options.send_burst = c.send_burst;
    gateway_options.login_budget.address_per_minute = c.login_attempts_per_address;
    gateway_options.login_budget.global_per_minute = c.login_attempts_total;
    // Consent decides caseworker → survivor messages at send time; check-ins run beside.
    PolicyService policies(store, server_key, database.string(), c.data_dir,
                           std::chrono::milliseconds(c.checkin_interval_ms));
    gateway_options.render_notice = policies.notice_renderer();
    gateway_options.callbacks = &policies.callbacks();
    // Consoles follow the organisation's retention and canned replies (`settings`).
    gateway_options.console_settings = [&policies, &server_key] {
        auto settings = console_settings(policies.store());
        // App messages are end-to-end: only a console can look for her duress words in them.
        settings["duress_words"] = duress_words_for_consoles(policies.store(), server_key);
        return settings;
    };
    // Several nodes on one PostgreSQL database hear of each other's commits, logins and
    // alerts (cluster_link.h); created before the gateway, stopped before it goes.
    std::optional<ClusterLink> cluster;
    // ... and count each other's failed logins (stored_login_ledger.h).
    std::optional<StoredLoginLedger> login_ledger;
    if (postgresql) {
        gateway_options.clustered = true;
        cluster.emplace(database.native(), cluster_channel(store),
                        std::chrono::milliseconds(c.cluster_poll_ms));
        gateway_options.login_ledger = &login_ledger.emplace(store.database());
    }
    Gateway gateway(store, server_key, metrics, gateway_options, policies.send_policy(),
                    &policies.alerts());
    if (cluster) {
        try {
            cluster->start(gateway);
        } catch (const ariadne::storage::Error& e) {
            throw GatewayError(GatewayErrorCode::config, std::string("--database (") +
                                                             (c.data_dir / "database").string() +
                                                             "): " + e.what());
        }
        spdlog::info("cluster node {} on a shared PostgreSQL database", cluster->node_id());
    }
    struct StopCluster {
        std::optional<ClusterLink>& link;
        ~StopCluster() {
            if (link) link->stop();
        }
    } stop_cluster{cluster};
    policies.alerts().set_listener(
        [&gateway, &policies](const AlertRecord& alert,
                              const std::vector<std::string>& recipients) {
            gateway.push_alert([&policies, alert] { return policies.alerts().describe(alert); },
                               !alert.case_code, recipients);
        });
    policies.callbacks().set_listener(
        [&gateway](const nlohmann::json& task, const std::vector<std::string>& recipients) {
            gateway.push_callback([task] { return task; }, recipients);
        });
    // Check-ins on app/web and handover notices go to her mailbox as `notice` entries.
    policies.attach(gateway);

    ServerOptions server_options;
    server_options.host = c.listen_host;
    server_options.port = c.listen_port;
    server_options.certificate_chain = cert;
    server_options.private_key = key;
    server_options.max_connections = c.max_connections;
    server_options.io_threads = c.io_threads;
    server_options.log_ip = c.log_ip;
    server_options.max_connections_per_address = c.max_connections_per_address;
    server_options.max_unauthenticated_per_address = c.max_unauthenticated_per_address;
    server_options.metrics_host = c.metrics_host;
    server_options.metrics_port = c.metrics_port;
    server_options.metrics_optional = !c.metrics_listen_given;
    auto routes = std::make_shared<HttpRoutes>();
    // The one place that names concrete adapters: each registers its routes, channel
    // senders and device channels here (core/extension.h).
    GatewayExtensions extensions(policies, routes);
    add_admin_api(
        *routes, store, server_key, policies.store(),
        [&policies](const std::string& survivor, const std::string& caseworker,
                    const std::string& actor) {
            return policies.assign(survivor, caseworker, actor);
        },
        [&gateway, &store](const std::string& account, std::uint32_t device) {
            // Unreadable: its connections still end at their next request.
            try {
                if (auto a = store.find_account(account)) {
                    gateway.end_device_sessions(a->key, device);
                }
            } catch (const std::exception&) {
            }
        });
    // Survivors without the app: her edge device (in process) and the web page at /notes.
    ariadne::adapters::EdgeOptions edge_options;
    edge_options.data_dir = c.data_dir;
    // Texts from the page and SMS are in clear here, once: her duress words lock and alert.
    edge_options.inbound_text = [&policies](const std::string& account,
                                            ariadne::adapters::EdgeChannel channel,
                                            std::string_view text) {
        policies.check_duress_words(account, ariadne::adapters::to_string(channel), text);
    };
    edge_options.inbound_channel = [&policies](const std::string& account,
                                               ariadne::adapters::EdgeChannel channel) {
        policies.note_inbound_channel(account, channel == ariadne::adapters::EdgeChannel::sms
                                                   ? ariadne::policies::ChannelKind::sms
                                                   : ariadne::policies::ChannelKind::web);
    };
    ariadne::adapters::EdgeHub edge(gateway, edge_options);
    edge.register_with(extensions);
    // One duress mechanism: her duress code (survivor-enrol --with-duress-code) is a second
    // account; on the page as in the app it shows an empty view and locks + alerts her case.
    ariadne::adapters::SurvivorPageOptions page_options;
    page_options.max_sessions = c.notes_max_sessions;
    page_options.duress_target = [&policies](const std::string& account) {
        return duress_login_target(policies.store(), account);
    };
    // After sign-in the page speaks her record's language, in her time zone, and shows her
    // thread within the organisation's retention.
    page_options.profile =
        [&policies](
            const std::string& account) -> std::optional<ariadne::adapters::SurvivorPageProfile> {
        auto record = find_survivor_record(policies.store(), account);
        if (!record) return std::nullopt;
        return ariadne::adapters::SurvivorPageProfile{record->language.str(), record->time_zone};
    };
    page_options.retention_days = [&policies] {
        return policies.store().org_policy().retention_days;
    };
    page_options.on_duress = [&policies](const std::string& account) {
        try {
            if (auto c = find_survivor_case(policies.store(), account)) {
                policies.raise_duress(c->case_code);
            }
        } catch (const std::exception&) {
        }
    };
    ariadne::adapters::SurvivorPage notes(store, edge, gateway_options.recovery_params,
                                          std::move(page_options));
    notes.register_with(extensions);
    // SMS through Kannel (optional): inbound and delivery-report routes under /sms/.
    std::unique_ptr<ariadne::adapters::SmsGateway> sms;
    if (!c.sms_config.empty()) {
        auto sms_options = ariadne::adapters::load_sms_config(c.sms_config);
        sms_options.recovery_params = gateway_options.recovery_params;
        sms = std::make_unique<ariadne::adapters::SmsGateway>(store, policies.store(), server_key,
                                                              edge, std::move(sms_options));
        // Routes, the sms check-in sender, and her edge device as sms where she has a number.
        sms->register_with(extensions);
        // A number not on file: her on-duty caseworkers get the unverified_channel alert.
        sms->on_unverified([&policies](const ariadne::policies::CaseCode& code) {
            policies.alerts().raise(code, AlertKind::unverified_channel);
        });
        // Her duress code by SMS: the same silent duress alert and lock as at the page.
        sms->on_duress(
            [&policies](const ariadne::policies::CaseCode& code) { policies.raise_duress(code); });
        spdlog::info("SMS channel enabled (Kannel)");
    }
    server_options.routes = routes;
    Server server(gateway, server_options);

    std::string host =
        c.listen_host.find(':') != std::string::npos ? "[" + c.listen_host + "]" : c.listen_host;
    std::cout << "ariadne: listening on https://" << host << ":" << server.port()
              << "/ (certificate sha256 " << fingerprint << ")" << std::endl;
    // Consoles may pin this instead: it outlives renewals of the certificate on the same key.
    std::cout << "ariadne: public key sha256 " << public_key_sha256_fingerprint(cert) << std::endl;
    if (server.metrics_port() != 0) {
        std::string metrics_host = c.metrics_host.find(':') != std::string::npos
                                       ? "[" + c.metrics_host + "]"
                                       : c.metrics_host;
        std::cout << "ariadne: metrics on https://" << metrics_host << ":" << server.metrics_port()
                  << "/metrics" << std::endl;
    }
    if (!c.port_file.empty()) write_port_file(c.port_file, server.port());
    spdlog::info("WebSocket endpoint wss://{}:{}/v1/ws; sync mode {}", host, server.port(),
                 c.sync_full ? "full" : "normal");
    policies.start();
    // Replies queued for edge devices while the gateway was down, or left unsettled by a
    // restart, are delivered (and settled) now rather than at her next message.
    std::jthread edge_resume([&edge] { edge.resume(); });
    server.run();
    policies.stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    ariadne::storage::configure_process();
    std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
    std::string command = argc >= 2 ? argv[1] : "";
    try {
        if (command == "serve") return serve(args);
        if (command == "--version" ||
            (command == "admin" && args.size() == 1 && args[0] == "--version")) {
            std::cout << build_description() << "\n";
            return 0;
        }
        if (command == "admin") return run_admin(args, std::cin, std::cout, std::cerr);
        if (command == "--help" || command == "help") {
            std::cout << kUsage;
            return 0;
        }
        std::cerr << (command.empty() ? "" : "ariadne: unknown command '" + command + "'.\n")
                  << kUsage;
        return 2;
    } catch (const GatewayError& e) {
        std::cerr << "ariadne: " << e.what() << "\n";
        return e.code() == GatewayErrorCode::config ? 2 : 1;
    } catch (const std::exception& e) {
        std::cerr << "ariadne: " << e.what() << "\n";
        return 1;
    }
}
