#include "ariadne/app/config.h"

#include <arpa/inet.h>
#include <sched.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

#include "ariadne/admin/arguments.h"
#include "ariadne/protocol/error.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::gateway {

namespace po = boost::program_options;

namespace {

// Two network threads, unless the process may run on one CPU only (taskset, cgroup cpuset):
// there a second thread only adds hand-offs between threads that take turns on the same
// core (measured: ~25 % more messages per CPU-second with one, docs/benchmarks.md).
std::uint32_t default_io_threads() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1) return 1;
    return 2;
}

}  // namespace

namespace {

[[noreturn]] void refuse(const std::string& message) {
    throw GatewayError(GatewayErrorCode::config, "Configuration refused: " + message);
}

void parse_host_port(const std::string& setting, const std::string& example,
                     const std::string& text, std::string& host_out, std::uint16_t& port_out) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        refuse(setting + " must be HOST:PORT (for example " + example + "), got '" + text + "'.");
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    std::string port = text.substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535) {
        refuse(setting + " port must be a number from 0 to 65535, got '" + port + "'.");
    }
    host_out = host;
    port_out = static_cast<std::uint16_t>(std::stoul(port));
}

void parse_listen(const std::string& text, ServeConfig& config) {
    parse_host_port("--listen", "127.0.0.1:8443", text, config.listen_host, config.listen_port);
}

// 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: only this machine can connect.
bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

void in_range(const char* name, std::uint32_t value, std::uint32_t min, std::uint32_t max) {
    if (value < min || value > max) {
        refuse(std::string("--") + name + " must be between " + std::to_string(min) + " and " +
               std::to_string(max) + ", got " + std::to_string(value) + ".");
    }
}

}  // namespace

ServeCommand parse_serve_config(const std::vector<std::string>& args) {
    ServeCommand result;
    ServeConfig& c = result.config;
    std::string listen, sync_mode = "full", metrics_listen;
    po::options_description options("ariadne serve options");
    // clang-format off
    options.add_options()
        ("help", "print this help and exit")
        ("config", po::value<std::string>(), "read settings from FILE (name = value lines)")
        ("listen", po::value<std::string>(&listen)->default_value("127.0.0.1:8443"),
            "HOST:PORT to listen on (port 0: ephemeral)")
        ("data-dir", po::value<std::string>()->default_value("ariadne-data"),
            "directory of the database, keys and certificate (created 0700)")
        ("database", po::value<std::string>(),
            "PostgreSQL URI (postgresql://…) of a database shared by several nodes; "
            "default: SQLite in --data-dir")
        ("cluster-poll-ms", po::value<std::uint32_t>(&c.cluster_poll_ms)->default_value(1000),
            "with --database: how often online devices re-read their backlog (ms)")
        ("cert", po::value<std::string>(), "TLS certificate chain (PEM); default: generated")
        ("key", po::value<std::string>(), "TLS private key (PEM)")
        ("allow-dev-certificate", po::bool_switch(&c.allow_dev_certificate),
            "serve the generated development certificate on a non-loopback --listen address")
        ("port-file", po::value<std::string>(), "write the bound port to FILE once listening")
        ("log-level", po::value<std::string>(&c.log_level)->default_value("info"),
            "trace, debug, info, warn, error or off")
        ("log-ip", po::value<bool>(&c.log_ip)->default_value(false)->implicit_value(true),
            "log client IP addresses")
        ("mailbox-ttl-days", po::value<std::uint32_t>(&c.mailbox_ttl_days)->default_value(30),
            "days an undelivered message is kept")
        ("queue-mib-per-recipient",
            po::value<std::uint32_t>(&c.queue_mib_per_recipient)->default_value(256),
            "MiB of undelivered messages held for one account (more: quota_exceeded)")
        ("queue-mib-per-sender",
            po::value<std::uint32_t>(&c.queue_mib_per_sender)->default_value(64),
            "MiB of undelivered messages one account may have sent (more: quota_exceeded)")
        ("notes-max-sessions",
            po::value<std::uint32_t>(&c.notes_max_sessions)->default_value(10000),
            "survivors signed in to the /notes page at once (more: sign-in refused)")
        ("commit-max-batch", po::value<std::uint32_t>(&c.commit_max_batch)->default_value(256),
            "messages per group commit")
        ("commit-max-delay-ms", po::value<std::uint32_t>(&c.commit_max_delay_ms)->default_value(2),
            "longest wait to fill a group commit")
        ("sync-mode", po::value<std::string>(&sync_mode)->default_value("full"),
            "full (durable on power loss) or normal (durable on crash)")
        ("recovery-m-kib", po::value<std::uint32_t>(&c.recovery_m_kib)->default_value(65536),
            "Argon2id memory of recovery codes, used when the deployment's parameters are created")
        ("insecure-test-params", po::bool_switch(&c.insecure_test_params),
            "allow weak recovery parameters (tests only)")
        ("max-connections", po::value<std::uint32_t>(&c.max_connections)->default_value(20000),
            "simultaneous connections")
        ("max-connections-per-address",
            po::value<std::uint32_t>(&c.max_connections_per_address)->default_value(256),
            "simultaneous connections from one client address (IPv6: one /64)")
        ("max-unauthenticated-per-address",
            po::value<std::uint32_t>(&c.max_unauthenticated_per_address)->default_value(32),
            "connections from one client address that have not logged in yet")
        ("login-attempts-per-address",
            po::value<std::uint32_t>(&c.login_attempts_per_address)->default_value(10),
            "login attempts checked per minute from one client address (after a burst of 5)")
        ("login-attempts-total",
            po::value<std::uint32_t>(&c.login_attempts_total)->default_value(300),
            "login attempts checked per minute from all addresses (after a burst of 100)")
        ("metrics-listen", po::value<std::string>(&metrics_listen)->default_value("127.0.0.1:9464"),
            "HOST:PORT of the HTTPS listener serving GET /metrics, or 'off'")
        ("io-threads", po::value<std::uint32_t>(&c.io_threads),
            "network threads (default: 2, or 1 when the process may run on one CPU only)")
        ("worker-threads", po::value<std::uint32_t>(&c.worker_threads)->default_value(2),
            "threads for password checks and mailbox reads")
        ("sends-per-second", po::value<std::uint32_t>(&c.sends_per_second)->default_value(50),
            "sends per account per second (token bucket refill)")
        ("send-burst", po::value<std::uint32_t>(&c.send_burst)->default_value(200),
            "sends per account in a burst (token bucket size)")
        ("sms-config", po::value<std::string>(),
            "enable SMS through Kannel with this JSON file (docs/admin-guide.md)")
        ("checkin-interval-ms",
            po::value<std::uint32_t>(&c.checkin_interval_ms)->default_value(15000),
            "how often due check-ins are sent and retention is applied");
    // clang-format on
    std::ostringstream usage;
    usage << "Usage: ariadne serve [options]\n" << options;
    result.usage = usage.str();

    po::variables_map vm;
    try {
        std::vector<std::string> argv(args);
        for (const auto& arg : argv) {
            if (!program_options_placeholder(arg).empty()) {
                refuse("an argument holds '" + program_options_placeholder(arg) +
                       "': '%' followed by a word and '%' is not allowed.");
            }
        }
        po::store(po::command_line_parser(argv).options(options).run(), vm);
        if (vm.count("help")) {
            result.help = true;
            return result;
        }
        if (vm.count("config")) {
            std::string file = vm["config"].as<std::string>();
            std::ifstream in(file);
            if (!in) refuse("--config file '" + file + "' cannot be read.");
            std::stringstream text;
            text << in.rdbuf();
            std::istringstream lines(text.str());
            int number = 0;
            for (std::string line; std::getline(lines, line);) {
                ++number;
                if (!program_options_placeholder(line).empty()) {
                    refuse("--config file '" + file + "' line " + std::to_string(number) +
                           ": '%' followed by a word and '%' is not allowed in a setting.");
                }
            }
            std::istringstream again(text.str());
            po::store(po::parse_config_file(again, options, /*allow_unregistered=*/false), vm);
        }
        po::notify(vm);
    } catch (const GatewayError&) {
        throw;
    } catch (const po::error& e) {
        refuse(std::string(e.what()) + ".");
    }
    parse_listen(listen, c);
    c.metrics_listen_given = !vm["metrics-listen"].defaulted();
    if (metrics_listen == "off") {
        c.metrics_host.clear();
        c.metrics_port = 0;
    } else {
        parse_host_port("--metrics-listen", "127.0.0.1:9464 or off", metrics_listen, c.metrics_host,
                        c.metrics_port);
    }
    c.data_dir = vm["data-dir"].as<std::string>();
    if (c.data_dir.empty()) refuse("--data-dir must not be empty.");
    if (vm.count("database")) {
        c.database = vm["database"].as<std::string>();
        if (!ariadne::storage::is_postgres_uri(c.database)) {
            refuse(
                "--database takes a PostgreSQL URI such as "
                "postgresql://ariadne@db1,db2/ariadne?target_session_attrs=read-write; leave it "
                "out for the embedded SQLite database in --data-dir.");
        }
    }
    if (vm.count("cert")) c.cert = vm["cert"].as<std::string>();
    if (vm.count("key")) c.key = vm["key"].as<std::string>();
    if (c.cert.empty() != c.key.empty()) refuse("--cert and --key must be given together.");
    // Phones reaching a public address would be told "your connection is not private" by
    // the self-signed certificate; survivors must not learn to click through that warning.
    if (c.cert.empty() && !c.allow_dev_certificate && !is_loopback(c.listen_host)) {
        refuse("--listen " + listen +
               " is not a loopback address, and without --cert the gateway would serve its "
               "self-signed development certificate there. Give a real certificate with "
               "--cert FILE --key FILE, or pass --allow-dev-certificate to serve the "
               "development one anyway (clients must then pin its fingerprint).");
    }
    if (vm.count("port-file")) c.port_file = vm["port-file"].as<std::string>();
    if (vm.count("sms-config")) c.sms_config = vm["sms-config"].as<std::string>();
    if (!vm.count("io-threads")) c.io_threads = default_io_threads();
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(levels), std::end(levels), c.log_level) == std::end(levels)) {
        refuse("--log-level must be one of trace, debug, info, warn, error, off; got '" +
               c.log_level + "'.");
    }
    if (sync_mode == "full") {
        c.sync_full = true;
    } else if (sync_mode == "normal") {
        c.sync_full = false;
    } else {
        refuse("--sync-mode must be 'full' or 'normal', got '" + sync_mode + "'.");
    }
    in_range("mailbox-ttl-days", c.mailbox_ttl_days, 1, 3650);
    in_range("cluster-poll-ms", c.cluster_poll_ms, 50, 60000);
    in_range("queue-mib-per-recipient", c.queue_mib_per_recipient, 1, 1024 * 1024);
    in_range("queue-mib-per-sender", c.queue_mib_per_sender, 1, 1024 * 1024);
    in_range("notes-max-sessions", c.notes_max_sessions, 1, 1000000);
    in_range("commit-max-batch", c.commit_max_batch, 1, 100000);
    in_range("commit-max-delay-ms", c.commit_max_delay_ms, 0, 1000);
    check_recovery_m_kib(c.recovery_m_kib, c.insecure_test_params);
    in_range("max-connections", c.max_connections, 1, 1000000);
    in_range("max-connections-per-address", c.max_connections_per_address, 1, 1000000);
    in_range("max-unauthenticated-per-address", c.max_unauthenticated_per_address, 1, 1000000);
    in_range("login-attempts-per-address", c.login_attempts_per_address, 1, 1000000);
    in_range("login-attempts-total", c.login_attempts_total, 1, 1000000);
    in_range("io-threads", c.io_threads, 1, 64);
    in_range("worker-threads", c.worker_threads, 1, 64);
    in_range("sends-per-second", c.sends_per_second, 1, 10000000);
    in_range("send-burst", c.send_burst, 1, 10000000);
    in_range("checkin-interval-ms", c.checkin_interval_ms, 50, 3600000);
    return result;
}

}  // namespace ariadne::gateway
