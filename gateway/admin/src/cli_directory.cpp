// `ariadne admin` commands that list and undo: caseworker-list, survivor-list, plan-list,
// device-list, device-revoke, unassign (admin_commands.h). Each calls the use case the admin
// API calls (operations.h).
#include <iostream>

#include <nlohmann/json.hpp>

#include "ariadne/admin/admin.h"
#include "ariadne/admin/arguments.h"
#include "ariadne/admin/operations.h"
#include "cli.h"

namespace ariadne::gateway::cli {

namespace {

/// The data directory of a command that takes nothing else.
std::string only_data_dir(const Args& args) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    return data_dir;
}

}  // namespace

int caseworker_list(const Args& args, std::ostream& out) {
    out << list_caseworkers(*open_policies(only_data_dir(args), false)).dump() << std::endl;
    return 0;
}

int survivor_list(const Args& args, std::ostream& out) {
    out << list_survivors(*open_policies(only_data_dir(args), false)).dump() << std::endl;
    return 0;
}

int plan_list(const Args& args, std::ostream& out) {
    out << list_checkin_plans(*open_policies(only_data_dir(args), false)).dump() << std::endl;
    return 0;
}

int device_list(const Args& args, std::ostream& out) {
    std::string data_dir, id;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir, false);
    Store store(admin_store_options(data_dir));
    out << list_devices(store, *policy_store, id, "--id").dump() << std::endl;
    return 0;
}

/// A lost or replaced console: the running server ends its sessions at their next request
/// (this process is not the server) and refuses its logins from now on.
int device_revoke(const Args& args, std::ostream& out) {
    std::string data_dir, id, by;
    std::int64_t device = 0;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "id", po::value<std::string>(&id)->required(), "")(
        "device", po::value<std::int64_t>(&device)->required(), "")(
        "by", po::value<std::string>(&by)->required(), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    require_admin(store, *policy_store, by);
    out << revoke_caseworker_device(store, *policy_store, id, device, by, "--id", "--device").dump()
        << std::endl;
    return 0;
}

int unassign(const Args& args, std::ostream& out) {
    std::string data_dir, survivor, caseworker;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "survivor", po::value<std::string>(&survivor)->required(), "")(
        "caseworker", po::value<std::string>(&caseworker)->required(), "");
    parse(args, options);
    auto policy_store = open_policies(data_dir);
    Store store(admin_store_options(data_dir));
    out << unassign_caseworker(store, *policy_store, survivor, caseworker, cli_admin()).dump()
        << std::endl;
    return 0;
}

}  // namespace ariadne::gateway::cli
