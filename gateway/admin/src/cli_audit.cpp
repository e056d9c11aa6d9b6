// `ariadne admin` commands for the audit chain and the data directory: audit-verify,
// audit-checkpoint, audit-export, backup, restore (admin_commands.h).
#include <iostream>

#include <nlohmann/json.hpp>

#include "admin_backup.h"
#include "ariadne/admin/operations.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/storage/policy_store.h"
#include "cli.h"

namespace ariadne::gateway::cli {

int audit_verify(const Args& args, std::ostream& out, std::ostream& err) {
    std::string data_dir;
    std::vector<std::string> given;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "checkpoint", po::value<std::vector<std::string>>(&given), "");
    parse(args, options);
    auto store = open_policies(data_dir, false);
    // Every checkpoint this gateway published, plus any the administrator kept elsewhere.
    auto checkpoints = read_audit_checkpoints(audit_checkpoint_file(data_dir));
    for (const auto& text : given) checkpoints.push_back(parse_audit_checkpoint(text));
    auto v = store->verify_audit_chain(checkpoints);
    nlohmann::json line = {{"ok", v.ok},
                           {"entries", v.entries},
                           {"keyed_entries", v.keyed_entries},
                           {"checkpoints", v.checkpoints},
                           {"head", policies::to_hex(v.head)}};
    if (!v.ok) {
        line["first_bad_entry"] = v.first_bad_seq ? *v.first_bad_seq : 0;
        line["problem"] = v.problem;
        out << line.dump() << std::endl;
        err << "ariadne admin: the audit chain is broken: " << v.problem << "\n";
        return 1;
    }
    out << line.dump() << std::endl;
    return 0;
}

int audit_checkpoint(const Args& args, std::ostream& out) {
    std::string data_dir;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "");
    parse(args, options);
    auto c = publish_audit_checkpoint(*open_policies(data_dir), data_dir);
    out << to_json(c).dump() << std::endl;
    return 0;
}

int audit_export(const Args& args, std::ostream& out) {
    std::string data_dir;
    std::uint64_t from = 1;
    std::size_t limit = 100000;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "from", po::value<std::uint64_t>(&from), "")("limit", po::value<std::size_t>(&limit), "");
    parse(args, options);
    for (const auto& e : open_policies(data_dir)->audit_entries(from, limit)) {
        out << audit_entry_json(e).dump() << "\n";
    }
    out.flush();
    return 0;
}

/// A consistent copy of the databases while the gateway serves (docs/admin-guide.md).
int backup(const Args& args, std::ostream& out) {
    std::string data_dir, to;
    bool force = false;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "to", po::value<std::string>(&to)->required(), "")("force", po::bool_switch(&force), "");
    parse(args, options);
    out << backup_data_dir(data_dir, to, force).dump() << std::endl;
    return 0;
}

int restore(const Args& args, std::ostream& out) {
    std::string data_dir, from;
    po::options_description options;
    options.add_options()("data-dir", po::value<std::string>(&data_dir)->required(), "")(
        "from", po::value<std::string>(&from)->required(), "");
    parse(args, options);
    out << restore_data_dir(data_dir, from).dump() << std::endl;
    return 0;
}

}  // namespace ariadne::gateway::cli
