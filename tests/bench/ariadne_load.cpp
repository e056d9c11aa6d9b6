// ariadne_load: the load driver of the side-by-side benchmark (docs/benchmarks.md). One
// single-threaded Boost.Beast client (pin it to its own core with taskset) drives the same
// workload against four systems over WebSocket + TLS on 127.0.0.1:
//   --mode ariadne  the real protocol: authenticated devices; send -> durable commit ->
//                   sender ok -> deliver -> receiver ack -> delete
//   --mode node-ws  the Node `ws` relay (tests/bench/peers/node-relay): forwards by
//                   destination id, stores nothing
//   --mode xmpp     Prosody or ejabberd: RFC 7395 framing, SASL PLAIN, resource binding,
//                   stream management (XEP-0198) when offered, <message> to a full JID
// N sender/receiver pairs send 200-byte bodies at a fixed total rate (--rate) or as fast as
// a window of --window messages in flight per pair allows (--rate 0). Reported (one JSON
// object on stdout): delivered msg/s (wall), delivered messages per server CPU-second
// (utime+stime of --server-pid from /proc), end-to-end latency percentiles (send to
// receipt), server RSS, the driver's own CPU use (to show it is not the bottleneck).
// --idle K opens K authenticated idle connections instead and reports server RSS per
// connection.
#include <sys/resource.h>
#include <unistd.h>

// Before Boost: asio/awaitable.hpp (1.74) uses std::exchange without including <utility>.
#include <utility>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/recovery.h"
#include "provision.h"

namespace ariadne::bench {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- options ----

struct Options {
    std::string mode = "ariadne";
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string path;  // default per mode
    std::size_t pairs = 50;
    double rate = 0;  // total msg/s offered; 0: as fast as the window allows
    std::size_t window = 32;
    double warmup = 2;
    double duration = 10;
    int server_pid = 0;
    // Two nodes on one database: receivers log in on port2, the second node's CPU counts.
    std::uint16_t port2 = 0;
    int server2_pid = 0;
    // A PostgreSQL postmaster: its CPU and its backends' count with the server's.
    int database_pid = 0;
    std::size_t idle = 0;
    std::size_t idle_accounts = 1;      // xmpp: bidle (1) or bidle0..bidle<N-1>
    std::size_t idle_concurrency = 64;  // logins in progress at once
    double idle_hold = 0;               // keep the idle connections open this long after
    std::size_t body_size = 200;
    // ariadne
    std::string server_binary;
    std::string data_dir;
    std::string state_dir;
    std::string fingerprint;
    // xmpp
    std::string domain = "localhost";
    std::string password = "benchpass";
    std::string label;  // free text copied to the output (e.g. "prosody")
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "ariadne_load: " << why << "\n"
              << "usage: ariadne_load --mode ariadne|node-ws|xmpp --port P [--path /ws]\n"
                 "  [--pairs N] [--rate MSG_PER_S|0] [--window W] [--warmup S] [--duration S]\n"
                 "  [--server-pid PID] [--port2 P --server2-pid PID] [--database-pid PID]\n"
                 "  [--idle K [--idle-accounts N] [--idle-concurrency C] "
                 "[--idle-hold S]] [--label TEXT]\n"
                 "  ariadne: --server-binary BIN --data-dir D --state-dir S --fingerprint FP\n"
                 "  xmpp: [--domain localhost] [--password benchpass]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--mode")
            o.mode = next();
        else if (a == "--host")
            o.host = next();
        else if (a == "--port")
            o.port = static_cast<std::uint16_t>(std::stoi(next()));
        else if (a == "--path")
            o.path = next();
        else if (a == "--pairs")
            o.pairs = std::stoul(next());
        else if (a == "--rate")
            o.rate = std::stod(next());
        else if (a == "--window")
            o.window = std::stoul(next());
        else if (a == "--warmup")
            o.warmup = std::stod(next());
        else if (a == "--duration")
            o.duration = std::stod(next());
        else if (a == "--server-pid")
            o.server_pid = std::stoi(next());
        else if (a == "--port2")
            o.port2 = static_cast<std::uint16_t>(std::stoi(next()));
        else if (a == "--server2-pid")
            o.server2_pid = std::stoi(next());
        else if (a == "--database-pid")
            o.database_pid = std::stoi(next());
        else if (a == "--idle")
            o.idle = std::stoul(next());
        else if (a == "--idle-hold")
            o.idle_hold = std::stod(next());
        else if (a == "--idle-concurrency")
            o.idle_concurrency = std::max<std::size_t>(1, std::stoul(next()));
        else if (a == "--idle-accounts")
            o.idle_accounts = std::max<std::size_t>(1, std::stoul(next()));
        else if (a == "--body-size")
            o.body_size = std::stoul(next());
        else if (a == "--server-binary")
            o.server_binary = next();
        else if (a == "--data-dir")
            o.data_dir = next();
        else if (a == "--state-dir")
            o.state_dir = next();
        else if (a == "--fingerprint")
            o.fingerprint = next();
        else if (a == "--domain")
            o.domain = next();
        else if (a == "--password")
            o.password = next();
        else if (a == "--label")
            o.label = next();
        else
            usage("unknown option " + a);
    }
    if (o.mode != "ariadne" && o.mode != "node-ws" && o.mode != "xmpp") usage("unknown mode");
    if (o.port == 0) usage("--port is required");
    if (o.path.empty()) o.path = o.mode == "ariadne" ? "/v1/ws" : o.mode == "xmpp" ? "/ws" : "/";
    if (o.body_size < 40) usage("--body-size must be at least 40");
    return o;
}

// ---- the server process ----

struct ProcSample {
    double cpu_seconds = 0;
    long rss_kib = 0;
};

ProcSample sample_process(int pid) {
    ProcSample s;
    if (pid <= 0) return s;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(text.substr(close + 2));
        std::string field;
        std::vector<std::string> fields;
        while (rest >> field) fields.push_back(field);
        // After the command: state is field 3; utime 14 and stime 15 (1-based, man proc).
        if (fields.size() > 12) {
            double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
            s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
        }
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
    }
    return s;
}

/// The CPU of a database server: the postmaster (with the children it has reaped) and every
/// live child of it (one backend per gateway connection).
double database_cpu_seconds(int postmaster) {
    if (postmaster <= 0) return 0;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double total = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(text.substr(close + 2));
        std::vector<std::string> fields;
        for (std::string f; rest >> f;) fields.push_back(f);
        if (fields.size() < 15) continue;
        const int pid = std::stoi(name), parent = std::stoi(fields[1]);
        if (pid == postmaster) {
            for (int i = 11; i <= 14; ++i) total += std::stod(fields[i]) / ticks;
        } else if (parent == postmaster) {
            total += (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
        }
    }
    return total;
}

double own_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ---- small text helpers (no JSON/XML library on the hot path) ----

std::int64_t int_after(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return -1;
    at += key.size();
    while (at < text.size() && text[at] == ' ') ++at;
    std::int64_t v = -1;
    std::from_chars(text.data() + at, text.data() + text.size(), v);
    return v;
}

std::string_view string_after(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return {};
    at += key.size();
    auto end = text.find('"', at);
    return end == std::string_view::npos ? std::string_view{} : text.substr(at, end - at);
}

// ---- one WebSocket over TLS ----

class WsConn : public std::enable_shared_from_this<WsConn> {
  public:
    using FrameHandler = std::function<void(std::string_view)>;
    using DoneHandler = std::function<void(beast::error_code)>;

    WsConn(net::io_context& io, ssl::context& ctx) : ws_(io, ctx) {}

    /// Replaces the frame handler (safe from inside the handler: takes effect after it).
    void on_frame(FrameHandler h) {
        if (in_handler_) {
            next_handler_ = std::move(h);
            replace_pending_ = true;
        } else {
            on_frame_ = std::move(h);
        }
    }
    void on_closed(DoneHandler h) { on_closed_ = std::move(h); }

    void start(const tcp::endpoint& endpoint, std::string host, std::string target,
               std::string subprotocol, DoneHandler done) {
        host_ = std::move(host);
        target_ = std::move(target);
        subprotocol_ = std::move(subprotocol);
        auto self = shared_from_this();
        beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(30));
        beast::get_lowest_layer(ws_).async_connect(endpoint, [self, done](beast::error_code ec) {
            if (ec) return done(ec);
            beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true));
            self->ws_.next_layer().async_handshake(
                ssl::stream_base::client, [self, done](beast::error_code ec) {
                    if (ec) return done(ec);
                    beast::get_lowest_layer(self->ws_).expires_never();
                    self->ws_.set_option(
                        websocket::stream_base::timeout::suggested(beast::role_type::client));
                    if (!self->subprotocol_.empty()) {
                        self->ws_.set_option(websocket::stream_base::decorator(
                            [p = self->subprotocol_](websocket::request_type& req) {
                                req.set(http::field::sec_websocket_protocol, p);
                            }));
                    }
                    self->ws_.async_handshake(self->host_, self->target_,
                                              [self, done](beast::error_code ec) {
                                                  if (!ec) self->read();
                                                  done(ec);
                                              });
                });
        });
    }

    void send(std::string frame) {
        if (closed_) return;
        queue_.push_back(std::move(frame));
        if (!writing_) write();
    }

    bool closed() const { return closed_; }

  private:
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail(ec);
            auto data = self->buffer_.cdata();
            if (self->on_frame_) {
                self->in_handler_ = true;
                self->on_frame_(
                    std::string_view(static_cast<const char*>(data.data()), data.size()));
                self->in_handler_ = false;
                if (self->replace_pending_) {
                    self->on_frame_ = std::move(self->next_handler_);
                    self->replace_pending_ = false;
                }
            }
            self->buffer_.consume(self->buffer_.size());
            self->read();
        });
    }
    void write() {
        writing_ = true;
        current_ = std::move(queue_.front());
        queue_.pop_front();
        ws_.text(true);
        ws_.async_write(net::buffer(current_),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->fail(ec);
                            if (self->queue_.empty()) {
                                self->writing_ = false;
                            } else {
                                self->write();
                            }
                        });
    }
    void fail(beast::error_code ec) {
        if (closed_) return;
        closed_ = true;
        if (on_closed_) on_closed_(ec);
    }

    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
    beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    std::string current_;
    bool writing_ = false;
    bool closed_ = false;
    std::string host_, target_, subprotocol_;
    FrameHandler on_frame_, next_handler_;
    bool in_handler_ = false, replace_pending_ = false;
    DoneHandler on_closed_;
};

// ---- the workload ----

std::string random_text(std::size_t n) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::mt19937 rng(42);
    std::string s(n, 'x');
    for (auto& c : s) c = alphabet[rng() % 62];
    return s;
}

/// Counts and latencies of one run.
struct Stats {
    std::uint64_t sent = 0, delivered = 0, sender_ok = 0, errors = 0, backlog_skips = 0;
    std::map<std::string, std::uint64_t> error_codes;
    std::vector<std::uint32_t> latency_us;  // receipts inside the measured window
};

class Driver;

/// One sender/receiver pair (protocol specifics live in Driver).
struct Pair {
    std::size_t index = 0;
    std::shared_ptr<WsConn> sender, receiver;
    std::uint64_t sent = 0, received = 0;
    std::uint64_t next_id = 1;
    std::string sender_login_step, receiver_login_step;
    std::uint64_t xmpp_handled = 0;  // stanzas received since <enable/> (XEP-0198 h)
    bool sender_ready = false, receiver_ready = false;
};

class Driver {
  public:
    explicit Driver(Options o)
        : o_(std::move(o)),
          ssl_ctx_(ssl::context::tls_client),
          endpoint_(net::ip::make_address(o_.host), o_.port),
          endpoint2_(net::ip::make_address(o_.host), o_.port2 != 0 ? o_.port2 : o_.port) {
        ssl_ctx_.set_verify_mode(ssl::verify_none);  // loopback benchmark peers, self-signed
        SSL_CTX_set_mode(ssl_ctx_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
        filler_ = random_text(4096);
        if (o_.mode == "ariadne") {
            ProvisionRequest req;
            req.server_binary = o_.server_binary;
            req.data_dir = o_.data_dir;
            req.state_dir = o_.state_dir;
            req.host = o_.host;
            req.port = o_.port;
            req.fingerprint = o_.fingerprint;
            req.pairs = std::max<std::size_t>(o_.pairs, 1);
            state_ = provision(req);
            // Body: 12-byte header (0x33, send time, pair) then random bytes; the base64 of
            // the random part is made once (186 + 2 bytes so the padding comes last).
            auto nonce = crypto::random_bytes(3);
            std::memcpy(run_nonce_, nonce.data(), 3);
            auto rnd = crypto::random_bytes(o_.body_size - 12);
            std::size_t mid = (o_.body_size - 12) / 3 * 3;
            body_tail_ =
                crypto::base64_encode(crypto::ByteView(rnd.data(), mid)) +
                crypto::base64_encode(crypto::ByteView(rnd.data() + mid, rnd.size() - mid));
        }
    }

    json run() { return o_.idle > 0 ? run_idle() : run_load(); }

  private:
    // -- connections and logins --

    std::shared_ptr<WsConn> open(std::string target, std::function<void()> on_open,
                                 bool second_node = false) {
        auto c = std::make_shared<WsConn>(io_, ssl_ctx_);
        c->start(second_node ? endpoint2_ : endpoint_, o_.host, std::move(target), o_.mode == "xmpp" ? "xmpp" : "",
                 [this, on_open = std::move(on_open)](beast::error_code ec) {
                     if (ec) {
                         std::cerr << "connect failed: " << ec.message() << "\n";
                         ++connect_failures_;
                         return;
                     }
                     on_open();
                 });
        return c;
    }

    // Ariadne: challenge, then auth_survivor / auth_device signed over it.
    void ariadne_login(const std::shared_ptr<WsConn>& c, bool survivor, std::size_t receiver,
                       std::function<void()> ready) {
        auto step = std::make_shared<int>(0);
        c->on_frame([this, c, survivor, receiver, step, ready](std::string_view f) {
            json r = json::parse(f);
            // The gateway's login budgets answer a burst of logins from one address with
            // rate_limited: wait as told and start again with a fresh challenge.
            if (r.value("code", "") == "rate_limited") {
                auto wait = std::chrono::milliseconds(r.value("retry_after_ms", 10) + 1);
                auto timer = std::make_shared<net::steady_timer>(io_, wait);
                timer->async_wait([c, step, timer](beast::error_code) {
                    *step = 0;
                    c->send(R"({"v":1,"id":1,"type":"challenge"})");
                });
                return;
            }
            if (r.value("type", "") != "ok") {
                std::cerr << "login failed: " << f << "\n";
                ++connect_failures_;
                return;
            }
            if (*step == 0) {
                *step = 1;
                auto challenge = crypto::base64_decode(r.at("challenge").get<std::string>());
                json auth;
                if (survivor) {
                    const auto& s = state_.at("survivor");
                    crypto::SecretBytes key(
                        crypto::base64_decode(s.at("auth_key").get<std::string>()));
                    auth = {{"v", 1},
                            {"id", 2},
                            {"type", "auth_survivor"},
                            {"locator", s.at("locator")},
                            {"signature",
                             crypto::base64_encode(crypto::sign_login_challenge(key, challenge))},
                            {"identity_key", s.at("identity_key")},
                            {"registration_id", s.at("registration_id")}};
                } else {
                    const auto& d = state_.at("receivers").at(receiver);
                    crypto::SecretBytes key(
                        crypto::base64_decode(d.at("private_key").get<std::string>()));
                    auth = {{"v", 1},
                            {"id", 2},
                            {"type", "auth_device"},
                            {"account", d.at("account")},
                            {"device_id", d.at("device_id")},
                            {"signature",
                             crypto::base64_encode(crypto::sign_login_challenge(key, challenge))}};
                }
                c->send(auth.dump());
            } else if (*step == 1) {
                *step = 2;
                ready();
            }
        });
        c->send(R"({"v":1,"id":1,"type":"challenge"})");
    }

    // XMPP (RFC 7395): open, SASL PLAIN, open again, bind, XEP-0198 enable if offered.
    void xmpp_login(const std::shared_ptr<WsConn>& c, const std::string& user,
                    const std::string& resource, std::function<void()> ready,
                    std::uint64_t* handled) {
        auto step = std::make_shared<int>(0);
        auto sm = std::make_shared<bool>(false);
        std::string open_frame = "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"" +
                                 o_.domain + "\" version=\"1.0\"/>";
        c->on_frame([this, c, user, resource, step, sm, ready, open_frame,
                     handled](std::string_view f) {
            if (std::getenv("ARIADNE_LOAD_DEBUG")) std::cerr << "xmpp <- " << f << "\n";
            auto has = [&](std::string_view s) { return f.find(s) != std::string_view::npos; };
            if (*step == 0 && has("mechanisms")) {
                if (!has(">PLAIN<")) {
                    std::cerr << "xmpp: no SASL PLAIN offered: " << f << "\n";
                    ++connect_failures_;
                    return;
                }
                std::string plain =
                    std::string(1, '\0') + user + std::string(1, '\0') + o_.password;
                crypto::Bytes bytes(plain.begin(), plain.end());
                c->send("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">" +
                        crypto::base64_encode(bytes) + "</auth>");
                *step = 1;
            } else if (*step == 1) {
                if (has("<success")) {
                    c->send(open_frame);
                    *step = 2;
                } else if (has("<failure")) {
                    std::cerr << "xmpp: authentication failed for " << user << ": " << f << "\n";
                    ++connect_failures_;
                }
            } else if (*step == 2 && has("urn:ietf:params:xml:ns:xmpp-bind")) {
                *sm = has("urn:xmpp:sm:3");
                c->send(
                    "<iq xmlns=\"jabber:client\" type=\"set\" id=\"bind1\"><bind "
                    "xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\">"
                    "<resource>" +
                    resource + "</resource></bind></iq>");
                *step = 3;
            } else if (*step == 3 && has("bind1")) {
                if (!has("type=\"result\"") && !has("type='result'")) {
                    std::cerr << "xmpp: bind failed: " << f << "\n";
                    ++connect_failures_;
                    return;
                }
                if (*sm) {
                    c->send("<enable xmlns=\"urn:xmpp:sm:3\"/>");
                    *step = 4;
                } else {
                    *step = 5;
                    ready();
                }
            } else if (*step == 4 && has("<enabled")) {
                *step = 5;
                if (handled) *handled = 0;
                ready();
            }
        });
        c->send(open_frame);
    }

    void login(const std::shared_ptr<WsConn>& c, bool sender, std::size_t pair,
               std::function<void()> ready, std::uint64_t* handled = nullptr) {
        if (o_.mode == "ariadne") {
            ariadne_login(c, sender, pair, std::move(ready));
        } else if (o_.mode == "xmpp") {
            xmpp_login(c, sender ? "bsend" : "brecv", "p" + std::to_string(pair), std::move(ready),
                       handled);
        } else {
            ready();  // node-ws: the id in the URL is the login
        }
    }

    std::string target_for(bool sender, std::size_t pair) const {
        if (o_.mode == "node-ws") {
            return o_.path + "?id=" + (sender ? "s" : "r") + std::to_string(pair);
        }
        return o_.path;
    }

    // -- messages --

    std::uint64_t now_ns() const {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0_).count());
    }

    std::string make_message(Pair& p) {
        const std::uint64_t t = now_ns();
        std::string out;
        if (o_.mode == "ariadne") {
            std::uint8_t header[12];
            header[0] = 0x33;
            for (int i = 0; i < 8; ++i)
                header[1 + i] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
            // A nonce per run: messages left in a mailbox by an earlier run are acknowledged
            // but not counted.
            std::memcpy(header + 9, run_nonce_, 3);
            const auto& r = state_.at("receivers").at(p.index);
            out.reserve(400);
            out += R"({"v":1,"id":)";
            out += std::to_string(p.next_id++);
            out += R"(,"type":"send","to":")";
            out += r.at("account").get_ref<const std::string&>();
            out += R"(","messages":[{"device_id":)";
            out += std::to_string(r.at("device_id").get<std::uint32_t>());
            out += R"(,"type":2,"body":")";
            out += crypto::base64_encode(crypto::ByteView(header, 12));
            out += body_tail_;
            out += R"("}]})";
        } else {
            std::string body = std::to_string(t) + " ";
            body += filler_.substr(0, o_.body_size - body.size());
            if (o_.mode == "node-ws") {
                out = "r" + std::to_string(p.index) + " " + body;
            } else {
                out = "<message xmlns=\"jabber:client\" to=\"brecv@" + o_.domain + "/p" +
                      std::to_string(p.index) + "\" type=\"chat\" id=\"m" +
                      std::to_string(p.next_id++) + "\"><body>" + body + "</body></message>";
            }
        }
        return out;
    }

    /// Send time (ns since t0) carried by a received frame, or 0 if it is not a message.
    std::uint64_t sent_at(std::string_view f) const {
        if (o_.mode == "ariadne") {
            auto b64 = string_after(f, R"("body":")");
            if (b64.size() < 16) return 0;
            auto header = crypto::base64_decode(b64.substr(0, 16));
            if (std::memcmp(header.data() + 9, run_nonce_, 3) != 0) return 0;
            std::uint64_t t = 0;
            for (int i = 0; i < 8; ++i) t = (t << 8) | header[1 + i];
            return t;
        }
        std::string_view text = f;
        if (o_.mode == "node-ws") {
            auto sp = f.find(' ');
            if (sp == std::string_view::npos) return 0;
            text = f.substr(sp + 1);
        } else {
            auto at = f.find("<body>");
            if (at == std::string_view::npos) return 0;
            text = f.substr(at + 6);
        }
        std::uint64_t t = 0;
        std::from_chars(text.data(), text.data() + text.size(), t);
        return t;
    }

    void send_one(Pair& p) {
        if (!p.sender_ready || p.sender->closed()) return;
        p.sender->send(make_message(p));
        ++p.sent;
        ++stats_.sent;
        if (o_.mode == "xmpp" && p.sent % 32 == 0) p.sender->send("<r xmlns=\"urn:xmpp:sm:3\"/>");
    }

    void on_sender_frame(Pair& p, std::string_view f) {
        if (o_.mode == "ariadne") {
            if (f.find(R"("type":"ok")") != std::string_view::npos) {
                ++stats_.sender_ok;
            } else if (f.find(R"("type":"error")") != std::string_view::npos) {
                ++stats_.errors;
                ++stats_.error_codes[std::string(string_after(f, R"("code":")"))];
            }
        } else if (o_.mode == "xmpp") {
            if (f.rfind("<r ", 0) == 0 || f.rfind("<r/", 0) == 0) {
                p.sender->send("<a xmlns=\"urn:xmpp:sm:3\" h=\"0\"/>");
            } else if (f.rfind("<a ", 0) == 0) {
                ++stats_.sender_ok;
            } else if (f.find("type=\"error\"") != std::string_view::npos) {
                ++stats_.errors;
                ++stats_.error_codes["xmpp-error"];
            }
        }
    }

    void on_receiver_frame(Pair& p, std::string_view f) {
        if (o_.mode == "ariadne") {
            if (f.find(R"("type":"deliver")") == std::string_view::npos) {
                if (f.find(R"("type":"error")") != std::string_view::npos) {
                    ++stats_.errors;
                    ++stats_.error_codes["ack:" + std::string(string_after(f, R"("code":")"))];
                }
                return;
            }
            auto sid = int_after(f, R"("server_id":)");
            p.receiver->send(R"({"v":1,"id":)" + std::to_string(p.next_id++) +
                             R"(,"type":"ack","server_id":)" + std::to_string(sid) + "}");
        } else if (o_.mode == "xmpp") {
            if (f.rfind("<r ", 0) == 0 || f.rfind("<r/", 0) == 0) {
                p.receiver->send("<a xmlns=\"urn:xmpp:sm:3\" h=\"" +
                                 std::to_string(p.xmpp_handled) + "\"/>");
                return;
            }
            if (f.rfind("<message", 0) == 0 || f.rfind("<iq", 0) == 0 ||
                f.rfind("<presence", 0) == 0) {
                ++p.xmpp_handled;
            }
            if (f.rfind("<message", 0) != 0) return;
        }
        auto t = sent_at(f);
        if (t == 0) return;
        ++p.received;
        ++stats_.delivered;
        if (measuring_) {
            stats_.latency_us.push_back(static_cast<std::uint32_t>(
                std::min<std::uint64_t>((now_ns() - t) / 1000, 0xFFFFFFFFu)));
        }
        if (o_.rate == 0 && !stopping_) {
            while (p.sent - p.received < o_.window) send_one(p);
        }
    }

    // -- the load run --

    json run_load() {
        t0_ = Clock::now();
        pairs_.resize(o_.pairs);
        std::size_t ready = 0;
        for (std::size_t i = 0; i < o_.pairs; ++i) {
            Pair& p = pairs_[i];
            p.index = i;
            p.receiver = open(target_for(false, i), [this, &p, &ready] {
                login(
                    p.receiver, false, p.index,
                    [this, &p, &ready] {
                        p.receiver_ready = true;
                        ++ready;
                        p.receiver->on_frame(
                            [this, &p](std::string_view f) { on_receiver_frame(p, f); });
                    },
                    &p.xmpp_handled);
            }, /*second_node=*/true);
            p.receiver->on_closed([](beast::error_code ec) {
                std::cerr << "a receiver closed: " << ec.message() << "\n";
            });
        }
        run_until([&] { return ready == o_.pairs || connect_failures_ > 0; }, 120s);
        if (connect_failures_ > 0 || ready < o_.pairs)
            throw std::runtime_error("receivers did not log in");
        ready = 0;
        for (auto& p : pairs_) {
            p.sender = open(target_for(true, p.index), [this, &p, &ready] {
                login(p.sender, true, p.index, [this, &p, &ready] {
                    p.sender_ready = true;
                    ++ready;
                    p.sender->on_frame([this, &p](std::string_view f) { on_sender_frame(p, f); });
                });
            });
            p.sender->on_closed([](beast::error_code ec) {
                std::cerr << "a sender closed: " << ec.message() << "\n";
            });
        }
        run_until([&] { return ready == o_.pairs || connect_failures_ > 0; }, 120s);
        if (connect_failures_ > 0 || ready < o_.pairs)
            throw std::runtime_error("senders did not log in");

        // Offer load.
        const auto start = Clock::now();
        if (o_.rate == 0) {
            for (auto& p : pairs_) {
                for (std::size_t i = 0; i < o_.window; ++i) send_one(p);
            }
        } else {
            schedule_ticks(start);
        }
        run_for(std::chrono::duration<double>(o_.warmup));
        auto cpu0 = sample_process(o_.server_pid);
        auto node2_0 = sample_process(o_.server2_pid);
        auto db0 = database_cpu_seconds(o_.database_pid);
        auto own0 = own_cpu_seconds();
        auto delivered0 = stats_.delivered;
        auto ok0 = stats_.sender_ok;
        auto sent0 = stats_.sent;
        auto m0 = Clock::now();
        measuring_ = true;
        run_for(std::chrono::duration<double>(o_.duration));
        measuring_ = false;
        auto m1 = Clock::now();
        auto cpu1 = sample_process(o_.server_pid);
        auto node2_1 = sample_process(o_.server2_pid);
        auto db1 = database_cpu_seconds(o_.database_pid);
        auto own1 = own_cpu_seconds();
        auto delivered = stats_.delivered - delivered0;
        auto sent = stats_.sent - sent0;
        auto ok = stats_.sender_ok - ok0;
        stopping_ = true;
        // Drain what is in flight (bounded), so the next run starts from an empty mailbox.
        run_until([&] { return stats_.delivered >= stats_.sent; }, 10s);
        for (auto& p : pairs_) {
            if (p.sender) p.sender->on_frame({});
            if (p.receiver) p.receiver->on_frame({});
        }

        const double wall = std::chrono::duration<double>(m1 - m0).count();
        // Every server process of the system under test: the gateway node(s) and the database.
        const double gateway_cpu = cpu1.cpu_seconds - cpu0.cpu_seconds;
        const double node2_cpu = node2_1.cpu_seconds - node2_0.cpu_seconds;
        const double database_cpu = db1 - db0;
        const double server_cpu = gateway_cpu + node2_cpu + database_cpu;
        auto& lat = stats_.latency_us;
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) -> double {
            if (lat.empty()) return -1;
            return lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))] / 1000.0;
        };
        json out = {{"mode", o_.mode},
                    {"label", o_.label},
                    {"pairs", o_.pairs},
                    {"offered_rate", o_.rate},
                    {"window", o_.rate == 0 ? o_.window : 0},
                    {"seconds", wall},
                    {"sent", sent},
                    {"delivered", delivered},
                    {"sender_acks", ok},
                    {"undelivered_at_end", stats_.sent - stats_.delivered},
                    {"errors", stats_.errors},
                    {"error_codes", stats_.error_codes},
                    {"backlog_skips", stats_.backlog_skips},
                    {"delivered_per_s", delivered / wall},
                    {"server_cpu_s", server_cpu},
                    {"gateway_cpu_s", gateway_cpu + node2_cpu},
                    {"database_cpu_s", database_cpu},
                    {"server_cpu_util", server_cpu / wall},
                    {"delivered_per_server_cpu_s", server_cpu > 0 ? delivered / server_cpu : -1},
                    {"p50_ms", pct(0.50)},
                    {"p95_ms", pct(0.95)},
                    {"p99_ms", pct(0.99)},
                    {"max_ms", lat.empty() ? -1 : lat.back() / 1000.0},
                    {"server_rss_kib", cpu1.rss_kib},
                    {"driver_cpu_util", (own1 - own0) / wall}};
        return out;
    }

    void schedule_ticks(Clock::time_point start) {
        tick_timer_ = std::make_unique<net::steady_timer>(io_);
        scheduled_ = 0;
        tick(start);
    }

    void tick(Clock::time_point start) {
        if (stopping_) return;
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const auto due = static_cast<std::uint64_t>(o_.rate * elapsed);
        // A pair with this many messages outstanding is not sent more (counted as skipped),
        // so a server that falls behind cannot make the driver queue without bound.
        const std::uint64_t cap = 20000;
        while (scheduled_ < due) {
            Pair& p = pairs_[next_pair_++ % pairs_.size()];
            ++scheduled_;
            if (p.sent - p.received >= cap) {
                ++stats_.backlog_skips;
                continue;
            }
            send_one(p);
        }
        tick_timer_->expires_after(std::chrono::microseconds(500));
        tick_timer_->async_wait([this, start](beast::error_code ec) {
            if (!ec) tick(start);
        });
    }

    // -- idle connections --

    json run_idle() {
        t0_ = Clock::now();
        auto before = sample_process(o_.server_pid);
        std::vector<std::shared_ptr<WsConn>> conns;
        conns.reserve(o_.idle);
        std::size_t started = 0, ready = 0;
        const std::size_t concurrency = o_.idle_concurrency;
        std::function<void()> start_more;
        start_more = [&] {
            while (started < o_.idle && started - ready < concurrency && connect_failures_ == 0) {
                std::size_t i = started++;
                std::shared_ptr<WsConn> c;
                std::string target =
                    o_.mode == "node-ws" ? o_.path + "?id=idle" + std::to_string(i) : o_.path;
                c = open(target, [this, i, &conns, &ready, &start_more] {
                    auto conn = conns[i];
                    auto done = [&ready, &start_more] {
                        ++ready;
                        start_more();
                    };
                    if (o_.mode == "ariadne") {
                        ariadne_login(conn, false, 0, done);
                    } else if (o_.mode == "xmpp") {
                        // One account with thousands of resources is a different workload
                        // (ejabberd reads every session of the account at each login).
                        std::string user = o_.idle_accounts > 1
                                               ? "bidle" + std::to_string(i % o_.idle_accounts)
                                               : std::string("bidle");
                        xmpp_login(conn, user, "i" + std::to_string(i), done, nullptr);
                    } else {
                        done();
                    }
                });
                conns.push_back(c);
            }
        };
        start_more();
        run_until([&] { return ready == o_.idle || connect_failures_ > 0; }, 600s);
        if (ready < o_.idle) {
            throw std::runtime_error("only " + std::to_string(ready) + " of " +
                                     std::to_string(o_.idle) + " idle connections logged in");
        }
        // Let the server settle (allocator caches, keep-alive timers), then sample.
        for (auto& c : conns) c->on_frame({});
        run_for(3s);
        auto after = sample_process(o_.server_pid);
        json out = {{"mode", o_.mode},
                    {"label", o_.label},
                    {"idle_connections", o_.idle},
                    {"server_rss_before_kib", before.rss_kib},
                    {"server_rss_after_kib", after.rss_kib},
                    {"bytes_per_connection",
                     (after.rss_kib - before.rss_kib) * 1024.0 / static_cast<double>(o_.idle)}};
        if (o_.idle_hold > 0) {
            // Result first, then keep the connections (e.g. to inspect the server meanwhile).
            std::cout << out.dump() << std::endl;
            run_for(std::chrono::duration<double>(o_.idle_hold));
            std::size_t open = 0;
            for (auto& c : conns) open += !c->closed();
            out["still_open_after_hold"] = open;
        }
        return out;
    }

    // -- the event loop --

    template <class Pred>
    void run_until(Pred done, std::chrono::seconds limit) {
        auto deadline = Clock::now() + limit;
        while (!done() && Clock::now() < deadline) {
            io_.run_for(std::chrono::milliseconds(5));
            if (io_.stopped()) io_.restart();
        }
    }
    void run_for(std::chrono::duration<double> d) {
        auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(d);
        while (Clock::now() < deadline) {
            io_.run_until(deadline);
            if (io_.stopped()) io_.restart();
        }
    }

    Options o_;
    net::io_context io_{1};
    ssl::context ssl_ctx_;
    tcp::endpoint endpoint_;
    tcp::endpoint endpoint2_;  // receivers: the second node, or the first
    json state_;
    std::string body_tail_;
    std::uint8_t run_nonce_[3] = {};
    std::string filler_;
    std::deque<Pair> pairs_;
    Stats stats_;
    Clock::time_point t0_;
    bool measuring_ = false;
    bool stopping_ = false;
    std::size_t connect_failures_ = 0;
    std::unique_ptr<net::steady_timer> tick_timer_;
    std::uint64_t scheduled_ = 0;
    std::size_t next_pair_ = 0;
};

}  // namespace
}  // namespace ariadne::bench

int main(int argc, char** argv) {
    try {
        auto options = ariadne::bench::parse(argc, argv);
        rlimit lim{};
        getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        ariadne::bench::Driver driver(options);
        std::cout << driver.run().dump() << std::endl;
        std::_Exit(0);  // skip closing thousands of connections one by one
    } catch (const std::exception& e) {
        std::cerr << "ariadne_load: " << e.what() << "\n";
        return 1;
    }
}
