// Failover: a gateway on a PostgreSQL primary with a synchronous standby (both started here
// with tests/pg/pg-cluster, on loopback) keeps every acknowledged message when the primary is
// stopped under load and the standby promoted: sends in the gap are refused with
// storage_unavailable and retried, the gateway finds the new primary through its multi-host
// URI (target_session_attrs=read-write), and her caseworker's console receives each
// acknowledged message once, in order. Runs only in the PostgreSQL run (pg.ClusterFailover.*).
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;
namespace fs = std::filesystem;

std::string read_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

void cluster_command(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {ARIADNE_PG_CLUSTER_SCRIPT};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, "", 120s);
    if (r.exit_code != 0) throw std::runtime_error("pg-cluster " + args[0] + " failed: " + r.err);
}

TEST(ClusterFailover, APromotedStandbyCarriesOnAndNoAcknowledgedMessageIsLost) {
    if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run";
    // Short paths: PostgreSQL's socket path is limited.
    char primary_template[] = "/tmp/ariadne-fo-p.XXXXXX";
    char standby_template[] = "/tmp/ariadne-fo-s.XXXXXX";
    const fs::path primary = ::mkdtemp(primary_template);
    const fs::path standby = ::mkdtemp(standby_template);
    struct Cleanup {
        fs::path a, b;
        ~Cleanup() {
            run_process({ARIADNE_PG_CLUSTER_SCRIPT, "destroy", b.string()}, "", 60s);
            run_process({ARIADNE_PG_CLUSTER_SCRIPT, "destroy", a.string()}, "", 60s);
        }
    } cleanup{primary, standby};
    cluster_command({"start", primary.string(), "--replace"});
    cluster_command({"standby", standby.string(), primary.string(), "--synchronous"});

    // postgresql://ariadne:PW@127.0.0.1:P1/postgres → both hosts, the writable one wins.
    std::string uri = read_line(primary / "uri");
    const std::string p1 = read_line(primary / "port"), p2 = read_line(standby / "port");
    const auto host = uri.find("127.0.0.1:" + p1);
    ASSERT_NE(host, std::string::npos) << "unexpected uri form";
    uri.replace(host, ("127.0.0.1:" + p1).size(), "127.0.0.1:" + p1 + ",127.0.0.1:" + p2);
    uri += "?target_session_attrs=read-write&connect_timeout=2";

    TempDir tmp;
    const fs::path data = tmp.path() / "data";
    fs::create_directories(data);
    fs::permissions(data, fs::perms::owner_all);
    // Recorded before the first admin command (which reads it), as `serve --database` does.
    std::ofstream(data / "database") << uri << "\n";
    fs::permissions(data / "database", fs::perms::owner_read | fs::perms::owner_write);
    Gateway gateway(data, {"--database", uri});
    auto cw = gateway.add_caseworker("mara.k");
    auto her = gateway.enrol_survivor(cw.account);
    gateway.start();
    auto console = register_console(gateway, cw, tmp.path() / "console", 0);
    auto phone = recover_survivor(gateway, her, tmp.path() / "phone");

    std::vector<std::string> acknowledged;
    std::future<void> failover;
    int refused = 0;
    for (int k = 0; k < 80; ++k) {
        if (k == 25) {
            failover = std::async(std::launch::async, [&] {
                cluster_command({"stop", primary.string()});
                std::this_thread::sleep_for(1s);  // sends meanwhile find no primary
                cluster_command({"promote", standby.string()});
            });
        }
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        for (int attempt = 0;; ++attempt) {
            const std::string text = "m" + std::to_string(k) + "/" + std::to_string(attempt);
            try {
                phone->send_text(cw.account, text);
                acknowledged.push_back(text);
                break;
            } catch (const std::exception& e) {
                ++refused;
                ASSERT_LT(std::chrono::steady_clock::now(), deadline)
                    << "no send succeeded for 60 s: " << e.what() << "\n"
                    << gateway.log();
                std::this_thread::sleep_for(200ms);
            }
        }
    }
    failover.get();
    EXPECT_GT(refused, 0) << "the primary's loss was never noticed";

    std::map<std::string, int> seen;
    std::vector<int> order;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    std::size_t received = 0;
    while (received < acknowledged.size() && std::chrono::steady_clock::now() < deadline) {
        auto m = console->receive(500ms);
        if (!m || m->is_receipt) continue;
        ++received;
        ++seen[m->plaintext];
        // Order is promised for acknowledged messages (an unacknowledged original of a resent
        // one may arrive later).
        if (std::find(acknowledged.begin(), acknowledged.end(), m->plaintext) !=
            acknowledged.end()) {
            order.push_back(std::stoi(m->plaintext.substr(1)));
        }
    }
    for (const auto& text : acknowledged) EXPECT_EQ(seen[text], 1) << text;
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
    EXPECT_EQ(gateway.log().find(read_line(primary / "password")), std::string::npos);
}

}  // namespace
}  // namespace ariadne::e2e
