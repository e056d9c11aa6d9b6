// SealedStore's records: the local identity, pre-keys, signed pre-keys, sessions, remote
// identities and sender keys, each row sealed with its own identity as associated data.
#include <sqlite3.h>

#include "ariadne/crypto/hmac.h"
#include "ariadne/crypto/store.h"
#include "sealed_store_detail.h"

namespace ariadne::crypto {

using detail::device_field;
using detail::row_ad;

// ---------------------------------------------------------------------------------------------
// Local identity

std::optional<LocalIdentity> SealedStore::local_identity() {
    Statement s(*this,
                "SELECT registration_id, public_key, private_key FROM local_identity WHERE id = 1");
    if (!s.step()) return std::nullopt;
    LocalIdentity identity;
    identity.registration_id = static_cast<std::uint32_t>(s.column_int(0));
    identity.public_key = s.column_blob(1);
    identity.private_key = open_sealed(row_ad("local_identity", {"1"}), s.column_blob(2));
    return identity;
}

void SealedStore::set_local_identity(const LocalIdentity& identity) {
    if (local_identity()) {
        throw Error(ErrorCode::invalid_argument, "this store already holds an identity");
    }
    Statement s(*this,
                "INSERT INTO local_identity(id, registration_id, public_key, private_key) "
                "VALUES(1, ?1, ?2, ?3)");
    s.bind(1, identity.registration_id)
        .bind(2, identity.public_key)
        .bind(3, seal(row_ad("local_identity", {"1"}), identity.private_key.view()))
        .run();
}

// ---------------------------------------------------------------------------------------------
// Pre-keys

std::optional<SecretBytes> SealedStore::load_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT record FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("pre_keys", {std::to_string(id)}), s.column_blob(0));
}

void SealedStore::store_pre_key(std::uint32_t id, ByteView record) {
    Statement s(*this,
                "INSERT INTO pre_keys(id, record) VALUES(?1, ?2) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id).bind(2, seal(row_ad("pre_keys", {std::to_string(id)}), record)).run();
}

bool SealedStore::contains_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT 1 FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
}

void SealedStore::remove_pre_key(std::uint32_t id) {
    if (id == kLastResortPreKeyId) return;
    Statement s(*this, "DELETE FROM pre_keys WHERE id = ?1");
    s.bind(1, id).run();
}

std::vector<std::uint32_t> SealedStore::one_time_pre_key_ids() {
    Statement s(*this, "SELECT id FROM pre_keys WHERE id <> ?1 ORDER BY id");
    s.bind(1, kLastResortPreKeyId);
    std::vector<std::uint32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::uint32_t>(s.column_int(0)));
    return ids;
}

std::optional<std::uint32_t> SealedStore::take_unissued_pre_key() {
    std::optional<std::uint32_t> id;
    {
        Statement s(*this,
                    "SELECT id FROM pre_keys WHERE issued = 0 AND id <> ?1 ORDER BY id "
                    "LIMIT 1");
        s.bind(1, kLastResortPreKeyId);
        if (s.step()) id = static_cast<std::uint32_t>(s.column_int(0));
    }
    if (id) mark_pre_key_issued(*id);
    return id;
}

void SealedStore::mark_pre_key_issued(std::uint32_t id) {
    Statement s(*this, "UPDATE pre_keys SET issued = 1 WHERE id = ?1");
    s.bind(1, id).run();
}

std::uint32_t SealedStore::next_pre_key_id() {
    auto id = meta_int("next_pre_key_id");
    if (!id || *id < 1 || *id >= kLastResortPreKeyId) return 1;
    return static_cast<std::uint32_t>(*id);
}

void SealedStore::set_next_pre_key_id(std::uint32_t id) { set_meta("next_pre_key_id", id); }

// ---------------------------------------------------------------------------------------------
// Signed pre-keys

std::optional<SecretBytes> SealedStore::load_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT record FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("signed_pre_keys", {std::to_string(id)}), s.column_blob(0));
}

void SealedStore::store_signed_pre_key(std::uint32_t id, ByteView record, std::int64_t created_at) {
    Statement s(*this,
                "INSERT INTO signed_pre_keys(id, record, created_at) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id)
        .bind(2, seal(row_ad("signed_pre_keys", {std::to_string(id)}), record))
        .bind(3, created_at)
        .run();
}

bool SealedStore::contains_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "SELECT 1 FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
}

void SealedStore::remove_signed_pre_key(std::uint32_t id) {
    Statement s(*this, "DELETE FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id).run();
}

std::vector<SignedPreKeyInfo> SealedStore::signed_pre_keys() {
    Statement s(*this, "SELECT id, created_at, superseded_at FROM signed_pre_keys ORDER BY id");
    std::vector<SignedPreKeyInfo> out;
    while (s.step()) {
        SignedPreKeyInfo info;
        info.id = static_cast<std::uint32_t>(s.column_int(0));
        info.created_at = s.column_int(1);
        if (!s.column_null(2)) info.superseded_at = s.column_int(2);
        out.push_back(info);
    }
    return out;
}

void SealedStore::supersede_signed_pre_keys_except(std::uint32_t current_id, std::int64_t now) {
    Statement s(*this,
                "UPDATE signed_pre_keys SET superseded_at = ?2 "
                "WHERE id <> ?1 AND superseded_at IS NULL");
    s.bind(1, current_id).bind(2, now).run();
}

// ---------------------------------------------------------------------------------------------
// Sessions

std::optional<SecretBytes> SealedStore::load_session(const Address& a) {
    Statement s(*this, "SELECT record FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sessions", {a.name, device_field(a.device_id)}), s.column_blob(0));
}

void SealedStore::store_session(const Address& a, ByteView record) {
    Statement s(*this,
                "INSERT INTO sessions(name_tag, device_id, record) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(name_tag, device_id) DO UPDATE SET record = excluded.record");
    s.bind(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind(3, seal(row_ad("sessions", {a.name, device_field(a.device_id)}), record))
        .run();
}

bool SealedStore::contains_session(const Address& a) {
    Statement s(*this, "SELECT 1 FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    return s.step();
}

bool SealedStore::delete_session(const Address& a) {
    Statement s(*this, "DELETE FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id).run();
    return sqlite3_changes(db_) > 0;
}

int SealedStore::delete_all_sessions(std::string_view name) {
    Statement s(*this, "DELETE FROM sessions WHERE name_tag = ?1");
    s.bind(1, name_tag(name)).run();
    return sqlite3_changes(db_);
}

std::vector<std::int32_t> SealedStore::session_device_ids(std::string_view name) {
    Statement s(*this, "SELECT device_id FROM sessions WHERE name_tag = ?1 ORDER BY device_id");
    s.bind(1, name_tag(name));
    std::vector<std::int32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::int32_t>(s.column_int(0)));
    return ids;
}

// ---------------------------------------------------------------------------------------------
// Remote identities

std::optional<Bytes> SealedStore::remote_identity(const Address& a) {
    Statement s(*this,
                "SELECT identity_key FROM remote_identities "
                "WHERE name_tag = ?1 AND device_id = ?2");
    s.bind(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    SecretBytes key = open_sealed(row_ad("remote_identities", {a.name, device_field(a.device_id)}),
                                  s.column_blob(0));
    return Bytes(key.data(), key.data() + key.size());
}

void SealedStore::save_remote_identity(const Address& a, std::optional<ByteView> identity_key) {
    if (!identity_key) {
        Statement s(*this, "DELETE FROM remote_identities WHERE name_tag = ?1 AND device_id = ?2");
        s.bind(1, name_tag(a.name)).bind(2, a.device_id).run();
        return;
    }
    Statement s(*this,
                "INSERT INTO remote_identities(name_tag, device_id, identity_key) "
                "VALUES(?1, ?2, ?3) ON CONFLICT(name_tag, device_id) "
                "DO UPDATE SET identity_key = excluded.identity_key");
    s.bind(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind(3,
              seal(row_ad("remote_identities", {a.name, device_field(a.device_id)}), *identity_key))
        .run();
}

// ---------------------------------------------------------------------------------------------
// Sender keys

std::optional<SecretBytes> SealedStore::load_sender_key(ByteView group_id, const Address& a) {
    std::string group(group_id.begin(), group_id.end());
    Statement s(*this,
                "SELECT record FROM sender_keys "
                "WHERE group_tag = ?1 AND name_tag = ?2 AND device_id = ?3");
    s.bind(1, group_tag(group)).bind(2, name_tag(a.name)).bind(3, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}),
                       s.column_blob(0));
}

void SealedStore::store_sender_key(ByteView group_id, const Address& a, ByteView record) {
    std::string group(group_id.begin(), group_id.end());
    Statement s(*this,
                "INSERT INTO sender_keys(group_tag, name_tag, device_id, record) "
                "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(group_tag, name_tag, device_id) "
                "DO UPDATE SET record = excluded.record");
    s.bind(1, group_tag(group))
        .bind(2, name_tag(a.name))
        .bind(3, a.device_id)
        .bind(4, seal(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}), record))
        .run();
}

}  // namespace ariadne::crypto
