// Staff account use cases shared by `ariadne admin` and the admin HTTP API: create, reset,
// disable/enable caseworkers, and their role (operations.h).
#include <chrono>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/totp.h"
#include "ariadne/policies/clock.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/staff_roles.h"
#include "totp_qr.h"

namespace ariadne::gateway {

using nlohmann::json;

std::string staff_role(const policies::PolicyStore& store, const std::string& account) {
    // An unreadable role is the lesser one: a caseworker.
    try {
        return storage::StaffRoles(store).role(account).value_or("caseworker");
    } catch (const storage::Error&) {
        return "caseworker";
    }
}

void set_account_role(policies::PolicyStore& store, const std::string& account,
                      const std::string& role) {
    return translating_errors([&]() -> void {
        if (role != "admin" && role != "caseworker") {
            throw AdminError(AdminErrorCode::invalid_field, "role",
                             "role: must be admin or caseworker.");
        }
        try {
            storage::StaffRoles(store).set_role(account, role);
        } catch (const storage::Error&) {
            throw AdminError(AdminErrorCode::storage, "role", "role: cannot be stored.");
        }
    });
}

bool is_admin_account(const policies::PolicyStore& store, const std::string& account) {
    return staff_role(store, account) == "admin";
}

nlohmann::json set_caseworker_disabled(Store& store, policies::PolicyStore& policies,
                                       const std::string& id, bool disabled,
                                       const std::string& actor, const std::string& field) {
    return translating_errors([&]() -> json {
        if (!is_account_id(id)) {
            throw AdminError(AdminErrorCode::invalid_field, field,
                             field + ": must be an account id (a_ + 22 characters).");
        }
        auto account = store.find_account(id);
        if (!account || account->role != Role::caseworker) {
            throw AdminError(AdminErrorCode::not_found, field,
                             field + ": no caseworker account has this id.");
        }
        bool changed = store.set_caseworker_disabled(id, disabled);
        auto now = policies::now_utc();
        // Metadata only: who, which account (as the reason token), what.
        policies.append_audit(actor, disabled ? "caseworker.disabled" : "caseworker.enabled", "",
                              changed ? "done" : "unchanged", id, now);
        return json({{"account", id}, {"disabled", disabled}, {"changed", changed}});
    });
}

nlohmann::json reset_caseworker(Store& store, const ServerKey& key, policies::PolicyStore& policies,
                                const std::string& id, std::string password,
                                const std::string& actor, const std::string& field) {
    return translating_errors([&]() -> json {
        if (!is_account_id(id)) {
            throw AdminError(AdminErrorCode::invalid_field, field,
                             field + ": must be an account id (a_ + 22 characters).");
        }
        if (password.empty() || password.size() > 1024) {
            crypto::wipe(password.data(), password.size());
            throw AdminError(AdminErrorCode::invalid_field, "password",
                             "password: must be 1 to 1024 bytes long.");
        }
        auto account = store.find_account(id);
        if (!account || account->role != Role::caseworker) {
            crypto::wipe(password.data(), password.size());
            throw AdminError(AdminErrorCode::not_found, field,
                             field + ": no caseworker account has this id.");
        }
        std::string hash = crypto::hash_password(password);
        crypto::wipe(password.data(), password.size());
        auto secret = crypto::generate_totp_secret();
        store.replace_caseworker_credentials(id, hash, key.seal(id, secret.view()));
        auto now = policies::now_utc();
        policies.append_audit(actor, "caseworker.reset", "", "done", id, now);
        auto uri = crypto::otpauth_uri("Ariadne", id, secret.view());
        return json({{"account", id},
                     {"totp_secret", crypto::base32_encode(secret.view())},
                     {"otpauth_uri", uri},
                     {"otpauth_qr_svg", qr_svg(encode_qr(uri))}});
    });
}

nlohmann::json create_caseworker_account(Store& store, const ServerKey& key,
                                         policies::PolicyStore& policies, CaseworkerArgs args,
                                         const std::string& actor) {
    return translating_errors([&]() -> json {
        auto fail = [&](const char* field, const std::string& message) {
            crypto::wipe(args.password.data(), args.password.size());
            throw AdminError(AdminErrorCode::invalid_field, field, message);
        };
        if (args.role != "admin" && args.role != "caseworker") {
            fail("role", "role: must be admin or caseworker.");
        }
        // Initials name her in handover notices to survivors: validated before anything exists.
        if (!args.initials.empty()) {
            try {
                policies::Initials(args.initials, "initials");
            } catch (const policies::Error&) {
                crypto::wipe(args.password.data(), args.password.size());
                throw;
            }
        }
        if (args.username.empty() || args.username.size() > kMaxUsernameBytes) {
            fail("username", "username: must be 1 to 64 bytes long.");
        }
        if (args.password.empty() || args.password.size() > 1024) {
            fail("password", "password: must be 1 to 1024 bytes long.");
        }
        std::string hash = crypto::hash_password(args.password);
        crypto::wipe(args.password.data(), args.password.size());
        auto secret = crypto::generate_totp_secret();
        std::string account_id = new_account_id();
        try {
            store.create_caseworker(account_id, args.username, hash,
                                    key.seal(account_id, secret.view()));
        } catch (const storage::Error& e) {
            if (e.kind() != storage::ErrorKind::constraint) throw;
            throw AdminError(AdminErrorCode::conflict, "username", "username: is already taken.");
        }
        set_account_role(policies, account_id, args.role);
        if (!args.initials.empty()) {
            set_caseworker_initials(policies, account_id, args.initials);
        }
        // Metadata only: who created which account (as the reason token), never the username.
        policies.append_audit(actor, args.role == "admin" ? "admin.created" : "caseworker.created",
                              "", "done", account_id, policies::now_utc());
        auto uri = crypto::otpauth_uri("Ariadne", account_id, secret.view());
        return json({{"account", account_id},
                     {"role", args.role},
                     {"totp_secret", crypto::base32_encode(secret.view())},
                     {"otpauth_uri", uri},
                     {"otpauth_qr_svg", qr_svg(encode_qr(uri))}});
    });
}

}  // namespace ariadne::gateway
