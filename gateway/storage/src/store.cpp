#include "ariadne/storage/store.h"

#include "ariadne/storage/migrations.h"

namespace ariadne::storage {

namespace {

DatabaseOptions database_options(const StoreOptions& o) {
    DatabaseOptions d;
    d.path = o.path;
    d.synchronous_full = o.synchronous_full;
    d.max_batch = o.max_batch;
    d.max_delay = o.max_delay;
    d.maintenance_interval = o.maintenance_interval;
    d.read_connections = o.read_connections;
    d.metrics = o.metrics;
    return d;
}

/// Brings the file to this binary's schema (or refuses it) before any thread uses it.
void migrate_schema(Connection& db) { migrate(db, main_migrations()); }

}  // namespace

Store::Store(StoreOptions options)
    : database_(database_options(options), migrate_schema),
      accounts_(database_),
      keys_(database_, options.max_pre_keys_per_device),
      mailbox_(database_, MailboxOptions{options.mailbox_ttl, options.queue_quota}) {
    database_.start([this](Connection& writer) { mailbox_.expire(writer); });
}

bool Store::revoke_caseworker_device(std::string_view caseworker, std::uint32_t device) {
    bool existed = accounts_.revoke_caseworker_device(caseworker, device);
    if (auto account = accounts_.find_account(caseworker)) {
        mailbox_.drop_device(account->key, device);
    }
    return existed;
}

// The writer's completions use the repositories: it stops before they are destroyed.
Store::~Store() { database_.close(); }

}  // namespace ariadne::storage
