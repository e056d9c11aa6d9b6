// ariadne-console: the caseworker console. Holds this device's keys, talks to the gateway and
// serves the caseworker's UI on 127.0.0.1 only. See docs/caseworker-guide.md.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/client/error.h"
#include "ariadne/client/messenger.h"
#include "ariadne/console/http_server.h"
#include "ariadne/console/service.h"
#include "ariadne/console/web_guard.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/store.h"

namespace {

namespace fs = std::filesystem;
using namespace ariadne;
using Json = nlohmann::json;
using console::ConsoleSettings;
using console::History;

constexpr const char* kUsage = R"(Usage: ariadne-console [options]

The Ariadne caseworker console. The first run registers this computer as a new device of
your caseworker account (password + authenticator code) and creates its keys, sealed under
a passphrase you type twice; it prints a link to open in your browser (the link works once)
and remembers its port. Later runs start locked and print the address of the sign-in page
(http://127.0.0.1:PORT/signin): the passphrase typed there opens the keys and connects.

Options:
  --data-dir DIR         Where the console keeps its sealed keys and history
                         (default: $XDG_DATA_HOME/ariadne-console or ~/.local/share/ariadne-console).
  --gateway URL          First run: the gateway, e.g. wss://gateway.example.org:8443
  --fingerprint FP       First run: SHA-256 fingerprint of the gateway's certificate or
                         of its public key (AB:CD:...), from your administrator. It is
                         pinned (a public key pin survives certificate renewals).
  --username NAME        First run: your caseworker user name.
  --passphrase-file F    Open the keys at start with the passphrase in F (no sign-in page
                         needed; a one-time link is printed, as on the first run).
  --settings FILE        Console settings (JSON: retention_days, canned_replies).
  --port N               Port on 127.0.0.1 for the UI (default: the port of the first run,
                         which was a random free one).
  -h, --help             Show this help.

Standard input, first run only, one line each: the gateway URL, the fingerprint and the
user name if not given; the new passphrase twice (unless --passphrase-file); the password
and the current 6-digit authenticator code.

Exit status: 0 after Ctrl-C, 1 on failure (message on standard error), 2 usage error.
)";

[[noreturn]] void usage_error(const std::string& what) {
    std::cerr << "ariadne-console: " << what << "\nTry 'ariadne-console --help'.\n";
    std::exit(2);
}

struct Args {
    fs::path data_dir;
    std::string gateway, fingerprint, username, passphrase_file, settings;
    std::uint16_t port = 0;
    bool test_kdf = false;
};

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
        } else if (arg == "--data-dir") {
            a.data_dir = value();
        } else if (arg == "--gateway") {
            a.gateway = value();
        } else if (arg == "--fingerprint") {
            a.fingerprint = value();
        } else if (arg == "--username") {
            a.username = value();
        } else if (arg == "--passphrase-file") {
            a.passphrase_file = value();
        } else if (arg == "--settings") {
            a.settings = value();
        } else if (arg == "--port") {
            std::string v = value();
            char* end = nullptr;
            long p = std::strtol(v.c_str(), &end, 10);
            if (*end != '\0' || p < 0 || p > 65535) usage_error("--port must be 0..65535");
            a.port = static_cast<std::uint16_t>(p);
        } else if (arg == "--insecure-test-kdf") {
            // Cheap Argon2id for automated tests only; never for real keys.
            a.test_kdf = true;
        } else {
            usage_error("unknown option " + arg);
        }
    }
    if (a.data_dir.empty()) {
        const char* xdg = std::getenv("XDG_DATA_HOME");
        const char* home = std::getenv("HOME");
        if (xdg && *xdg) {
            a.data_dir = fs::path(xdg) / "ariadne-console";
        } else if (home && *home) {
            a.data_dir = fs::path(home) / ".local/share/ariadne-console";
        } else {
            usage_error("give --data-dir (no HOME)");
        }
    }
    return a;
}

// Reads one line from stdin after a prompt on stderr; without echo when `secret` on a tty.
std::string ask(const std::string& prompt, bool secret) {
    bool tty = ::isatty(STDIN_FILENO);
    if (tty) std::cerr << prompt << ": " << std::flush;
    termios old{};
    if (secret && tty && ::tcgetattr(STDIN_FILENO, &old) == 0) {
        termios quiet = old;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (secret && tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    if (!ok) throw std::runtime_error("standard input ended before the " + prompt + " was given");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

int run(const Args& args) {
    fs::create_directories(args.data_dir);
    fs::permissions(args.data_dir, fs::perms::owner_all, fs::perm_options::replace);
    const fs::path config_path = args.data_dir / "console.json";
    const fs::path device_dir = args.data_dir / "device";
    const bool first_run = !fs::exists(config_path);

    Json config;
    if (!first_run) {
        std::ifstream in(config_path);
        config = Json::parse(in, nullptr, false);
        if (!config.is_object()) throw std::runtime_error(config_path.string() + " is damaged");
    } else {
        config = {
            {"gateway",
             args.gateway.empty() ? ask("Gateway URL (wss://...)", false) : args.gateway},
            {"fingerprint", args.fingerprint.empty() ? ask("Gateway certificate fingerprint", false)
                                                     : args.fingerprint},
            {"username", args.username.empty() ? ask("User name", false) : args.username}};
    }

    auto save_config = [&] {
        std::ofstream out(config_path);
        out << config.dump(2) << "\n";
        if (!out) throw std::runtime_error("could not write " + config_path.string());
        fs::permissions(config_path, fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace);
    };
    ConsoleSettings settings;
    if (!args.settings.empty()) settings = ConsoleSettings::load(args.settings);
    const auto kdf = args.test_kdf ? crypto::Argon2Params::for_tests() : crypto::Argon2Params{};

    client::MessengerOptions options;
    options.endpoint = client::Endpoint::parse_url(config.at("gateway").get<std::string>());
    options.endpoint.fingerprint_sha256 =
        client::normalize_fingerprint(config.at("fingerprint").get<std::string>());
    options.store_dir = device_dir;

    // The console runs locked (keys closed, only the sign-in page served) until a passphrase
    // opens them; `service` is set once, under `service_mu`.
    std::mutex service_mu;
    std::shared_ptr<console::ConsoleService> service;
    auto start_service = [&](std::unique_ptr<client::Messenger> messenger,
                             const crypto::StoreKey& key) {
        auto identities = crypto::SealedStore::open(device_dir / "signal.db", key);
        auto history = History::open(args.data_dir / "history.db", key);
        auto s = std::make_shared<console::ConsoleService>(std::move(messenger), std::move(history),
                                                           std::move(identities), settings);
        s->start();
        service = std::move(s);
    };

    bool unlocked_at_start = first_run || !args.passphrase_file.empty();
    if (unlocked_at_start) {
        std::string passphrase;
        if (!args.passphrase_file.empty()) {
            std::ifstream in(args.passphrase_file);
            if (!in || !std::getline(in, passphrase)) {
                throw std::runtime_error("the passphrase file cannot be read");
            }
        } else {
            passphrase = ask("New passphrase for this console's keys", true);
            // A typing mistake here would lock her out of her own history: asked twice.
            std::string again = ask("The same passphrase again", true);
            bool same = again == passphrase;
            crypto::wipe(again.data(), again.size());
            if (!same) {
                crypto::wipe(passphrase.data(), passphrase.size());
                throw std::runtime_error(
                    "the two passphrases differ; nothing was set up. Start again");
            }
        }
        if (first_run && passphrase.size() < 10) {
            throw std::runtime_error("the passphrase must be at least 10 characters long");
        }
        crypto::StoreKey key = crypto::StoreKey::from_passphrase(passphrase, kdf);
        crypto::wipe(passphrase.data(), passphrase.size());
        std::unique_ptr<client::Messenger> messenger;
        if (first_run) {
            std::string password = ask("Password", true);
            std::string totp = ask("Authenticator code", false);
            messenger = client::Messenger::register_device(
                options, key, config.at("username").get<std::string>(), password, totp);
            crypto::wipe(password.data(), password.size());
            config["fingerprint"] = options.endpoint.fingerprint_sha256;
            config["account"] = messenger->account();
            config["device_id"] = messenger->device_id();
            save_config();  // registered: never register this computer twice
        } else {
            messenger = client::Messenger::open(options, key);
        }
        start_service(std::move(messenger), key);
    }

    // The same port every day (remembered from the first run), so the sign-in page can be
    // bookmarked; --port overrides it.
    std::uint16_t port = args.port;
    if (port == 0 && config.contains("port") && config["port"].is_number_unsigned()) {
        port = config["port"].get<std::uint16_t>();
    }
    auto server = console::HttpServer::bind({port, 3, 64 * 1024});
    if (!config.contains("port")) {
        config["port"] = server->port();
        save_config();
    }
    console::WebGuard guard(server->port());
    guard.set_sign_in([&](const std::string& passphrase) {
        crypto::StoreKey key = crypto::StoreKey::from_passphrase(passphrase, kdf);
        std::lock_guard lock(service_mu);
        try {
            // Open already: the passphrase must still open the history file (a second
            // handle, closed at once).
            if (service) return History::open(args.data_dir / "history.db", key) != nullptr;
            start_service(client::Messenger::open(options, key), key);
        } catch (const crypto::Error& e) {
            if (e.code() == crypto::ErrorCode::wrong_passphrase) return false;
            throw std::runtime_error("The keys could not be opened: " + std::string(e.what()));
        } catch (const client::ServerError&) {
            throw std::runtime_error("The gateway refused this console; ask your administrator.");
        } catch (const std::exception&) {
            throw std::runtime_error(
                "The gateway cannot be reached right now; check the network and sign in again.");
        }
        std::cout << "Signed in from the page: the console is connected.\n" << std::flush;
        return true;
    });
    server->serve(guard.protect([&](const console::HttpRequest& r) {
        std::shared_ptr<console::ConsoleService> s;
        {
            std::lock_guard lock(service_mu);
            s = service;
        }
        if (!s) {
            return console::HttpResponse{
                503, "application/json", {}, R"({"error":"The console is locked: sign in."})"};
        }
        return s->handle(r);
    }));

    const std::string who = config.at("username").get<std::string>() + " (" +
                            config.value("account", std::string("unknown account")) + ")";
    if (unlocked_at_start) {
        std::cout << "Ariadne console for " << who << " is connected.\n"
                  << "Open this link in your browser; it works once:\n  " << guard.start_url()
                  << "\nLater, sign in at http://127.0.0.1:" << server->port()
                  << "/signin with your passphrase.\nPress Ctrl-C to stop the console.\n"
                  << std::flush;
    } else {
        std::cout << "Ariadne console for " << who << " is running, locked.\n"
                  << "Sign in with your passphrase at http://127.0.0.1:" << server->port()
                  << "/signin\nPress Ctrl-C to stop the console.\n"
                  << std::flush;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "ariadne-console: stopping.\n";
    server.reset();
    if (service) service->stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Block the stop signals in every thread; main waits for them with sigwait().
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    Args args = parse(argc, argv);
    try {
        return run(args);
    } catch (const ariadne::client::ServerError& e) {
        std::string code = e.server_code();
        if (code == "auth_failed") {
            std::cerr << "ariadne-console: the user name, password or authenticator code is not "
                         "valid (each code works once; wait for the next one).\n";
        } else {
            std::cerr << "ariadne-console: the gateway refused: " << e.what() << "\n";
        }
    } catch (const ariadne::crypto::Error& e) {
        if (e.code() == ariadne::crypto::ErrorCode::wrong_passphrase) {
            std::cerr << "ariadne-console: the passphrase does not open this console's keys.\n";
        } else {
            std::cerr << "ariadne-console: " << e.what() << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "ariadne-console: " << e.what() << "\n";
    }
    return 1;
}
