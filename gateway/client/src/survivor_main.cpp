// ariadne-survivor: the reference survivor client. It shows app builders the whole flow —
// recover identity from a recovery code, log in, send to her team, receive and acknowledge —
// in a few dozen lines on top of ariadne::client::Messenger. See docs/survivor-client.md.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/client/messenger.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/safety_number.h"
#include "ariadne/crypto/store.h"
#include "ariadne/protocol/build_info.h"

namespace {

namespace fs = std::filesystem;
using namespace ariadne::client;

constexpr const char* kUsage =
    R"(Usage: ariadne-survivor --server wss://HOST:PORT (--fingerprint SHA256 | --ca-file PEM)
                        --store DIR COMMAND

Reference survivor client of an Ariadne gateway.

Commands:
  recover                 Read a recovery code from standard input (one line; not echoed
                          on a terminal), derive the identity and login key from it, log in
                          and publish pre-keys. Run it once on a new phone. The code itself
                          is never stored.
  send TEXT               Send TEXT, end-to-end encrypted, to every caseworker of her team.
  receive [--wait SECONDS]
                          Print received messages, one per line, and acknowledge each once
                          printed. Waits up to SECONDS (default 2) for more after the last.
  contacts                List the accounts of her team.
  call-me --from HH:MM --to HH:MM [--day today|tomorrow|YYYY-MM-DD]
                          Ask her team to phone her between the two times (this machine's
                          time zone; 30 minutes to 12 hours, today by default). Prints the
                          answer in one sentence. A new request replaces an earlier one.
  safety-number           Print the safety number she shares with each caseworker of her
                          team she has a conversation with, one line per caseworker:
                          ACCOUNT  DIGITS (12 groups of 5). She compares it with the one her
                          caseworker's console shows, in person or on a call she trusts.

Options:
  --server URL            Gateway address, e.g. wss://127.0.0.1:8443
  --fingerprint FP        SHA-256 fingerprint of the gateway's certificate or of its public
                          key (AB:CD:...), as printed by `ariadne serve`; pins it.
  --ca-file FILE          Trust the CAs in FILE instead (production certificates).
  --store DIR             Local store: sealed Signal state (signal.db) and its key
                          (store.key, mode 0600). Created by `recover`.
  --json                  Print received messages as JSON lines.
  -h, --help              Show this help.
  --version               Print the release and commit.

Exit status: 0 success, 1 failure (message on standard error), 2 usage error.
)";

struct Args {
    std::string server;
    std::string fingerprint;
    std::string ca_file;
    std::string store;
    bool json = false;
    double wait_seconds = 2;
    std::vector<std::string> command;
};

[[noreturn]] void usage_error(const std::string& what) {
    std::cerr << "ariadne-survivor: " << what << "\nTry 'ariadne-survivor --help'.\n";
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error("option " + arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            std::exit(0);
        } else if (arg == "--version") {
            std::cout << ariadne::gateway::build_description("ariadne-survivor") << "\n";
            std::exit(0);
        } else if (arg == "--server") {
            a.server = value();
        } else if (arg == "--fingerprint") {
            a.fingerprint = value();
        } else if (arg == "--ca-file") {
            a.ca_file = value();
        } else if (arg == "--store") {
            a.store = value();
        } else if (arg == "--json") {
            a.json = true;
        } else if (arg == "--wait") {
            std::string v = value();
            try {
                std::size_t used = 0;
                a.wait_seconds = std::stod(v, &used);
                if (used != v.size() || a.wait_seconds < 0 || a.wait_seconds > 86400) throw 0;
            } catch (...) {
                usage_error("--wait needs a number of seconds between 0 and 86400");
            }
        } else if (!arg.empty() && arg[0] == '-' && a.command.empty()) {
            usage_error("unknown option " + arg);
        } else {
            a.command.push_back(arg);
        }
    }
    if (a.command.empty()) usage_error("no command given");
    if (a.server.empty()) usage_error("--server is required");
    if (a.store.empty()) usage_error("--store is required");
    if (a.fingerprint.empty() && a.ca_file.empty()) {
        usage_error("give --fingerprint (development certificate) or --ca-file");
    }
    return a;
}

std::string read_secret_line() {
    bool tty = isatty(STDIN_FILENO);
    termios old{};
    if (tty) {
        std::cerr << "Recovery code: " << std::flush;
        tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    return line;
}

std::string iso_time(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

MessengerOptions messenger_options(const Args& a) {
    MessengerOptions o;
    o.endpoint = Endpoint::parse_url(a.server);
    o.endpoint.fingerprint_sha256 = a.fingerprint;
    o.endpoint.ca_file = a.ca_file;
    o.store_dir = a.store;
    o.reconnect_deadline = milliseconds{5000};
    return o;
}

ariadne::crypto::StoreKey store_key(const Args& a, bool create) {
    fs::path key_file = fs::path(a.store) / "store.key";
    if (!fs::exists(key_file)) {
        if (!create) {
            throw Error(ErrorCode::state, "No store in " + a.store + ": run 'recover' first.");
        }
        fs::create_directories(a.store);
        fs::permissions(a.store, fs::perms::owner_all, fs::perm_options::replace);
        ariadne::crypto::StoreKey::create_key_file(key_file);
    }
    return ariadne::crypto::StoreKey::from_key_file(key_file);
}

/// "HH:MM" as minutes since midnight, or -1.
int parse_hhmm(const std::string& s) {
    if (s.size() != 5 || s[2] != ':') return -1;
    for (int i : {0, 1, 3, 4}) {
        if (s[i] < '0' || s[i] > '9') return -1;
    }
    const int h = (s[0] - '0') * 10 + (s[1] - '0');
    const int m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

/// Unix ms of `minute` past local midnight on the day `day` names (this machine's zone).
std::int64_t local_ms(const std::string& day, int minute) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    if (day == "tomorrow") {
        tm.tm_mday += 1;
    } else if (day != "today") {
        int y = 0, mo = 0, d = 0;
        char extra = 0;
        if (day.size() != 10 ||
            std::sscanf(day.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &extra) != 3 || mo < 1 ||
            mo > 12 || d < 1 || d > 31) {
            usage_error("--day must be today, tomorrow or a date YYYY-MM-DD");
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
    }
    tm.tm_hour = minute / 60;
    tm.tm_min = minute % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

std::string local_time(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M on %Y-%m-%d", &tm);
    return buf;
}

int call_me(const Args& a) {
    std::string from, to, day = "today";
    for (std::size_t i = 1; i < a.command.size(); ++i) {
        const std::string& opt = a.command[i];
        if (i + 1 >= a.command.size()) usage_error("call-me: " + opt + " needs a value");
        const std::string& v = a.command[++i];
        if (opt == "--from") {
            from = v;
        } else if (opt == "--to") {
            to = v;
        } else if (opt == "--day") {
            day = v;
        } else {
            usage_error("call-me: unknown option " + opt);
        }
    }
    const int start = parse_hhmm(from), end = parse_hhmm(to);
    if (start < 0 || end < 0) usage_error("call-me needs --from HH:MM and --to HH:MM");
    if (end <= start) usage_error("call-me: --to must be later than --from on the same day");
    auto m = Messenger::open(messenger_options(a), store_key(a, false));
    Json cb = m->request_callback({{local_ms(day, start), local_ms(day, end)}});
    const auto& w = cb.at("window");
    std::cout << (cb.value("replaced", false) ? "Your earlier request was replaced: your team"
                                              : "Your team")
              << " will call you between " << local_time(w.at("from").get<std::int64_t>())
              << " and " << local_time(w.at("to").get<std::int64_t>());
    if (cb.contains("next_allowed_from")) {
        std::cout << ", not before " << local_time(cb.at("next_allowed_from").get<std::int64_t>())
                  << " (your quiet hours)";
    }
    std::cout << ".\n";
    return 0;
}

int run(const Args& a) {
    const std::string& cmd = a.command[0];
    if (cmd == "call-me") return call_me(a);
    if (cmd == "recover") {
        if (a.command.size() != 1) usage_error("recover takes no arguments");
        std::string code = read_secret_line();
        auto m = Messenger::recover_survivor(messenger_options(a), store_key(a, true), code);
        ariadne::crypto::wipe(code.data(), code.size());
        std::size_t team = 0;
        for (const auto& c : m->contacts()) team += c.role == "caseworker";
        std::cout << "Recovered: logged in as " << m->account() << ", device " << m->device_id()
                  << "; team of " << team << " caseworker" << (team == 1 ? "" : "s") << ".\n";
        return 0;
    }
    if (cmd == "send") {
        if (a.command.size() != 2) usage_error("send takes exactly one TEXT argument");
        auto m = Messenger::open(messenger_options(a), store_key(a, false));
        std::size_t sent = 0;
        for (const auto& c : m->contacts()) {
            if (c.role != "caseworker" || c.devices.empty()) continue;
            m->send_text(c.account, a.command[1]);
            ++sent;
        }
        if (sent == 0) {
            std::cerr << "ariadne-survivor: no caseworker to send to yet.\n";
            return 1;
        }
        std::cout << "Sent to " << sent << " caseworker" << (sent == 1 ? "" : "s") << ".\n";
        return 0;
    }
    if (cmd == "receive") {
        if (a.command.size() != 1) usage_error("receive takes no arguments besides --wait");
        auto m = Messenger::open(messenger_options(a), store_key(a, false));
        auto wait = milliseconds{static_cast<long long>(a.wait_seconds * 1000)};
        while (m->receive(wait, [&](const ReceivedMessage& msg) {
            if (a.json) {
                nlohmann::json j = {{"server_id", msg.server_id},
                                    {"from", msg.from},
                                    {"from_device", msg.from_device},
                                    {"time", iso_time(msg.server_time)}};
                if (msg.is_notice) {
                    j.erase("from_device");
                    if (msg.from.empty()) j.erase("from");
                    j["notice"] = msg.notice;
                    j["text"] = msg.plaintext;
                } else if (msg.is_receipt) {
                    j["receipt_for"] = msg.ref;
                } else if (msg.decrypt_error) {
                    j["error"] = *msg.decrypt_error;
                } else {
                    j["text"] = msg.plaintext;
                }
                std::cout << j.dump() << std::endl;
            } else if (msg.is_notice) {
                std::cout << iso_time(msg.server_time) << "  notice: " << msg.plaintext
                          << std::endl;
            } else if (msg.is_receipt) {
                std::cout << iso_time(msg.server_time) << "  delivered: message " << msg.ref
                          << std::endl;
            } else if (msg.decrypt_error) {
                std::cout << iso_time(msg.server_time) << "  " << msg.from
                          << ": (a message that could not be decrypted)" << std::endl;
            } else {
                std::cout << iso_time(msg.server_time) << "  " << msg.from << ": " << msg.plaintext
                          << std::endl;
            }
        })) {
        }
        return 0;
    }
    if (cmd == "contacts") {
        auto m = Messenger::open(messenger_options(a), store_key(a, false));
        for (const auto& c : m->contacts()) {
            std::cout << c.account << " " << c.role << " " << c.devices.size() << " device"
                      << (c.devices.size() == 1 ? "" : "s") << "\n";
        }
        return 0;
    }
    if (cmd == "safety-number") {
        if (a.command.size() != 1) usage_error("safety-number takes no arguments");
        auto key = store_key(a, false);
        auto m = Messenger::open(messenger_options(a), key);
        // The identities her phone trusts (from the conversations), never a fresh lookup:
        // the number must describe the keys her messages are actually encrypted to.
        auto trusted = ariadne::crypto::SealedStore::open(fs::path(a.store) / "signal.db", key);
        std::size_t shown = 0;
        for (const auto& c : m->contacts()) {
            if (c.role != "caseworker") continue;
            for (auto device : c.devices) {
                auto remote = trusted->remote_identity(
                    ariadne::crypto::Address{c.account, static_cast<std::int32_t>(device)});
                if (!remote) continue;
                std::cout << c.account << "  "
                          << ariadne::crypto::safety_number(m->account(), m->identity_key(),
                                                            c.account, *remote)
                          << "\n";
                ++shown;
                break;  // one number per caseworker: her console's device
            }
        }
        if (shown == 0) {
            std::cerr << "ariadne-survivor: no safety number yet: it appears once she has "
                         "written to or heard from her caseworker.\n";
            return 1;
        }
        return 0;
    }
    usage_error("unknown command '" + cmd + "'");
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse(argc, argv);
    try {
        return run(args);
    } catch (const ServerError& e) {
        std::cerr << "ariadne-survivor: " << e.what();
        if (e.server_code() == "auth_failed" || e.server_code() == "rate_limited") {
            std::cerr << " (retry after " << e.retry_after_ms() << " ms)";
        }
        std::cerr << "\n";
    } catch (const std::exception& e) {
        std::cerr << "ariadne-survivor: " << e.what() << "\n";
    }
    return 1;
}
