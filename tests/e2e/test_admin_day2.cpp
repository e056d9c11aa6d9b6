// The administrator's daily work against the real server, through `ariadne admin` and the
// HTTPS admin API (one code path, so both answer alike): listing caseworkers, survivors'
// cases, check-in plans and devices; revoking a lost console; unassigning a caseworker;
// account creation in the audit chain; the authenticator's QR code; new passwords typed on a
// terminal. Adversarial: wrong role, unknown ids, hostile input.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

struct HttpResult {
    int status = 0;
    Json body;
    std::string text;
};

/// The dark modules of a QR code, row by row, without a quiet zone.
using Modules = std::vector<std::string>;  // '#' dark, '.' light

/// The modules of our SVG: one "M{x} {y}h1v1h-1z" square per dark module, 4-module quiet zone.
Modules modules_of_svg(const std::string& svg) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(svg, m, std::regex("viewBox=\"0 0 (\\d+) (\\d+)\""))) << svg;
    int size = std::stoi(m[1]);
    int width = size - 8;
    Modules out(static_cast<std::size_t>(width), std::string(static_cast<std::size_t>(width), '.'));
    std::regex square("M(\\d+) (\\d+)h1v1h-1z");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), square);
         it != std::sregex_iterator(); ++it) {
        int x = std::stoi((*it)[1]) - 4, y = std::stoi((*it)[2]) - 4;
        EXPECT_TRUE(x >= 0 && y >= 0 && x < width && y < width) << "module in the quiet zone";
        if (x >= 0 && y >= 0 && x < width && y < width) out[y][x] = '#';
    }
    return out;
}

/// What the `qrencode` tool encodes for `text` at level M (its default mode), as modules.
Modules modules_of_qrencode(const std::string& text) {
    auto r = run_process(
        {"/usr/bin/qrencode", "-l", "M", "-m", "0", "-t", "ASCII", "-o", "-", text}, "");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Modules out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        std::string row;
        for (std::size_t i = 0; i + 1 < line.size() + 1; i += 2) row += line[i] == '#' ? '#' : '.';
        out.push_back(row);
    }
    for (auto& row : out) row.resize(out.size(), '.');
    return out;
}

/// The modules drawn by the terminal QR code (half blocks, 4-module light quiet zone).
Modules modules_of_terminal(const std::string& text) {
    std::vector<std::string> rows;  // full module rows including the quiet zone
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        const std::string start = "\x1b[30;47m", end = "\x1b[0m";
        auto a = line.find(start);
        if (a == std::string::npos) continue;
        auto b = line.find(end, a);
        std::string cells = line.substr(a + start.size(), b - a - start.size());
        std::string top, bottom;
        for (std::size_t i = 0; i < cells.size();) {
            if (cells[i] == ' ') {
                top += '.', bottom += '.', ++i;
                continue;
            }
            std::string glyph = cells.substr(i, 3);
            i += 3;
            top += glyph == "\u2588" || glyph == "\u2580" ? '#' : '.';
            bottom += glyph == "\u2588" || glyph == "\u2584" ? '#' : '.';
        }
        rows.push_back(top);
        rows.push_back(bottom);
    }
    if (rows.empty()) return {};
    std::size_t size = rows[0].size();
    rows.resize(size);  // an odd size: the last line's bottom half is not a row
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(rows[i], std::string(size, '.')) << "quiet zone row " << i;
        EXPECT_EQ(rows[size - 1 - i], std::string(size, '.')) << "quiet zone row " << i;
    }
    Modules out;
    for (std::size_t y = 4; y + 4 < size; ++y) {
        EXPECT_EQ(rows[y].substr(0, 4), "....");
        EXPECT_EQ(rows[y].substr(size - 4), "....");
        out.push_back(rows[y].substr(4, size - 8));
    }
    return out;
}

/// Runs `argv` on a pseudo-terminal: answers each `prompts[i]` seen on it with `answers[i]`
/// and a newline. Returns the exit code and everything the terminal showed.
ProcessResult run_on_terminal(const std::vector<std::string>& argv,
                              const std::vector<std::string>& prompts,
                              const std::vector<std::string>& answers) {
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) throw std::runtime_error("forkpty failed");
    if (pid == 0) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ProcessResult result;
    std::size_t next = 0, seen_from = 0;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
        pollfd p{master, POLLIN, 0};
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(&p, 1, 200) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO: the child closed the terminal
        result.out.append(buf, static_cast<std::size_t>(n));
        while (next < prompts.size()) {
            auto at = result.out.find(prompts[next], seen_from);
            if (at == std::string::npos) break;
            seen_from = at + prompts[next].size();
            std::string line = answers[next] + "\n";
            EXPECT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
            ++next;
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(master);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

const std::vector<std::string>& hostile_ids() {
    static const std::vector<std::string> ids = {
        "'; DROP TABLE accounts; --", "a_\" OR \"1\"=\"1AAAAAAAAAAAA",
        "a_AAAA\nAAAAAAAAAAAAAAAAAA", "\x1b[2J\x1b[31mred\x1b[0m",
        std::string(5000, 'a'),       "a_\u202eAAAAAAAAAAAAAAAAAAAAA"};
    return ids;
}

class AdminDay2 : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        mara_ = gateway_->add_caseworker("mara.k");
        rosa_ = gateway_->add_caseworker("rosa.t");
        Json a = gateway_->admin(
            {"caseworker-add", "--username", "ada.admin", "--role", "admin", "--initials", "A.A."},
            "admin passphrase\n");
        admin_ = {a["account"], "ada.admin", "admin passphrase", a["totp_secret"]};
        survivor_ = gateway_->enrol_survivor(mara_.account, /*consent_replies=*/false);
        gateway_->assign(survivor_.account, rosa_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    HttpResult http(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& token = "") {
        std::vector<std::string> argv = {"/usr/bin/curl", "-sk",        "-i", "-X",
                                         method,          "--max-time", "20"};
        if (!token.empty()) {
            argv.push_back("-H");
            argv.push_back("Authorization: Bearer " + token);
        }
        if (!body.empty()) {
            argv.insert(argv.end(),
                        {"-H", "Content-Type: application/json", "--data-binary", "@-"});
        }
        argv.push_back("https://127.0.0.1:" + std::to_string(gateway_->port()) + path);
        auto r = run_process(argv, body);
        HttpResult out;
        auto split = r.out.find("\r\n\r\n");
        std::string head = r.out.substr(0, split);
        if (head.size() > 9) out.status = std::atoi(head.c_str() + 9);
        out.text = split == std::string::npos ? "" : r.out.substr(split + 4);
        out.body = Json::parse(out.text, nullptr, false);
        return out;
    }

    std::string token_of(const Gateway::Caseworker& who, int step) {
        auto r = http("POST", "/v1/admin/session",
                      Json({{"username", who.username},
                            {"password", who.password},
                            {"totp", totp_for(who, step)}})
                          .dump());
        EXPECT_EQ(r.status, 200) << r.text;
        return r.body.value("token", "");
    }

    /// `ariadne admin <args>` expected to fail: returns stderr, checks the exit code and that
    /// nothing was printed on standard output.
    std::string admin_fails(std::vector<std::string> args, int exit_code,
                            const std::string& input = "") {
        std::vector<std::string> argv = {server_binary(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--data-dir", gateway_->data_dir().string()});
        auto r = run_process(argv, input);
        EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
        return r.err;
    }

    std::string audit_text() {
        auto audit = gateway_->admin({"audit-export"});
        return audit.is_string() ? audit.get<std::string>() : audit.dump();
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker mara_, rosa_, admin_;
    Gateway::Survivor survivor_;
};

TEST_F(AdminDay2, ListingsShowAccountsCasesAndPlansAlikeInTheCliAndTheApi) {
    gateway_->admin({"survivor-update", "--case", survivor_.case_code, "--team", "north"});
    gateway_->admin({"consent-record", "--case", survivor_.case_code, "--channel", "app",
                     "--purpose", "check_ins", "--by", mara_.account});
    Json plan =
        gateway_->admin({"checkin-plan-set", "--case", survivor_.case_code, "--by", mara_.account,
                         "--every-days", "1", "--window", "00:00-23:59", "--channel", "app"});
    // A console device of hers.
    auto conn = gateway_->connect();
    RawDevice device = make_raw_device(tmp_.path() / "mara-device");
    ASSERT_EQ(register_raw(*conn, mara_, device, totp_for(mara_, 0))["type"], "ok");

    Json cws = gateway_->admin({"caseworker-list"});
    ASSERT_EQ(cws["caseworkers"].size(), 3u) << cws.dump();
    std::map<std::string, Json> by_name;
    for (const auto& c : cws["caseworkers"]) by_name[c["username"]] = c;
    EXPECT_EQ(by_name["mara.k"]["account"], mara_.account);
    EXPECT_EQ(by_name["mara.k"]["role"], "caseworker");
    EXPECT_EQ(by_name["mara.k"]["devices"], 1);
    EXPECT_EQ(by_name["mara.k"]["disabled"], false);
    EXPECT_EQ(by_name["mara.k"]["teams"], Json::array({"north"}));
    EXPECT_EQ(by_name["rosa.t"]["teams"], Json::array({"north"}));
    EXPECT_EQ(by_name["ada.admin"]["role"], "admin");
    EXPECT_EQ(by_name["ada.admin"]["initials"], "A.A.");
    EXPECT_EQ(by_name["ada.admin"]["teams"], Json::array());
    EXPECT_TRUE(by_name["mara.k"]["initials"].is_null());

    Json survivors = gateway_->admin({"survivor-list"});
    ASSERT_EQ(survivors["survivors"].size(), 1u) << survivors.dump();
    const Json& her = survivors["survivors"][0];
    EXPECT_EQ(her, Json({{"case_code", survivor_.case_code},
                         {"initials", "A.B."},
                         {"language", "en"},
                         {"status", "active"},
                         {"team", "north"}}));
    // Never an account id (a key to her conversation) in the case list.
    EXPECT_EQ(survivors.dump().find(survivor_.account), std::string::npos);

    Json plans = gateway_->admin({"plan-list"});
    ASSERT_EQ(plans["plans"].size(), 1u) << plans.dump();
    const Json& p = plans["plans"][0];
    EXPECT_EQ(p["plan_id"], plan["plan_id"]);
    EXPECT_EQ(p["case_code"], survivor_.case_code);
    EXPECT_EQ(p["status"], "active");
    // Her consent to check-ins on the app, a whole-day window: a slot is scheduled.
    ASSERT_FALSE(p["next_slot_at"].is_null()) << p.dump();
    {
        std::string iso = p["next_slot_at"];
        EXPECT_TRUE(std::regex_match(iso, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
            << iso;
        std::time_t secs = p["next_slot_at_ms"].get<std::int64_t>() / 1000;
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char expected[32];
        std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm);
        EXPECT_EQ(iso.substr(0, 19), expected);
    }

    Json devices = gateway_->admin({"device-list", "--id", mara_.account});
    ASSERT_EQ(devices["devices"].size(), 1u) << devices.dump();
    EXPECT_EQ(devices["role"], "caseworker");
    EXPECT_EQ(devices["devices"][0]["kind"], "console");
    EXPECT_EQ(devices["devices"][0]["device_id"], 1);
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    EXPECT_LT(std::abs(devices["devices"][0]["registered_at_ms"].get<std::int64_t>() - now_ms),
              120000);
    EXPECT_TRUE(std::regex_match(devices["devices"][0]["registered_at"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    // Hers: her phone's app is device 1.
    EXPECT_TRUE(gateway_->admin({"device-list", "--id", survivor_.account})["devices"].empty());
    auto phone = recover_survivor(*gateway_, survivor_, tmp_.path() / "phone");
    Json hers = gateway_->admin({"device-list", "--id", survivor_.account});
    EXPECT_EQ(hers["role"], "survivor");
    ASSERT_EQ(hers["devices"].size(), 1u) << hers.dump();
    EXPECT_EQ(hers["devices"][0]["device_id"], 1);
    EXPECT_EQ(hers["devices"][0]["kind"], "app");

    // The API answers the same, to admins only.
    std::string token = token_of(admin_, 0);
    EXPECT_EQ(http("GET", "/v1/admin/caseworkers", "", token).body, cws);
    EXPECT_EQ(http("GET", "/v1/admin/survivors", "", token).body, survivors);
    EXPECT_EQ(http("GET", "/v1/admin/checkin-plans", "", token).body, plans);
    EXPECT_EQ(http("GET", "/v1/admin/devices?account=" + mara_.account, "", token).body, devices);
    std::string cw_token = token_of(rosa_, 0);
    for (const char* path : {"/v1/admin/caseworkers", "/v1/admin/survivors",
                             "/v1/admin/checkin-plans", "/v1/admin/devices?account=x"}) {
        EXPECT_EQ(http("GET", path, "", cw_token).status, 403) << path;
        EXPECT_EQ(http("GET", path).status, 401) << path;
        EXPECT_EQ(http("POST", path, "{}", token).status, 405) << path;
    }
}

TEST_F(AdminDay2, ListingsRefuseHostileInputByNamingIt) {
    for (const char* command : {"caseworker-list", "survivor-list", "plan-list"}) {
        EXPECT_NE(admin_fails({command, "--case", "x"}, 2).find("case"), std::string::npos);
    }
    for (const auto& id : hostile_ids()) {
        EXPECT_NE(admin_fails({"device-list", "--id", id}, 2).find("--id: must be an account id"),
                  std::string::npos)
            << id.substr(0, 40);
    }
    EXPECT_NE(admin_fails({"device-list", "--id", "a_AAAAAAAAAAAAAAAAAAAAAA"}, 1)
                  .find("--id: no account has this id"),
              std::string::npos);
    std::string token = token_of(admin_, 0);
    for (const std::string& query :
         {std::string("account=%27%3B%20DROP%20TABLE%20accounts"), std::string("account=a_%0A"),
          std::string("account=") + std::string(3000, 'a'), std::string("x=1"), std::string("")}) {
        auto r = http("GET", "/v1/admin/devices?" + query, "", token);
        EXPECT_EQ(r.status, 400) << query.substr(0, 40) << r.text;
        EXPECT_EQ(r.body.value("field", ""), "account");
    }
    auto unknown = http("GET", "/v1/admin/devices?account=a_AAAAAAAAAAAAAAAAAAAAAA", "", token);
    EXPECT_EQ(unknown.status, 404) << unknown.text;
    // Still intact.
    EXPECT_EQ(gateway_->admin({"caseworker-list"})["caseworkers"].size(), 3u);
}

TEST_F(AdminDay2, TheCliRevokesALostConsoleItsSessionEndsItCannotLogInAndHerTeamIsTold) {
    // Mara's console, with keys, connected; Rosa (on the same case) connected too.
    auto live = gateway_->connect();
    RawDevice device = make_raw_device(tmp_.path() / "mara-device");
    Json reg = register_raw(*live, mara_, device, totp_for(mara_, 0));
    ASSERT_EQ(reg["type"], "ok") << reg.dump();
    auto device_id = reg["device_id"].get<std::uint32_t>();
    ASSERT_EQ(live->request(keys_upload_frame(tmp_.path() / "mara-device", device_id, 5))["type"],
              "ok");
    auto teammate = gateway_->connect();
    RawDevice rosa_device = make_raw_device(tmp_.path() / "rosa-device");
    ASSERT_EQ(register_raw(*teammate, rosa_, rosa_device, totp_for(rosa_, 0))["type"], "ok");
    ASSERT_TRUE(teammate->request({{"type", "alerts"}})["alerts"].empty());

    Json r = gateway_->admin({"device-revoke", "--id", mara_.account, "--device",
                              std::to_string(device_id), "--by", admin_.account});
    EXPECT_EQ(r["account"], mara_.account);
    EXPECT_EQ(r["device_id"], device_id);
    EXPECT_EQ(r["revoked"], true);
    EXPECT_EQ(r["cases_alerted"], 1);

    // Her live connection ends at its next request.
    bool ended = false;
    try {
        Json answer = live->request({{"type", "keys_count"}});
        EXPECT_EQ(answer["type"], "error") << answer.dump();
        live->request({{"type", "keys_count"}});
    } catch (const std::exception&) {
        ended = true;
    }
    EXPECT_TRUE(ended) << "the revoked device's connection stayed open";
    // The device can no longer log in; she can register a new one (her account is fine).
    auto again = gateway_->connect();
    EXPECT_NE(auth_device_raw(*again, mara_.account, device_id, device)["type"], "ok");
    EXPECT_TRUE(gateway_->admin({"device-list", "--id", mara_.account})["devices"].empty());
    auto db = gateway_->data_dir() / "ariadne.db";
    const std::string hers =
        "account = (SELECT key FROM accounts WHERE id = '" + mara_.account + "')";
    for (const char* table : {"pre_keys", "signed_pre_keys", "last_resort_keys", "devices"}) {
        EXPECT_EQ(count_rows(db, table, hers), 0) << table;
    }
    EXPECT_EQ(count_rows(db, "devices"), 1) << "Rosa's device stays";
    // Her team is told with a neutral alert on her case.
    Json alerts = teammate->request({{"type", "alerts"}});
    ASSERT_EQ(alerts["alerts"].size(), 1u) << alerts.dump();
    EXPECT_EQ(alerts["alerts"][0]["kind"], "device_revoked");
    EXPECT_EQ(alerts["alerts"][0]["case_code"], survivor_.case_code);
    EXPECT_EQ(alerts["alerts"][0]["urgent"], false);
    auto fresh = gateway_->connect();
    RawDevice replacement = make_raw_device(tmp_.path() / "replacement");
    EXPECT_EQ(register_raw(*fresh, mara_, replacement, totp_for(mara_, 1))["type"], "ok");

    std::string text = audit_text();
    EXPECT_NE(text.find("\"action\":\"device.revoked\",\"actor\":\"" + admin_.account),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("mara.k"), std::string::npos);
    EXPECT_EQ(gateway_->admin({"audit-verify"})["ok"], true);
}

TEST_F(AdminDay2, TheApiRevokesADeviceEndingItsIdleConnectionAtOnceAndRefusesBadInput) {
    auto conn = gateway_->connect();
    RawDevice device = make_raw_device(tmp_.path() / "mara-device");
    ASSERT_EQ(register_raw(*conn, mara_, device, totp_for(mara_, 0))["type"], "ok");
    // CLI.
    EXPECT_NE(
        admin_fails(
            {"device-revoke", "--id", mara_.account, "--device", "1", "--by", rosa_.account}, 1)
            .find("--by: no admin account"),
        std::string::npos);
    EXPECT_NE(admin_fails({"device-revoke", "--id", survivor_.account, "--device", "1", "--by",
                           admin_.account},
                          1)
                  .find("--id: no caseworker account"),
              std::string::npos);
    EXPECT_NE(
        admin_fails(
            {"device-revoke", "--id", mara_.account, "--device", "7", "--by", admin_.account}, 1)
            .find("--device: this account has no device"),
        std::string::npos);
    for (const char* bad : {"0", "-1", "99999999999", "1; DROP TABLE devices", "x"}) {
        EXPECT_NE(admin_fails({"device-revoke", "--id", mara_.account, "--device", bad, "--by",
                               admin_.account},
                              2)
                      .find("device"),
                  std::string::npos)
            << bad;
    }
    for (const auto& id : hostile_ids()) {
        EXPECT_NE(
            admin_fails({"device-revoke", "--id", id, "--device", "1", "--by", admin_.account}, 2)
                .find("--id: must be an account id"),
            std::string::npos)
            << id.substr(0, 40);
    }
    // API.
    const std::string body = Json({{"account", mara_.account}, {"device_id", 1}}).dump();
    EXPECT_EQ(http("POST", "/v1/admin/device/revoke", body).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/device/revoke", body, token_of(rosa_, 1)).status, 403);
    std::string token = token_of(admin_, 0);
    EXPECT_EQ(http("GET", "/v1/admin/device/revoke", "", token).status, 405);
    for (const Json& bad : {Json({{"account", mara_.account}, {"device_id", "1"}}),
                            Json({{"account", mara_.account}, {"device_id", 0}}),
                            Json({{"account", mara_.account}, {"device_id", 1.5}}),
                            Json({{"account", mara_.account}}),
                            Json({{"account", mara_.account}, {"device_id", 1}, {"x", 1}})}) {
        auto r = http("POST", "/v1/admin/device/revoke", bad.dump(), token);
        EXPECT_EQ(r.status, 400) << bad.dump() << r.text;
    }
    for (const auto& id : hostile_ids()) {
        auto r = http("POST", "/v1/admin/device/revoke",
                      Json({{"account", id}, {"device_id", 1}}).dump(), token);
        EXPECT_EQ(r.status, 400) << r.text;
        EXPECT_EQ(r.body.value("field", ""), "account");
    }
    auto survivor = http("POST", "/v1/admin/device/revoke",
                         Json({{"account", survivor_.account}, {"device_id", 1}}).dump(), token);
    EXPECT_EQ(survivor.status, 404) << survivor.text;
    auto unknown = http("POST", "/v1/admin/device/revoke",
                        Json({{"account", mara_.account}, {"device_id", 9}}).dump(), token);
    EXPECT_EQ(unknown.status, 404) << unknown.text;
    EXPECT_EQ(unknown.body.value("field", ""), "device_id");
    // Nothing was revoked; then the API revokes it, in the admin's name.
    EXPECT_EQ(gateway_->admin({"device-list", "--id", mara_.account})["devices"].size(), 1u);
    auto done = http("POST", "/v1/admin/device/revoke", body, token);
    EXPECT_EQ(done.status, 200) << done.text;
    EXPECT_EQ(done.body["cases_alerted"], 1);
    // Through the API (the server itself), her idle connection ends at once: no request.
    auto closed = conn->wait_closed(10s);
    ASSERT_TRUE(closed.has_value()) << "the revoked device's idle connection stayed open";
    EXPECT_EQ(closed->code, 1008);
    EXPECT_EQ(closed->reason, "device revoked");
    EXPECT_TRUE(gateway_->admin({"device-list", "--id", mara_.account})["devices"].empty());
    EXPECT_NE(audit_text().find("\"action\":\"device.revoked\",\"actor\":\"" + admin_.account),
              std::string::npos);
}

TEST_F(AdminDay2, UnassignRemovesHimAndRefusesToLeaveHerWithoutACaseworker) {
    Json r = gateway_->admin(
        {"unassign", "--survivor", survivor_.account, "--caseworker", rosa_.account});
    EXPECT_EQ(r, Json({{"survivor", survivor_.account},
                       {"caseworker", rosa_.account},
                       {"case_code", survivor_.case_code}}));
    Json record = gateway_->admin({"survivor-show", "--case", survivor_.case_code});
    EXPECT_EQ(record["caseworkers"], Json::array({mara_.account})) << record.dump();
    // Rosa no longer sees her: the case's alerts are not hers.
    EXPECT_NE(
        admin_fails({"unassign", "--survivor", survivor_.account, "--caseworker", rosa_.account}, 1)
            .find("caseworker: is not assigned to her"),
        std::string::npos);
    // Her last caseworker stays: without one her messages and alerts would reach no one.
    EXPECT_NE(
        admin_fails({"unassign", "--survivor", survivor_.account, "--caseworker", mara_.account}, 2)
            .find("only caseworker"),
        std::string::npos);
    EXPECT_NE(
        admin_fails({"unassign", "--survivor", mara_.account, "--caseworker", mara_.account}, 1)
            .find("survivor: no survivor account"),
        std::string::npos);
    for (const auto& id : hostile_ids()) {
        EXPECT_NE(admin_fails({"unassign", "--survivor", id, "--caseworker", mara_.account}, 2)
                      .find("survivor: must be an account id"),
                  std::string::npos);
    }
    // API: the same answers, admins only; assign puts him back.
    gateway_->assign(survivor_.account, rosa_.account);
    const std::string body =
        Json({{"survivor", survivor_.account}, {"caseworker", rosa_.account}}).dump();
    EXPECT_EQ(http("POST", "/v1/admin/unassign", body).status, 401);
    EXPECT_EQ(http("POST", "/v1/admin/unassign", body, token_of(mara_, 0)).status, 403);
    std::string token = token_of(admin_, 0);
    auto ok = http("POST", "/v1/admin/unassign", body, token);
    EXPECT_EQ(ok.status, 200) << ok.text;
    EXPECT_EQ(ok.body["case_code"], survivor_.case_code);
    auto last =
        http("POST", "/v1/admin/unassign",
             Json({{"survivor", survivor_.account}, {"caseworker", mara_.account}}).dump(), token);
    EXPECT_EQ(last.status, 422) << last.text;
    EXPECT_EQ(last.body.value("field", ""), "caseworker");
    for (const Json& bad : {Json({{"survivor", 1}, {"caseworker", mara_.account}}),
                            Json({{"survivor", survivor_.account}}),
                            Json({{"survivor", "' OR 1=1 --"}, {"caseworker", mara_.account}})}) {
        EXPECT_EQ(http("POST", "/v1/admin/unassign", bad.dump(), token).status, 400) << bad.dump();
    }
    EXPECT_EQ(gateway_->admin({"survivor-show", "--case", survivor_.case_code})["caseworkers"],
              Json::array({mara_.account}));
    EXPECT_NE(audit_text().find("survivor.update"), std::string::npos);
}

TEST_F(AdminDay2, AccountCreationIsAuditedInTheActingAdminsNameWithReadableTimes) {
    std::string token = token_of(admin_, 0);
    auto created =
        http("POST", "/v1/admin/caseworker",
             Json({{"username", "jon.p"}, {"password", "a long passphrase"}}).dump(), token);
    ASSERT_EQ(created.status, 200) << created.text;
    auto second_admin = http(
        "POST", "/v1/admin/caseworker",
        Json({{"username", "eve.a"}, {"password", "a long passphrase"}, {"role", "admin"}}).dump(),
        token);
    ASSERT_EQ(second_admin.status, 200) << second_admin.text;
    auto enrolled = http("POST", "/v1/admin/survivor",
                         Json({{"caseworker", mara_.account},
                               {"initials", "C.D."},
                               {"language", "en"},
                               {"time_zone", "UTC"}})
                             .dump(),
                         token);
    ASSERT_EQ(enrolled.status, 200) << enrolled.text;

    std::vector<Json> entries;
    std::istringstream lines(audit_text());
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) entries.push_back(Json::parse(line));
    }
    auto find = [&](const std::string& action, const std::string& reason) -> Json {
        for (const auto& e : entries) {
            if (e["action"] == action && (reason.empty() || e["reason"] == reason)) return e;
        }
        return nullptr;
    };
    // The CLI acts as the local operator, "admin-cli", as for every CLI change.
    EXPECT_EQ(find("caseworker.created", mara_.account)["actor"], "admin-cli");
    EXPECT_EQ(find("admin.created", admin_.account)["actor"], "admin-cli");
    EXPECT_EQ(find("caseworker.created", created.body["account"])["actor"], admin_.account);
    EXPECT_EQ(find("admin.created", second_admin.body["account"])["actor"], admin_.account);
    Json survivor = find("survivor.enrol", "");
    ASSERT_FALSE(survivor.is_null());
    bool api_enrol = false;
    for (const auto& e : entries) {
        api_enrol |= e["action"] == "survivor.enrol" && e["actor"] == admin_.account &&
                     e["case_code"] == enrolled.body["case_code"];
    }
    EXPECT_TRUE(api_enrol);
    // Readable UTC times beside the ms and µs; never a username.
    for (const auto& e : entries) {
        std::string at = e.value("at", std::string());
        ASSERT_TRUE(std::regex_match(at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
            << at;
        std::time_t secs = e.value("at_ms", std::int64_t{0}) / 1000;
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char expected[32];
        std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm);
        EXPECT_EQ(at.substr(0, 19), expected);
        EXPECT_EQ(e.value("at_us", std::int64_t{0}) / 1000, e.value("at_ms", std::int64_t{-1}));
    }
    std::string all = audit_text();
    for (const char* name : {"mara.k", "jon.p", "eve.a", "ada.admin"}) {
        EXPECT_EQ(all.find(name), std::string::npos) << name;
    }
    auto api = http("GET", "/v1/admin/audit?from=1&limit=1000", "", token);
    EXPECT_EQ(api.status, 200);
    EXPECT_EQ(api.text, all);
}

TEST_F(AdminDay2, TheAuthenticatorQrCodeIsTheOneQrencodeDrawsForTheSameUri) {
    // CLI: the JSON line carries the SVG; --qr draws it on the terminal (standard error).
    std::vector<std::string> argv = {
        server_binary(), "admin", "caseworker-add", "--username",
        "jon.p",         "--qr",  "--data-dir",     gateway_->data_dir().string()};
    auto r = run_process(argv, "a long passphrase\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json line = Json::parse(r.out);
    std::string uri = line["otpauth_uri"];
    Modules reference = modules_of_qrencode(uri);
    ASSERT_GE(reference.size(), 21u);
    EXPECT_EQ(modules_of_svg(line["otpauth_qr_svg"]), reference);
    EXPECT_EQ(modules_of_terminal(r.err), reference);
    EXPECT_NE(r.err.find("\x1b[30;47m"), std::string::npos) << "dark on light";
    // Without --qr and without a terminal, standard error stays empty (scripts, logs).
    auto quiet = run_process({server_binary(), "admin", "caseworker-add", "--username", "kim.l",
                              "--data-dir", gateway_->data_dir().string()},
                             "a long passphrase\n");
    ASSERT_EQ(quiet.exit_code, 0);
    EXPECT_TRUE(quiet.err.empty()) << quiet.err;

    // API: creation and reset answer the SVG of their own URI.
    std::string token = token_of(admin_, 0);
    auto created =
        http("POST", "/v1/admin/caseworker",
             Json({{"username", "lee.m"}, {"password", "a long passphrase"}}).dump(), token);
    ASSERT_EQ(created.status, 200);
    EXPECT_EQ(modules_of_svg(created.body["otpauth_qr_svg"]),
              modules_of_qrencode(created.body["otpauth_uri"]));
    auto reset = http(
        "POST", "/v1/admin/caseworker/reset",
        Json({{"caseworker", mara_.account}, {"password", "another passphrase"}}).dump(), token);
    ASSERT_EQ(reset.status, 200) << reset.text;
    EXPECT_EQ(modules_of_svg(reset.body["otpauth_qr_svg"]),
              modules_of_qrencode(reset.body["otpauth_uri"]));
    EXPECT_NE(reset.body["otpauth_uri"], created.body["otpauth_uri"]);
}

TEST_F(AdminDay2, OnATerminalThePasswordIsAskedTwiceWithoutEchoAndAtLeast12Characters) {
    const std::string dir = gateway_->data_dir().string();
    const std::string first = "New password (at least 12 characters): ";
    const std::string second = "The same password again: ";
    auto ok = run_on_terminal(
        {server_binary(), "admin", "caseworker-add", "--username", "jon.p", "--data-dir", dir},
        {first, second}, {"a passphrase typed", "a passphrase typed"});
    EXPECT_EQ(ok.exit_code, 0) << ok.out;
    EXPECT_EQ(ok.out.find("a passphrase typed"), std::string::npos) << "echoed:\n" << ok.out;
    EXPECT_NE(ok.out.find("\"otpauth_uri\""), std::string::npos) << ok.out;
    // On a terminal the QR code is drawn without asking.
    EXPECT_NE(ok.out.find("\x1b[30;47m"), std::string::npos);
    // The password typed works.
    auto j = ok.out.find("{\"account\":\"");
    ASSERT_NE(j, std::string::npos);
    std::string rest = ok.out.substr(j);
    Json created = Json::parse(rest.substr(0, rest.find('\n')));
    Gateway::Caseworker jon{created["account"], "jon.p", "a passphrase typed",
                            created["totp_secret"]};
    EXPECT_FALSE(token_of(jon, 0).empty());

    auto differ = run_on_terminal(
        {server_binary(), "admin", "caseworker-add", "--username", "kim.l", "--data-dir", dir},
        {first, second}, {"a passphrase typed", "a passphrase typo"});
    EXPECT_EQ(differ.exit_code, 2) << differ.out;
    EXPECT_NE(differ.out.find("password: the two passwords typed differ"), std::string::npos)
        << differ.out;
    auto short_one = run_on_terminal(
        {server_binary(), "admin", "caseworker-add", "--username", "kim.l", "--data-dir", dir},
        {first, second}, {"short pass", "short pass"});
    EXPECT_EQ(short_one.exit_code, 2) << short_one.out;
    EXPECT_NE(short_one.out.find("at least 12 characters"), std::string::npos) << short_one.out;
    // A reset on a terminal too.
    auto reset = run_on_terminal({server_binary(), "admin", "caseworker-reset", "--id",
                                  mara_.account, "--by", admin_.account, "--data-dir", dir},
                                 {first, second}, {"eleven char", "eleven char"});
    EXPECT_EQ(reset.exit_code, 2) << reset.out;
    // Nothing was created by the refusals.
    std::set<std::string> names;
    Json listed = gateway_->admin({"caseworker-list"});
    for (const auto& c : listed["caseworkers"]) {
        names.insert(c["username"]);
    }
    EXPECT_EQ(names, (std::set<std::string>{"ada.admin", "jon.p", "mara.k", "rosa.t"}));
}

}  // namespace
}  // namespace ariadne::e2e
