#include "ariadne/gateway/sms_numbers.h"

#include <sqlite3.h>

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void storage_failure(sqlite3* db) {
    throw policies::Error(
        policies::ErrorCode::storage, "",
        std::string("The SMS number tables cannot be used (") + sqlite3_errmsg(db) + ").");
}

struct Stmt {
    sqlite3* db;
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* d, const char* sql) : db(d) {
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) storage_failure(db);
    }
    ~Stmt() { sqlite3_finalize(s); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    void text(int i, std::string_view v) {
        sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    bool step() {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        storage_failure(db);
    }
    std::string column(int i) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
                 : std::string();
    }
};

}  // namespace

std::optional<std::string> normalize_phone_number(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') continue;
        if (c == '+' && out.empty()) {
            out.push_back(c);
        } else if (c >= '0' && c <= '9') {
            out.push_back(c);
        } else {
            return std::nullopt;
        }
        if (out.size() > 24) return std::nullopt;
    }
    if (out.rfind("00", 0) == 0) out = "+" + out.substr(2);
    const std::size_t digits = out.size() - (!out.empty() && out[0] == '+' ? 1 : 0);
    if (digits < 3 || digits > 20) return std::nullopt;
    return out;
}

std::string address_ref_of(const ServerKey& key, std::string_view number) {
    auto mac = key.mac("address", crypto::as_bytes(number));
    std::string ref = "k:" + crypto::base64_encode(mac).substr(0, 43);
    for (char& c : ref) {
        if (c == '+' || c == '/') c = '_';
    }
    return ref;
}

std::string link_sms_number(policies::PolicyStore& store, const ServerKey& key,
                            std::string_view number, const policies::CaseCode& code,
                            bool verified) {
    auto normal = normalize_phone_number(number);
    if (!normal) {
        throw policies::Error(policies::ErrorCode::invalid_field, "address",
                              "address: not a phone number (an optional '+' and 3 to 20 "
                              "digits; spaces and dashes are ignored).");
    }
    const std::string ref = address_ref_of(key, *normal);
    crypto::Bytes sealed = key.seal("address:" + ref, crypto::as_bytes(*normal));
    crypto::wipe(normal->data(), normal->size());
    auto guard = store.lock();
    Stmt a(store.connection(),
           "INSERT INTO gateway_sealed_addresses(address_ref, sealed) VALUES(?1, ?2) "
           "ON CONFLICT(address_ref) DO UPDATE SET sealed = excluded.sealed");
    a.text(1, ref);
    sqlite3_bind_blob(a.s, 2, sealed.data(), static_cast<int>(sealed.size()), SQLITE_TRANSIENT);
    a.step();
    Stmt l(store.connection(),
           "INSERT INTO gateway_sms_links(address_ref, case_code, verified) VALUES(?1, ?2, ?3) "
           "ON CONFLICT(address_ref) DO UPDATE SET case_code = excluded.case_code, "
           "verified = excluded.verified");
    l.text(1, ref);
    l.text(2, code.str());
    sqlite3_bind_int(l.s, 3, verified ? 1 : 0);
    l.step();
    return ref;
}

std::optional<SmsLink> find_sms_link(const policies::PolicyStore& store,
                                     const std::string& address_ref) {
    auto guard = store.lock();
    Stmt s(store.connection(),
           "SELECT case_code, verified FROM gateway_sms_links WHERE address_ref = ?1");
    s.text(1, address_ref);
    if (!s.step()) return std::nullopt;
    return SmsLink{policies::CaseCode(s.column(0)), sqlite3_column_int(s.s, 1) != 0};
}

std::optional<SmsNumber> verified_sms_number(const policies::PolicyStore& store,
                                             const ServerKey& key, const policies::CaseCode& code) {
    auto guard = store.lock();
    Stmt s(store.connection(),
           "SELECT l.address_ref, a.sealed FROM gateway_sms_links l JOIN "
           "gateway_sealed_addresses a ON a.address_ref = l.address_ref "
           "WHERE l.case_code = ?1 AND l.verified = 1 LIMIT 1");
    s.text(1, code.str());
    if (!s.step()) return std::nullopt;
    SmsNumber n;
    n.address_ref = s.column(0);
    auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.s, 1));
    crypto::Bytes sealed(p, p + sqlite3_column_bytes(s.s, 1));
    auto plain = key.open("address:" + n.address_ref, sealed);
    auto v = plain.view();
    n.number.assign(reinterpret_cast<const char*>(v.data()), v.size());
    return n;
}

std::optional<bool> sms_thread_verified(const policies::PolicyStore& store,
                                        const policies::CaseCode& code) {
    auto guard = store.lock();
    Stmt s(store.connection(),
           "SELECT max(verified) FROM gateway_sms_links WHERE case_code = ?1 HAVING count(*) > 0");
    s.text(1, code.str());
    if (!s.step()) return std::nullopt;
    return sqlite3_column_int(s.s, 0) != 0;
}

}  // namespace ariadne::gateway
