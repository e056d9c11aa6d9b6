#include "ariadne/policies/audit.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <cctype>
#include <cstring>

#include "ariadne/policies/error.h"
#include "ariadne/policies/store.h"
#include "sqlite.h"

namespace ariadne::policies {

using detail::Stmt;

namespace {

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_str(std::string& out, const std::string& s) {
    auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    out += s;
}

// Audit fields are tokens, so no free text (a name, an address, a message) can enter the log.
void check_token(const std::string& field, const std::string& v, bool allow_empty) {
    bool ok = (allow_empty || !v.empty()) && v.size() <= 80;
    for (char c : v) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                    c == ':' || c == '/' || c == '-');
    }
    if (!ok) {
        throw Error(ErrorCode::invalid_field, "audit." + field,
                    "audit." + field +
                        ": an audit field is a short token of letters, digits "
                        "and _ . : / - (metadata only)");
    }
}

Hash to_hash(const std::vector<unsigned char>& b) {
    Hash h{};
    if (b.size() == h.size()) std::memcpy(h.data(), b.data(), h.size());
    return h;
}

AuditEntry read_entry(const Stmt& q) {
    AuditEntry e;
    e.seq = static_cast<std::uint64_t>(q.i64(0));
    e.at = from_micros(q.i64(1));
    e.actor = q.text(2);
    e.action = q.text(3);
    e.case_code = q.text(4);
    e.decision = q.text(5);
    e.reason = q.text(6);
    e.prev_hash = to_hash(q.blob(7));
    e.hash = to_hash(q.blob(8));
    return e;
}

constexpr const char* kSelect =
    "SELECT seq, at_us, actor, action, case_code, decision, reason, prev_hash, hash "
    "FROM policies_audit";

}  // namespace

std::string audit_canonical_encoding(const AuditEntry& e) {
    std::string out = "ariadne.audit.v1";
    put_u64(out, e.seq);
    put_u64(out, static_cast<std::uint64_t>(to_micros(e.at)));
    put_str(out, e.actor);
    put_str(out, e.action);
    put_str(out, e.case_code);
    put_str(out, e.decision);
    put_str(out, e.reason);
    out.append(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size());
    return out;
}

Hash audit_hash(const AuditEntry& e) {
    std::string bytes = audit_canonical_encoding(e);
    Hash h{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), h.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != h.size()) {
        throw Error(ErrorCode::storage, "audit", "audit: SHA-256 failed");
    }
    return h;
}

std::string to_hex(const Hash& h) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : h) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xF]);
    }
    return out;
}

AuditEntry PolicyStore::append_audit_locked(const std::string& actor, const std::string& action,
                                            const std::string& case_code,
                                            const std::string& decision, const std::string& reason,
                                            Instant at) {
    check_token("actor", actor, false);
    check_token("action", action, false);
    check_token("case_code", case_code, true);
    check_token("decision", decision, true);
    check_token("reason", reason, true);
    AuditEntry e;
    Stmt last(db_, "SELECT seq, hash FROM policies_audit ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
        e.seq = static_cast<std::uint64_t>(last.i64(0)) + 1;
        e.prev_hash = to_hash(last.blob(1));
    } else {
        e.seq = 1;
    }
    e.at = at;
    e.actor = actor;
    e.action = action;
    e.case_code = case_code;
    e.decision = decision;
    e.reason = reason;
    e.hash = audit_hash(e);
    Stmt w(db_,
           "INSERT INTO policies_audit(seq, at_us, actor, action, case_code, decision, "
           "reason, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)");
    w.bind(1, static_cast<std::int64_t>(e.seq))
        .bind(2, to_micros(e.at))
        .bind(3, e.actor)
        .bind(4, e.action)
        .bind(5, e.case_code)
        .bind(6, e.decision)
        .bind(7, e.reason)
        .bind_blob(8, e.prev_hash.data(), e.prev_hash.size())
        .bind_blob(9, e.hash.data(), e.hash.size())
        .run();
    return e;
}

AuditEntry PolicyStore::append_audit(const std::string& actor, const std::string& action,
                                     const std::string& case_code, const std::string& decision,
                                     const std::string& reason, Instant at) {
    std::lock_guard lock(mutex_);
    detail::WriteTx tx(db_);
    AuditEntry e = append_audit_locked(actor, action, case_code, decision, reason, at);
    tx.commit();
    return e;
}

AuditVerification PolicyStore::verify_audit_chain() const {
    std::lock_guard lock(mutex_);
    AuditVerification v;
    Stmt q(db_, std::string(kSelect) + " ORDER BY seq");
    std::uint64_t expected = 1;
    Hash prev{};
    while (q.step()) {
        AuditEntry e = read_entry(q);
        ++v.entries;
        auto bad = [&](std::uint64_t seq, std::string problem) {
            v.first_bad_seq = seq;
            v.problem = std::move(problem);
            return v;
        };
        if (e.seq != expected) {
            return bad(expected, "entry " + std::to_string(expected) +
                                     " is missing (the next entry found is " +
                                     std::to_string(e.seq) + "): entries were removed");
        }
        if (e.prev_hash != prev) {
            return bad(e.seq, "entry " + std::to_string(e.seq) + " does not follow entry " +
                                  std::to_string(e.seq - 1) +
                                  ": entries were removed, inserted or reordered");
        }
        if (audit_hash(e) != e.hash) {
            return bad(e.seq, "entry " + std::to_string(e.seq) +
                                  " does not match its hash: it was edited");
        }
        prev = e.hash;
        v.head = e.hash;
        ++expected;
    }
    v.ok = true;
    return v;
}

std::vector<AuditEntry> PolicyStore::audit_entries(std::uint64_t from_seq,
                                                   std::size_t limit) const {
    std::lock_guard lock(mutex_);
    Stmt q(db_, std::string(kSelect) + " WHERE seq >= ? ORDER BY seq LIMIT ?");
    q.bind(1, static_cast<std::int64_t>(from_seq)).bind(2, static_cast<std::int64_t>(limit));
    std::vector<AuditEntry> out;
    while (q.step()) out.push_back(read_entry(q));
    return out;
}

}  // namespace ariadne::policies
