#include "ariadne/storage/case_links.h"

namespace ariadne::storage {

CaseLinks::CaseLinks(const policies::PolicyStore& store) : db_(store) {}

void CaseLinks::link(const std::string& account, const policies::CaseCode& code,
                     bool duress_account) {
    auto db = db_.lock();
    db->cached("INSERT INTO gateway_survivor_cases(account, case_code, duress) VALUES(?,?,?)")
        .bind(1, account)
        .bind(2, code.str())
        .bind(3, duress_account ? 1 : 0)
        .run();
}

std::optional<CaseLink> CaseLinks::find(const std::string& account) const {
    auto db = db_.lock();
    // Runs for every message to a survivor: cached, never prepared per call.
    auto s = db->cached("SELECT case_code, duress FROM gateway_survivor_cases WHERE account = ?");
    s.bind(1, account);
    if (!s.step()) return std::nullopt;
    return CaseLink{policies::CaseCode(s.text(0)), s.integer(1) != 0};
}

std::optional<std::string> CaseLinks::account_of(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s =
        db->cached("SELECT account FROM gateway_survivor_cases WHERE case_code = ? AND duress = 0");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

std::optional<policies::ChannelKind> CaseLinks::last_inbound_channel(
    const std::string& account) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT kind FROM gateway_last_inbound_channel WHERE account = ?");
    s.bind(1, account);
    if (!s.step()) return std::nullopt;
    return policies::parse_channel_kind(s.text(0));
}

void CaseLinks::set_last_inbound_channel(const std::string& account, policies::ChannelKind kind) {
    auto db = db_.lock();
    db->cached("INSERT INTO gateway_last_inbound_channel(account, kind) VALUES (?, ?) "
               "ON CONFLICT(account) DO UPDATE SET kind = excluded.kind")
        .bind(1, account)
        .bind(2, policies::to_string(kind))
        .run();
}

void CaseLinks::set_caseworker_initials(const std::string& account,
                                        const policies::Initials& initials) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_caseworker_initials(account, initials) VALUES(?,?) "
          "ON CONFLICT(account) DO UPDATE SET initials = excluded.initials")
        .bind(1, account)
        .bind(2, initials.str())
        .run();
}

std::optional<std::string> CaseLinks::caseworker_initials(const std::string& account) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT initials FROM gateway_caseworker_initials WHERE account = ?");
    s.bind(1, account);
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

void CaseLinks::set_new_device_notice(const policies::CaseCode& code, bool notify) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_new_device_notices(case_code, notify) VALUES(?,?) "
          "ON CONFLICT(case_code) DO UPDATE SET notify = excluded.notify")
        .bind(1, code.str())
        .bind(2, notify ? 1 : 0)
        .run();
}

bool CaseLinks::new_device_notice(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT notify FROM gateway_new_device_notices WHERE case_code = ?");
    s.bind(1, code.str());
    return s.step() && s.integer(0) != 0;
}

void CaseLinks::set_handover_note(const policies::CaseCode& code, const crypto::Bytes& sealed,
                                  policies::Instant at) {
    auto db = db_.lock();
    db->cached(
          "INSERT INTO gateway_handover_notes(case_code, sealed, set_at_us) VALUES(?,?,?) "
          "ON CONFLICT(case_code) DO UPDATE SET sealed = excluded.sealed, "
          "set_at_us = excluded.set_at_us")
        .bind(1, code.str())
        .bind_blob(2, sealed)
        .bind(3, policies::to_micros(at))
        .run();
}

std::optional<crypto::Bytes> CaseLinks::handover_note(const policies::CaseCode& code) const {
    auto db = db_.lock();
    auto s = db->cached("SELECT sealed FROM gateway_handover_notes WHERE case_code = ?");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.blob(0);
}

}  // namespace ariadne::storage
