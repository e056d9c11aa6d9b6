// SMS through a REAL Kannel (bearerbox + smsbox + fakesmsc from kannel-extras) on 127.0.0.1
// and a real Ariadne TLS server in this process (the policy service, edge hub and SMS
// adapter), with a caseworker console device in process. Kannel's config is
// deploy/kannel/kannel-test.conf.in. Without the Kannel binaries the Kannel tests are
// skipped with a message (CI installs them: deploy/install-deps); the endpoint tests run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/admin/admin.h"
#include "ariadne/app/certificate.h"
#include "ariadne/app/config.h"
#include "ariadne/core/gateway.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/net/server.h"
#include "ariadne/protocol/metrics.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/extensions.h"
#include "ariadne/services/sms_numbers.h"
#include "kannel_client.h"
#include "local_console.h"
#include "stack.h"

namespace ariadne::adapters::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

const char* kBearerbox = "/usr/sbin/bearerbox";
const char* kSmsbox = "/usr/sbin/smsbox";
const char* kFakesmsc = "/usr/lib/kannel/test/fakesmsc";

bool kannel_installed() {
    return ::access(kBearerbox, X_OK) == 0 && ::access(kSmsbox, X_OK) == 0 &&
           ::access(kFakesmsc, X_OK) == 0;
}

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool port_open(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// A child process with stdout+stderr in `log`; terminated (by its pid) on destruction.
class Child {
  public:
    Child(std::vector<std::string> argv, const std::filesystem::path& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            // Dies with the test process even if it crashes (no Kannel left running).
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            int fd = ::open(log.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Child() { stop(); }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = 0;
                return;
            }
            std::this_thread::sleep_for(100ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
    }

  private:
    pid_t pid_ = 0;
};

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return f();
}

const std::string kToken = "tok_0123456789abcdefghijklmnopqrstuvwxyz";
const std::string kHerNumber = "+39 333 1234567";
const std::string kHerNumberNormal = "+393331234567";
const std::string kUnknownNumber = "+393339876543";

/// Everything of `ariadne serve` that SMS needs, in this process, with a real TLS port.
class SmsStack {
  public:
    SmsStack() {
        std::random_device rd;
        root = std::filesystem::temp_directory_path() /
               ("ariadne-sms-" + std::to_string(rd()) + std::to_string(::time(nullptr)));
        data = root / "data";
        kannel_dir = root / "kannel";
        std::filesystem::create_directories(kannel_dir);
        gateway::ensure_data_dir(data);
        // The gateway's log goes to a file so the canary scan can read it.
        logger = spdlog::basic_logger_mt("sms-test-" + std::to_string(rd()),
                                         (root / "gateway.log").string());
        logger->set_level(spdlog::level::debug);
        logger->flush_on(spdlog::level::debug);
        previous_logger = spdlog::default_logger();
        spdlog::set_default_logger(logger);

        Json cw = Json::parse(admin({"caseworker-add", "--username", "cw.sms"}, password + "\n"));
        caseworker = cw.at("account");
        totp_secret = cw.at("totp_secret");
        Json sv =
            Json::parse(admin({"survivor-enrol", "--caseworker", caseworker, "--initials", "M.K.",
                               "--language", "en", "--time-zone", "UTC", "--with-duress-code",
                               "--recovery-m-kib", "8192", "--insecure-test-params"}));
        survivor = sv.at("account");
        duress_code = sv.at("duress_code");
        case_code = sv.at("case_code");
        // Quiet hours far from now, so the test passes at any time of day.
        auto h = (std::time(nullptr) / 3600 + 12) % 24;
        char quiet[16];
        std::snprintf(quiet, sizeof quiet, "%02ld:00-%02ld:30", static_cast<long>(h),
                      static_cast<long>(h));
        admin({"policy-set", "--quiet-hours", quiet});
        consent("consent-record", kHerNumber);

        server_key = std::make_unique<gateway::ServerKey>(gateway::ServerKey::load_or_create(data));
        metrics = std::make_unique<gateway::Metrics>();
        gateway::StoreOptions so;
        so.path = gateway::database_path(data);
        so.metrics = metrics.get();
        store = std::make_unique<gateway::Store>(so);
        params = gateway::load_or_create_recovery_params(*store, 8192, true);
        policies = std::make_unique<gateway::PolicyService>(
            *store, *server_key, gateway::database_path(data).string(), data, 200ms);
        gateway::GatewayOptions go;
        go.recovery_params = params;
        gateway = std::make_unique<gateway::Gateway>(*store, *server_key, *metrics, go,
                                                     policies->send_policy(), &policies->alerts());
        EdgeOptions eo;
        eo.data_dir = data;
        // As `ariadne serve` wires it: her texts are checked for the duress words at the edge.
        eo.inbound_text = [this](const std::string& account, EdgeChannel channel,
                                 std::string_view text) {
            policies->check_duress_words(account, to_string(channel), text);
        };
        hub = std::make_unique<EdgeHub>(*gateway, eo);

        cert = root / "cert.pem";
        key = root / "key.pem";
        gateway::generate_dev_certificate(cert, key);
        routes = std::make_shared<gateway::HttpRoutes>();
        gateway::ServerOptions server_options;
        server_options.port = 0;
        server_options.certificate_chain = cert;
        server_options.private_key = key;
        server_options.handle_signals = false;
        server_options.routes = routes;
        // Routes are read once the server runs: register SMS first (below), then start.
        kannel_sendsms_port = free_port();
        server_port_hint = 0;
        SmsGatewayOptions o;
        o.kannel_port = kannel_sendsms_port;
        o.kannel_username = "ariadne";
        o.kannel_password = "sendsms_pw_123";
        o.sender = "7000";
        o.inbound_token = kToken;
        o.callback_base = "https://127.0.0.1:1";  // fixed below once the port is known
        o.on_duty = {caseworker};
        o.default_time_zone = "UTC";
        o.per_number_per_minute = 5;
        o.inbound_per_minute = 40;
        o.recovery_params = params;
        o.kannel_timeout = 5000ms;
        sms_options = o;
        server = std::make_unique<gateway::Server>(*gateway, server_options);
        port = server->port();
        sms_options.callback_base = "https://127.0.0.1:" + std::to_string(port);
        sms =
            std::make_unique<SmsGateway>(*store, policies->store(), *server_key, *hub, sms_options);
        // As `ariadne serve` registers its adapters (gateway/app/src/main.cpp).
        gateway::GatewayExtensions extensions(*policies, routes);
        hub->register_with(extensions);
        sms->register_with(extensions);
        sms->on_unverified([this](const policies::CaseCode& code) {
            policies->alerts().raise(code, gateway::AlertKind::unverified_channel);
        });
        sms->on_duress([this](const policies::CaseCode& code) { policies->raise_duress(code); });
        server_thread = std::thread([this] { server->run(); });
    }

    ~SmsStack() {
        policies->stop();  // no check-in sender runs while the rest is torn down
        phone.reset();
        kannel_children.clear();
        stop_server();
        server.reset();
        sms.reset();
        hub.reset();
        gateway.reset();
        policies.reset();
        store.reset();
        spdlog::set_default_logger(previous_logger);
        std::error_code ec;
        if (!std::getenv("ARIADNE_KEEP_TEST_FILES")) std::filesystem::remove_all(root, ec);
    }

    /// Stops the Ariadne TLS server (Kannel can no longer reach /sms/*).
    void stop_server() {
        if (!server_thread.joinable()) return;
        server->stop();
        server_thread.join();
        server.reset();  // closes the listening socket: connections are refused
    }

    std::string admin(std::vector<std::string> args, const std::string& in = "") {
        args.push_back("--data-dir");
        args.push_back(data.string());
        std::istringstream input(in);
        std::ostringstream out, err;
        if (gateway::run_admin(args, input, out, err) != 0) {
            throw std::runtime_error("admin failed: " + err.str());
        }
        return out.str();
    }

    void consent(const std::string& command, const std::string& number,
                 const std::string& code = "") {
        admin({command, "--case", code.empty() ? case_code : code, "--channel", "sms", "--purpose",
               "replies", "--by", caseworker, "--address-stdin"},
              number + "\n");
    }

    std::unique_ptr<LocalConsole> console() {
        auto secret = crypto::base32_decode(totp_secret);
        auto now = static_cast<std::uint64_t>(::time(nullptr)) + 30 * consoles;
        return std::make_unique<LocalConsole>(*gateway,
                                              root / ("console" + std::to_string(consoles++)),
                                              "cw.sms", password, crypto::totp_code(secret, now));
    }

    /// Starts bearerbox, smsbox and the "phone" fakesmsc from the test config template.
    void start_kannel() {
        admin_port = free_port();
        smsbox_port = free_port();
        phone_port = free_port();
        inject_port = free_port();
        std::string conf = slurp(ARIADNE_KANNEL_TEST_CONF);
        auto set = [&](const std::string& name, const std::string& value) {
            conf = std::regex_replace(conf, std::regex("@" + name + "@"), value);
        };
        set("ADMIN_PORT", std::to_string(admin_port));
        set("ADMIN_PASSWORD", "admin_pw_123");
        set("SMSBOX_PORT", std::to_string(smsbox_port));
        set("PHONE_PORT", std::to_string(phone_port));
        set("INJECT_PORT", std::to_string(inject_port));
        set("SENDSMS_PORT", std::to_string(kannel_sendsms_port));
        set("KANNEL_USER", sms_options.kannel_username);
        set("KANNEL_PASSWORD", sms_options.kannel_password);
        set("TOKEN", kToken);
        set("ARIADNE_PORT", std::to_string(port));
        set("ARIADNE_CERT", cert.string());
        set("DIR", kannel_dir.string());
        conf_path = kannel_dir / "kannel.conf";
        std::ofstream(conf_path) << conf;
        kannel_children.push_back(std::make_unique<Child>(
            std::vector<std::string>{kBearerbox, "-v", "4", conf_path.string()},
            kannel_dir / "bb.out"));
        ASSERT_TRUE(eventually([&] { return port_open(smsbox_port); }, 15s));
        kannel_children.push_back(std::make_unique<Child>(
            std::vector<std::string>{kSmsbox, "-v", "4", conf_path.string()},
            kannel_dir / "sb.out"));
        ASSERT_TRUE(eventually([&] { return port_open(kannel_sendsms_port); }, 15s));
        start_phone();
    }

    /// The fake phone network: a fakesmsc printing every SMS Kannel sends out.
    void start_phone() {
        const std::size_t before = count_of(slurp(phone_log()), "Connecting");
        phone = std::make_unique<Child>(
            std::vector<std::string>{kFakesmsc, "-H", "127.0.0.1", "-r", std::to_string(phone_port),
                                     "-i", "1", "-m", "0", "1 2 text unused"},
            phone_log());
        ASSERT_TRUE(
            eventually([&] { return count_of(slurp(phone_log()), "Connecting") > before; }, 10s));
        std::this_thread::sleep_for(500ms);
    }
    /// Takes the phone network away: Kannel queues what it is given (202) until it is back.
    void stop_phone() {
        phone.reset();
        std::this_thread::sleep_for(1500ms);
    }
    static std::size_t count_of(const std::string& all, const std::string& what) {
        std::size_t n = 0;
        for (auto p = all.find(what); p != std::string::npos; p = all.find(what, p + 1)) ++n;
        return n;
    }

    std::filesystem::path phone_log() const { return kannel_dir / "phone.out"; }

    /// One SMS from `from` into Kannel through a fakesmsc on the inject port.
    void inject(const std::string& from, const std::string& text,
                const std::string& type = "text") {
        auto log = kannel_dir / ("inject" + std::to_string(injected++) + ".out");
        Child c({kFakesmsc, "-H", "127.0.0.1", "-r", std::to_string(inject_port), "-i", "0.1", "-m",
                 "1", from + " 7000 " + type + " " + text},
                log);
        ASSERT_TRUE(eventually(
            [&] { return slurp(log).find("sent message 1") != std::string::npos; }, 10s));
        std::this_thread::sleep_for(300ms);  // let bearerbox read it before the socket closes
    }

    /// One SMS as the fake phone printed it: "Got message N: <from to KIND ...>" where KIND is
    /// `text TEXT`, `data URLENCODED` (not printable ASCII) or `udh URLENCODED data
    /// URLENCODED` (with a user-data header).
    struct PhoneSms {
        std::string receiver;
        std::string udh;   // binary user-data header, or ""
        std::string data;  // the message data: UTF-8 for GSM 7-bit, UTF-16BE for UCS-2
    };
    static std::string url_decode(const std::string& in) {
        std::string out;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i] == '%' && i + 2 < in.size()) {
                out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
                i += 2;
            } else {
                out.push_back(in[i] == '+' ? ' ' : in[i]);
            }
        }
        return out;
    }
    std::vector<PhoneSms> phone_sms() const {
        std::vector<PhoneSms> out;
        std::istringstream all(slurp(phone_log()));
        std::string line;
        std::regex shape("Got message [0-9]+: <[^ ]+ ([^ ]+) (text|data|udh) (.*)>");
        while (std::getline(all, line)) {
            std::smatch m;
            if (!std::regex_search(line, m, shape)) continue;
            PhoneSms sms{m[1], "", m[3]};
            if (m[2] == "data") sms.data = url_decode(m[3]);
            if (m[2] == "udh") {
                // "udh UDH data DATA" (or "udh UDH text TEXT").
                const std::string rest = m[3];
                const auto space = rest.find(' ');
                sms.udh = url_decode(rest.substr(0, space));
                const auto kind_end = rest.find(' ', space + 1);
                const std::string kind = rest.substr(space + 1, kind_end - space - 1);
                const std::string data = rest.substr(kind_end + 1);
                sms.data = kind == "data" ? url_decode(data) : data;
            }
            out.push_back(std::move(sms));
        }
        return out;
    }

    /// The messages her phone shows, in order: concatenated parts (UDH IEI 0x00) joined by
    /// reference and sequence, checking every header. `ucs2`: the data is UTF-16BE.
    std::vector<std::pair<std::string, std::string>> phone_messages(bool ucs2 = false) const {
        std::vector<std::pair<std::string, std::string>> out;
        std::map<std::pair<std::string, int>, std::map<int, std::string>> pending;
        std::map<std::pair<std::string, int>, int> totals;
        for (const auto& sms : phone_sms()) {
            const std::string text = ucs2 ? utf16be_to_utf8_for_test(sms.data) : sms.data;
            if (sms.udh.empty()) {
                out.emplace_back(sms.receiver, text);
                continue;
            }
            const auto& u = sms.udh;
            EXPECT_EQ(u.size(), 6u);
            if (u.size() != 6 || u[0] != 5 || u[1] != 0 || u[2] != 3) {
                ADD_FAILURE() << "not a concatenation header";
                continue;
            }
            const int ref = static_cast<unsigned char>(u[3]), total = u[4], seq = u[5];
            EXPECT_GE(seq, 1);
            EXPECT_LE(seq, total);
            auto key = std::make_pair(sms.receiver, ref);
            if (totals.count(key)) {
                EXPECT_EQ(totals[key], total) << "parts disagree on the total";
            }
            totals[key] = total;
            EXPECT_FALSE(pending[key].count(seq)) << "a part sent twice";
            pending[key][seq] = sms.data;
            if (static_cast<int>(pending[key].size()) == total) {
                std::string joined;
                for (auto& [_, part] : pending[key]) joined += part;
                out.emplace_back(sms.receiver, ucs2 ? utf16be_to_utf8_for_test(joined) : joined);
                pending.erase(key);
                totals.erase(key);
            }
        }
        return out;
    }

    /// Texts of the messages her phone shows, in order.
    std::vector<std::string> phone_texts(bool ucs2 = false) const {
        std::vector<std::string> out;
        for (auto& [_, text] : phone_messages(ucs2)) out.push_back(text);
        return out;
    }

    static std::string utf16be_to_utf8_for_test(const std::string& in) {
        std::u16string u;
        for (std::size_t i = 0; i + 1 < in.size(); i += 2) {
            u.push_back(static_cast<char16_t>((static_cast<unsigned char>(in[i]) << 8) |
                                              static_cast<unsigned char>(in[i + 1])));
        }
        std::string out;
        for (std::size_t i = 0; i < u.size(); ++i) {
            char32_t c = u[i];
            if (c >= 0xD800 && c <= 0xDBFF && i + 1 < u.size()) {
                c = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
            }
            if (c < 0x80) {
                out += static_cast<char>(c);
            } else if (c < 0x800) {
                out += static_cast<char>(0xC0 | (c >> 6));
                out += static_cast<char>(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                out += static_cast<char>(0xE0 | (c >> 12));
                out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (c & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (c >> 18));
                out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (c & 0x3F));
            }
        }
        return out;
    }

    gateway::HttpResponse call(const std::string& method, const std::string& target,
                               std::map<std::string, std::string> headers,
                               const std::string& body = "") {
        gateway::HttpRequest r;
        r.method = method;
        r.target = target;
        auto q = target.find('?');
        r.path = target.substr(0, q);
        r.query = q == std::string::npos ? "" : target.substr(q + 1);
        r.headers = std::move(headers);
        r.body = body;
        r.peer_address = "127.0.0.1";
        r.peer_is_loopback = true;
        return sms->handle(r);
    }

    std::filesystem::path root, data, kannel_dir, cert, key, conf_path;
    std::shared_ptr<spdlog::logger> logger, previous_logger;
    std::string password = "correct horse battery staple";
    std::string caseworker, totp_secret, survivor, case_code, duress_code;
    std::unique_ptr<gateway::ServerKey> server_key;
    std::unique_ptr<gateway::Metrics> metrics;
    std::unique_ptr<gateway::Store> store;
    crypto::RecoveryParams params;
    std::unique_ptr<gateway::PolicyService> policies;
    std::unique_ptr<gateway::Gateway> gateway;
    std::unique_ptr<EdgeHub> hub;
    std::shared_ptr<gateway::HttpRoutes> routes;
    std::unique_ptr<gateway::Server> server;
    std::thread server_thread;
    std::uint16_t port = 0, server_port_hint = 0;
    SmsGatewayOptions sms_options;
    std::unique_ptr<SmsGateway> sms;
    std::uint16_t kannel_sendsms_port = 0, admin_port = 0, smsbox_port = 0, phone_port = 0,
                  inject_port = 0;
    std::vector<std::unique_ptr<Child>> kannel_children;
    std::unique_ptr<Child> phone;
    int consoles = 0, injected = 0;
};

std::map<std::string, std::string> authed(const std::string& from = kHerNumberNormal) {
    return {{"authorization", "Bearer " + kToken},
            {"x-kannel-from", from},
            {"content-type", "text/plain; charset=\"UTF-8\""}};
}

// ---- the whole path through real Kannel processes ----

TEST(SmsKannel, InboundIsEdgeEncryptedRepliesReachThePhoneSplitWithReceiptsAndNothingLeaks) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();

    // 1. She writes in: Kannel → /sms/inbound → her edge device → the console decrypts it.
    const std::string canary_in = "CANARYIN7731 where are you";
    s.inject(kHerNumberNormal, canary_in);
    auto got = console->receive(30s);
    ASSERT_TRUE(got) << slurp(s.kannel_dir / "sb.out") << slurp(s.root / "gateway.log");
    EXPECT_EQ(got->from, s.survivor);
    EXPECT_EQ(got->from_device, kEdgeDeviceId);
    EXPECT_EQ(got->plaintext, canary_in);
    // The console sees the thread as SMS, carrier plaintext.
    bool listed = false;
    const Json contacts = console->contacts();
    for (const Json& c : contacts.at("contacts")) {
        if (c.at("account") != s.survivor) continue;
        listed = true;
        EXPECT_EQ(c.at("channel").at("kind"), "sms");
        EXPECT_FALSE(c.contains("unverified"));
    }
    EXPECT_TRUE(listed);

    // 1b. A UCS-2 SMS (Cyrillic and an emoji) arrives as the same UTF-8 text.
    s.inject(kHerNumberNormal, "%04%1F%04%40%04%38%04%32%04%35%04%42%00+%D8%3D%DE%00", "ucs2");
    auto ucs2 = console->receive(30s);
    ASSERT_TRUE(ucs2);
    EXPECT_EQ(ucs2->plaintext, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xF0\x9F\x98\x80");

    // 2. The caseworker replies (200 GSM characters → 2 parts of 153 + 47); the phone gets
    // both parts in order; the delivery reports give the console its receipt.
    std::string reply = "CANARYOUT4410 ";
    while (reply.size() < 200) reply += "call me when safe ";
    reply.resize(200);
    auto ids = console->send_text(s.survivor, reply, true);
    ASSERT_EQ(ids.size(), 1u);
    ASSERT_TRUE(eventually([&] { return s.phone_sms().size() >= 2; }, 20s))
        << slurp(s.phone_log()) << slurp(s.root / "gateway.log");
    auto parts = s.phone_sms();
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].data, reply.substr(0, 153));
    EXPECT_EQ(parts[1].data, reply.substr(153));
    ASSERT_EQ(s.phone_texts().size(), 1u);
    EXPECT_EQ(s.phone_texts()[0], reply);  // one message on her phone
    auto receipt = console->receive(20s);
    ASSERT_TRUE(receipt) << "no delivery receipt: " << slurp(s.root / "gateway.log");
    EXPECT_TRUE(receipt->receipt);
    EXPECT_EQ(receipt->ref, ids[0]);

    // 3. A number not on file: a new unverified thread for the on-duty caseworker; nothing
    // can be sent back to it.
    const std::string canary_unknown = "CANARYUNK5521 is this the help line";
    s.inject(kUnknownNumber, canary_unknown);
    auto first = console->receive(30s);
    ASSERT_TRUE(first);
    EXPECT_NE(first->from, s.survivor);
    EXPECT_EQ(first->plaintext, canary_unknown);
    bool unverified = false, never_confirm = false;
    const Json contacts_after = console->contacts();
    for (const Json& c : contacts_after.at("contacts")) {
        if (c.at("account") != first->from) continue;
        unverified = c.value("unverified", false);
        // Whoever wrote may not be her: her thread says never to confirm anyone was a client.
        never_confirm = c.value("never_confirm_client", false);
    }
    EXPECT_TRUE(unverified);
    EXPECT_TRUE(never_confirm);
    bool alerted = false;
    for (const auto& a : s.policies->alerts().open_for(s.caseworker)) {
        if (a.kind == gateway::AlertKind::unverified_channel) alerted = true;
    }
    EXPECT_TRUE(alerted) << "no unverified_channel alert for the on-duty caseworker";
    std::size_t before = s.phone_texts().size();
    try {
        console->send_text(first->from, "CANARYBLOCK1 reply to unverified");
        ADD_FAILURE() << "a reply to an unverified number was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("policy_denied"), std::string::npos) << e.what();
    }

    std::this_thread::sleep_for(1s);
    EXPECT_EQ(s.phone_texts().size(), before);

    // 3b. Verified: after checking who she is, a caseworker records her SMS consent with the
    // number for the new case; replies now reach her.
    std::string pending_case;
    for (const Json& c : contacts_after.at("contacts")) {
        if (c.at("account") == first->from) pending_case = c.value("case_code", "");
    }
    ASSERT_FALSE(pending_case.empty());
    s.consent("consent-record", kUnknownNumber, pending_case);
    console->send_text(first->from, "CANARYVER2 now verified");
    ASSERT_TRUE(eventually([&] { return s.phone_texts().size() == before + 1; }, 20s));
    EXPECT_EQ(s.phone_texts().back(), "CANARYVER2 now verified");
    before = s.phone_texts().size();

    // 4a. Inside her quiet hours: refused with the reason, no SMS.
    {
        // One hour either side of now (UTC, her zone), so the test never straddles the edge
        // of the window (it did when it ran at hh:59 with "hh:00-hh:59").
        const long m = static_cast<long>((std::time(nullptr) / 60) % (24 * 60));
        const long from = (m + 24 * 60 - 60) % (24 * 60), to = (m + 60) % (24 * 60);
        const long h = m / 60;
        char quiet[16];
        std::snprintf(quiet, sizeof quiet, "%02ld:%02ld-%02ld:%02ld", from / 60, from % 60,
                      to == 0 ? 24L : to / 60, to % 60);
        s.admin({"policy-set", "--quiet-hours", quiet});
        try {
            console->send_text(s.survivor, "CANARYQH3 during quiet hours");
            ADD_FAILURE() << "a reply inside quiet hours was accepted";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("quiet_hours"), std::string::npos) << e.what();
        }
        auto far = (h + 12) % 24;
        std::snprintf(quiet, sizeof quiet, "%02ld:00-%02ld:30", static_cast<long>(far),
                      static_cast<long>(far));
        s.admin({"policy-set", "--quiet-hours", quiet});
    }

    // 4b. Consent withdrawn: the reply is refused at send time and no SMS goes out.
    s.consent("consent-withdraw", kHerNumber);
    try {
        console->send_text(s.survivor, "CANARYWD9 after withdrawal");
        ADD_FAILURE() << "a reply after withdrawal was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("consent_withdrawn"), std::string::npos) << e.what();
    }
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(s.phone_texts().size(), before);

    // 5. Canary scan: database, WAL, edge stores, the gateway's log and Kannel's logs hold
    // none of the texts or numbers (the fake phone's own output is the phone: excluded).
    s.hub->drain(5s);
    s.store->flush();
    std::string all = read_all_files(s.data) + slurp(s.root / "gateway.log") +
                      slurp(s.kannel_dir / "bearerbox.log") + slurp(s.kannel_dir / "smsbox.log") +
                      slurp(s.kannel_dir / "bb.out") + slurp(s.kannel_dir / "sb.out");
    for (const std::string& canary :
         {std::string("CANARYIN7731"), std::string("CANARYOUT4410"), std::string("call me when"),
          std::string("CANARYUNK5521"), std::string("CANARYBLOCK1"), std::string("CANARYWD9"),
          std::string("CANARYQH3"), std::string("CANARYVER2"), std::string("393331234567"),
          std::string("393339876543"), kToken, s.sms_options.kannel_password,
          std::string("admin_pw_123")}) {
        EXPECT_EQ(all.find(canary), std::string::npos) << "found " << canary;
    }
}

// Kannel's fake SMSC always reports "delivered" (DLR 1) for what reaches the fake phone; it
// cannot say "not delivered to the phone" (DLR 2). So: (a) a REAL failure from real Kannel —
// a number no SMSC may take (denied-prefix in kannel-test.conf.in) gives "Not routable" and a
// real DLR 16; (b) DLR 2 is driven at /sms/dlr exactly as Kannel calls the dlr-url Ariadne
// gave it (GET, ref, mac and type in the query, no credentials) while the real SMS waits in
// Kannel's queue.
TEST(SmsKannel, FailedDeliveryGivesTheCaseworkerAFailedReceiptAndNothingIsResent) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();
    const auto kannel = std::map<std::string, std::string>{
        {"authorization", "Basic " + crypto::base64_encode(crypto::as_bytes("kannel:" + kToken))}};

    // (a) A second survivor whose number no route takes.
    Json other = Json::parse(s.admin({"survivor-enrol", "--caseworker", s.caseworker, "--initials",
                                      "R.T.", "--language", "en", "--time-zone", "UTC",
                                      "--recovery-m-kib", "8192", "--insecure-test-params"}));
    s.consent("consent-record", "+44 999 0001111", other.at("case_code"));
    s.hub->attach(other.at("account"));
    auto ids = console->send_text(other.at("account"), "CANARYFAIL61 are you safe", true);
    ASSERT_EQ(ids.size(), 1u);
    auto failed = console->receive(20s);
    ASSERT_TRUE(failed) << "no receipt for a reply Kannel refused: "
                        << slurp(s.root / "gateway.log");
    EXPECT_TRUE(failed->receipt);
    EXPECT_EQ(failed->ref, ids[0]);
    EXPECT_EQ(failed->failure, "sms_rejected");
    // If Kannel also reports a DLR 16 for it, nothing waits for it: the reply is settled once.
    EXPECT_FALSE(console->receive(3s)) << "a second receipt for the same reply";
    EXPECT_TRUE(s.phone_texts().empty());

    // (b) Her number, phone network down: Kannel takes the SMS and queues it.
    s.inject(kHerNumberNormal, "hello");  // her thread exists
    ASSERT_TRUE(console->receive(30s));
    s.stop_phone();
    ids = console->send_text(s.survivor, "CANARYLATE62 call me", true);
    ASSERT_EQ(ids.size(), 1u);
    const std::string ref = std::to_string(ids[0]) + "-0";
    // What Kannel calls: the dlr-url with this part's mac, %d filled in.
    auto report = [&](const std::string& r, const std::string& type) {
        return s
            .call("GET", "/sms/dlr?ref=" + r + "&mac=" + dlr_mac(kToken, r) + "&type=" + type, {})
            .status;
    };
    ASSERT_TRUE(eventually([&] {
        // Waiting in the outbox: a not-final report (8, accepted by the SMSC) is taken.
        return report(ref, "8") == 200;
    }));
    // Adversarial: wrong token, no or wrong mac, another part's mac, unknown part, unknown
    // reply, injection: refused, nothing changes.
    auto wrong = kannel;
    wrong["authorization"] = "Basic " + crypto::base64_encode(crypto::as_bytes("kannel:guess"));
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + ref + "&type=2", wrong).status, 401);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + ref + "&type=2", {}).status, 401);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + ref + "&mac=00&type=2", {}).status, 401);
    EXPECT_EQ(s.call("GET",
                     "/sms/dlr?ref=" + ref +
                         "&mac=" + dlr_mac(kToken, std::to_string(ids[0]) + "-1") + "&type=2",
                     {})
                  .status,
              401);
    EXPECT_EQ(
        s.call("GET", "/sms/dlr?ref=" + ref + "&mac=" + dlr_mac("another_token", ref) + "&type=2",
               {})
            .status,
        401);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + std::to_string(ids[0]) + "-7&type=2", kannel).status,
              404);
    EXPECT_EQ(
        s.call("GET", "/sms/dlr?ref=" + std::to_string(ids[0] + 1000) + "-0&type=2", kannel).status,
        404);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + ref + "%27--&type=2", kannel).status, 400);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=" + ref + "&type=2%20OR%201", kannel).status, 400);
    EXPECT_FALSE(console->receive(1s)) << "a receipt before any final report";
    // The network says: not delivered to her phone.
    EXPECT_EQ(report(ref, "2"), 200);
    auto late = console->receive(10s);
    ASSERT_TRUE(late);
    EXPECT_TRUE(late->receipt);
    EXPECT_EQ(late->ref, ids[0]);
    EXPECT_EQ(late->failure, "sms_not_delivered");
    // Replayed or contradicting reports for a settled reply: nothing waits for them.
    EXPECT_EQ(report(ref, "2"), 404);
    EXPECT_EQ(report(ref, "1"), 404);
    // The network comes back: Kannel hands over what it had queued and reports DLR 1; the
    // reply is not sent again by Ariadne and the caseworker gets no second receipt.
    s.start_phone();
    ASSERT_TRUE(eventually([&] { return s.phone_texts().size() == 1; }, 20s))
        << slurp(s.phone_log());
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(s.phone_texts().size(), 1u);
    EXPECT_FALSE(console->receive(2s));

    // A failed receipt can come only from an edge device: the caseworker's own ack with
    // "status":"failed" is refused (her app device 1 alike: gateway test).
    // Kannel unreachable: the reply is settled as not delivered at once.
    s.kannel_children.clear();
    s.stop_phone();
    ids = console->send_text(s.survivor, "CANARYDOWN63 later", true);
    auto down = console->receive(20s);
    ASSERT_TRUE(down);
    EXPECT_EQ(down->ref, ids[0]);
    EXPECT_EQ(down->failure, "sms_unavailable");

    s.hub->drain(5s);
    s.store->flush();
    std::string all = read_all_files(s.data) + slurp(s.root / "gateway.log") +
                      slurp(s.kannel_dir / "bearerbox.log") + slurp(s.kannel_dir / "smsbox.log") +
                      slurp(s.kannel_dir / "bb.out") + slurp(s.kannel_dir / "sb.out");
    for (const std::string& canary :
         {std::string("CANARYFAIL61"), std::string("CANARYLATE62"), std::string("CANARYDOWN63"),
          std::string("449990001111"), std::string("393331234567"), kToken,
          s.sms_options.kannel_password}) {
        EXPECT_EQ(all.find(canary), std::string::npos) << "found " << canary;
    }
}

// Long replies go out as ONE concatenated SMS: every part carries a user-data header (IEI
// 0x00, 8-bit reference, total, sequence) through Kannel's X-Kannel-UDH, and the fake phone
// (real fakesmsc, which prints the UDH of each MT SMS) joins them back into the text.
TEST(SmsKannel, LongRepliesAreConcatenatedSmsThatReassembleExactly) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();
    s.inject(kHerNumberNormal, "hi");  // her thread exists
    ASSERT_TRUE(console->receive(30s));

    auto send_and_collect = [&](const std::string& text, bool ucs2, std::size_t want_parts) {
        const std::size_t before = s.phone_sms().size();
        auto ids = console->send_text(s.survivor, text, true);
        EXPECT_TRUE(eventually([&] { return s.phone_sms().size() >= before + want_parts; }, 20s))
            << slurp(s.phone_log());
        auto receipt = console->receive(20s);  // every part's DLR 1 → one receipt
        EXPECT_TRUE(receipt && receipt->receipt && receipt->failure.empty() &&
                    receipt->ref == ids[0]);
        auto all = s.phone_sms();
        std::vector<SmsStack::PhoneSms> parts(all.begin() + static_cast<long>(before), all.end());
        EXPECT_EQ(parts.size(), want_parts);
        auto texts = s.phone_texts(ucs2);
        EXPECT_FALSE(texts.empty());
        if (!texts.empty()) {
            EXPECT_EQ(texts.back(), text);
        }
        return parts;
    };
    auto septets = [](const std::string& utf8) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < utf8.size(); ++i) {
            const auto c = static_cast<unsigned char>(utf8[i]);
            if ((c & 0xC0) == 0x80) continue;
            ++n;
            if (std::string("[]{}^~\\|\f").find(static_cast<char>(c)) != std::string::npos) ++n;
            if (c == 0xE2 && utf8.compare(i, 3, "\xE2\x82\xAC") == 0) ++n;  // €
        }
        return n;
    };

    // GSM-7: 300 characters → 153 + 147.
    std::string gsm;
    while (gsm.size() < 300) gsm += "Take care, we are here. ";
    gsm.resize(300);
    auto p1 = send_and_collect(gsm, false, 2);
    ASSERT_EQ(p1.size(), 2u);
    EXPECT_EQ(septets(p1[0].data), 153u);
    EXPECT_EQ(p1[0].udh.substr(0, 3), std::string("\x05\x00\x03", 3));
    EXPECT_EQ(p1[0].udh[3], p1[1].udh[3]) << "one reference for the whole message";
    EXPECT_EQ(p1[0].udh[4], 2);
    EXPECT_EQ(p1[0].udh[5], 1);
    EXPECT_EQ(p1[1].udh[5], 2);

    // GSM-7 with escapes: 152 letters then "€" (escape + e, 2 septets) must not be split
    // across the boundary at 153: part 1 holds 152 septets, part 2 starts with the €.
    std::string esc = std::string(152, 'a') + "\xE2\x82\xAC [x] {y} ~ | ^ \\ ";
    while (septets(esc) < 200) esc += "[ok] ";
    auto p2 = send_and_collect(esc, false, 2);
    ASSERT_EQ(p2.size(), 2u);
    EXPECT_EQ(p2[0].data, std::string(152, 'a'));
    EXPECT_EQ(p2[1].data.rfind("\xE2\x82\xAC", 0), 0u);
    EXPECT_LE(septets(p2[1].data), 153u);
    EXPECT_NE(p1[0].udh[3], p2[0].udh[3]) << "a new reference for each message";

    // UCS-2: Greek, then an emoji at units 67-68 (must move whole to part 2), then Arabic:
    // 66 + 2 + 190 units → 66 | 67 | 67 | 58.
    std::string greek;
    for (int i = 0; i < 66; ++i) greek += "\xCE\xB1";  // α ×66 (66 units)
    std::string ucs = greek + "\xF0\x9F\x98\x80";      // 😀 (a surrogate pair)
    for (int i = 0; i < 38; ++i) ucs += "\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 ";  // "سلام " ×38
    auto p3 = send_and_collect(ucs, true, 4);
    ASSERT_EQ(p3.size(), 4u);
    EXPECT_EQ(p3[0].data.size(), 66u * 2) << "the pair is not split: 66 units, not 67";
    EXPECT_EQ(p3[1].data.substr(0, 2), std::string("\xD8\x3D", 2)) << "part 2 starts the pair";
    for (const auto& p : p3) {
        EXPECT_LE(p.data.size(), 67u * 2);
        const auto first = static_cast<unsigned char>(p.data[0]);
        EXPECT_FALSE(first >= 0xDC && first <= 0xDF) << "a part starts with a low surrogate";
        EXPECT_EQ(p.udh[4], 4);
    }
}

// Her enrolment duress code sent as an SMS behaves as at the page: a silent alert to her team
// (edge-encrypted, urgent duress alert) and the outbound lock; nothing comes back to the
// phone, and the code is never forwarded, logged or stored.
TEST(SmsKannel, HerDuressCodeBySmsSilentlyAlertsAndLocksAndIsNeverKept) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();
    s.inject(kHerNumberNormal, "hi");
    ASSERT_TRUE(console->receive(30s));
    ASSERT_FALSE(s.duress_code.empty());
    std::string digits;
    for (char c : s.duress_code) {
        if (c >= '0' && c <= '9') digits += c;
    }
    ASSERT_EQ(digits.size(), 16u);

    // An ordinary code-shaped SMS (not hers): her team is told a code was not forwarded.
    s.inject(kHerNumberNormal, "1234 5678 9012 3456");
    auto other = console->receive(30s);
    ASSERT_TRUE(other);
    EXPECT_NE(other->plaintext.find("looks like a login or recovery code"), std::string::npos);
    EXPECT_EQ(other->plaintext.find("1234"), std::string::npos);

    // Her duress code, typed with other separators.
    s.inject(kHerNumberNormal,
             digits.substr(0, 4) + "-" + digits.substr(4, 6) + "-" + digits.substr(10));
    auto alert = console->receive(30s);
    ASSERT_TRUE(alert) << slurp(s.root / "gateway.log");
    EXPECT_EQ(alert->from, s.survivor);
    EXPECT_EQ(alert->plaintext.rfind("ALERT: her duress code was just sent by SMS", 0), 0u)
        << alert->plaintext;
    EXPECT_EQ(alert->plaintext.find(digits.substr(0, 5)), std::string::npos);
    EXPECT_TRUE(eventually([&] {
        for (const auto& a : s.policies->alerts().open_for(s.caseworker)) {
            if (a.kind == gateway::AlertKind::duress && a.urgent && a.case_code &&
                a.case_code->str() == s.case_code) {
                return true;
            }
        }
        return false;
    })) << "no urgent duress alert for her case";
    // Outbound lock: replies are refused with duress_lock; nothing reaches her phone.
    try {
        console->send_text(s.survivor, "CANARYLOCK7 are you there?");
        ADD_FAILURE() << "a reply was accepted under the duress lock";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("duress_lock"), std::string::npos) << e.what();
    }
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(s.phone_sms().empty()) << "an SMS went back to her phone";

    s.hub->drain(5s);
    s.store->flush();
    std::string all = read_all_files(s.data) + slurp(s.root / "gateway.log") +
                      slurp(s.kannel_dir / "bearerbox.log") + slurp(s.kannel_dir / "smsbox.log") +
                      slurp(s.kannel_dir / "bb.out") + slurp(s.kannel_dir / "sb.out");
    for (const std::string& canary :
         {digits, digits.substr(0, 4) + "-" + digits.substr(4, 6), s.duress_code,
          std::string("1234567890123456"), std::string("CANARYLOCK7")}) {
        EXPECT_EQ(all.find(canary), std::string::npos) << "found " << canary;
    }
}

// One of the organisation's duress words in her SMS (any case, any punctuation) is found at
// the edge before the text is encrypted: her message still reaches her caseworker, her team
// gets the urgent duress alert, replies are locked, nothing goes back to her phone, and the
// word is kept nowhere. A word that merely contains it changes nothing.
TEST(SmsKannel, HerDuressWordBySmsLocksRepliesAndAlertsHerTeamAndStillArrives) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    s.admin({"duress-words-set", "--file", "-"}, "blue umbrella\n");
    auto console = s.console();
    s.start_kannel();
    auto duress_alerts = [&] {
        int n = 0;
        for (const auto& a : s.policies->alerts().open_for(s.caseworker)) {
            if (a.kind == gateway::AlertKind::duress && a.urgent) ++n;
        }
        return n;
    };
    s.inject(kHerNumberNormal, "my umbrellas are blue");
    auto first = console->receive(30s);
    ASSERT_TRUE(first) << slurp(s.root / "gateway.log");
    EXPECT_EQ(first->plaintext, "my umbrellas are blue");
    EXPECT_EQ(duress_alerts(), 0);

    s.inject(kHerNumberNormal, "sorry... BLUE, umbrella");
    auto got = console->receive(30s);
    ASSERT_TRUE(got) << slurp(s.root / "gateway.log");
    EXPECT_EQ(got->plaintext, "sorry... BLUE, umbrella");
    EXPECT_TRUE(eventually([&] { return duress_alerts() == 1; }, 10s))
        << "no urgent duress alert for her case";
    auto record = s.policies->store().find_survivor(policies::CaseCode(s.case_code));
    ASSERT_TRUE(record);
    EXPECT_TRUE(record->flags.duress_lock);
    try {
        console->send_text(s.survivor, "CANARYWORD3 are you there?");
        ADD_FAILURE() << "a reply was accepted under the duress lock";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("duress_lock"), std::string::npos) << e.what();
    }
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(s.phone_sms().empty()) << "an SMS went back to her phone";

    s.hub->drain(5s);
    s.store->flush();
    std::string ours = read_all_files(s.data) + slurp(s.root / "gateway.log");
    EXPECT_EQ(ours.find("mbrella"), std::string::npos) << "her words were kept in clear";
    EXPECT_EQ(ours.find("CANARYWORD3"), std::string::npos);
}

// Kannel's own logs (bearerbox/smsbox log files and their output, at the levels
// deploy/kannel/ configures) must never hold the shared token (in the post-url and every
// dlr-url), the sendsms password or the admin password — also when things go wrong: a
// sendsms with a wrong password, Ariadne refusing an inbound SMS (429), a dlr-url Kannel
// cannot reach.
TEST(SmsKannel, KannelsLogsNeverHoldTheTokenOrPasswordsEvenOnErrors) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();
    // Wrong sendsms password: refused.
    detail::KannelEndpoint wrong{"127.0.0.1", s.kannel_sendsms_port, "ariadne", "not_the_pw_991",
                                 5000ms};
    detail::SendSms sms;
    sms.to = "+393330000222";
    sms.text = "x";
    EXPECT_FALSE(detail::post_sendsms(wrong, sms).accepted());
    // A URL holding the token that Kannel cannot fetch — what the post-url is whenever
    // Ariadne is down — as a dlr-url nobody answers: Kannel's gwlib writes "Couldn't fetch
    // <URL>" as an ERROR (so smsbox must log at level 4; at 3 this test fails). Ariadne's
    // own dlr-urls hold no token at all, only a per-part mac.
    detail::KannelEndpoint right{"127.0.0.1", s.kannel_sendsms_port, "ariadne",
                                 s.sms_options.kannel_password, 5000ms};
    sms.dlr_mask = 19;
    sms.dlr_url = "https://kannel:" + kToken + "@127.0.0.1:" + std::to_string(free_port()) +
                  "/sms/dlr?ref=1-0&type=%d";
    EXPECT_TRUE(detail::post_sendsms(right, sms).accepted());
    // Ariadne refuses inbound SMS (over per_number_per_minute = 5): 429 to smsbox.
    for (int i = 0; i < 7; ++i) s.inject(kUnknownNumber, "m" + std::to_string(i));
    // Ariadne stopped: smsbox retries the post-url.
    s.stop_server();
    s.inject(kHerNumberNormal, "while Ariadne is down");
    std::this_thread::sleep_for(5s);  // smsbox's retries (http-request-retry, 1 s apart)
    const std::string logs = slurp(s.kannel_dir / "bearerbox.log") +
                             slurp(s.kannel_dir / "smsbox.log") + slurp(s.kannel_dir / "bb.out") +
                             slurp(s.kannel_dir / "sb.out");
    for (const std::string& secret : {kToken, s.sms_options.kannel_password,
                                      std::string("not_the_pw_991"), std::string("admin_pw_123")}) {
        EXPECT_EQ(logs.find(secret), std::string::npos) << "Kannel logged a secret:\n" << logs;
    }
}

// ---- the inbound endpoint, adversarial (no Kannel needed) ----

TEST(SmsEndpoint, RefusesMissingOrWrongTokens) {
    SmsStack s;
    auto h = authed();
    h.erase("authorization");
    EXPECT_EQ(s.call("POST", "/sms/inbound", h, "hi").status, 401);
    h["authorization"] = "Bearer " + kToken.substr(1);
    EXPECT_EQ(s.call("POST", "/sms/inbound", h, "hi").status, 401);
    h["authorization"] = "Bearer " + kToken + "x";
    EXPECT_EQ(s.call("POST", "/sms/inbound", h, "hi").status, 401);
    h["authorization"] = "Basic !!!notbase64";
    EXPECT_EQ(s.call("POST", "/sms/inbound", h, "hi").status, 401);
    h["authorization"] = "Basic " + crypto::base64_encode(crypto::as_bytes("kannel:wrong"));
    EXPECT_EQ(s.call("POST", "/sms/inbound", h, "hi").status, 401);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=1-0&type=1", {}, "").status, 401);
    // Kannel's form: HTTP Basic with the token as password.
    h["authorization"] = "Basic " + crypto::base64_encode(crypto::as_bytes("kannel:" + kToken));
    EXPECT_EQ(s.call("GET", "/sms/inbound", h, "").status, 405);
}

TEST(SmsEndpoint, RefusesMalformedOversizedAndInjectedInputNamingTheField) {
    SmsStack s;
    auto bad_from = [&](const std::string& from) {
        auto r = s.call("POST", "/sms/inbound", authed(from), "hello");
        EXPECT_EQ(r.status, 400) << from;
        EXPECT_NE(r.body.find("X-Kannel-From"), std::string::npos);
    };
    bad_from("");
    bad_from("abc");
    bad_from("+39' OR 1=1 --");
    bad_from("+39333\r\nX-Evil: 1");
    bad_from("<script>alert(1)</script>");
    bad_from("12");
    bad_from(std::string(40, '9'));
    auto r = s.call("POST", "/sms/inbound", authed(), "");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("body"), std::string::npos);
    EXPECT_EQ(s.call("POST", "/sms/inbound", authed(), std::string(4001, 'a')).status, 413);
    EXPECT_EQ(s.call("POST", "/sms/inbound", authed(), "\xff\xfe bad utf8").status, 400);
    auto d = s.call("GET", "/sms/dlr?ref=1;DROP TABLE x&type=1",
                    {{"authorization", "Bearer " + kToken}});
    EXPECT_EQ(d.status, 400);
    EXPECT_EQ(s.call("GET", "/sms/dlr?ref=99999-0&type=1", {{"authorization", "Bearer " + kToken}})
                  .status,
              404);
    EXPECT_EQ(
        s.call("GET", "/sms/dlr?ref=1-0&type=x", {{"authorization", "Bearer " + kToken}}).status,
        400);
    // Injection in the text is just text: stored edge-encrypted, nothing interprets it.
    auto console = s.console();
    const std::string evil = "'); DROP TABLE accounts; -- <script>x</script> %s %n {}";
    ASSERT_EQ(s.call("POST", "/sms/inbound", authed(), evil).status, 202);
    auto got = console->receive(20s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->plaintext, evil);
}

TEST(SmsEndpoint, DuressCodesCannotBeGuessedFromOneNumberAndEveryAnswerIsTheSame) {
    SmsStack s;  // 3 code checks per number per minute; 5 messages per number per minute
    auto console = s.console();
    // Stay inside one rate-limit minute.
    while (std::time(nullptr) % 60 > 40) std::this_thread::sleep_for(1s);
    auto duress_alerts = [&] {
        int n = 0;
        for (const auto& a : s.policies->alerts().open_for(s.caseworker)) {
            if (a.kind == gateway::AlertKind::duress) ++n;
        }
        return n;
    };
    auto status_and_body = [&](const std::string& from, const std::string& text) {
        auto r = s.call("POST", "/sms/inbound", authed(from), text);
        return std::to_string(r.status) + "|" + r.body;
    };
    // An ordinary message, wrong codes and her real duress code all get "202|" (no SMS back).
    EXPECT_EQ(status_and_body(kHerNumberNormal, "hello"), "202|");
    // Three guesses from one number use its code checks; the fourth — her real duress code —
    // is not even checked.
    for (const char* guess :
         {"0000 0000 0000 0001", "0000 0000 0000 0002", "0000 0000 0000 0003"}) {
        EXPECT_EQ(status_and_body(kUnknownNumber, guess), "202|");
    }
    EXPECT_EQ(status_and_body(kUnknownNumber, s.duress_code), "202|");
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(duress_alerts(), 0) << "a code over the per-number budget was checked";
    // From her number (its own budget) the duress code raises the alert; same answer.
    EXPECT_EQ(status_and_body(kHerNumberNormal, s.duress_code), "202|");
    EXPECT_TRUE(eventually([&] { return duress_alerts() == 1; }, 10s));
    // Nothing forwarded holds a code.
    for (int i = 0; i < 8; ++i) {
        auto m = console->receive(2s);
        if (!m) break;
        EXPECT_EQ(m->plaintext.find("0000"), std::string::npos) << m->plaintext;
    }
}

// Consent is decided again when a reply is about to leave: a reply stored while her edge was
// down (a restart) and her SMS consent withdrawn meanwhile is not sent, and the caseworker
// gets a failed receipt naming the policy reason instead of silence.
TEST(SmsEndpoint, AReplyRefusedByPolicyAsItIsAboutToLeaveGivesAFailedReceiptWithTheReason) {
    SmsStack s;
    auto console = s.console();
    ASSERT_EQ(s.call("POST", "/sms/inbound", authed(), "hello").status, 202);
    ASSERT_TRUE(console->receive(20s));
    // The edge (and the SMS adapter) go down; the gateway still takes the reply.
    s.policies->set_channel_sender(ariadne::policies::ChannelKind::sms, {});  // went with it
    s.sms.reset();
    s.hub.reset();
    auto ids = console->send_text(s.survivor, "CANARYPOL8 see you at five", true);
    ASSERT_EQ(ids.size(), 1u);
    s.consent("consent-withdraw", kHerNumber);
    // Back up (the old routes are not used: requests go to the new adapter directly).
    EdgeOptions eo;
    eo.data_dir = s.data;
    s.hub = std::make_unique<EdgeHub>(*s.gateway, eo);
    s.sms = std::make_unique<SmsGateway>(*s.store, s.policies->store(), *s.server_key, *s.hub,
                                         s.sms_options);
    s.hub->attach(s.survivor);
    auto receipt = console->receive(20s);
    ASSERT_TRUE(receipt) << slurp(s.root / "gateway.log");
    EXPECT_TRUE(receipt->receipt);
    EXPECT_EQ(receipt->ref, ids[0]);
    EXPECT_EQ(receipt->failure, "consent_withdrawn");
    EXPECT_FALSE(console->receive(2s)) << "settled once";
    s.hub->drain(5s);
    s.store->flush();
    const std::string all = read_all_files(s.data) + slurp(s.root / "gateway.log");
    EXPECT_EQ(all.find("CANARYPOL8"), std::string::npos);
}

TEST(SmsEndpoint, RateLimitsPerSender) {
    SmsStack s;  // per_number_per_minute = 5
    auto console = s.console();
    int accepted = 0, limited = 0;
    for (int i = 0; i < 7; ++i) {
        int status = s.call("POST", "/sms/inbound", authed(), "msg " + std::to_string(i)).status;
        if (status == 202) ++accepted;
        if (status == 429) ++limited;
    }
    EXPECT_EQ(accepted, 5);
    EXPECT_EQ(limited, 2);
}

TEST(SmsNumbers, NormaliseAndKeyedReference) {
    EXPECT_EQ(gateway::normalize_phone_number("+39 333 123-4567"), "+393331234567");
    EXPECT_EQ(gateway::normalize_phone_number("0039 333 1234567"), "+393331234567");
    EXPECT_EQ(gateway::normalize_phone_number("(333) 123.4567"), "3331234567");
    EXPECT_FALSE(gateway::normalize_phone_number("33+3"));
    EXPECT_FALSE(gateway::normalize_phone_number("+1"));
    EXPECT_FALSE(gateway::normalize_phone_number("tel:+39333"));
    gateway::ServerKey a(crypto::SecretBytes(crypto::Bytes(32, 1)));
    gateway::ServerKey b(crypto::SecretBytes(crypto::Bytes(32, 2)));
    auto ra = gateway::address_ref_of(a, "+393331234567");
    EXPECT_EQ(ra, gateway::address_ref_of(a, "+393331234567"));
    EXPECT_NE(ra, gateway::address_ref_of(b, "+393331234567"));
    EXPECT_EQ(ra.find("393331234567"), std::string::npos);
}

TEST(SmsConfig, RefusesBadSettingsNamingThem) {
    auto expect_refused = [](const std::string& json, const std::string& key) {
        auto p = std::filesystem::temp_directory_path() /
                 ("ariadne-sms-config-" + std::to_string(::getpid()) + ".json");
        std::ofstream(p) << json;
        try {
            load_sms_config(p);
            ADD_FAILURE() << "accepted: " << json;
        } catch (const AdapterError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
        std::filesystem::remove(p);
    };
    const std::string good_tail =
        R"("kannel_username":"u","kannel_password":"p","inbound_token":")" + kToken +
        R"(","callback_base":"https://127.0.0.1:8443","on_duty":["a"])";
    expect_refused("{" + good_tail + R"(,"kannel_host":"10.0.0.5"})", "kannel_host");
    expect_refused("{" + good_tail + R"(,"surprise":1})", "surprise");
    expect_refused(R"({"kannel_username":"u","kannel_password":"p","inbound_token":"short",)"
                   R"("callback_base":"https://127.0.0.1:8443","on_duty":["a"]})",
                   "inbound_token");
    expect_refused("{" + good_tail + R"(,"sender":"Safe House Org"})", "sender");
    expect_refused("{" + good_tail + R"(,"default_time_zone":"Mars/Base"})", "default_time_zone");
    expect_refused("not json", "JSON");
}

TEST(SmsKannel, CheckInReminderGoesOutBySmsInsideItsWindowOnlyAndHerReplyIsRecorded) {
    if (!kannel_installed()) {
        GTEST_SKIP() << "Kannel is not installed (apt-get install kannel kannel-extras; "
                        "deploy/install-deps does it): the real-Kannel SMS tests are skipped";
    }
    SmsStack s;
    auto console = s.console();
    s.start_kannel();
    // Her SMS consent for check-ins (same number), and a plan whose window is open now.
    s.admin({"consent-record", "--case", s.case_code, "--channel", "sms", "--purpose", "check_ins",
             "--by", s.caseworker, "--address-stdin"},
            kHerNumber + "\n");
    const long now_min = static_cast<long>((std::time(nullptr) / 60) % (24 * 60));
    auto hhmm = [](long m) {
        char b[8];
        std::snprintf(b, sizeof b, "%02ld:%02ld", (m / 60) % 24, m % 60);
        return std::string(b);
    };
    // A second survivor (another number) whose window is closed now: nothing goes to her.
    Json other = Json::parse(s.admin({"survivor-enrol", "--caseworker", s.caseworker, "--initials",
                                      "R.T.", "--language", "en", "--time-zone", "UTC",
                                      "--recovery-m-kib", "8192", "--insecure-test-params"}));
    const std::string other_case = other.at("case_code");
    s.admin({"consent-record", "--case", other_case, "--channel", "sms", "--purpose", "check_ins",
             "--by", s.caseworker, "--address-stdin"},
            std::string("+393330000111\n"));
    if (now_min < 10 || now_min > 24 * 60 - 15) {
        GTEST_SKIP() << "too close to midnight UTC for a same-day window";
    }
    s.admin({"checkin-plan-set", "--case", s.case_code, "--by", s.caseworker, "--every-days", "1",
             "--window", hhmm(now_min - 5) + "-" + hhmm(now_min + 10), "--channel", "sms"});
    s.admin({"checkin-plan-set", "--case", other_case, "--by", s.caseworker, "--every-days", "1",
             "--window", hhmm(now_min - 9) + "-" + hhmm(now_min - 2), "--channel", "sms"});
    s.policies->start();
    ASSERT_TRUE(eventually([&] { return s.phone_messages().size() >= 1; }, 20s))
        << slurp(s.root / "gateway.log");
    std::this_thread::sleep_for(1500ms);
    auto got = s.phone_messages();
    ASSERT_EQ(got.size(), 1u) << "only her check-in, inside its window, goes out";
    EXPECT_EQ(got[0].first, kHerNumberNormal);
    EXPECT_FALSE(got[0].second.empty());
    // Her SMS answer counts as the response.
    s.inject(kHerNumberNormal, "ok thanks");
    ASSERT_TRUE(console->receive(30s));
    EXPECT_TRUE(eventually([&] {
        const Json contacts = console->contacts();
        for (const Json& c : contacts.at("contacts")) {
            if (c.at("account") == s.survivor) return c.value("checkin", "") == "responded";
        }
        return false;
    }));
}

}  // namespace
}  // namespace ariadne::adapters::test
