// An SMS reply's receipt tells the caseworker the truth across restarts of `ariadne serve`:
// the real binary (killed with SIGKILL or stopped with SIGTERM on the same data directory
// and port) with a real Kannel (bearerbox, smsbox, and fakesmsc as her phone, from
// deploy/kannel/kannel-test.conf.in). The gateway is stopped at each step of a reply's way:
// stored but not yet handed on, being handed to Kannel, waiting for its delivery report, and
// settled. Each reply ends with exactly one receipt — delivered only when the phone got it —
// and no SMS is sent twice.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

const char* kBearerbox = "/usr/sbin/bearerbox";
const char* kSmsbox = "/usr/sbin/smsbox";
const char* kFakesmsc = "/usr/lib/kannel/test/fakesmsc";
const std::string kToken = "restart_tok_0123456789abcdefghijklmnopq";
const std::string kNumber = "+393331234567";

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

std::size_t count_of(const std::string& all, const std::string& what) {
    std::size_t n = 0;
    for (auto p = all.find(what); p != std::string::npos; p = all.find(what, p + 1)) ++n;
    return n;
}

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return f();
}

/// A Kannel process (output in `log`); killed by its pid on destruction.
class Child {
  public:
    Child(std::vector<std::string> argv, const std::filesystem::path& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
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
    ~Child() { kill(SIGKILL); }
    void signal(int sig) const {
        if (pid_ > 0) ::kill(pid_, sig);
    }
    void kill(int sig) {
        if (pid_ <= 0) return;
        ::kill(pid_, sig);
        ::kill(pid_, SIGCONT);
        ::waitpid(pid_, nullptr, 0);
        pid_ = 0;
    }

  private:
    pid_t pid_ = 0;
};

class SmsRestart : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!kannel_installed()) GTEST_SKIP() << "Kannel is not installed";
        port_ = free_port();
        const auto data = tmp_.path() / "data";
        sms_config_ = tmp_.path() / "sms.json";
        kannel_dir_ = tmp_.path() / "kannel";
        std::filesystem::create_directories(kannel_dir_);
        sendsms_port_ = free_port();
        // A fixed port: Kannel's delivery reports must reach the restarted gateway.
        gateway_ = std::make_unique<Gateway>(
            data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port_),
                                           "--sms-config", sms_config_.string()});
        cw_ = gateway_->add_caseworker("sms.restart");
        her_ = gateway_->enrol_survivor(cw_.account, false);
        gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", "sms",
                         "--purpose", "replies", "--by", cw_.account, "--address-stdin"},
                        kNumber + "\n");
        std::ofstream(sms_config_)
            << Json({{"kannel_port", sendsms_port_},
                     {"kannel_username", "ariadne"},
                     {"kannel_password", "sendsms_pw_123"},
                     {"sender", "7000"},
                     {"inbound_token", kToken},
                     {"callback_base", "https://127.0.0.1:" + std::to_string(port_)},
                     {"on_duty", {cw_.account}}})
                   .dump();
        gateway_->start();
        start_kannel();
        console_ = register_console(*gateway_, cw_, tmp_.path() / "console");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) {
            std::cerr << "server log:\n"
                      << gateway_->log() << "\nphone:\n"
                      << slurp(kannel_dir_ / "phone.out");
        }
        console_.reset();
        phone_.reset();
        smsbox_.reset();
        bearerbox_.reset();
    }

    void start_kannel() {
        std::string conf = slurp(ARIADNE_KANNEL_TEST_CONF);
        auto set = [&](const std::string& name, const std::string& value) {
            conf = std::regex_replace(conf, std::regex("@" + name + "@"), value);
        };
        smsbox_port_ = free_port();
        phone_port_ = free_port();
        set("ADMIN_PORT", std::to_string(free_port()));
        set("ADMIN_PASSWORD", "admin_pw_123");
        set("SMSBOX_PORT", std::to_string(smsbox_port_));
        set("PHONE_PORT", std::to_string(phone_port_));
        set("INJECT_PORT", std::to_string(free_port()));
        set("SENDSMS_PORT", std::to_string(sendsms_port_));
        set("KANNEL_USER", "ariadne");
        set("KANNEL_PASSWORD", "sendsms_pw_123");
        set("TOKEN", kToken);
        set("ARIADNE_PORT", std::to_string(port_));
        set("ARIADNE_CERT", (gateway_->data_dir() / "tls-cert.pem").string());
        set("DIR", kannel_dir_.string());
        conf_ = kannel_dir_ / "kannel.conf";
        std::ofstream(conf_) << conf;
        bearerbox_ =
            std::make_unique<Child>(std::vector<std::string>{kBearerbox, "-v", "4", conf_.string()},
                                    kannel_dir_ / "bb.out");
        ASSERT_TRUE(eventually([&] { return port_open(smsbox_port_); }, 15s));
        start_smsbox();
        start_phone();
    }
    void start_smsbox() {
        smsbox_ = std::make_unique<Child>(
            std::vector<std::string>{kSmsbox, "-v", "4", conf_.string()}, kannel_dir_ / "sb.out");
        ASSERT_TRUE(eventually([&] { return port_open(sendsms_port_); }, 15s));
    }
    /// Her phone: a fakesmsc printing every SMS Kannel delivers (and reporting it delivered).
    void start_phone() {
        const auto log = kannel_dir_ / "phone.out";
        const std::size_t before = count_of(slurp(log), "Connecting");
        phone_ =
            std::make_unique<Child>(std::vector<std::string>{kFakesmsc, "-H", "127.0.0.1", "-r",
                                                             std::to_string(phone_port_), "-i", "1",
                                                             "-m", "0", "1 2 text unused"},
                                    log);
        ASSERT_TRUE(eventually([&] { return count_of(slurp(log), "Connecting") > before; }, 10s));
        std::this_thread::sleep_for(500ms);
    }
    std::size_t on_phone(const std::string& text) {
        return count_of(slurp(kannel_dir_ / "phone.out"), text);
    }

    /// Her SMS, posted to /sms/inbound as Kannel's smsbox does.
    void she_writes(const std::string& text) {
        auto r = run_process(
            {"/usr/bin/curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
             "-u", "kannel:" + kToken, "-H", "X-Kannel-From: " + kNumber, "-H",
             "Content-Type: text/plain; charset=UTF-8", "--data-binary", "@-",
             "https://127.0.0.1:" + std::to_string(port_) + "/sms/inbound"},
            text);
        ASSERT_EQ(r.out, "202");
        auto got = console_->receive(20s);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->plaintext, text);
    }

    std::int64_t reply(const std::string& text) {
        auto sent = console_->send_text(her_.account, text, true);
        for (auto [device, id] : sent.server_ids) {
            if (device == 2) return id;
        }
        ADD_FAILURE() << "no edge device among the recipients";
        return 0;
    }

    long outbox(std::int64_t server_id, const std::string& state) {
        return count_rows(
            gateway_->data_dir() / "ariadne.db", "gateway_sms_outbox",
            "server_id = " + std::to_string(server_id) + " AND state = '" + state + "'");
    }

    /// Collects receipts for `wait`; every receipt (ref → failure reasons) is recorded.
    void collect_receipts(std::chrono::milliseconds wait) {
        auto end = std::chrono::steady_clock::now() + wait;
        while (std::chrono::steady_clock::now() < end) {
            auto m = console_->receive(200ms);
            if (m && m->is_receipt) receipts_[m->ref].push_back(m->failure);
        }
    }
    bool receipt_for(std::int64_t id, std::chrono::milliseconds timeout) {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (receipts_[id].empty() && std::chrono::steady_clock::now() < end) {
            collect_receipts(200ms);
        }
        return !receipts_[id].empty();
    }

    /// Stops the gateway with `signal`, runs `meanwhile`, starts it again on the same data
    /// directory and port, and opens the console's device again.
    void restart(int signal, const std::function<void()>& meanwhile = {}) {
        console_.reset();
        gateway_->stop(signal);
        if (meanwhile) meanwhile();
        gateway_->start();
        console_ = client::Messenger::open(messenger_options(*gateway_, tmp_.path() / "console"),
                                           test_store_key());
    }

    TempDir tmp_;
    std::uint16_t port_ = 0, sendsms_port_ = 0, smsbox_port_ = 0, phone_port_ = 0;
    std::filesystem::path sms_config_, kannel_dir_, conf_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor her_;
    std::unique_ptr<Child> bearerbox_, smsbox_, phone_;
    std::unique_ptr<client::Messenger> console_;
    std::map<std::int64_t, std::vector<std::string>> receipts_;
};

TEST_F(SmsRestart, EveryReplyGetsOneTrueReceiptWhereverTheGatewayRestarts) {
    she_writes("hello, it is me");

    // Settled before the restart: delivered once, and nothing happens again after it.
    const auto r1 = reply("R1-settled-before-restart");
    ASSERT_TRUE(receipt_for(r1, 30s));
    EXPECT_EQ(receipts_[r1], std::vector<std::string>{""});
    restart(SIGTERM);

    // Waiting for its delivery report when the gateway dies: her phone is unreachable, so
    // Kannel holds the SMS. After the restart (and her next text, which used to make the edge
    // decrypt the reply again and fail), no receipt yet; when the phone is back the report
    // comes in and gives exactly one "delivered".
    phone_.reset();
    std::this_thread::sleep_for(1500ms);
    const auto r2 = reply("R2-waiting-for-its-report");
    ASSERT_TRUE(eventually([&] { return outbox(r2, "sent") == 1; }));
    restart(SIGKILL);
    she_writes("are you there");
    collect_receipts(3s);
    EXPECT_TRUE(receipts_[r2].empty()) << "a receipt before her phone got the SMS";
    EXPECT_EQ(on_phone("R2-waiting-for-its-report"), 0u);
    start_phone();
    ASSERT_TRUE(receipt_for(r2, 30s));
    EXPECT_EQ(receipts_[r2], std::vector<std::string>{""});
    EXPECT_EQ(on_phone("R2-waiting-for-its-report"), 1u);

    // Being handed to Kannel when the gateway dies (smsbox frozen, so the hand-over has no
    // answer), with a second reply stored behind it and not yet handed on. The first may or
    // may not have left: it is reported failed (sms_unconfirmed) and never resent; the second
    // is sent after the restart and reported delivered once.
    smsbox_->signal(SIGSTOP);
    const auto r3 = reply("R3-being-handed-over");
    const auto r4 = reply("R4-stored-behind-it");
    ASSERT_TRUE(eventually([&] { return outbox(r3, "sending") == 1; }, 4s));
    restart(SIGKILL, [&] {
        smsbox_->kill(SIGKILL);  // what it was given is lost: it never reaches her phone
        start_smsbox();
    });
    ASSERT_TRUE(receipt_for(r3, 30s));
    EXPECT_EQ(receipts_[r3], std::vector<std::string>{"sms_unconfirmed"});
    ASSERT_TRUE(receipt_for(r4, 30s));
    EXPECT_EQ(receipts_[r4], std::vector<std::string>{""});
    EXPECT_EQ(on_phone("R4-stored-behind-it"), 1u);
    EXPECT_EQ(on_phone("R3-being-handed-over"), 0u);

    // One more restart: nothing is sent again and no receipt is repeated.
    restart(SIGTERM);
    collect_receipts(4s);
    for (auto id : {r1, r2, r3, r4}) EXPECT_EQ(receipts_[id].size(), 1u) << "reply " << id;
    EXPECT_EQ(on_phone("R1-settled-before-restart"), 1u);
    EXPECT_EQ(on_phone("R2-waiting-for-its-report"), 1u);
    EXPECT_EQ(on_phone("R4-stored-behind-it"), 1u);
    EXPECT_EQ(count_rows(gateway_->data_dir() / "ariadne.db", "gateway_sms_outbox"), 0);
    // The decrypted copies kept while replies waited are gone once they are settled.
    EXPECT_EQ(count_rows(gateway_->data_dir() / "edge" / "history.db", "edge_pending"), 0);
}

}  // namespace
}  // namespace ariadne::e2e
