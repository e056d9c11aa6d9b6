// Settings of `ariadne serve` and `ariadne admin`, read from flags and an optional config
// file (`--config FILE`, lines `name = value` with the same names as the flags). Flags win
// over the file. Unknown or invalid settings are refused before anything starts, with a
// message that names the setting. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::gateway {

struct ServeConfig {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8443;  // 0: an ephemeral port (see port_file)
    std::filesystem::path data_dir = "ariadne-data";
    // A PostgreSQL URI shared by several nodes; empty: the data directory's own database
    // (DATA_DIR/database if an earlier `--database` recorded one, else SQLite ariadne.db).
    std::string database;
    // With a shared database: how often every online device re-reads its backlog, so mail
    // committed on another node arrives even when its notification was lost.
    std::uint32_t cluster_poll_ms = 1000;
    std::filesystem::path cert;  // empty: <data_dir>/tls-cert.pem (generated on first run)
    std::filesystem::path key;   // empty: <data_dir>/tls-key.pem
    // Without it, a non-loopback listen_host with no `cert` is refused (config error).
    bool allow_dev_certificate = false;
    std::filesystem::path port_file;  // written with the bound port once listening
    std::string log_level = "info";   // trace, debug, info, warn, error, off
    bool log_ip = false;
    std::uint32_t mailbox_ttl_days = 30;
    // Undelivered message bytes per recipient / per sender account (docs/protocol.md 6).
    std::uint32_t queue_mib_per_recipient = 256;
    std::uint32_t queue_mib_per_sender = 64;
    std::uint32_t notes_max_sessions = 10000;  // signed-in sessions of the /notes page
    std::uint32_t commit_max_batch = 256;
    std::uint32_t commit_max_delay_ms = 2;
    bool sync_full = true;  // --sync-mode full|normal
    std::uint32_t recovery_m_kib = 65536;
    bool insecure_test_params = false;
    std::uint32_t max_connections = 20000;
    std::uint32_t max_connections_per_address = 256;
    std::uint32_t max_unauthenticated_per_address = 32;
    // Login attempts (auth_survivor, auth_device, register_device) checked per minute, per
    // client address and in total (login_budget.h).
    std::uint32_t login_attempts_per_address = 10;
    std::uint32_t login_attempts_total = 300;
    // GET /metrics listener: HOST:PORT, or empty for none (--metrics-listen off).
    std::string metrics_host = "127.0.0.1";
    std::uint16_t metrics_port = 9464;
    bool metrics_listen_given = false;  // false: the default, and failing to bind it is not fatal
    std::uint32_t io_threads = 2;
    std::uint32_t worker_threads = 2;
    // Per-account send token bucket (docs/protocol.md section 6). Benchmarks that drive many
    // messages through few accounts raise them; production keeps the defaults.
    std::uint32_t sends_per_second = 50;
    std::uint32_t send_burst = 200;
    std::filesystem::path sms_config;  // empty: no SMS channel (adapters/sms_gateway.h)
    // How often the policy service runs the check-in scheduler and the retention purge.
    std::uint32_t checkin_interval_ms = 15000;
};

/// What `parse_serve_config` found.
struct ServeCommand {
    bool help = false;  // --help given: print `usage` and exit 0
    std::string usage;
    ServeConfig config;
};

/// Parses the arguments after `serve`. Throws GatewayError(config) naming the setting for
/// an unknown option, a bad value, an unreadable config file, or a combination that is
/// refused (e.g. --recovery-m-kib below 65536 without --insecure-test-params, or a
/// non-loopback --listen address without --cert nor --allow-dev-certificate).
ServeCommand parse_serve_config(const std::vector<std::string>& args);

}  // namespace ariadne::gateway
