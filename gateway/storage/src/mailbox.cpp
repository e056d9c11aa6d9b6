#include "ariadne/storage/mailbox.h"

#include <string_view>
#include <tuple>

#include "advisory_locks.h"
#include "unix_time.h"

namespace ariadne::storage {

using crypto::Bytes;
using detail::unix_ms;
using gateway::QuotaVerdict;

namespace {

constexpr int kKindMessage = 0;
constexpr int kKindReceipt = 1;
constexpr int kKindNotice = 2;  // body holds "notice\nreference\nlanguage\ntemplate_id"
// A reply her edge device kept for her web page (ack "kept"): never pushed again, body gone,
// waiting only for the edge device's "read" ack, which queues the sender's second receipt.
constexpr int kKindKept = 3;
// A receipt's body: the failure reason code, or one of these for a page receipt (a reason
// code never starts with '=').
constexpr std::string_view kReceiptKept = "=kept";
constexpr std::string_view kReceiptRead = "=read";

bool notice_token_ok(const std::string& t, bool may_be_empty) {
    if (t.empty()) return may_be_empty;
    if (t.size() > 64) return false;
    for (char c : t) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/// Splits a stored notice body back into its tokens (see kKindNotice).
void read_notice(const Bytes& body, gateway::Delivery& d) {
    std::string s(body.begin(), body.end());
    std::string* fields[] = {&d.notice, &d.reference, &d.language, &d.template_id};
    std::size_t start = 0;
    for (std::string* f : fields) {
        std::size_t end = s.find('\n', start);
        *f = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

/// What an expiry purge deleted: rows, and message bytes per (recipient, sender).
struct Purged {
    std::int64_t rows = 0;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>> bytes;
};

Purged purge_before(Connection& db, std::int64_t cutoff_ms) {
    // Every node runs this tick; one purges at a time. A node that finds the lock taken skips
    // the round: the purge is idempotent and the next round (any node's) deletes what is
    // still expired. Two purges at once would each count, and release from their queue
    // quotas, the bytes of rows the other deleted.
    if (!detail::try_lock_for_transaction(db, detail::ClusterLock::mailbox_purge)) return {};
    // Server ids grow with time: find the first entry young enough to keep, then delete the
    // expired ones before it by primary-key range (no index on age needed).
    std::int64_t boundary = INT64_MAX;
    {
        auto s = db.cached(
            "SELECT server_id FROM mailbox WHERE created_ms >= ?1 ORDER BY server_id LIMIT 1");
        s.bind(1, cutoff_ms);
        if (s.step()) boundary = s.integer(0);
    }
    Purged purged;
    {
        auto s = db.cached(
            "SELECT account, sender, SUM(length(body)) FROM mailbox WHERE server_id < ?1 AND "
            "created_ms < ?2 AND kind = 0 GROUP BY account, sender");
        s.bind(1, boundary).bind(2, cutoff_ms);
        while (s.step()) {
            purged.bytes.emplace_back(s.integer(0), s.integer(1),
                                      static_cast<std::uint64_t>(s.integer(2)));
        }
    }
    auto s = db.cached("DELETE FROM mailbox WHERE server_id < ?1 AND created_ms < ?2");
    s.bind(1, boundary).bind(2, cutoff_ms).run();
    purged.rows = db.changes();
    return purged;
}

constexpr const char* kPendingSql =
    "SELECT m.server_id, m.kind, a.id, m.sender_device, m.type, m.body, m.ref, m.created_ms "
    "FROM mailbox m LEFT JOIN accounts a ON a.key = m.sender "
    "WHERE m.account = ?1 AND m.device = ?2 AND m.server_id > ?3 AND m.kind <> 3 "
    "ORDER BY m.server_id LIMIT ?4";

}  // namespace

Mailbox::Mailbox(Database& database, MailboxOptions options)
    : db_(database), options_(options), queued_(options.queue_quota) {
    // One scan at start; from then on the quotas are kept up to date as rows come and go.
    db_.prepare([this](Connection& db) {
        auto s = db.prepare(
            "SELECT account, sender, SUM(length(body)) FROM mailbox WHERE kind = 0 "
            "GROUP BY account, sender");
        while (s.step()) {
            queued_.add(s.integer(0), s.integer(1), static_cast<std::uint64_t>(s.integer(2)));
        }
    });
}

std::int64_t Mailbox::drop_device(AccountKey account, std::uint32_t device) {
    Purged dropped;
    db_.run_sync([&](Connection& db) {
        {
            auto s = db.cached(
                "SELECT account, sender, SUM(length(body)) FROM mailbox WHERE account = ?1 AND "
                "device = ?2 AND kind = 0 GROUP BY account, sender");
            s.bind(1, account).bind(2, static_cast<std::int64_t>(device));
            while (s.step()) {
                dropped.bytes.emplace_back(s.integer(0), s.integer(1),
                                           static_cast<std::uint64_t>(s.integer(2)));
            }
        }
        auto s = db.cached("DELETE FROM mailbox WHERE account = ?1 AND device = ?2");
        s.bind(1, account).bind(2, static_cast<std::int64_t>(device)).run();
        dropped.rows = db.changes();
    });
    // Released only once committed, as the purge does: the sender's quota counts these no more.
    for (const auto& [recipient, sender, bytes] : dropped.bytes) {
        queued_.release(recipient, sender, bytes);
    }
    return dropped.rows;
}

void Mailbox::expire(Connection& writer) {
    auto cutoff =
        unix_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(options_.ttl).count();
    Purged purged;
    {
        Transaction tx(writer);
        purged = purge_before(writer, cutoff);
        tx.commit();
    }
    for (const auto& [recipient, sender, bytes] : purged.bytes) {
        queued_.release(recipient, sender, bytes);
    }
    if (auto* metrics = db_.metrics(); metrics && purged.rows > 0) {
        metrics->messages_expired.fetch_add(static_cast<std::uint64_t>(purged.rows));
    }
}

// ---- reads ----

std::vector<MailboxEntryPtr> Mailbox::pending(AccountKey account, std::uint32_t device,
                                              std::int64_t after, std::size_t limit) const {
    return db_.read([&](Connection& db) {
        auto s = db.cached(kPendingSql);
        s.bind(1, account)
            .bind(2, std::int64_t{device})
            .bind(3, after)
            .bind(4, static_cast<std::int64_t>(limit));
        std::vector<MailboxEntryPtr> entries;
        while (s.step()) {
            auto e = std::make_shared<MailboxEntry>();
            e->recipient = account;
            e->recipient_device = device;
            e->delivery.server_id = s.integer(0);
            e->delivery.is_receipt = s.integer(1) == kKindReceipt;
            e->delivery.is_notice = s.integer(1) == kKindNotice;
            e->delivery.from = s.text(2);
            e->delivery.from_device = static_cast<std::uint32_t>(s.integer(3));
            e->delivery.type = static_cast<int>(s.integer(4));
            e->delivery.body = s.blob(5);
            if (e->delivery.is_notice) {
                read_notice(e->delivery.body, e->delivery);
                e->delivery.body.clear();
            } else if (e->delivery.is_receipt) {
                const std::string_view body(reinterpret_cast<const char*>(e->delivery.body.data()),
                                            e->delivery.body.size());
                if (body == kReceiptKept) {
                    e->delivery.receipt_status = gateway::AckStatus::kept;
                } else if (body == kReceiptRead) {
                    e->delivery.receipt_status = gateway::AckStatus::read;
                } else if (!body.empty()) {
                    e->delivery.receipt_status = gateway::AckStatus::failed;
                    e->delivery.failure.assign(body);
                }
                e->delivery.body.clear();
            }
            e->delivery.ref = s.integer(6);
            e->delivery.server_time = s.integer(7);
            entries.push_back(std::move(e));
        }
        return entries;
    });
}

std::int64_t Mailbox::size() const {
    return db_.read([&](Connection& db) {
        auto s = db.cached("SELECT count(*) FROM mailbox");
        s.step();
        return s.integer(0);
    });
}

std::vector<std::pair<AccountKey, std::uint32_t>> Mailbox::devices_with_mail() const {
    return db_.read([&](Connection& db) {
        std::vector<std::pair<AccountKey, std::uint32_t>> out;
        auto s = db.cached("SELECT DISTINCT account, device FROM mailbox WHERE kind <> 3");
        while (s.step()) {
            out.emplace_back(s.integer(0), static_cast<std::uint32_t>(s.integer(1)));
        }
        return out;
    });
}

std::uint64_t Mailbox::queued_bytes_for(AccountKey recipient) const {
    return queued_.recipient_bytes(recipient);
}

std::uint64_t Mailbox::queued_bytes_from(AccountKey sender) const {
    return queued_.sender_bytes(sender);
}

// ---- writes ----

void Mailbox::store_messages(std::vector<NewMessage> messages,
                             Completion<std::vector<MailboxEntryPtr>> done) {
    for (const auto& m : messages) queued_.add(m.recipient, m.sender.key, m.body.size());
    queue_messages(std::move(messages), std::move(done));
}

QuotaVerdict Mailbox::store_messages_within_quota(std::vector<NewMessage> messages,
                                                  Completion<std::vector<MailboxEntryPtr>> done) {
    if (messages.empty()) {
        queue_messages(std::move(messages), std::move(done));
        return QuotaVerdict::within;
    }
    std::uint64_t bytes = 0;
    for (const auto& m : messages) bytes += m.body.size();
    const AccountKey recipient = messages.front().recipient, sender = messages.front().sender.key;
    auto verdict = queued_.reserve(recipient, sender, bytes);
    if (verdict != QuotaVerdict::within && db_.is_postgres()) {
        // Other nodes acknowledge messages this node counted: before refusing, count again
        // from what the database holds (a refusal is rare, so is this read). If it cannot be
        // read, the refusal stands.
        std::pair<std::uint64_t, std::uint64_t> counted;
        try {
            counted = db_.read([&](Connection& db) {
                auto s = db.cached(
                    "SELECT (SELECT coalesce(sum(length(body)), 0) FROM mailbox WHERE kind = 0 AND "
                    "account = ?1), (SELECT coalesce(sum(length(body)), 0) FROM mailbox WHERE "
                    "kind = 0 AND sender = ?2)");
                s.bind(1, recipient).bind(2, sender);
                s.step();
                return std::make_pair(static_cast<std::uint64_t>(s.integer(0)),
                                      static_cast<std::uint64_t>(s.integer(1)));
            });
            queued_.correct(recipient, counted.first, sender, counted.second);
            verdict = queued_.reserve(recipient, sender, bytes);
        } catch (const std::exception&) {
        }
    }
    if (verdict == QuotaVerdict::within) queue_messages(std::move(messages), std::move(done));
    return verdict;
}

void Mailbox::queue_messages(std::vector<NewMessage> messages,
                             Completion<std::vector<MailboxEntryPtr>> done) {
    // The bytes are counted by the caller; a commit that fails gives them back.
    std::vector<std::tuple<AccountKey, AccountKey, std::uint64_t>> counted;
    counted.reserve(messages.size());
    for (const auto& m : messages) counted.emplace_back(m.recipient, m.sender.key, m.body.size());
    auto job = std::make_shared<Database::Job>();
    auto entries = std::make_shared<std::vector<MailboxEntryPtr>>();
    auto input = std::make_shared<std::vector<NewMessage>>(std::move(messages));
    job->weight = input->size();
    job->is_send = true;
    job->apply = [input, entries](Connection& db) {
        entries->clear();
        std::int64_t now = unix_ms();
        for (auto& m : *input) {
            auto s = db.cached(
                "INSERT INTO mailbox(account, device, kind, sender, sender_device, type, body, "
                "receipt, created_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING "
                "server_id");
            s.bind(1, m.recipient)
                .bind(2, std::int64_t{m.recipient_device})
                .bind(3, m.sender.key)
                .bind(4, std::int64_t{m.sender_device})
                .bind(5, std::int64_t{m.type})
                .bind_blob(6, m.body)
                .bind(7, std::int64_t{m.receipt_requested ? 1 : 0})
                .bind(8, now);
            const std::int64_t new_id = s.step() ? s.integer(0) : 0;
            s.run();
            auto e = std::make_shared<MailboxEntry>();
            e->recipient = m.recipient;
            e->recipient_device = m.recipient_device;
            e->delivery.server_id = new_id;
            e->delivery.from = m.sender.id;
            e->delivery.from_device = m.sender_device;
            e->delivery.type = m.type;
            e->delivery.body = std::move(m.body);
            e->delivery.server_time = now;
            entries->push_back(std::move(e));
        }
    };
    gateway::Metrics* metrics = db_.metrics();
    job->done = [this, entries, counted = std::move(counted), done = std::move(done),
                 metrics](CommitStatus status) {
        if (status == CommitStatus::committed && metrics) {
            metrics->messages_stored.fetch_add(entries->size(), std::memory_order_relaxed);
        }
        if (status != CommitStatus::committed) {
            for (const auto& [recipient, sender, bytes] : counted) {
                queued_.release(recipient, sender, bytes);
            }
        }
        done(status, status == CommitStatus::committed ? std::move(*entries)
                                                       : std::vector<MailboxEntryPtr>{});
    };
    db_.submit(std::move(job));
}

void Mailbox::store_notice(NewNotice notice, Completion<MailboxEntryPtr> done) {
    auto job = std::make_shared<Database::Job>();
    auto entry = std::make_shared<MailboxEntryPtr>();
    auto input = std::make_shared<NewNotice>(std::move(notice));
    job->apply = [input, entry](Connection& db) {
        const NewNotice& n = *input;
        if (!notice_token_ok(n.notice, false) || !notice_token_ok(n.reference, true) ||
            !notice_token_ok(n.language, false) || !notice_token_ok(n.template_id, false)) {
            throw JobRejected();
        }
        std::string packed =
            n.notice + "\n" + n.reference + "\n" + n.language + "\n" + n.template_id;
        Bytes body(packed.begin(), packed.end());
        std::string sender_id;
        if (n.sender != 0) {
            auto s = db.cached("SELECT id FROM accounts WHERE key = ?1");
            s.bind(1, n.sender);
            if (!s.step()) throw JobRejected();
            sender_id = s.text(0);
        }
        std::int64_t now = unix_ms();
        auto s = db.cached(
            "INSERT INTO mailbox(account, device, kind, sender, sender_device, body, created_ms) "
            "VALUES (?1, ?2, 2, ?3, 0, ?4, ?5) RETURNING server_id");
        s.bind(1, n.recipient)
            .bind(2, std::int64_t{n.recipient_device})
            .bind(3, n.sender)
            .bind_blob(4, body)
            .bind(5, now);
        const std::int64_t new_id = s.step() ? s.integer(0) : 0;
        s.run();
        auto e = std::make_shared<MailboxEntry>();
        e->recipient = n.recipient;
        e->recipient_device = n.recipient_device;
        e->delivery.server_id = new_id;
        e->delivery.is_notice = true;
        e->delivery.from = sender_id;
        e->delivery.notice = n.notice;
        e->delivery.reference = n.reference;
        e->delivery.language = n.language;
        e->delivery.template_id = n.template_id;
        e->delivery.server_time = now;
        *entry = std::move(e);
    };
    job->done = [entry, done = std::move(done)](CommitStatus status) {
        done(status, status == CommitStatus::committed ? *entry : MailboxEntryPtr{});
    };
    db_.submit(std::move(job));
}

void Mailbox::acknowledge(AccountKey account, std::uint32_t device, std::int64_t server_id,
                          Completion<AckOutcome> done, std::string failure,
                          gateway::AckStatus status) {
    if (!failure.empty()) status = gateway::AckStatus::failed;
    auto job = std::make_shared<Database::Job>();
    auto outcome = std::make_shared<AckOutcome>();
    // The acknowledged message's sender and body size, for the queued-bytes quotas.
    auto released = std::make_shared<std::pair<std::int64_t, std::uint64_t>>();
    job->apply = [=](Connection& db) {
        *outcome = AckOutcome{};
        std::int64_t kind = 0, sender = 0, sender_device = 0, receipt = 0;
        *released = {0, 0};
        {
            auto s = db.cached(
                "SELECT kind, sender, sender_device, receipt, length(body) FROM mailbox "
                "WHERE server_id = ?1 AND account = ?2 AND device = ?3");
            s.bind(1, server_id).bind(2, account).bind(3, std::int64_t{device});
            if (!s.step()) return;
            kind = s.integer(0);
            sender = s.integer(1);
            sender_device = s.integer(2);
            receipt = s.integer(3);
            if (kind == kKindMessage)
                *released = {sender, static_cast<std::uint64_t>(s.integer(4))};
            s.run();
        }
        // A kept reply answers only "read"; "read" answers only a kept reply.
        if ((status == gateway::AckStatus::read) != (kind == kKindKept)) {
            *released = {0, 0};
            return;
        }
        const bool keep =
            status == gateway::AckStatus::kept && kind == kKindMessage && receipt != 0;
        db.cached(keep ? "UPDATE mailbox SET kind = 3, body = NULL WHERE server_id = ?1"
                       : "DELETE FROM mailbox WHERE server_id = ?1")
            .bind(1, server_id)
            .run();
        outcome->found = true;
        if ((kind != kKindMessage && kind != kKindKept) || receipt == 0) return;
        std::string acker_id;
        {
            auto s = db.cached("SELECT id FROM accounts WHERE key = ?1");
            s.bind(1, account);
            if (!s.step()) return;
            acker_id = s.text(0);
        }
        std::int64_t now = unix_ms();
        // A receipt's body holds its failure reason code or page status (no body: delivered).
        auto s = db.cached(
            "INSERT INTO mailbox(account, device, kind, sender, sender_device, ref, created_ms, "
            "body) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7) RETURNING server_id");
        s.bind(1, sender).bind(2, sender_device).bind(3, account).bind(4, std::int64_t{device});
        s.bind(5, server_id).bind(6, now);
        switch (status) {
            case gateway::AckStatus::delivered:
                s.bind_null(7);
                break;
            case gateway::AckStatus::failed:
                s.bind_blob(7, crypto::as_bytes(failure));
                break;
            case gateway::AckStatus::kept:
                s.bind_blob(7, crypto::as_bytes(kReceiptKept));
                break;
            case gateway::AckStatus::read:
                s.bind_blob(7, crypto::as_bytes(kReceiptRead));
                break;
        }
        const std::int64_t new_id = s.step() ? s.integer(0) : 0;
        s.run();
        auto e = std::make_shared<MailboxEntry>();
        e->recipient = sender;
        e->recipient_device = static_cast<std::uint32_t>(sender_device);
        e->delivery.server_id = new_id;
        e->delivery.is_receipt = true;
        e->delivery.from = acker_id;
        e->delivery.from_device = device;
        e->delivery.ref = server_id;
        e->delivery.failure = failure;
        e->delivery.receipt_status = status;
        e->delivery.server_time = now;
        outcome->receipt = std::move(e);
    };
    gateway::Metrics* metrics = db_.metrics();
    job->done = [this, account, outcome, released, done = std::move(done),
                 metrics](CommitStatus status) {
        if (status == CommitStatus::committed && outcome->found && metrics) {
            metrics->messages_acked.fetch_add(1, std::memory_order_relaxed);
        }
        if (status == CommitStatus::committed && released->second > 0) {
            queued_.release(account, released->first, released->second);
        }
        done(status, status == CommitStatus::committed ? std::move(*outcome) : AckOutcome{});
    };
    db_.submit(std::move(job));
}

void Mailbox::purge_expired(std::int64_t cutoff_ms, Completion<std::int64_t> done) {
    auto job = std::make_shared<Database::Job>();
    auto purged = std::make_shared<Purged>();
    job->apply = [=](Connection& db) { *purged = purge_before(db, cutoff_ms); };
    gateway::Metrics* metrics = db_.metrics();
    job->done = [this, purged, metrics, done = std::move(done)](CommitStatus status) {
        if (status == CommitStatus::committed) {
            for (const auto& [recipient, sender, bytes] : purged->bytes) {
                queued_.release(recipient, sender, bytes);
            }
            if (metrics)
                metrics->messages_expired.fetch_add(static_cast<std::uint64_t>(purged->rows));
        }
        done(status, status == CommitStatus::committed ? purged->rows : 0);
    };
    db_.submit(std::move(job));
}

}  // namespace ariadne::storage
