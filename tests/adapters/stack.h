// A whole gateway core in the test process: real SQLite store in a temp data directory, the
// gateway engine, the edge hub and the survivor page (driven through its route handler);
// accounts made with the real `ariadne admin` code; caseworker console devices in process.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/survivor_page.h"
#include "ariadne/core/gateway.h"
#include "ariadne/core/http_routes.h"
#include "ariadne/services/alerts.h"
#include "ariadne/services/callbacks.h"
#include "ariadne/storage/policy_store.h"
#include "local_console.h"

namespace ariadne::adapters::test {

class Stack {
  public:
    /// Enrols one caseworker and one survivor with a duress code (cheap Argon2id test
    /// parameters) and starts everything. `page_options.path` defaults to /notes; an empty
    /// `duress_target`, `profile` or `retention_days` is wired as `ariadne serve` does
    /// (gateway::duress_login_target, find_survivor_record, the org policy's retention).
    explicit Stack(SurvivorPageOptions page_options = {});
    ~Stack();

    /// Registers a console device of the caseworker (store in a new temp subdirectory).
    std::unique_ptr<LocalConsole> console(int step_offset = 0);

    /// Runs `ariadne admin` with `args` (data dir added); returns its JSON line.
    std::string admin(std::vector<std::string> args, const std::string& stdin_text = "");

    std::filesystem::path data;
    bool keep_files = false;  // true: the temp directory is left for inspection
    std::string caseworker;   // account id
    std::string username = "cw.one";
    std::string password = "correct horse battery staple";
    std::string totp_secret;
    std::string survivor;     // account id
    std::string case_code;    // her case
    std::string code;         // her recovery code (display form)
    std::string duress_code;  // her enrolment duress code (survivor-enrol --with-duress-code)

    std::unique_ptr<gateway::ServerKey> server_key;
    std::unique_ptr<gateway::Metrics> metrics;
    std::unique_ptr<gateway::Store> store;
    std::unique_ptr<gateway::Gateway> gateway;
    std::unique_ptr<EdgeHub> hub;
    std::unique_ptr<SurvivorPage> page;
    std::shared_ptr<gateway::HttpRoutes> routes;
    crypto::RecoveryParams params;
    std::unique_ptr<policies::PolicyStore> links;  // case links, for duress_target
    // Call-back requests are decided and stored as `ariadne serve` does (on `links`).
    std::unique_ptr<gateway::AlertBoard> alert_board;
    std::unique_ptr<gateway::CallbackBoard> callback_board;

  private:
    std::filesystem::path root_;
    int consoles_ = 0;
};

/// Bytes of every file in `dir` (recursively) concatenated: database, WAL, logs.
std::string read_all_files(const std::filesystem::path& dir);

}  // namespace ariadne::adapters::test
