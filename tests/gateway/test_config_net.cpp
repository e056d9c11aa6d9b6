// The network settings of `ariadne serve`: the metrics listener (loopback by default, or
// off), connection caps per client address and login attempt budgets, from flags or the
// config file, refused by name when invalid.
#include <gtest/gtest.h>

#include <fstream>

#include "ariadne/admin/arguments.h"
#include "ariadne/app/config.h"
#include "ariadne/net/server.h"
#include "ariadne/protocol/error.h"
#include "harness.h"

namespace ariadne::gateway {
namespace {

TEST(NetConfig, MetricsListenOnLoopbackByDefault) {
    auto c = parse_serve_config({}).config;
    EXPECT_EQ(c.metrics_host, "127.0.0.1");
    EXPECT_EQ(c.metrics_port, 9464);
    EXPECT_FALSE(c.metrics_listen_given);
    EXPECT_EQ(c.max_connections_per_address, 256u);
    EXPECT_EQ(c.max_unauthenticated_per_address, 32u);
    EXPECT_EQ(c.login_attempts_per_address, 10u);
    EXPECT_EQ(c.login_attempts_total, 300u);
}

// Found by fuzz_serve_config: Boost.Program_options looped forever formatting the error for
// an unknown option named after one of its placeholders, so `serve --config` hung at start.
TEST(NetConfig, AConfigLineOrArgumentHoldingAnOptionsPlaceholderIsRefusedNotHung) {
    test::TempDir dir;
    std::ofstream(dir.path / "p.conf")
        << "listen = 127.0.0.1:8443\nsends-per-seoption '%canonical_option%'cond = 1\n";
    try {
        parse_serve_config({"--config", (dir.path / "p.conf").string()});
        FAIL() << "accepted";
    } catch (const GatewayError& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(parse_serve_config({"--%canonical_option%"}), GatewayError);
    EXPECT_THROW(parse_serve_config({"--sends-per-second", "%value%"}), GatewayError);
    EXPECT_EQ(program_options_placeholder("50% of 100%"), "");
    EXPECT_EQ(program_options_placeholder("a %prefix_option% b"), "%prefix_option%");
}

TEST(NetConfig, MetricsListenCanBeMovedOrTurnedOffInFlagsOrFile) {
    auto moved = parse_serve_config({"--metrics-listen", "[::1]:9500"}).config;
    EXPECT_EQ(moved.metrics_host, "::1");
    EXPECT_EQ(moved.metrics_port, 9500);
    EXPECT_TRUE(moved.metrics_listen_given);
    EXPECT_TRUE(parse_serve_config({"--metrics-listen", "off"}).config.metrics_host.empty());

    test::TempDir dir;
    std::ofstream(dir.path / "a.conf") << "metrics-listen = off\nmax-connections-per-address = 8\n"
                                          "login-attempts-total = 120\n";
    auto file = parse_serve_config({"--config", (dir.path / "a.conf").string()}).config;
    EXPECT_TRUE(file.metrics_host.empty());
    EXPECT_EQ(file.max_connections_per_address, 8u);
    EXPECT_EQ(file.login_attempts_total, 120u);
}

TEST(NetConfig, BadNetworkSettingsAreRefusedByName) {
    auto refused = [](std::vector<std::string> args, const std::string& name) {
        try {
            parse_serve_config(args);
            ADD_FAILURE() << "accepted: " << args[0];
        } catch (const GatewayError& e) {
            EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        }
    };
    refused({"--metrics-listen", "nowhere"}, "--metrics-listen");
    refused({"--metrics-listen", "127.0.0.1:99999"}, "--metrics-listen");
    refused({"--max-connections-per-address", "0"}, "max-connections-per-address");
    refused({"--max-unauthenticated-per-address", "0"}, "max-unauthenticated-per-address");
    refused({"--login-attempts-per-address", "0"}, "login-attempts-per-address");
    refused({"--login-attempts-total", "0"}, "login-attempts-total");
}

TEST(NetConfig, TheDevelopmentCertificateIsRefusedOnANonLoopbackListenAddress) {
    for (const char* loopback : {"127.0.0.1:8443", "127.1.2.3:0", "[::1]:8443",
                                 "[::ffff:127.0.0.1]:8443", "localhost:8443"}) {
        EXPECT_NO_THROW(parse_serve_config({"--listen", loopback})) << loopback;
    }
    for (const char* open : {"0.0.0.0:8443", "[::]:8443", "10.0.0.5:443", "[fe80::1]:443",
                             "[::ffff:10.0.0.5]:443", "gateway.example.org:443"}) {
        try {
            parse_serve_config({"--listen", open});
            ADD_FAILURE() << "accepted: " << open;
        } catch (const GatewayError& e) {
            EXPECT_EQ(e.code(), GatewayErrorCode::config);
            EXPECT_NE(std::string(e.what()).find("--cert FILE --key FILE"), std::string::npos);
            EXPECT_NE(std::string(e.what()).find("--allow-dev-certificate"), std::string::npos);
        }
        EXPECT_TRUE(parse_serve_config({"--listen", open, "--allow-dev-certificate"})
                        .config.allow_dev_certificate);
        EXPECT_NO_THROW(
            parse_serve_config({"--listen", open, "--cert", "c.pem", "--key", "k.pem"}));
    }
    test::TempDir dir;
    std::ofstream(dir.path / "open.conf") << "listen = 0.0.0.0:443\n";
    EXPECT_THROW(parse_serve_config({"--config", (dir.path / "open.conf").string()}), GatewayError);
    std::ofstream(dir.path / "open.conf") << "listen = 0.0.0.0:443\nallow-dev-certificate = true\n";
    EXPECT_NO_THROW(parse_serve_config({"--config", (dir.path / "open.conf").string()}));
}

TEST(NetConfig, ClientAddressKeysGroupAnIpv6Slash64) {
    EXPECT_EQ(client_address_key("192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(client_address_key("::ffff:192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(client_address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    EXPECT_EQ(client_address_key("2001:db8:1:2::9"), "2001:db8:1:2::/64");
    EXPECT_NE(client_address_key("2001:db8:1:3::9"), client_address_key("2001:db8:1:2::9"));
}

}  // namespace
}  // namespace ariadne::gateway
