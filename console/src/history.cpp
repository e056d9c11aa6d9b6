// The console's history store: messages and conversation marks in one SQLite file (through
// ariadne/sqlite), every value sealed (crypto/aead.h) and every account found by a keyed tag.
// Every public method turns the SQLite wrapper's errors into crypto::Error(storage).
#include "ariadne/console/history.h"

#include <argon2.h>
#include <sqlite3.h>

#include <mutex>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/aead.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/hmac.h"
#include "ariadne/sqlite/sqlite.h"

namespace ariadne::console {

using crypto::Bytes;
using crypto::ByteView;
using crypto::Error;
using crypto::ErrorCode;
using crypto::SecretBytes;
using Json = nlohmann::json;

const char* to_string(DeliveryState s) noexcept {
    switch (s) {
        case DeliveryState::received:
            return "received";
        case DeliveryState::sending:
            return "sending";
        case DeliveryState::committed:
            return "committed";
        case DeliveryState::delivered:
            return "delivered";
        case DeliveryState::waiting_on_page:
            return "waiting_on_page";
        case DeliveryState::read_on_page:
            return "read_on_page";
        case DeliveryState::refused:
            return "refused";
        case DeliveryState::failed:
            return "failed";
        case DeliveryState::not_delivered:
            return "not_delivered";
    }
    return "unknown";
}

namespace {

DeliveryState state_from(const std::string& s) {
    for (auto st :
         {DeliveryState::received, DeliveryState::sending, DeliveryState::committed,
          DeliveryState::delivered, DeliveryState::waiting_on_page, DeliveryState::read_on_page,
          DeliveryState::refused, DeliveryState::failed, DeliveryState::not_delivered}) {
        if (s == to_string(st)) return st;
    }
    return DeliveryState::failed;
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS conversations(tag BLOB PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT, tag BLOB NOT NULL, inbound INTEGER NOT NULL,
  time_ms INTEGER NOT NULL, server_id INTEGER UNIQUE, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_tag ON messages(tag, id);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages(time_ms);
CREATE TABLE IF NOT EXISTS sent_ids(server_id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL);
)";

}  // namespace

struct History::Impl {
    struct Argon2Params {
        std::uint32_t t, m, p;
    };

    std::unique_ptr<sqlite::Connection> db;
    std::mutex mu;
    SecretBytes seal_key;
    SecretBytes index_key;

    // The history's SQLite failures, in its own words: "The console history could not be
    // read: no such table: meta."
    [[noreturn]] static void fail(const sqlite::Error& e) {
        const char* what = "be read or written";
        switch (e.operation()) {
            case sqlite::Operation::create_file:
                // The sentence the history has always given when SQLite could not create it.
                throw Error(ErrorCode::storage,
                            "The console history could not be opened: unable to open database "
                            "file.");
            case sqlite::Operation::open:
                what = "be opened";
                break;
            case sqlite::Operation::prepare:
                what = "be read";
                break;
            case sqlite::Operation::exec:
                what = "be updated";
                break;
            default:
                break;
        }
        throw Error(ErrorCode::storage,
                    std::string("The console history could not ") + what + ": " + e.reason() + ".");
    }

    std::optional<Bytes> meta(const char* k) {
        auto st = db->prepare("SELECT v FROM meta WHERE k = ?");
        st.bind(1, k);
        if (!st.step()) return std::nullopt;
        return st.blob(0);
    }
    void set_meta(const char* k, ByteView v) {
        auto st = db->prepare("INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)");
        st.bind(1, k).bind_blob(2, v);
        st.step();
    }

    Bytes seal(const std::string& ad, ByteView plain) const {
        try {
            return crypto::seal(seal_key.view(), ad, plain);
        } catch (const Error&) {
            throw Error(ErrorCode::internal, "Sealing a history record failed.");
        }
    }

    SecretBytes open_sealed(const std::string& ad, ByteView sealed) const {
        try {
            // History files of earlier releases hold unversioned values; they keep opening.
            return crypto::open_sealed(seal_key.view(), ad, sealed,
                                       crypto::Accept::versioned_or_unversioned);
        } catch (const crypto::OpenError& e) {
            if (e.reason() == crypto::OpenError::Reason::too_short) {
                throw Error(ErrorCode::corrupt_record, "A history record is damaged.");
            }
            throw Error(ErrorCode::corrupt_record,
                        "A history record failed to open (damaged, or moved to another row).");
        }
    }

    Bytes tag_of(const std::string& account) const {
        return crypto::hmac_sha256(index_key.view(), crypto::as_bytes(account));
    }

    static std::string message_ad(std::int64_t id, ByteView tag, std::int64_t time_ms) {
        return "message|" + std::to_string(id) + "|" + crypto::hex_encode(tag) + "|" +
               std::to_string(time_ms);
    }
    static std::string conversation_ad(ByteView tag) {
        return "conversation|" + crypto::hex_encode(tag);
    }

    Json open_json(const std::string& ad, ByteView sealed) {
        SecretBytes plain = open_sealed(ad, sealed);
        return Json::parse(plain.data(), plain.data() + plain.size());
    }
    Bytes seal_json(const std::string& ad, const Json& j) {
        std::string text = j.dump();
        Bytes b = seal(ad, crypto::as_bytes(text));
        crypto::wipe(text.data(), text.size());
        return b;
    }

    ConversationMarks load_marks(const std::string& account) {
        Bytes tag = tag_of(account);
        auto st = db->prepare("SELECT sealed FROM conversations WHERE tag = ?");
        st.bind_blob(1, tag);
        ConversationMarks m;
        m.account = account;
        if (st.step()) {
            Json j = open_json(conversation_ad(tag), st.blob(0));
            m.last_read_id = j.value("last_read_id", std::int64_t{0});
            m.verified_number = j.value("verified_number", "");
        }
        return m;
    }
    void save_marks(const ConversationMarks& m) {
        Bytes tag = tag_of(m.account);
        Json j = {{"account", m.account},
                  {"last_read_id", m.last_read_id},
                  {"verified_number", m.verified_number}};
        auto st = db->prepare("INSERT OR REPLACE INTO conversations(tag, sealed) VALUES (?, ?)");
        st.bind_blob(1, tag).bind_blob(2, seal_json(conversation_ad(tag), j));
        st.step();
    }
    void ensure_conversation(const std::string& account) {
        auto st = db->prepare("SELECT 1 FROM conversations WHERE tag = ?");
        st.bind_blob(1, tag_of(account));
        if (!st.step()) save_marks(load_marks(account));
    }

    std::int64_t next_id() {
        // AUTOINCREMENT's counter: ids never go back, even after retention purged them all,
        // so a conversation's last-read mark stays meaningful.
        auto st = db->prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'");
        return st.step() ? st.integer(0) + 1 : 1;
    }

    std::int64_t insert(const std::string& account, bool inbound, std::int64_t time_ms,
                        std::optional<std::int64_t> server_id, const Json& body) {
        ensure_conversation(account);
        std::int64_t id = next_id();
        Bytes tag = tag_of(account);
        auto st = db->prepare(
            "INSERT INTO messages(id, tag, inbound, time_ms, server_id, sealed) "
            "VALUES (?, ?, ?, ?, ?, ?)");
        st.bind(1, id).bind_blob(2, tag).bind(3, inbound ? 1 : 0).bind(4, time_ms);
        if (server_id) st.bind(5, *server_id);
        st.bind_blob(6, seal_json(message_ad(id, tag, time_ms), body));
        st.step();
        return id;
    }

    // Reads, changes and re-seals message `id`.
    template <typename F>
    bool update(std::int64_t id, F&& change) {
        Bytes tag;
        std::int64_t time_ms = 0;
        Json j;
        {
            auto st = db->prepare("SELECT tag, time_ms, sealed FROM messages WHERE id = ?");
            st.bind(1, id);
            if (!st.step()) return false;
            tag = st.blob(0);
            time_ms = st.integer(1);
            j = open_json(message_ad(id, tag, time_ms), st.blob(2));
        }
        change(j);
        auto st = db->prepare("UPDATE messages SET sealed = ? WHERE id = ?");
        st.bind_blob(1, seal_json(message_ad(id, tag, time_ms), j)).bind(2, id);
        st.step();
        return true;
    }

    StoredMessage to_message(std::int64_t id, std::int64_t time_ms, const Json& j) {
        StoredMessage m;
        m.id = id;
        m.account = j.value("account", "");
        m.outbound = j.value("out", false);
        m.time_ms = time_ms;
        m.text = j.value("text", "");
        m.state = state_from(j.value("state", "failed"));
        m.refusal = j.value("refusal", "");
        m.channel = j.value("channel", "");
        m.from_gateway = j.value("from_gateway", false);
        m.delivered_by = j.value("delivered_by", "");
        return m;
    }

    // BEGIN IMMEDIATE ... COMMIT around `work`; rolls back if it throws.
    template <typename F>
    auto transaction(F&& work) {
        sqlite::Transaction tx(*db, sqlite::TransactionKind::immediate);
        if constexpr (std::is_void_v<decltype(work())>) {
            work();
            tx.commit();
        } else {
            auto r = work();
            tx.commit();
            return r;
        }
    }

    void derive_keys(const crypto::StoreKey& key, ByteView salt, const Argon2Params& p,
                     bool passphrase) {
        SecretBytes master(32);
        if (passphrase) {
            const SecretBytes& pw = key.secret();
            if (argon2id_hash_raw(p.t, p.m, p.p, pw.data(), pw.size(), salt.data(), salt.size(),
                                  master.data(), master.size()) != ARGON2_OK) {
                throw Error(ErrorCode::internal, "Deriving the history key failed.");
            }
        } else {
            master = crypto::hkdf_sha256(key.secret().view(), salt,
                                         crypto::as_bytes("ariadne-console-history-master"), 32);
        }
        seal_key = crypto::hkdf_sha256(master.view(), {}, crypto::as_bytes("history-seal"), 32);
        index_key = crypto::hkdf_sha256(master.view(), {}, crypto::as_bytes("history-index"), 32);
    }
};

History::History(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
History::~History() = default;

std::unique_ptr<History> History::open(const std::filesystem::path& path,
                                       const crypto::StoreKey& key) try {
    auto impl = std::make_unique<Impl>();
    bool is_new = !std::filesystem::exists(path);
    // Created 0600 when missing (WAL and SHM inherit the mode).
    impl->db = std::make_unique<sqlite::Connection>(
        path, sqlite::ConnectionOptions{.mode = sqlite::OpenMode::create,
                                        .synchronous_full = true,
                                        .wal = true,
                                        .secure_delete = true,
                                        .foreign_keys = false,
                                        .busy_timeout_ms = 5000});
    impl->db->exec(kSchema);

    const std::string check_ad = "history-key-check";
    auto salt = impl->meta("salt");
    if (is_new || !salt) {
        Bytes s = crypto::random_bytes(16);
        const auto& ap = key.argon2_params();
        Impl::Argon2Params p{ap.iterations, ap.memory_kib, ap.parallelism};
        impl->derive_keys(key, s, p, key.is_passphrase());
        Json kdf = key.is_passphrase()
                       ? Json{{"alg", "argon2id"}, {"t", p.t}, {"m_kib", p.m}, {"p", p.p}}
                       : Json{{"alg", "hkdf"}};
        std::string kdf_text = kdf.dump();
        impl->transaction([&] {
            impl->set_meta("salt", s);
            impl->set_meta("kdf", crypto::as_bytes(kdf_text));
            impl->set_meta("check", impl->seal(check_ad, crypto::as_bytes("ariadne")));
        });
    } else {
        auto kdf_bytes = impl->meta("kdf");
        auto check = impl->meta("check");
        if (!kdf_bytes || !check) {
            throw Error(ErrorCode::storage, "The console history file is incomplete.");
        }
        Json kdf = Json::parse(kdf_bytes->begin(), kdf_bytes->end());
        bool passphrase = kdf.value("alg", "") == "argon2id";
        if (passphrase != key.is_passphrase()) {
            throw Error(ErrorCode::wrong_passphrase,
                        "The passphrase does not open the console history.");
        }
        Impl::Argon2Params p{kdf.value("t", 3u), kdf.value("m_kib", 65536u), kdf.value("p", 1u)};
        impl->derive_keys(key, *salt, p, passphrase);
        try {
            impl->open_sealed(check_ad, *check);
        } catch (const Error&) {
            throw Error(ErrorCode::wrong_passphrase,
                        "The passphrase does not open the console history.");
        }
    }
    return std::unique_ptr<History>(new History(std::move(impl)));
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

std::int64_t History::add_inbound(const std::string& account, std::int64_t server_id,
                                  std::int64_t time_ms, std::string_view text,
                                  const std::string& channel, bool from_gateway) try {
    std::lock_guard lock(impl_->mu);
    return impl_->transaction([&] {
        auto st = impl_->db->prepare("SELECT id FROM messages WHERE server_id = ?");
        st.bind(1, server_id);
        if (st.step()) return st.integer(0);
        return impl_->insert(account, true, time_ms, server_id,
                             {{"account", account},
                              {"out", false},
                              {"text", std::string(text)},
                              {"state", "received"},
                              {"channel", channel},
                              {"from_gateway", from_gateway}});
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

std::int64_t History::add_outbound(const std::string& account, std::int64_t time_ms,
                                   std::string_view text, const std::string& channel) try {
    std::lock_guard lock(impl_->mu);
    return impl_->transaction([&] {
        return impl_->insert(account, false, time_ms, std::nullopt,
                             {{"account", account},
                              {"out", true},
                              {"text", std::string(text)},
                              {"state", "sending"},
                              {"channel", channel}});
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

void History::set_committed(std::int64_t id, const std::vector<std::int64_t>& server_ids) try {
    std::lock_guard lock(impl_->mu);
    impl_->transaction([&] {
        impl_->update(id, [](Json& j) {
            if (j.value("state", "") == "sending") j["state"] = "committed";
        });
        for (std::int64_t sid : server_ids) {
            auto st = impl_->db->prepare(
                "INSERT OR REPLACE INTO sent_ids(server_id, message_id) VALUES (?, ?)");
            st.bind(1, sid).bind(2, id);
            st.step();
        }
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

void History::set_not_sent(std::int64_t id, DeliveryState state, std::string_view sentence) try {
    std::lock_guard lock(impl_->mu);
    impl_->transaction([&] {
        impl_->update(id, [&](Json& j) {
            j["state"] = to_string(state);
            j["refusal"] = std::string(sentence);
        });
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

bool History::mark_delivered(std::int64_t server_id, std::uint32_t from_device) try {
    std::lock_guard lock(impl_->mu);
    return impl_->transaction([&] {
        std::int64_t id = 0;
        {
            auto st = impl_->db->prepare("SELECT message_id FROM sent_ids WHERE server_id = ?");
            st.bind(1, server_id);
            if (!st.step()) return false;
            id = st.integer(0);
        }
        return impl_->update(id, [&](Json& j) {
            const std::string state = j.value("state", "");
            if (state == "read_on_page") return;
            // Her app's receipt says more than the edge's: keep "app" once known.
            if (state == "delivered" && j.value("delivered_by", "") == "app") return;
            j["state"] = "delivered";
            j["delivered_by"] = from_device == 1 ? "app" : "edge";
            j.erase("refusal");
        });
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

bool History::mark_on_page(std::int64_t server_id, bool read) try {
    std::lock_guard lock(impl_->mu);
    return impl_->transaction([&] {
        std::int64_t id = 0;
        {
            auto st = impl_->db->prepare("SELECT message_id FROM sent_ids WHERE server_id = ?");
            st.bind(1, server_id);
            if (!st.step()) return false;
            id = st.integer(0);
        }
        return impl_->update(id, [&](Json& j) {
            const std::string state = j.value("state", "");
            if (read) {
                j["state"] = "read_on_page";
                j.erase("refusal");
            } else if (state == "sending" || state == "committed") {
                j["state"] = "waiting_on_page";
            }
        });
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

bool History::mark_not_delivered(std::int64_t server_id, std::string_view sentence) try {
    std::lock_guard lock(impl_->mu);
    return impl_->transaction([&] {
        std::int64_t id = 0;
        {
            auto st = impl_->db->prepare("SELECT message_id FROM sent_ids WHERE server_id = ?");
            st.bind(1, server_id);
            if (!st.step()) return false;
            id = st.integer(0);
        }
        return impl_->update(id, [&](Json& j) {
            const std::string state = j.value("state", "");
            if (state == "delivered" || state == "read_on_page") return;
            j["state"] = "not_delivered";
            j["refusal"] = std::string(sentence);
        });
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

std::vector<StoredMessage> History::conversation(const std::string& account) try {
    std::lock_guard lock(impl_->mu);
    Bytes tag = impl_->tag_of(account);
    auto st =
        impl_->db->prepare("SELECT id, time_ms, sealed FROM messages WHERE tag = ? ORDER BY id");
    st.bind_blob(1, tag);
    std::vector<StoredMessage> out;
    while (st.step()) {
        std::int64_t id = st.integer(0), t = st.integer(1);
        out.push_back(
            impl_->to_message(id, t, impl_->open_json(Impl::message_ad(id, tag, t), st.blob(2))));
    }
    return out;
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

std::vector<ConversationSummary> History::conversations() try {
    std::lock_guard lock(impl_->mu);
    std::vector<ConversationSummary> out;
    auto st = impl_->db->prepare("SELECT tag, sealed FROM conversations");
    while (st.step()) {
        Bytes tag = st.blob(0);
        Json j = impl_->open_json(Impl::conversation_ad(tag), st.blob(1));
        ConversationSummary s;
        s.account = j.value("account", "");
        std::int64_t last_read = j.value("last_read_id", std::int64_t{0});
        auto q = impl_->db->prepare(
            "SELECT COALESCE(MAX(time_ms), 0), "
            "COALESCE(SUM(inbound = 1 AND id > ?), 0), COUNT(*) FROM messages "
            "WHERE tag = ?");
        q.bind(1, last_read).bind_blob(2, tag);
        q.step();
        if (q.integer(2) == 0) continue;
        s.last_activity_ms = q.integer(0);
        s.unread = static_cast<int>(q.integer(1));
        out.push_back(std::move(s));
    }
    return out;
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

ConversationMarks History::marks(const std::string& account) try {
    std::lock_guard lock(impl_->mu);
    return impl_->load_marks(account);
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

void History::mark_read(const std::string& account) try {
    std::lock_guard lock(impl_->mu);
    impl_->transaction([&] {
        ConversationMarks m = impl_->load_marks(account);
        auto st = impl_->db->prepare("SELECT COALESCE(MAX(id), 0) FROM messages WHERE tag = ?");
        st.bind_blob(1, impl_->tag_of(account));
        st.step();
        m.last_read_id = st.integer(0);
        impl_->save_marks(m);
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

void History::set_verified(const std::string& account, const std::string& safety_number) try {
    std::lock_guard lock(impl_->mu);
    impl_->transaction([&] {
        ConversationMarks m = impl_->load_marks(account);
        m.verified_number = safety_number;
        impl_->save_marks(m);
    });
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

int History::purge_older_than(std::int64_t cutoff_ms) try {
    std::lock_guard lock(impl_->mu);
    int n = impl_->transaction([&] {
        auto del_ids = impl_->db->prepare(
            "DELETE FROM sent_ids WHERE message_id IN "
            "(SELECT id FROM messages WHERE time_ms < ?)");
        del_ids.bind(1, cutoff_ms);
        del_ids.step();
        auto st = impl_->db->prepare("DELETE FROM messages WHERE time_ms < ?");
        st.bind(1, cutoff_ms);
        st.step();
        return impl_->db->changes();
    });
    // Purged pages leave the WAL too (secure_delete zeroes them in the database file).
    sqlite3_wal_checkpoint_v2(impl_->db->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                              nullptr);
    return n;
} catch (const sqlite::Error& e) {
    Impl::fail(e);
}

}  // namespace ariadne::console
