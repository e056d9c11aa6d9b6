#include "ariadne/storage/sms_outbox.h"

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

SmsOutbox::SmsOutbox(const policies::PolicyStore& store) : store_(store) {}

std::vector<SmsOutboxPart> SmsOutbox::parts(std::int64_t server_id) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto s = db.prepare(
        "SELECT part, account, state FROM gateway_sms_outbox WHERE server_id = ?1 ORDER BY part");
    s.bind(1, server_id);
    std::vector<SmsOutboxPart> out;
    while (s.step()) out.push_back({s.integer(0), s.text(1), s.text(2)});
    return out;
}

void SmsOutbox::add_sending(std::int64_t server_id, std::int64_t part, const std::string& account) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "INSERT INTO gateway_sms_outbox(server_id, part, account, state) "
          "VALUES(?1, ?2, ?3, 'sending') ON CONFLICT DO NOTHING")
        .bind(1, server_id)
        .bind(2, part)
        .bind(3, account)
        .run();
}

void SmsOutbox::mark_sent(std::int64_t server_id, std::int64_t part, const std::string& account) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "UPDATE gateway_sms_outbox SET state = 'sent' WHERE server_id = ?1 AND part = ?2 "
          "AND account = ?3 AND state = 'sending'")
        .bind(1, server_id)
        .bind(2, part)
        .bind(3, account)
        .run();
}

bool SmsOutbox::set_final(std::int64_t server_id, std::int64_t part, const std::string& account,
                          const std::string& state) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "UPDATE gateway_sms_outbox SET state = ?4 WHERE server_id = ?1 AND part = ?2 "
          "AND account = ?3 AND state IN ('sending', 'sent')")
        .bind(1, server_id)
        .bind(2, part)
        .bind(3, account)
        .bind(4, state)
        .run();
    return db.changes() > 0;
}

void SmsOutbox::fail_from(std::int64_t server_id, std::int64_t first_part,
                          const std::string& account, const std::string& state) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare(
          "UPDATE gateway_sms_outbox SET state = ?4 WHERE server_id = ?1 "
          "AND part >= ?2 AND account = ?3 AND state IN ('sending', 'sent')")
        .bind(1, server_id)
        .bind(2, first_part)
        .bind(3, account)
        .bind(4, state)
        .run();
}

void SmsOutbox::forget(std::int64_t server_id, const std::string& account) {
    auto guard = store_.lock();
    Connection db(store_.connection());
    db.prepare("DELETE FROM gateway_sms_outbox WHERE server_id = ?1 AND account = ?2")
        .bind(1, server_id)
        .bind(2, account)
        .run();
}

}  // namespace ariadne::storage
