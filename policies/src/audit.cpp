#include "ariadne/policies/audit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include <cctype>
#include <cstring>
#include <map>

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

std::string audit_canonical_encoding(const AuditEntry& e, bool keyed) {
    std::string out = keyed ? "ariadne.audit.v2" : "ariadne.audit.v1";
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

namespace {

Hash hmac_sha256(const AuditKey& key, const std::string& bytes) {
    Hash h{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), h.data(),
             &len) == nullptr ||
        len != h.size()) {
        throw Error(ErrorCode::storage, "audit", "audit: HMAC-SHA256 failed");
    }
    return h;
}

bool same(const Hash& a, const Hash& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

}  // namespace

Hash audit_mac(const AuditEntry& e, const AuditKey& key) {
    return hmac_sha256(key, audit_canonical_encoding(e, true));
}

Hash audit_checkpoint_mac(std::uint64_t seq, const Hash& head, const AuditKey& key) {
    std::string bytes = "ariadne.audit.checkpoint.v1";
    put_u64(bytes, seq);
    bytes.append(reinterpret_cast<const char*>(head.data()), head.size());
    return hmac_sha256(key, bytes);
}

std::optional<Hash> hash_from_hex(const std::string& hex) {
    if (hex.size() != 64) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    Hash h{};
    for (std::size_t i = 0; i < h.size(); ++i) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        h[i] = static_cast<unsigned char>(hi * 16 + lo);
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
    Stmt last(db_, std::string(kSelect) + " ORDER BY seq DESC LIMIT 1");
    std::optional<AuditEntry> previous;
    if (last.step()) previous = read_entry(last);
    if (previous) {
        e.seq = previous->seq + 1;
        e.prev_hash = previous->hash;
    } else {
        e.seq = 1;
    }
    e.at = at;
    e.actor = actor;
    e.action = action;
    e.case_code = case_code;
    e.decision = decision;
    e.reason = reason;
    if (audit_key_) {
        e.hash = audit_mac(e, *audit_key_);
    } else {
        // An unkeyed entry after a keyed one would read as a forgery (audit.h): refuse.
        if (previous && audit_hash(*previous) != previous->hash) {
            throw Error(ErrorCode::storage, "audit",
                        "audit: this audit chain is keyed; it can only be appended to with the "
                        "gateway's server key");
        }
        e.hash = audit_hash(e);
    }
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

bool PolicyStore::set_audit_key(const AuditKey& key, Instant now, bool mark) {
    std::lock_guard lock(mutex_);
    audit_key_ = key;
    if (!mark) return false;
    bool marked = false;
    detail::WriteTx tx(db_);
    Stmt last(db_, std::string(kSelect) + " ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
        AuditEntry e = read_entry(last);
        // The first keyed entry of a chain started unkeyed (an older version) marks where
        // keying began, so the unkeyed prefix ends at a known point.
        if (!same(audit_mac(e, key), e.hash)) {
            append_audit_locked("system", "audit.keyed", "", "", "", now);
            marked = true;
        }
    }
    tx.commit();
    return marked;
}

AuditCheckpoint PolicyStore::audit_checkpoint() const {
    std::lock_guard lock(mutex_);
    if (!audit_key_) {
        throw Error(ErrorCode::refused, "audit",
                    "audit: a checkpoint needs the gateway's server key");
    }
    AuditCheckpoint c;
    Stmt last(db_, "SELECT seq, hash FROM policies_audit ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
        c.seq = static_cast<std::uint64_t>(last.i64(0));
        c.head = to_hash(last.blob(1));
    }
    c.mac = audit_checkpoint_mac(c.seq, c.head, *audit_key_);
    return c;
}

AuditVerification PolicyStore::verify_audit_chain(
    const std::vector<AuditCheckpoint>& checkpoints) const {
    std::lock_guard lock(mutex_);
    AuditVerification v;
    auto bad = [&](std::uint64_t seq, std::string problem) {
        v.first_bad_seq = seq;
        v.problem = std::move(problem);
        return v;
    };
    std::map<std::uint64_t, Hash> expected_heads;
    for (const auto& c : checkpoints) {
        if (!audit_key_) {
            return bad(c.seq, "a checkpoint can only be checked with the gateway's server key");
        }
        if (!same(audit_checkpoint_mac(c.seq, c.head, *audit_key_), c.mac)) {
            return bad(c.seq, "the checkpoint for entry " + std::to_string(c.seq) +
                                  " is not authentic (its MAC does not match the server key)");
        }
        auto [it, inserted] = expected_heads.emplace(c.seq, c.head);
        if (!inserted && it->second != c.head) {
            return bad(c.seq, "two authentic checkpoints name different heads for entry " +
                                  std::to_string(c.seq));
        }
    }
    Stmt q(db_, std::string(kSelect) + " ORDER BY seq");
    std::uint64_t expected = 1;
    Hash prev{};
    bool keyed_seen = false;
    while (q.step()) {
        AuditEntry e = read_entry(q);
        ++v.entries;
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
        bool keyed = audit_key_ && same(audit_mac(e, *audit_key_), e.hash);
        if (!keyed) {
            if (audit_hash(e) != e.hash) {
                return bad(e.seq, audit_key_ ? "entry " + std::to_string(e.seq) +
                                                   " does not match its MAC: it was edited"
                                             : "entry " + std::to_string(e.seq) +
                                                   " does not match its hash: it was edited, "
                                                   "or it is keyed (verify with the server key)");
            }
            if (keyed_seen) {
                return bad(e.seq, "entry " + std::to_string(e.seq) +
                                      " is unkeyed after keyed entries: it was rewritten "
                                      "without the server key");
            }
        } else {
            keyed_seen = true;
            ++v.keyed_entries;
        }
        if (auto it = expected_heads.find(e.seq); it != expected_heads.end()) {
            if (it->second != e.hash) {
                return bad(e.seq, "entry " + std::to_string(e.seq) +
                                      " is not the one a checkpoint recorded: the chain was "
                                      "rewritten from there");
            }
            ++v.checkpoints;
        }
        prev = e.hash;
        v.head = e.hash;
        ++expected;
    }
    for (const auto& [seq, head] : expected_heads) {
        if (seq == 0) {
            ++v.checkpoints;
            continue;
        }
        if (seq >= expected) {
            return bad(expected, "the chain ends at entry " + std::to_string(expected - 1) +
                                     " but a checkpoint recorded entry " + std::to_string(seq) +
                                     ": the newest entries were removed");
        }
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
