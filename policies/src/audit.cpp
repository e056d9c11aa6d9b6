#include "ariadne/policies/audit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <cstring>
#include <map>

#include "ariadne/policies/error.h"

namespace ariadne::policies {

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

AuditEntry next_audit_entry(const std::optional<AuditEntry>& previous, const std::string& actor,
                            const std::string& action, const std::string& case_code,
                            const std::string& decision, const std::string& reason, Instant at,
                            const AuditKey* key) {
    check_token("actor", actor, false);
    check_token("action", action, false);
    check_token("case_code", case_code, true);
    check_token("decision", decision, true);
    check_token("reason", reason, true);
    AuditEntry e;
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
    if (key != nullptr) {
        e.hash = audit_mac(e, *key);
    } else {
        // An unkeyed entry after a keyed one would read as a forgery (audit.h): refuse.
        if (previous && audit_hash(*previous) != previous->hash) {
            throw Error(ErrorCode::storage, "audit",
                        "audit: this audit chain is keyed; it can only be appended to with the "
                        "gateway's server key");
        }
        e.hash = audit_hash(e);
    }
    return e;
}

bool audit_entry_keyed(const AuditEntry& e, const AuditKey& key) {
    return same(audit_mac(e, key), e.hash);
}

AuditChainVerifier::AuditChainVerifier(const std::optional<AuditKey>& key,
                                       const std::vector<AuditCheckpoint>& checkpoints)
    : key_(key) {
    for (const auto& c : checkpoints) {
        if (!key_) {
            fail(c.seq, "a checkpoint can only be checked with the gateway's server key");
            return;
        }
        if (!same(audit_checkpoint_mac(c.seq, c.head, *key_), c.mac)) {
            fail(c.seq, "the checkpoint for entry " + std::to_string(c.seq) +
                            " is not authentic (its MAC does not match the server key)");
            return;
        }
        auto [it, inserted] = expected_heads_.emplace(c.seq, c.head);
        if (!inserted && it->second != c.head) {
            fail(c.seq, "two authentic checkpoints name different heads for entry " +
                            std::to_string(c.seq));
            return;
        }
    }
}

void AuditChainVerifier::fail(std::uint64_t seq, std::string problem) {
    broken_ = true;
    v_.first_bad_seq = seq;
    v_.problem = std::move(problem);
}

bool AuditChainVerifier::add(const AuditEntry& e) {
    if (broken_) return false;
    ++v_.entries;
    if (e.seq != expected_) {
        fail(expected_, "entry " + std::to_string(expected_) +
                            " is missing (the next entry found is " + std::to_string(e.seq) +
                            "): entries were removed");
        return false;
    }
    if (e.prev_hash != prev_) {
        fail(e.seq, "entry " + std::to_string(e.seq) + " does not follow entry " +
                        std::to_string(e.seq - 1) +
                        ": entries were removed, inserted or reordered");
        return false;
    }
    bool keyed = key_ && same(audit_mac(e, *key_), e.hash);
    if (!keyed) {
        if (audit_hash(e) != e.hash) {
            fail(e.seq,
                 key_ ? "entry " + std::to_string(e.seq) + " does not match its MAC: it was edited"
                      : "entry " + std::to_string(e.seq) +
                            " does not match its hash: it was edited, "
                            "or it is keyed (verify with the server key)");
            return false;
        }
        if (keyed_seen_) {
            fail(e.seq, "entry " + std::to_string(e.seq) +
                            " is unkeyed after keyed entries: it was rewritten "
                            "without the server key");
            return false;
        }
    } else {
        keyed_seen_ = true;
        ++v_.keyed_entries;
    }
    if (auto it = expected_heads_.find(e.seq); it != expected_heads_.end()) {
        if (it->second != e.hash) {
            fail(e.seq, "entry " + std::to_string(e.seq) +
                            " is not the one a checkpoint recorded: the chain was "
                            "rewritten from there");
            return false;
        }
        ++v_.checkpoints;
    }
    prev_ = e.hash;
    v_.head = e.hash;
    ++expected_;
    return true;
}

AuditVerification AuditChainVerifier::finish() {
    if (broken_) return v_;
    for (const auto& [seq, head] : expected_heads_) {
        if (seq == 0) {
            ++v_.checkpoints;
            continue;
        }
        if (seq >= expected_) {
            fail(expected_, "the chain ends at entry " + std::to_string(expected_ - 1) +
                                " but a checkpoint recorded entry " + std::to_string(seq) +
                                ": the newest entries were removed");
            return v_;
        }
    }
    v_.ok = true;
    return v_;
}

}  // namespace ariadne::policies
