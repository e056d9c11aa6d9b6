#include "ariadne/storage/accounts.h"

#include "unix_time.h"

namespace ariadne::storage {

using crypto::ByteView;
using detail::unix_ms;

namespace {

Role role_from(std::int64_t v) { return v == 1 ? Role::caseworker : Role::survivor; }
std::int64_t role_value(Role r) { return r == Role::caseworker ? 1 : 0; }

[[noreturn]] void no_such_account(Role role, std::string_view id) {
    throw Error(
        ErrorKind::not_found, 0,
        std::string("No ") + to_string(role) + " account has the id " + std::string(id) + ".");
}

}  // namespace

const char* to_string(Role role) noexcept {
    return role == Role::caseworker ? "caseworker" : "survivor";
}

std::string new_account_id() {
    std::string text = crypto::base64_encode(crypto::random_bytes(16));  // 24 chars, "=="
    text.resize(22);
    for (char& c : text) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return "a_" + text;
}

// ---- reads ----

std::optional<std::pair<std::string, bool>> Accounts::survivor_case_link(
    std::string_view account_id) const {
    return db_.read([&](Connection& db) -> std::optional<std::pair<std::string, bool>> {
        auto s =
            db.cached("SELECT case_code, duress FROM gateway_survivor_cases WHERE account = ?1");
        s.bind(1, account_id);
        if (!s.step()) return std::nullopt;
        return std::make_pair(s.text(0), s.integer(1) != 0);
    });
}

std::optional<Account> Accounts::find_account(std::string_view id) const {
    return db_.read([&](Connection& db) -> std::optional<Account> {
        auto s = db.cached("SELECT key, role FROM accounts WHERE id = ?1");
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return Account{s.integer(0), std::string(id), role_from(s.integer(1))};
    });
}

std::optional<CaseworkerCredentials> Accounts::find_caseworker(std::string_view username) const {
    return db_.read([&](Connection& db) -> std::optional<CaseworkerCredentials> {
        auto s = db.cached(
            "SELECT a.key, a.id, c.password_hash, c.totp_sealed, c.last_totp_step "
            "FROM caseworkers c JOIN accounts a ON a.key = c.account WHERE c.username = ?1");
        s.bind(1, username);
        if (!s.step()) return std::nullopt;
        CaseworkerCredentials c;
        c.account = Account{s.integer(0), s.text(1), Role::caseworker};
        c.password_hash = s.text(2);
        c.sealed_totp_secret = s.blob(3);
        c.last_totp_step = static_cast<std::uint64_t>(s.integer(4));
        return c;
    });
}

std::optional<SurvivorCredentials> Accounts::find_survivor(ByteView locator) const {
    return db_.read([&](Connection& db) -> std::optional<SurvivorCredentials> {
        auto s = db.cached(
            "SELECT a.key, a.id, s.auth_public_key FROM survivors s "
            "JOIN accounts a ON a.key = s.account WHERE s.locator = ?1");
        s.bind_blob(1, locator);
        if (!s.step()) return std::nullopt;
        return SurvivorCredentials{Account{s.integer(0), s.text(1), Role::survivor}, s.blob(2)};
    });
}

std::vector<Account> Accounts::assignment_neighbours(const Account& account) const {
    return db_.read([&](Connection& db) {
        std::vector<Account> result;
        if (account.role == Role::survivor) {
            auto s = db.cached(
                "SELECT a.key, a.id FROM assignments x JOIN accounts a ON a.key = x.caseworker "
                "WHERE x.survivor = ?1 ORDER BY a.id");
            s.bind(1, account.key);
            while (s.step()) result.push_back(Account{s.integer(0), s.text(1), Role::caseworker});
        } else {
            auto s = db.cached(
                "SELECT DISTINCT a.key, a.id, a.role FROM assignments mine "
                "JOIN assignments other ON other.survivor = mine.survivor "
                "JOIN accounts a ON a.key = other.caseworker "
                "WHERE mine.caseworker = ?1 AND other.caseworker <> ?1 "
                "UNION SELECT a.key, a.id, a.role FROM assignments mine "
                "JOIN accounts a ON a.key = mine.survivor WHERE mine.caseworker = ?1 "
                "ORDER BY 2");
            s.bind(1, account.key);
            while (s.step())
                result.push_back(Account{s.integer(0), s.text(1), role_from(s.integer(2))});
        }
        return result;
    });
}

bool Accounts::shares_assignment(const Account& a, const Account& b) const {
    if (a.key == b.key) return false;
    return db_.read([&](Connection& db) {
        if (a.role == Role::caseworker && b.role == Role::caseworker) {
            auto s = db.cached(
                "SELECT 1 FROM assignments x JOIN assignments y ON y.survivor = x.survivor "
                "WHERE x.caseworker = ?1 AND y.caseworker = ?2 LIMIT 1");
            s.bind(1, a.key).bind(2, b.key);
            return s.step();
        }
        if (a.role == b.role) return false;  // survivor to survivor: never
        const Account& survivor = a.role == Role::survivor ? a : b;
        const Account& caseworker = a.role == Role::survivor ? b : a;
        auto s = db.cached("SELECT 1 FROM assignments WHERE survivor = ?1 AND caseworker = ?2");
        s.bind(1, survivor.key).bind(2, caseworker.key);
        return s.step();
    });
}

bool Accounts::is_disabled(AccountKey account) const {
    return db_.read([&](Connection& db) {
        auto s = db.cached("SELECT 1 FROM disabled_accounts WHERE account = ?1");
        s.bind(1, account);
        return s.step();
    });
}

std::optional<std::string> Accounts::setting(std::string_view name) const {
    return db_.read([&](Connection& db) -> std::optional<std::string> {
        auto s = db.cached("SELECT value FROM settings WHERE name = ?1");
        s.bind(1, name);
        if (!s.step()) return std::nullopt;
        return s.text(0);
    });
}

// ---- administration ----

Account Accounts::create_caseworker(std::string_view account_id, std::string_view username,
                                    std::string_view password_hash, ByteView sealed_totp_secret) {
    Account account{0, std::string(account_id), Role::caseworker};
    db_.run_sync([&](Connection& db) {
        {
            auto s = db.cached("SELECT 1 FROM caseworkers WHERE username = ?1");
            s.bind(1, username);
            if (s.step()) throw Error(ErrorKind::constraint, 0, "That username is already taken.");
        }
        {
            auto s = db.cached(
                "INSERT INTO accounts(id, role, created_ms) VALUES (?1, 1, ?2) RETURNING key");
            s.bind(1, account.id).bind(2, unix_ms());
            account.key = s.step() ? s.integer(0) : 0;
            s.run();
        }
        auto s = db.cached(
            "INSERT INTO caseworkers(account, username, password_hash, totp_sealed) "
            "VALUES (?1, ?2, ?3, ?4)");
        s.bind(1, account.key).bind(2, username).bind(3, password_hash);
        s.bind_blob(4, sealed_totp_secret).run();
    });
    return account;
}

Account Accounts::create_survivor(ByteView locator, ByteView auth_public_key) {
    Account account{0, new_account_id(), Role::survivor};
    db_.run_sync([&](Connection& db) {
        {
            auto s = db.cached("SELECT 1 FROM survivors WHERE locator = ?1");
            s.bind_blob(1, locator);
            if (s.step()) {
                throw Error(ErrorKind::constraint, 0, "That recovery code is already enrolled.");
            }
        }
        {
            auto s = db.cached(
                "INSERT INTO accounts(id, role, created_ms) VALUES (?1, 0, ?2) RETURNING key");
            s.bind(1, account.id).bind(2, unix_ms());
            account.key = s.step() ? s.integer(0) : 0;
            s.run();
        }
        auto s = db.cached(
            "INSERT INTO survivors(account, locator, auth_public_key) VALUES (?1, ?2, ?3)");
        s.bind(1, account.key).bind_blob(2, locator).bind_blob(3, auth_public_key).run();
    });
    return account;
}

bool Accounts::set_caseworker_disabled(std::string_view caseworker, bool disabled) {
    bool changed = false;
    db_.run_sync([&](Connection& db) {
        auto s = db.cached("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
        s.bind(1, caseworker).bind(2, role_value(Role::caseworker));
        if (!s.step()) no_such_account(Role::caseworker, caseworker);
        std::int64_t key = s.integer(0);
        if (disabled) {
            auto w = db.cached(
                "INSERT INTO disabled_accounts(account, since_ms) VALUES (?1, ?2) ON CONFLICT DO "
                "NOTHING");
            w.bind(1, key).bind(2, unix_ms()).run();
            changed = db.changes() > 0;
        } else {
            auto w = db.cached("DELETE FROM disabled_accounts WHERE account = ?1");
            w.bind(1, key).run();
            changed = db.changes() > 0;
        }
    });
    return changed;
}

void Accounts::replace_caseworker_credentials(std::string_view caseworker,
                                              std::string_view password_hash,
                                              ByteView sealed_totp_secret) {
    db_.run_sync([&](Connection& db) {
        auto s = db.cached(
            "UPDATE caseworkers SET password_hash = ?2, totp_sealed = ?3 "
            "WHERE account = (SELECT key FROM accounts WHERE id = ?1 AND role = ?4)");
        s.bind(1, caseworker)
            .bind(2, password_hash)
            .bind_blob(3, sealed_totp_secret)
            .bind(4, role_value(Role::caseworker));
        s.run();
        if (db.changes() == 0) no_such_account(Role::caseworker, caseworker);
    });
}

void Accounts::assign(std::string_view survivor, std::string_view caseworker) {
    db_.run_sync([&](Connection& db) {
        auto lookup = [&](std::string_view id, Role role) {
            auto s = db.cached("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
            s.bind(1, id).bind(2, role_value(role));
            if (!s.step()) no_such_account(role, id);
            return s.integer(0);
        };
        std::int64_t s_key = lookup(survivor, Role::survivor);
        std::int64_t c_key = lookup(caseworker, Role::caseworker);
        auto s = db.cached(
            "INSERT INTO assignments(survivor, caseworker) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        s.bind(1, s_key).bind(2, c_key).run();
    });
}

bool Accounts::unassign(std::string_view survivor, std::string_view caseworker) {
    bool changed = false;
    db_.run_sync([&](Connection& db) {
        auto lookup = [&](std::string_view id, Role role) {
            auto s = db.cached("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
            s.bind(1, id).bind(2, role_value(role));
            if (!s.step()) no_such_account(role, id);
            return s.integer(0);
        };
        std::int64_t s_key = lookup(survivor, Role::survivor);
        std::int64_t c_key = lookup(caseworker, Role::caseworker);
        auto s = db.cached("DELETE FROM assignments WHERE survivor = ?1 AND caseworker = ?2");
        s.bind(1, s_key).bind(2, c_key).run();
        changed = db.changes() > 0;
    });
    return changed;
}

bool Accounts::revoke_caseworker_device(std::string_view caseworker, std::uint32_t device) {
    bool existed = false;
    db_.run_sync([&](Connection& db) {
        std::int64_t key = 0;
        {
            auto s = db.cached("SELECT key FROM accounts WHERE id = ?1 AND role = ?2");
            s.bind(1, caseworker).bind(2, role_value(Role::caseworker));
            if (!s.step()) no_such_account(Role::caseworker, caseworker);
            key = s.integer(0);
        }
        {
            auto s = db.cached("DELETE FROM devices WHERE account = ?1 AND device = ?2");
            s.bind(1, key).bind(2, static_cast<std::int64_t>(device)).run();
            existed = db.changes() > 0;
        }
        // Literal SQL texts: prepared statements are cached by their address.
        for (const char* sql : {"DELETE FROM signed_pre_keys WHERE account = ?1 AND device = ?2",
                                "DELETE FROM last_resort_keys WHERE account = ?1 AND device = ?2",
                                "DELETE FROM pre_keys WHERE account = ?1 AND device = ?2"}) {
            auto s = db.cached(sql);
            s.bind(1, key).bind(2, static_cast<std::int64_t>(device)).run();
        }
    });
    return existed;
}

std::string Accounts::setting_or_insert(std::string_view name, std::string_view value) {
    std::string result;
    db_.run_sync([&](Connection& db) {
        {
            auto s = db.cached(
                "INSERT INTO settings(name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
            s.bind(1, name).bind(2, value).run();
        }
        auto s = db.cached("SELECT value FROM settings WHERE name = ?1");
        s.bind(1, name);
        s.step();
        result = s.text(0);
    });
    return result;
}

void Accounts::replace_survivor_code(std::string_view survivor, ByteView locator,
                                     ByteView auth_public_key) {
    db_.run_sync([&](Connection& db) {
        std::int64_t key = 0;
        {
            auto s = db.cached("SELECT key FROM accounts WHERE id = ?1 AND role = 0");
            s.bind(1, survivor);
            if (!s.step()) no_such_account(Role::survivor, survivor);
            key = s.integer(0);
        }
        {
            auto s = db.cached("SELECT 1 FROM survivors WHERE locator = ?1");
            s.bind_blob(1, locator);
            if (s.step()) {
                throw Error(ErrorKind::constraint, 0, "That recovery code is already enrolled.");
            }
        }
        {
            auto s = db.cached(
                "UPDATE survivors SET locator = ?2, auth_public_key = ?3 WHERE account = ?1");
            s.bind(1, key).bind_blob(2, locator).bind_blob(3, auth_public_key).run();
        }
        // Literal SQL texts: prepared statements are cached by their address.
        for (const char* sql : {"DELETE FROM devices WHERE account = ?1",
                                "DELETE FROM survivor_installations WHERE account = ?1",
                                "DELETE FROM signed_pre_keys WHERE account = ?1",
                                "DELETE FROM last_resort_keys WHERE account = ?1",
                                "DELETE FROM pre_keys WHERE account = ?1"}) {
            auto s = db.cached(sql);
            s.bind(1, key).run();
        }
    });
}

}  // namespace ariadne::storage
