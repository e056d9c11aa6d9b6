// notes-test-server: the survivor page inside a real TLS gateway server on 127.0.0.1, for the
// browser test (tests/adapters/browser/notes.test.mjs). Enrols a caseworker and a survivor
// (cheap Argon2id test parameters), sets a duress code, registers an in-process console
// device that answers every note with "Reply: <n>", and prints one JSON line:
//   {"port":N,"code":"...","duress":"...","data":"DIR"}
// Test-only routes: /test/state → {"alerts":N,"received":N}; /test/language?TAG sets her
// record's language (survivor-update). Runs until SIGTERM.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/recovery.h"
#include "ariadne/app/certificate.h"
#include "ariadne/net/server.h"
#include "stack.h"

using namespace ariadne;

int main() {
    // As `ariadne serve` does: a browser that closes a connection while the page is written
    // must not kill the server with SIGPIPE (it did, once in a while, mid-test).
    std::signal(SIGPIPE, SIG_IGN);
    adapters::test::Stack stack;
    stack.keep_files = false;
    const std::string duress = stack.duress_code;  // her enrolment duress code
    auto console = stack.console();
    std::atomic<int> alerts{0}, received{0};
    std::atomic<bool> stopping{false};
    std::thread replier([&] {
        while (!stopping) {
            auto m = console->receive(std::chrono::milliseconds(200));
            if (!m) continue;
            if (m->plaintext.find("ALERT") != std::string::npos) {
                ++alerts;
                continue;
            }
            int n = ++received;
            console->send_text(stack.survivor, "Reply: " + std::to_string(n));
        }
    });
    stack.routes->add("/test/state", [&](const gateway::HttpRequest&) {
        return gateway::HttpResponse::json(
            200, nlohmann::json{{"alerts", alerts.load()}, {"received", received.load()}}.dump());
    });
    // /test/language?TAG: her record's language, changed the way an administrator does.
    stack.routes->add("/test/language", [&](const gateway::HttpRequest& r) {
        const std::string tag = r.target.substr(r.target.find('?') + 1);
        stack.admin({"survivor-update", "--case", stack.case_code, "--language", tag});
        return gateway::HttpResponse::json(200, "{}");
    });
    std::filesystem::path cert = stack.data / "cert.pem", key = stack.data / "key.pem";
    gateway::generate_dev_certificate(cert, key);
    gateway::ServerOptions o;
    o.port = 0;
    o.certificate_chain = cert;
    o.private_key = key;
    o.routes = stack.routes;
    gateway::Server server(*stack.gateway, o);
    std::cout << nlohmann::json{{"port", server.port()},
                                {"code", stack.code},
                                {"duress", duress},
                                {"data", stack.data.string()}}
                     .dump()
              << std::endl;
    server.run();
    stopping = true;
    replier.join();
    return 0;
}
