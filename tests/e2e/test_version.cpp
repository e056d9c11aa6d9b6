// What runs, as an administrator sees it: `ariadne --version` (and the admin CLI's and the
// survivor client's), the start's log line, the build-info metric; and log lines fit for
// journald when stderr is the journal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"

namespace ariadne::e2e {
namespace {

namespace fs = std::filesystem;

const std::regex kVersionLine(
    R"(^ariadne ([0-9]+\.[0-9]+\.[0-9]+) \(commit ([A-Za-z0-9._+~-]+)\)$)");

/// The release and commit `ariadne --version` prints; fails the test on another format.
std::pair<std::string, std::string> binary_version() {
    auto r = run_process({server_binary(), "--version"}, "");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string line = r.out.substr(0, r.out.find('\n'));
    std::smatch m;
    if (!std::regex_match(line, m, kVersionLine)) {
        ADD_FAILURE() << "not a version line: " << r.out;
        return {};
    }
    return {m[1].str(), m[2].str()};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

TEST(Version, AriadneAndItsAdminCliPrintTheReleaseOfCMakeAndTheCommit) {
    auto [release, commit] = binary_version();
    EXPECT_EQ(release, ARIADNE_PROJECT_VERSION);
    EXPECT_FALSE(commit.empty());
    auto admin = run_process({server_binary(), "admin", "--version"}, "");
    EXPECT_EQ(admin.exit_code, 0) << admin.err;
    EXPECT_EQ(admin.out, "ariadne " + release + " (commit " + commit + ")\n");
    auto help = run_process({server_binary(), "--help"}, "");
    EXPECT_NE(help.out.find("--version"), std::string::npos);
#ifdef ARIADNE_SURVIVOR_BINARY
    auto survivor = run_process({ARIADNE_SURVIVOR_BINARY, "--version"}, "");
    EXPECT_EQ(survivor.exit_code, 0) << survivor.err;
    EXPECT_EQ(survivor.out, "ariadne-survivor " + release + " (commit " + commit + ")\n");
#endif
}

TEST(Version, TheStartIsLoggedWithTheVersionAndMetricsCarryABuildInfoSeries) {
    auto [release, commit] = binary_version();
    TempDir tmp;
    Gateway gateway(tmp.path() / "data", {"--metrics-listen", "127.0.0.1:0"});
    gateway.start();
    EXPECT_NE(gateway.log().find("ariadne " + release + " (commit " + commit + ") starting"),
              std::string::npos)
        << gateway.log();
    static const std::regex metrics_line(R"(metrics on https://127\.0\.0\.1:([0-9]+)/metrics)");
    auto line = gateway.stdout_line(metrics_line);
    ASSERT_TRUE(line);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*line, m, metrics_line));
    auto scrape = run_process({"/usr/bin/curl", "-sk", "--max-time", "30",
                               "https://127.0.0.1:" + m[1].str() + "/metrics"},
                              "");
    ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
    EXPECT_NE(scrape.out.find("# TYPE ariadne_build_info gauge\n"), std::string::npos);
    EXPECT_NE(scrape.out.find("\nariadne_build_info{version=\"" + release + "\",commit=\"" +
                              commit + "\"} 1\n"),
              std::string::npos)
        << scrape.out;
}

// ---- journald ----------------------------------------------------------------------------

/// "DEV:INO" of `path`, as systemd sets JOURNAL_STREAM for a service's stderr.
std::string device_and_inode(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool log_holds(const Gateway& gateway, const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (gateway.log().find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

TEST(JournalLogs, OnTheJournalLinesCarryASyslogPriorityAndNoTimeOfTheirOwnElsewhereUnchanged) {
    TempDir tmp;
    const fs::path data = tmp.path() / "data";
    // The harness sends the server's stderr to this file: make it first to know its inode.
    const fs::path log_file = tmp.path() / "data-server.log";
    std::ofstream(log_file).close();
    Gateway gateway(data, {"--metrics-listen", "off"});
    gateway.set_environment({"JOURNAL_STREAM=" + device_and_inode(log_file)});
    gateway.start();
    // An error: a certificate reload that cannot be used (the key was removed).
    fs::remove(data / "tls-key.pem");
    ASSERT_EQ(::kill(gateway.pid(), SIGHUP), 0);
    ASSERT_TRUE(log_holds(gateway, "certificate reload refused"));
    gateway.stop();

    const auto lines = lines_of(gateway.log());
    ASSERT_FALSE(lines.empty());
    for (const auto& line : lines) {
        ASSERT_TRUE(std::regex_search(line, std::regex(R"(^<[0-7]>)"))) << line;
        EXPECT_FALSE(std::regex_search(line, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d)")))
            << "a timestamp of its own: " << line;
    }
    const std::string log = gateway.log();
    EXPECT_NE(log.find("<6>ariadne "), std::string::npos) << log;
    EXPECT_NE(log.find("<3>certificate reload refused"), std::string::npos) << log;

    // JOURNAL_STREAM naming another file (inherited from a parent on the journal, stderr
    // redirected): lines as on a terminal.
    Gateway other(tmp.path() / "other", {"--metrics-listen", "off"});
    other.set_environment({"JOURNAL_STREAM=" + device_and_inode(tmp.path())});
    other.start();
    other.stop();
    const auto other_lines = lines_of(other.log());
    ASSERT_FALSE(other_lines.empty());
    for (const auto& line : other_lines) {
        EXPECT_TRUE(std::regex_search(
            line,
            std::regex(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[ariadne\] \[[a-z]+\] )")))
            << line;
    }
}

}  // namespace
}  // namespace ariadne::e2e
