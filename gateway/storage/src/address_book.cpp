#include "ariadne/storage/address_book.h"

namespace ariadne::storage {

AddressBook::AddressBook(const policies::PolicyStore& store) : db_(store) {}

void AddressBook::link_number(const SealedAddress& number, const policies::CaseCode& code,
                              bool verified) {
    auto db = db_.lock();
    Transaction tx(*db);
    db->cached(
          "INSERT INTO gateway_sealed_addresses(address_ref, sealed) VALUES(?1, ?2) "
          "ON CONFLICT(address_ref) DO UPDATE SET sealed = excluded.sealed")
        .bind(1, number.address_ref)
        .bind_blob(2, number.sealed)
        .run();
    db->cached(
          "INSERT INTO gateway_sms_links(address_ref, case_code, verified) VALUES(?1, ?2, ?3) "
          "ON CONFLICT(address_ref) DO UPDATE SET case_code = excluded.case_code, "
          "verified = excluded.verified")
        .bind(1, number.address_ref)
        .bind(2, code.str())
        .bind(3, verified ? 1 : 0)
        .run();
    tx.commit();
}

void AddressBook::keep_address(const SealedAddress& address) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_sealed_addresses(address_ref, sealed) VALUES(?, ?) ON CONFLICT DO "
          "NOTHING")
        .bind(1, address.address_ref)
        .bind_blob(2, address.sealed)
        .run();
}

std::optional<SmsLink> AddressBook::find_link(const std::string& address_ref) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT case_code, verified FROM gateway_sms_links WHERE address_ref = ?1");
    s.bind(1, address_ref);
    if (!s.step()) return std::nullopt;
    return SmsLink{policies::CaseCode(s.text(0)), s.integer(1) != 0};
}

std::optional<SealedAddress> AddressBook::verified_number(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT l.address_ref, a.sealed FROM gateway_sms_links l JOIN "
        "gateway_sealed_addresses a ON a.address_ref = l.address_ref "
        "WHERE l.case_code = ?1 AND l.verified = 1 LIMIT 1");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return SealedAddress{s.text(0), s.blob(1)};
}

std::optional<SealedAddress> AddressBook::sealed_address(const std::string& address_ref) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT sealed FROM gateway_sealed_addresses WHERE address_ref = ?1");
    s.bind(1, address_ref);
    if (!s.step()) return std::nullopt;
    return SealedAddress{address_ref, s.blob(0)};
}

std::optional<bool> AddressBook::thread_verified(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached(
        "SELECT max(verified) FROM gateway_sms_links WHERE case_code = ?1 HAVING count(*) > 0");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.integer(0) != 0;
}

}  // namespace ariadne::storage
