// SealedStore's records: the local identity, pre-keys, signed pre-keys, sessions, remote
// identities and sender keys, each row sealed with its own identity as associated data.
// Every method turns the SQLite wrapper's errors into Error(storage) (detail::throw_storage).
#include "ariadne/crypto/hmac.h"
#include "ariadne/crypto/store.h"
#include "sealed_store_detail.h"

namespace ariadne::crypto {

using detail::device_field;
using detail::row_ad;

// ---------------------------------------------------------------------------------------------
// Local identity

std::optional<LocalIdentity> SealedStore::local_identity() try {
    auto s = db_->cached(
        "SELECT registration_id, public_key, private_key FROM local_identity WHERE id = 1");
    if (!s.step()) return std::nullopt;
    LocalIdentity identity;
    identity.registration_id = static_cast<std::uint32_t>(s.integer(0));
    identity.public_key = s.blob(1);
    identity.private_key = open_sealed(row_ad("local_identity", {"1"}), s.blob(2));
    return identity;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::set_local_identity(const LocalIdentity& identity) try {
    if (local_identity()) {
        throw Error(ErrorCode::invalid_argument, "this store already holds an identity");
    }
    auto s = db_->cached(
        "INSERT INTO local_identity(id, registration_id, public_key, private_key) "
        "VALUES(1, ?1, ?2, ?3)");
    s.bind(1, identity.registration_id)
        .bind_blob(2, identity.public_key)
        .bind_blob(3, seal(row_ad("local_identity", {"1"}), identity.private_key.view()))
        .run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Pre-keys

std::optional<SecretBytes> SealedStore::load_pre_key(std::uint32_t id) try {
    auto s = db_->cached("SELECT record FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("pre_keys", {std::to_string(id)}), s.blob(0));
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::store_pre_key(std::uint32_t id, ByteView record) try {
    auto s = db_->cached(
        "INSERT INTO pre_keys(id, record) VALUES(?1, ?2) "
        "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id).bind_blob(2, seal(row_ad("pre_keys", {std::to_string(id)}), record)).run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

bool SealedStore::contains_pre_key(std::uint32_t id) try {
    auto s = db_->cached("SELECT 1 FROM pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::remove_pre_key(std::uint32_t id) try {
    if (id == kLastResortPreKeyId) return;
    auto s = db_->cached("DELETE FROM pre_keys WHERE id = ?1");
    s.bind(1, id).run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

std::vector<std::uint32_t> SealedStore::one_time_pre_key_ids() try {
    auto s = db_->cached("SELECT id FROM pre_keys WHERE id <> ?1 ORDER BY id");
    s.bind(1, kLastResortPreKeyId);
    std::vector<std::uint32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::uint32_t>(s.integer(0)));
    return ids;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

std::optional<std::uint32_t> SealedStore::take_unissued_pre_key() try {
    std::optional<std::uint32_t> id;
    {
        auto s = db_->cached(
            "SELECT id FROM pre_keys WHERE issued = 0 AND id <> ?1 ORDER BY id "
            "LIMIT 1");
        s.bind(1, kLastResortPreKeyId);
        if (s.step()) id = static_cast<std::uint32_t>(s.integer(0));
    }
    if (id) mark_pre_key_issued(*id);
    return id;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::mark_pre_key_issued(std::uint32_t id) try {
    auto s = db_->cached("UPDATE pre_keys SET issued = 1 WHERE id = ?1");
    s.bind(1, id).run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

std::uint32_t SealedStore::next_pre_key_id() try {
    auto id = meta_int("next_pre_key_id");
    if (!id || *id < 1 || *id >= kLastResortPreKeyId) return 1;
    return static_cast<std::uint32_t>(*id);
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::set_next_pre_key_id(std::uint32_t id) try {
    set_meta("next_pre_key_id", id);
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Signed pre-keys

std::optional<SecretBytes> SealedStore::load_signed_pre_key(std::uint32_t id) try {
    auto s = db_->cached("SELECT record FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("signed_pre_keys", {std::to_string(id)}), s.blob(0));
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::store_signed_pre_key(std::uint32_t id, ByteView record,
                                       std::int64_t created_at) try {
    auto s = db_->cached(
        "INSERT INTO signed_pre_keys(id, record, created_at) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(id) DO UPDATE SET record = excluded.record");
    s.bind(1, id)
        .bind_blob(2, seal(row_ad("signed_pre_keys", {std::to_string(id)}), record))
        .bind(3, created_at)
        .run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

bool SealedStore::contains_signed_pre_key(std::uint32_t id) try {
    auto s = db_->cached("SELECT 1 FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::remove_signed_pre_key(std::uint32_t id) try {
    auto s = db_->cached("DELETE FROM signed_pre_keys WHERE id = ?1");
    s.bind(1, id).run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

std::vector<SignedPreKeyInfo> SealedStore::signed_pre_keys() try {
    auto s = db_->cached("SELECT id, created_at, superseded_at FROM signed_pre_keys ORDER BY id");
    std::vector<SignedPreKeyInfo> out;
    while (s.step()) {
        SignedPreKeyInfo info;
        info.id = static_cast<std::uint32_t>(s.integer(0));
        info.created_at = s.integer(1);
        if (!s.is_null(2)) info.superseded_at = s.integer(2);
        out.push_back(info);
    }
    return out;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::supersede_signed_pre_keys_except(std::uint32_t current_id, std::int64_t now) try {
    auto s = db_->cached(
        "UPDATE signed_pre_keys SET superseded_at = ?2 "
        "WHERE id <> ?1 AND superseded_at IS NULL");
    s.bind(1, current_id).bind(2, now).run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Sessions

std::optional<SecretBytes> SealedStore::load_session(const Address& a) try {
    auto s = db_->cached("SELECT record FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind_blob(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sessions", {a.name, device_field(a.device_id)}), s.blob(0));
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::store_session(const Address& a, ByteView record) try {
    auto s = db_->cached(
        "INSERT INTO sessions(name_tag, device_id, record) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(name_tag, device_id) DO UPDATE SET record = excluded.record");
    s.bind_blob(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind_blob(3, seal(row_ad("sessions", {a.name, device_field(a.device_id)}), record))
        .run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

bool SealedStore::contains_session(const Address& a) try {
    auto s = db_->cached("SELECT 1 FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind_blob(1, name_tag(a.name)).bind(2, a.device_id);
    return s.step();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

bool SealedStore::delete_session(const Address& a) try {
    auto s = db_->cached("DELETE FROM sessions WHERE name_tag = ?1 AND device_id = ?2");
    s.bind_blob(1, name_tag(a.name)).bind(2, a.device_id).run();
    return db_->changes() > 0;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

int SealedStore::delete_all_sessions(std::string_view name) try {
    auto s = db_->cached("DELETE FROM sessions WHERE name_tag = ?1");
    s.bind_blob(1, name_tag(name)).run();
    return db_->changes();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

std::vector<std::int32_t> SealedStore::session_device_ids(std::string_view name) try {
    auto s = db_->cached("SELECT device_id FROM sessions WHERE name_tag = ?1 ORDER BY device_id");
    s.bind_blob(1, name_tag(name));
    std::vector<std::int32_t> ids;
    while (s.step()) ids.push_back(static_cast<std::int32_t>(s.integer(0)));
    return ids;
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Remote identities

std::optional<Bytes> SealedStore::remote_identity(const Address& a) try {
    auto s = db_->cached(
        "SELECT identity_key FROM remote_identities "
        "WHERE name_tag = ?1 AND device_id = ?2");
    s.bind_blob(1, name_tag(a.name)).bind(2, a.device_id);
    if (!s.step()) return std::nullopt;
    SecretBytes key =
        open_sealed(row_ad("remote_identities", {a.name, device_field(a.device_id)}), s.blob(0));
    return Bytes(key.data(), key.data() + key.size());
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::save_remote_identity(const Address& a, std::optional<ByteView> identity_key) try {
    if (!identity_key) {
        auto s =
            db_->cached("DELETE FROM remote_identities WHERE name_tag = ?1 AND device_id = ?2");
        s.bind_blob(1, name_tag(a.name)).bind(2, a.device_id).run();
        return;
    }
    auto s = db_->cached(
        "INSERT INTO remote_identities(name_tag, device_id, identity_key) "
        "VALUES(?1, ?2, ?3) ON CONFLICT(name_tag, device_id) "
        "DO UPDATE SET identity_key = excluded.identity_key");
    s.bind_blob(1, name_tag(a.name))
        .bind(2, a.device_id)
        .bind_blob(3, seal(row_ad("remote_identities", {a.name, device_field(a.device_id)}),
                           *identity_key))
        .run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

// ---------------------------------------------------------------------------------------------
// Sender keys

std::optional<SecretBytes> SealedStore::load_sender_key(ByteView group_id, const Address& a) try {
    std::string group(group_id.begin(), group_id.end());
    auto s = db_->cached(
        "SELECT record FROM sender_keys "
        "WHERE group_tag = ?1 AND name_tag = ?2 AND device_id = ?3");
    s.bind_blob(1, group_tag(group)).bind_blob(2, name_tag(a.name)).bind(3, a.device_id);
    if (!s.step()) return std::nullopt;
    return open_sealed(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}),
                       s.blob(0));
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

void SealedStore::store_sender_key(ByteView group_id, const Address& a, ByteView record) try {
    std::string group(group_id.begin(), group_id.end());
    auto s = db_->cached(
        "INSERT INTO sender_keys(group_tag, name_tag, device_id, record) "
        "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(group_tag, name_tag, device_id) "
        "DO UPDATE SET record = excluded.record");
    s.bind_blob(1, group_tag(group))
        .bind_blob(2, name_tag(a.name))
        .bind(3, a.device_id)
        .bind_blob(4,
                   seal(row_ad("sender_keys", {group, a.name, device_field(a.device_id)}), record))
        .run();
} catch (const sqlite::Error& e) {
    detail::throw_storage(e);
}

}  // namespace ariadne::crypto
