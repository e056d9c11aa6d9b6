// The audit chain's rows (policies_audit). The chain's rules (what an entry hashes, what a
// broken chain looks like) are policies/audit.h's; this file reads and appends rows.
#include <cstring>
#include <optional>

#include "advisory_locks.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"
#include "policy_store_detail.h"

namespace ariadne::storage {

using namespace policies;

namespace {

Hash to_hash(const std::vector<std::uint8_t>& b) {
    Hash h{};
    if (b.size() == h.size()) std::memcpy(h.data(), b.data(), h.size());
    return h;
}

AuditEntry read_entry(const Statement& q) {
    AuditEntry e;
    e.seq = static_cast<std::uint64_t>(q.integer(0));
    e.at = from_micros(q.integer(1));
    e.actor = q.text(2);
    e.action = q.text(3);
    e.case_code = q.text(4);
    e.decision = q.text(5);
    e.reason = q.text(6);
    e.prev_hash = to_hash(q.blob(7));
    e.hash = to_hash(q.blob(8));
    return e;
}

std::optional<AuditEntry> last_entry(Connection& db) {
    Statement last = db.cached(
        "SELECT seq, at_us, actor, action, case_code, decision, reason, prev_hash, hash "
        "FROM policies_audit ORDER BY seq DESC LIMIT 1");
    if (!last.step()) return std::nullopt;
    return read_entry(last);
}

}  // namespace

void PolicyStore::lock_audit_chain_locked() {
    detail::lock_for_transaction(*db_, detail::ClusterLock::audit_chain);
}

void PolicyStore::lock_audit_chain() {
    locked([&] { lock_audit_chain_locked(); });
}

AuditEntry PolicyStore::append_audit_locked(const std::string& actor, const std::string& action,
                                            const std::string& case_code,
                                            const std::string& decision, const std::string& reason,
                                            Instant at) {
    // Another node appending at the same time would read the same head: the chain would fork,
    // or one insert would fail on the taken seq. The head is read under the chain's cluster
    // lock, held until the caller's transaction ends (a statement after the lock sees every
    // entry committed before it: READ COMMITTED). Every caller opens a transaction; one that
    // did not gets its own, since the lock lives only as long as a transaction.
    std::optional<Transaction> own;
    if (!db_->in_transaction()) own.emplace(*db_);
    lock_audit_chain_locked();
    AuditEntry e = next_audit_entry(last_entry(*db_), actor, action, case_code, decision, reason,
                                    at, audit_key_ ? &*audit_key_ : nullptr);
    db_->cached(
           "INSERT INTO policies_audit(seq, at_us, actor, action, case_code, decision, "
           "reason, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)")
        .bind(1, static_cast<std::int64_t>(e.seq))
        .bind(2, to_micros(e.at))
        .bind(3, e.actor)
        .bind(4, e.action)
        .bind(5, e.case_code)
        .bind(6, e.decision)
        .bind(7, e.reason)
        .bind_blob(8, e.prev_hash)
        .bind_blob(9, e.hash)
        .run();
    if (own) own->commit();
    return e;
}

AuditEntry PolicyStore::append_audit(const std::string& actor, const std::string& action,
                                     const std::string& case_code, const std::string& decision,
                                     const std::string& reason, Instant at) {
    return locked([&] {
        Transaction tx(*db_);
        AuditEntry e = append_audit_locked(actor, action, case_code, decision, reason, at);
        tx.commit();
        return e;
    });
}

bool PolicyStore::set_audit_key(const AuditKey& key, Instant now, bool mark) {
    return locked([&] {
        audit_key_ = key;
        if (!mark) return false;
        bool marked = false;
        Transaction tx(*db_);
        // Nodes starting together must not both see an unkeyed head and both mark it.
        lock_audit_chain_locked();
        // The first keyed entry of a chain started unkeyed (an older version) marks where
        // keying began, so the unkeyed prefix ends at a known point.
        if (auto last = last_entry(*db_); last && !audit_entry_keyed(*last, key)) {
            append_audit_locked("system", "audit.keyed", "", "", "", now);
            marked = true;
        }
        tx.commit();
        return marked;
    });
}

AuditCheckpoint PolicyStore::audit_checkpoint() const {
    return locked([&] {
        if (!audit_key_) {
            throw policies::Error(ErrorCode::refused, "audit",
                                  "audit: a checkpoint needs the gateway's server key");
        }
        AuditCheckpoint c;
        Statement last =
            db_->prepare("SELECT seq, hash FROM policies_audit ORDER BY seq DESC LIMIT 1");
        if (last.step()) {
            c.seq = static_cast<std::uint64_t>(last.integer(0));
            c.head = to_hash(last.blob(1));
        }
        c.mac = audit_checkpoint_mac(c.seq, c.head, *audit_key_);
        return c;
    });
}

AuditVerification PolicyStore::verify_audit_chain(
    const std::vector<AuditCheckpoint>& checkpoints) const {
    return locked([&] {
        AuditChainVerifier verifier(audit_key_, checkpoints);
        Statement q = db_->prepare(
            "SELECT seq, at_us, actor, action, case_code, decision, reason, prev_hash, hash "
            "FROM policies_audit ORDER BY seq");
        while (q.step() && verifier.add(read_entry(q))) {
        }
        return verifier.finish();
    });
}

std::vector<AuditEntry> PolicyStore::audit_entries(std::uint64_t from_seq,
                                                   std::size_t limit) const {
    return locked([&] {
        Statement q = db_->prepare(
            "SELECT seq, at_us, actor, action, case_code, decision, reason, prev_hash, hash "
            "FROM policies_audit WHERE seq >= ? ORDER BY seq LIMIT ?");
        q.bind(1, static_cast<std::int64_t>(from_seq)).bind(2, static_cast<std::int64_t>(limit));
        std::vector<AuditEntry> out;
        while (q.step()) out.push_back(read_entry(q));
        return out;
    });
}

}  // namespace ariadne::storage
