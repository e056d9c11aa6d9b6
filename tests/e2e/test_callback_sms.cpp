// Her call word by SMS: the real `ariadne serve` with a real Kannel (bearerbox, smsbox, and
// fakesmsc as her phone, from deploy/kannel/kannel-test.conf.in). `CALL` (or `LLAMAR`, …)
// alone from her verified number opens a call-back task for her team (channel sms) instead of
// a message, and her phone gets one short neutral SMS back in the word's language; refused
// (her consent to be called withdrawn) it gets the neutral refusal; from a number not on file
// the word is an ordinary message and nothing is sent back.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

const char* kBearerbox = "/usr/sbin/bearerbox";
const char* kSmsbox = "/usr/sbin/smsbox";
const char* kFakesmsc = "/usr/lib/kannel/test/fakesmsc";
const std::string kToken = "callback_tok_0123456789abcdefghijklmnop";
const std::string kNumber = "+393331230077";

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

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(100ms);
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
    ~Child() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

  private:
    pid_t pid_ = 0;
};

class CallbackSms : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!kannel_installed()) GTEST_SKIP() << "Kannel is not installed";
        port_ = free_port();
        sendsms_port_ = free_port();
        kannel_dir_ = tmp_.path() / "kannel";
        std::filesystem::create_directories(kannel_dir_);
        const auto sms_config = tmp_.path() / "sms.json";
        gateway_ = std::make_unique<Gateway>(
            tmp_.path() / "data",
            std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port_),
                                     "--sms-config", sms_config.string()});
        cw_ = gateway_->add_caseworker("sms.callback");
        her_ = gateway_->enrol_survivor(cw_.account, false);
        // Her SMS thread (replies by SMS) and her consent to be called, on the same number.
        for (const char* channel : {"sms", "voice_callback"}) {
            gateway_->admin({"consent-record", "--case", her_.case_code, "--channel", channel,
                             "--purpose", "replies", "--by", cw_.account, "--address-stdin"},
                            kNumber + "\n");
        }
        std::ofstream(sms_config) << Json({{"kannel_port", sendsms_port_},
                                           {"kannel_username", "ariadne"},
                                           {"kannel_password", "sendsms_pw_123"},
                                           {"sender", "7000"},
                                           {"inbound_token", kToken},
                                           {"callback_base",
                                            "https://127.0.0.1:" + std::to_string(port_)},
                                           {"on_duty", {cw_.account}}})
                                         .dump();
        gateway_->start();
        start_kannel();
        console_ = register_console(*gateway_, cw_, tmp_.path() / "console");
    }
    void TearDown() override {
        if (HasFailure() && gateway_) {
            std::cerr << "server log:\n" << gateway_->log() << "\nphone:\n" << phone_log();
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
        const std::uint16_t smsbox_port = free_port(), phone_port = free_port();
        set("ADMIN_PORT", std::to_string(free_port()));
        set("ADMIN_PASSWORD", "admin_pw_123");
        set("SMSBOX_PORT", std::to_string(smsbox_port));
        set("PHONE_PORT", std::to_string(phone_port));
        set("INJECT_PORT", std::to_string(free_port()));
        set("SENDSMS_PORT", std::to_string(sendsms_port_));
        set("KANNEL_USER", "ariadne");
        set("KANNEL_PASSWORD", "sendsms_pw_123");
        set("TOKEN", kToken);
        set("ARIADNE_PORT", std::to_string(port_));
        set("ARIADNE_CERT", (gateway_->data_dir() / "tls-cert.pem").string());
        set("DIR", kannel_dir_.string());
        const auto conf_path = kannel_dir_ / "kannel.conf";
        std::ofstream(conf_path) << conf;
        bearerbox_ = std::make_unique<Child>(
            std::vector<std::string>{kBearerbox, "-v", "4", conf_path.string()},
            kannel_dir_ / "bb.out");
        ASSERT_TRUE(eventually([&] { return port_open(smsbox_port); }, 15s));
        smsbox_ = std::make_unique<Child>(
            std::vector<std::string>{kSmsbox, "-v", "4", conf_path.string()},
            kannel_dir_ / "sb.out");
        ASSERT_TRUE(eventually([&] { return port_open(sendsms_port_); }, 15s));
        // Her phone: a fakesmsc printing every SMS Kannel delivers to it.
        phone_ = std::make_unique<Child>(
            std::vector<std::string>{kFakesmsc, "-H", "127.0.0.1", "-r", std::to_string(phone_port),
                                     "-i", "1", "-m", "0", "1 2 text unused"},
            kannel_dir_ / "phone.out");
        ASSERT_TRUE(
            eventually([&] { return phone_log().find("Connecting") != std::string::npos; }, 10s));
        std::this_thread::sleep_for(500ms);
    }
    std::string phone_log() const { return slurp(kannel_dir_ / "phone.out"); }
    /// Whether her phone got `text` (fakesmsc prints it URL-encoded or plain).
    bool on_phone(std::string text) const {
        const std::string log = phone_log();
        if (log.find(text) != std::string::npos) return true;
        for (auto& c : text) {
            if (c == ' ') c = '+';
        }
        return log.find(text) != std::string::npos;
    }

    /// An SMS from `from`, posted to /sms/inbound as Kannel's smsbox does; the HTTP status.
    std::string sms_from(const std::string& from, const std::string& text) {
        return run_process(
                   {"/usr/bin/curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                    "20", "-u", "kannel:" + kToken, "-H", "X-Kannel-From: " + from, "-H",
                    "Content-Type: text/plain; charset=UTF-8", "--data-binary", "@-",
                    "https://127.0.0.1:" + std::to_string(port_) + "/sms/inbound"},
                   text)
            .out;
    }

    Json open_tasks() { return console_->connection().call({{"type", "callbacks"}})["callbacks"]; }

    TempDir tmp_;
    std::uint16_t port_ = 0, sendsms_port_ = 0;
    std::filesystem::path kannel_dir_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor her_;
    std::unique_ptr<Child> bearerbox_, smsbox_, phone_;
    std::unique_ptr<client::Messenger> console_;
};

TEST_F(CallbackSms, HerCallWordOpensATaskAndHerPhoneGetsOneNeutralAnswer) {
    ASSERT_TRUE(open_tasks().empty());
    ASSERT_EQ(sms_from(kNumber, "Call!"), "202");
    Json tasks = open_tasks();
    ASSERT_EQ(tasks.size(), 1u) << tasks.dump();
    EXPECT_EQ(tasks[0]["account"], her_.account);
    EXPECT_EQ(tasks[0]["channel"], "sms");
    EXPECT_EQ(tasks[0]["source"], "request");
    EXPECT_FALSE(tasks[0]["windows"].empty());
    // The window starts today or tomorrow, in the windows her page offers too.
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_GT(tasks[0]["windows"][0]["to"].get<std::int64_t>(), now);
    EXPECT_LT(tasks[0]["windows"][0]["from"].get<std::int64_t>(), now + 2 * 86'400'000);
    ASSERT_TRUE(eventually([&] { return on_phone("Thank you. We will call you:"); }, 20s))
        << phone_log();
    // Her word is a request, not a message: nothing reaches her team's thread.
    auto m = console_->receive(1500ms);
    EXPECT_FALSE(m && !m->is_receipt && !m->is_notice && m->plaintext == "Call!");

    // In Spanish: the same task (its windows replaced), the answer in Spanish.
    ASSERT_EQ(sms_from(kNumber, "llamar"), "202");
    tasks = open_tasks();
    ASSERT_EQ(tasks.size(), 1u);
    ASSERT_TRUE(eventually([&] { return on_phone("Gracias. Te llamaremos:"); }, 20s))
        << phone_log();

    // Her consent to be called withdrawn: refused, and her phone gets the neutral refusal.
    gateway_->admin({"consent-withdraw", "--case", her_.case_code, "--channel", "voice_callback",
                     "--purpose", "replies", "--by", cw_.account});
    console_->connection().call(
        {{"type", "callback_outcome"}, {"task_id", tasks[0]["task_id"]}, {"outcome", "done"}});
    ASSERT_EQ(sms_from(kNumber, "CALL"), "202");
    EXPECT_TRUE(open_tasks().empty());
    ASSERT_TRUE(
        eventually([&] { return on_phone("Sorry, a call is not possible at the moment."); }, 20s))
        << phone_log();
    EXPECT_EQ(gateway_->log().find("3331230077"), std::string::npos);
}

TEST_F(CallbackSms, TheCallWordFromANumberNotOnFileIsAnOrdinaryMessageWithNoAnswer) {
    ASSERT_EQ(sms_from("+393339998877", "CALL"), "202");
    EXPECT_TRUE(open_tasks().empty());
    auto m = console_->receive(20s);
    // The unverified thread goes to the on-duty caseworker (her caseworker here).
    while (m && (m->is_receipt || m->is_notice)) m = console_->receive(5s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->plaintext, "CALL");
    std::this_thread::sleep_for(2s);
    EXPECT_FALSE(on_phone("Thank you")) << phone_log();
    EXPECT_FALSE(on_phone("Sorry")) << phone_log();
}

}  // namespace
}  // namespace ariadne::e2e
