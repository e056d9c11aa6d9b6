#include "ariadne/storage/key_directory.h"

#include <memory>

#include "unix_time.h"

namespace ariadne::storage {

using crypto::Bytes;
using crypto::ByteView;
using detail::unix_ms;

// ---- reads ----

std::optional<DeviceRecord> KeyDirectory::find_device(AccountKey account,
                                                      std::uint32_t device) const {
    return db_.read([&](Connection& db) -> std::optional<DeviceRecord> {
        auto s = db.cached(
            "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, std::int64_t{device});
        if (!s.step()) return std::nullopt;
        return DeviceRecord{device, s.blob(0), static_cast<std::uint32_t>(s.integer(1))};
    });
}

std::vector<std::uint32_t> KeyDirectory::ready_devices(AccountKey account) const {
    return db_.read([&](Connection& db) {
        auto s = db.cached(
            "SELECT d.device FROM devices d "
            "JOIN signed_pre_keys s ON s.account = d.account AND s.device = d.device "
            "JOIN last_resort_keys l ON l.account = d.account AND l.device = d.device "
            "WHERE d.account = ?1 ORDER BY d.device");
        s.bind(1, account);
        std::vector<std::uint32_t> devices;
        while (s.step()) devices.push_back(static_cast<std::uint32_t>(s.integer(0)));
        return devices;
    });
}

std::uint32_t KeyDirectory::pre_key_count(AccountKey account, std::uint32_t device) const {
    return db_.read([&](Connection& db) {
        auto s = db.cached("SELECT count(*) FROM pre_keys WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, std::int64_t{device});
        s.step();
        return static_cast<std::uint32_t>(s.integer(0));
    });
}

// ---- writes ----

void KeyDirectory::upload_keys(AccountKey account, std::uint32_t device,
                               gateway::KeysUploadRequest keys, Completion<std::uint32_t> done) {
    auto job = std::make_shared<Database::Job>();
    auto count = std::make_shared<std::uint32_t>(0);
    auto input = std::make_shared<gateway::KeysUploadRequest>(std::move(keys));
    std::size_t limit = max_pre_keys_per_device_;
    job->apply = [=](Connection& db) {
        std::int64_t dev = device;
        if (input->signed_pre_key) {
            auto& k = *input->signed_pre_key;
            auto s = db.cached(
                "INSERT INTO signed_pre_keys(account, device, key_id, public_key, signature) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(account, device) DO UPDATE SET "
                "key_id = excluded.key_id, public_key = excluded.public_key, "
                "signature = excluded.signature");
            s.bind(1, account).bind(2, dev).bind(3, std::int64_t{k.id});
            s.bind_blob(4, k.public_key).bind_blob(5, k.signature).run();
        }
        for (auto& k : input->pre_keys) {
            auto s = db.cached(
                "INSERT INTO pre_keys(account, device, key_id, public_key) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT(account, device, key_id) DO UPDATE SET public_key = "
                "excluded.public_key");
            s.bind(1, account).bind(2, dev).bind(3, std::int64_t{k.id}).bind_blob(4, k.public_key);
            s.run();
        }
        if (input->last_resort) {
            auto& k = *input->last_resort;
            auto s = db.cached(
                "INSERT INTO last_resort_keys(account, device, key_id, public_key) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account, device) DO UPDATE SET "
                "key_id = excluded.key_id, public_key = excluded.public_key");
            s.bind(1, account).bind(2, dev).bind(3, std::int64_t{k.id}).bind_blob(4, k.public_key);
            s.run();
        }
        auto s = db.cached("SELECT count(*) FROM pre_keys WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, dev);
        s.step();
        *count = static_cast<std::uint32_t>(s.integer(0));
        if (*count > limit) throw JobRejected{};
    };
    job->done = [count, done = std::move(done)](CommitStatus status) { done(status, *count); };
    db_.submit(std::move(job));
}

void KeyDirectory::take_bundles(AccountKey account, Completion<std::vector<Bundle>> done) {
    auto job = std::make_shared<Database::Job>();
    auto bundles = std::make_shared<std::vector<Bundle>>();
    job->apply = [=](Connection& db) {
        bundles->clear();
        {
            auto s = db.cached(
                "SELECT d.device, d.registration_id, d.identity_key, s.key_id, s.public_key, "
                "s.signature, l.key_id, l.public_key FROM devices d "
                "JOIN signed_pre_keys s ON s.account = d.account AND s.device = d.device "
                "JOIN last_resort_keys l ON l.account = d.account AND l.device = d.device "
                "WHERE d.account = ?1 ORDER BY d.device");
            s.bind(1, account);
            while (s.step()) {
                Bundle b;
                b.device_id = static_cast<std::uint32_t>(s.integer(0));
                b.registration_id = static_cast<std::uint32_t>(s.integer(1));
                b.identity_key = s.blob(2);
                b.signed_pre_key.id = static_cast<std::uint32_t>(s.integer(3));
                b.signed_pre_key.public_key = s.blob(4);
                b.signed_pre_key.signature = s.blob(5);
                b.pre_key.id = static_cast<std::uint32_t>(s.integer(6));
                b.pre_key.public_key = s.blob(7);
                bundles->push_back(std::move(b));
            }
        }
        for (auto& b : *bundles) {
            // The single writer serialises fetches: a one-time key is handed out once.
            std::int64_t key_id = 0;
            {
                auto s = db.cached(
                    "SELECT key_id, public_key FROM pre_keys WHERE account = ?1 AND device = ?2 "
                    "ORDER BY key_id LIMIT 1");
                s.bind(1, account).bind(2, std::int64_t{b.device_id});
                if (!s.step()) continue;  // none left: the last-resort key stays in place
                key_id = s.integer(0);
                b.pre_key.id = static_cast<std::uint32_t>(key_id);
                b.pre_key.public_key = s.blob(1);
            }
            auto s = db.cached(
                "DELETE FROM pre_keys WHERE account = ?1 AND device = ?2 AND key_id = ?3");
            s.bind(1, account).bind(2, std::int64_t{b.device_id}).bind(3, key_id).run();
        }
    };
    job->done = [bundles, done = std::move(done)](CommitStatus status) {
        done(status,
             status == CommitStatus::committed ? std::move(*bundles) : std::vector<Bundle>{});
    };
    db_.submit(std::move(job));
}

void KeyDirectory::add_caseworker_device(AccountKey account, std::uint64_t totp_step,
                                         Bytes identity_key, std::uint32_t registration_id,
                                         Completion<std::uint32_t> done) {
    auto job = std::make_shared<Database::Job>();
    auto device = std::make_shared<std::uint32_t>(0);
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    job->apply = [=](Connection& db) {
        {
            // Claim the step atomically: a concurrent login with the same code loses here.
            auto s = db.cached(
                "UPDATE caseworkers SET last_totp_step = ?2 WHERE account = ?1 AND last_totp_step "
                "< ?2");
            s.bind(1, account).bind(2, static_cast<std::int64_t>(totp_step)).run();
            if (db.changes() != 1) throw JobRejected{};
        }
        {
            auto s =
                db.cached("SELECT coalesce(max(device), 0) + 1 FROM devices WHERE account = ?1");
            s.bind(1, account);
            s.step();
            *device = static_cast<std::uint32_t>(s.integer(0));
        }
        auto s = db.cached(
            "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, account).bind(2, std::int64_t{*device}).bind_blob(3, *key);
        s.bind(4, std::int64_t{registration_id}).bind(5, unix_ms()).run();
    };
    job->done = [device, done = std::move(done)](CommitStatus status) { done(status, *device); };
    db_.submit(std::move(job));
}

void KeyDirectory::bind_survivor_device(AccountKey account, Bytes identity_key,
                                        std::uint32_t registration_id, Bytes installation_key,
                                        Completion<bool> done) {
    auto job = std::make_shared<Database::Job>();
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    auto installation = std::make_shared<Bytes>(std::move(installation_key));
    auto is_new = std::make_shared<bool>(false);
    job->apply = [=](Connection& db) {
        bool bound = false;
        {
            auto s = db.cached(
                "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = "
                "1");
            s.bind(1, account);
            if (s.step()) {
                if (s.blob(0) != *key || s.integer(1) != std::int64_t{registration_id}) {
                    throw JobRejected{};
                }
                bound = true;
            }
        }
        if (!bound) {
            auto s = db.cached(
                "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
                "VALUES (?1, 1, ?2, ?3, ?4)");
            s.bind(1, account).bind_blob(2, *key).bind(3, std::int64_t{registration_id});
            s.bind(4, unix_ms()).run();
        }
        // The installation on file is the one that logged in last: any other one (or a login
        // without one, where one is on file) is new. The first login records it silently.
        std::optional<Bytes> on_file;
        {
            auto s =
                db.cached("SELECT installation_key FROM survivor_installations WHERE account = ?1");
            s.bind(1, account);
            if (s.step()) on_file = s.blob(0);
        }
        if (on_file && *on_file == *installation) return;
        *is_new = on_file.has_value();
        auto s = db.cached(
            "INSERT INTO survivor_installations(account, installation_key, since_ms) "
            "VALUES (?1, ?2, ?3) ON CONFLICT(account) DO UPDATE SET "
            "installation_key = excluded.installation_key, since_ms = excluded.since_ms");
        s.bind(1, account).bind_blob(2, *installation).bind(3, unix_ms()).run();
    };
    job->done = [done = std::move(done), is_new](CommitStatus status) {
        done(status, status == CommitStatus::committed && *is_new);
    };
    db_.submit(std::move(job));
}

void KeyDirectory::bind_edge_device(AccountKey account, std::uint32_t device, Bytes identity_key,
                                    std::uint32_t registration_id, Completion<bool> done) {
    auto job = std::make_shared<Database::Job>();
    auto key = std::make_shared<Bytes>(std::move(identity_key));
    job->apply = [=](Connection& db) {
        {
            auto s = db.cached(
                "SELECT identity_key, registration_id FROM devices WHERE account = ?1 AND device = "
                "?2");
            s.bind(1, account).bind(2, std::int64_t{device});
            if (s.step()) {
                if (s.blob(0) != *key || s.integer(1) != std::int64_t{registration_id}) {
                    throw JobRejected{};
                }
                return;
            }
        }
        auto s = db.cached(
            "INSERT INTO devices(account, device, identity_key, registration_id, created_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, account).bind(2, std::int64_t{device}).bind_blob(3, *key);
        s.bind(4, std::int64_t{registration_id}).bind(5, unix_ms()).run();
    };
    job->done = [done = std::move(done)](CommitStatus status) {
        done(status, status == CommitStatus::committed);
    };
    db_.submit(std::move(job));
}

}  // namespace ariadne::storage
