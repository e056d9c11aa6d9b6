// SealedStore: key derivation and refusal, sealing at rest, row binding, pre-key and signed
// pre-key lifecycle.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <curve.h>
#include <session_pre_key.h>
#include <signal_protocol.h>

#include "ariadne/crypto/session.h"
#include "ariadne/crypto/signal_context.h"
#include "ariadne/crypto/store.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;
using namespace ariadne::crypto::testing;

namespace {

void run_sql(const std::filesystem::path& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << text;
}

TEST(StoreKeys, WrongPassphraseIsRefusedAndChangesNothing) {
    TempDir dir;
    const auto path = dir / "store.db";
    {
        auto party = Party::open(
            path, StoreKey::from_passphrase("correct horse", Argon2Params::for_tests()));
        party->generate_pre_keys(3);
    }
    const Bytes before = read_file(path);
    std::string why = expect_error(ErrorCode::wrong_passphrase, [&] {
        Party::open(path, StoreKey::from_passphrase("wrong horse", Argon2Params::for_tests()));
    });
    EXPECT_EQ(why, "the passphrase does not open this store");
    EXPECT_EQ(read_file(path), before);
    EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal") &&
                 std::filesystem::file_size(path.string() + "-wal") > 0);

    auto party = Party::open(path, StoreKey::from_passphrase("correct horse"));
    EXPECT_EQ(party->store().one_time_pre_key_ids().size(), 3u);
}

TEST(StoreKeys, Argon2ParametersAreRecordedAndReadBackFromTheStore) {
    TempDir dir;
    Argon2Params chosen{2, 9 * 1024, 1};
    { Party::open(dir / "s.db", StoreKey::from_passphrase("pw", chosen)); }
    // Other parameters passed when reopening are ignored: the stored ones decide.
    auto party =
        Party::open(dir / "s.db", StoreKey::from_passphrase("pw", Argon2Params::for_tests()));
    auto params = party->store().argon2_params();
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->iterations, 2u);
    EXPECT_EQ(params->memory_kib, 9u * 1024);
    EXPECT_EQ(params->parallelism, 1u);
    EXPECT_EQ(Argon2Params{}.iterations, 3u);
    EXPECT_EQ(Argon2Params{}.memory_kib, 64u * 1024);
}

TEST(StoreKeys, KeyFileIsPrivateAndOnlyTheRightKeyOpensTheStore) {
    TempDir dir;
    StoreKey::create_key_file(dir / "k1");
    StoreKey::create_key_file(dir / "k2");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "k1").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_THROW(StoreKey::create_key_file(dir / "k1"), Error);  // never overwrites

    { Party::open(dir / "s.db", StoreKey::from_key_file(dir / "k1")); }
    expect_error(ErrorCode::wrong_passphrase,
                 [&] { Party::open(dir / "s.db", StoreKey::from_key_file(dir / "k2")); });
    expect_error(ErrorCode::wrong_passphrase,
                 [&] { Party::open(dir / "s.db", StoreKey::from_passphrase("pw")); });
    EXPECT_NO_THROW(Party::open(dir / "s.db", StoreKey::from_key_file(dir / "k1")));

    ::chmod((dir / "k1").c_str(), 0644);
    expect_error(ErrorCode::invalid_argument, [&] { StoreKey::from_key_file(dir / "k1"); });
    expect_error(ErrorCode::invalid_argument, [&] { StoreKey::from_key_file(dir / "none"); });
}

TEST(StoreKeys, StoreFileIsCreatedPrivate) {
    TempDir dir;
    auto party = Party::open(dir / "s.db", fast_key());
    struct stat st {};
    ASSERT_EQ(::stat((dir / "s.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST(StoreKeys, FilesThatAreNotAriadneStoresAreRefused) {
    TempDir dir;
    run_sql(dir / "other.db", "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
    expect_error(ErrorCode::storage, [&] { SealedStore::open(dir / "other.db", fast_key()); });
    {
        std::ofstream junk(dir / "junk.db", std::ios::binary);
        junk << std::string(4096, 'J');
    }
    expect_error(ErrorCode::storage, [&] { SealedStore::open(dir / "junk.db", fast_key()); });
}

TEST(StoreKeys, SqliteFailuresAreStorageErrorsInTheStoresOwnWords) {
    TempDir dir;
    {
        std::ofstream junk(dir / "junk.db", std::ios::binary);
        junk << std::string(4096, 'J');
    }
    EXPECT_EQ(
        expect_error(ErrorCode::storage, [&] { SealedStore::open(dir / "junk.db", fast_key()); }),
        "the key store could not be read or written (SQLite: file is not a database)");
    const auto missing = dir / "no-such-dir" / "s.db";
    EXPECT_EQ(
        expect_error(ErrorCode::storage, [&] { SealedStore::open(missing, fast_key()); }),
        "the key store " + missing.string() + " cannot be created: No such file or directory");
}

TEST(StoreKeys, AWrongKeyLeavesTheFileAsItWasNotSwitchedToWal) {
    TempDir dir;
    SealedStore::open(dir / "s.db", fast_key());
    run_sql(dir / "s.db", "PRAGMA journal_mode = DELETE;");  // e.g. a copied store
    expect_error(ErrorCode::wrong_passphrase, [&] { SealedStore::open(dir / "s.db", fast_key()); });
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir / "s.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "delete");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

TEST(Sealing, DatabaseAndWalHoldNoPlaintextNoPrivateKeysAndNoPeerNames) {
    TempDir dir;
    const std::string canary_name = "CANARY-NAME-" + hex_encode(random_bytes(8));
    const std::string canary_text = "CANARY-TEXT-" + hex_encode(random_bytes(8));
    auto alice = Party::open(dir / "alice.db", fast_key());
    auto bob = Party::open(dir / "bob.db", fast_key());
    bob->generate_pre_keys(3);
    const Address to_bob{canary_name, 1};  // the peer name is the canary in the session row
    alice->start_session(to_bob, bob->bundle(1));
    Ciphertext c = alice->encrypt(to_bob, as_bytes(canary_text));
    ASSERT_EQ(to_string(bob->decrypt({canary_name, 2}, c.type, c.bytes)), canary_text);
    Ciphertext reply = bob->encrypt({canary_name, 2}, as_bytes(canary_text));
    ASSERT_EQ(to_string(alice->decrypt(to_bob, reply.type, reply.bytes)), canary_text);

    // Secrets to look for: identity private keys and a pre-key private key.
    std::vector<Bytes> secrets;
    for (Party* p : {alice.get(), bob.get()}) {
        auto identity = p->store().local_identity();
        ASSERT_TRUE(identity.has_value());
        secrets.emplace_back(identity->private_key.data(),
                             identity->private_key.data() + identity->private_key.size());
    }
    {
        auto ids = bob->store().one_time_pre_key_ids();
        ASSERT_FALSE(ids.empty());
        auto record = bob->store().load_pre_key(ids.front());
        SignalContext ctx;
        session_pre_key* key = nullptr;
        ASSERT_EQ(session_pre_key_deserialize(&key, record->data(), record->size(), ctx.get()), 0);
        signal_buffer* priv = nullptr;
        ASSERT_EQ(ec_private_key_serialize(
                      &priv, ec_key_pair_get_private(session_pre_key_get_key_pair(key))),
                  0);
        secrets.emplace_back(signal_buffer_data(priv),
                             signal_buffer_data(priv) + signal_buffer_len(priv));
        signal_buffer_bzero_free(priv);
        SIGNAL_UNREF(key);
    }

    // Stores are still open: recent writes sit in the WAL, not yet checkpointed.
    std::size_t scanned = 0;
    for (const char* name : {"alice.db", "bob.db"}) {
        for (const std::string suffix : {"", "-wal"}) {
            const Bytes bytes = read_file(dir / (name + suffix));
            scanned += bytes.size();
            EXPECT_FALSE(contains(bytes, as_bytes(canary_text))) << name << suffix;
            EXPECT_FALSE(contains(bytes, as_bytes(canary_name))) << name << suffix;
            for (const auto& secret : secrets) {
                EXPECT_FALSE(contains(bytes, secret)) << name << suffix;
            }
        }
    }
    EXPECT_GT(std::filesystem::file_size(dir / "bob.db-wal"), 0u);
    EXPECT_GT(scanned, 0u);
    // The scan itself can find things: the public identity key is stored in clear.
    EXPECT_TRUE(contains(read_file(dir / "bob.db-wal"), bob->identity_key()) ||
                contains(read_file(dir / "bob.db"), bob->identity_key()));
}

TEST(Sealing, SessionRecordMovedToAnotherRowFailsToOpen) {
    TempDir dir;
    StoreKey key = fast_key();
    const auto path = dir / "alice.db";
    {
        auto alice = Party::open(path, key);
        auto bob = Party::open(dir / "bob.db", fast_key());
        auto carol = Party::open(dir / "carol.db", fast_key());
        alice->start_session({"bob", 1}, bob->bundle(1));
        alice->start_session({"carol", 1}, carol->bundle(1));
    }
    // Copy Carol's sealed session over Bob's row, as an attacker with write access could.
    run_sql(path,
            "UPDATE sessions SET record = (SELECT record FROM sessions WHERE rowid = "
            "(SELECT max(rowid) FROM sessions)) WHERE rowid = (SELECT min(rowid) FROM sessions)");
    auto alice = Party::open(path, key);
    // Exactly one of the two rows was overwritten; whichever it is now fails to open.
    int failures = 0;
    for (const char* name : {"bob", "carol"}) {
        try {
            alice->encrypt({name, 1}, as_bytes("hi"));
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::corrupt_record) << e.what();
            ++failures;
        }
    }
    EXPECT_EQ(failures, 1);
}

TEST(Sealing, PreKeyRecordMovedToAnotherIdFailsToOpen) {
    TempDir dir;
    StoreKey key = fast_key();
    std::vector<PublicPreKey> keys;
    { keys = Party::open(dir / "s.db", key)->generate_pre_keys(2); }
    run_sql(dir / "s.db", "UPDATE pre_keys SET record = (SELECT record FROM pre_keys WHERE id = " +
                              std::to_string(keys[1].id) +
                              ") WHERE id = " + std::to_string(keys[0].id));
    auto store = SealedStore::open(dir / "s.db", key);
    expect_error(ErrorCode::corrupt_record, [&] { store->load_pre_key(keys[0].id); });
    EXPECT_NO_THROW(store->load_pre_key(keys[1].id));
}

TEST(Sealing, TamperedKeyCheckLooksLikeAWrongKey) {
    TempDir dir;
    StoreKey key = fast_key();
    { SealedStore::open(dir / "s.db", key); }
    run_sql(dir / "s.db", "UPDATE meta SET value = zeroblob(45) WHERE key = 'key_check'");
    expect_error(ErrorCode::wrong_passphrase, [&] { SealedStore::open(dir / "s.db", key); });
}

TEST(PreKeys, IdsAreNeverZeroAndWrapBelowTheLastResortId) {
    TempDir dir;
    auto party = Party::open(dir / "s.db", fast_key());
    party->store().set_next_pre_key_id(0xFFFFFD);
    auto keys = party->generate_pre_keys(4);
    ASSERT_EQ(keys.size(), 4u);
    EXPECT_EQ(keys[0].id, 0xFFFFFDu);
    EXPECT_EQ(keys[1].id, 0xFFFFFEu);
    EXPECT_EQ(keys[2].id, 1u);
    EXPECT_EQ(keys[3].id, 2u);
    EXPECT_EQ(party->generate_pre_keys(1)[0].id, 3u);
    expect_error(ErrorCode::invalid_argument, [&] { party->generate_pre_keys(0); });
    expect_error(ErrorCode::invalid_argument, [&] { party->generate_pre_keys(1001); });
}

TEST(PreKeys, NextIdSurvivesReopening) {
    TempDir dir;
    StoreKey key = fast_key();
    std::uint32_t last = 0;
    { last = Party::open(dir / "s.db", key)->generate_pre_keys(3).back().id; }
    auto next = Party::open(dir / "s.db", key)->generate_pre_keys(1)[0].id;
    EXPECT_EQ(next, last % 0xFFFFFE + 1);
}

TEST(PreKeys, UploadSetCarriesFreshKeysThatBundlesDoNotHandOutAgain) {
    TempDir dir;
    auto party = Party::open(dir / "s.db", fast_key());
    UploadSet upload = party->upload_set(3, 10);
    EXPECT_EQ(upload.device_id, 3);
    EXPECT_EQ(upload.pre_keys.size(), 10u);
    EXPECT_EQ(upload.last_resort_pre_key.id, kLastResortPreKeyId);
    EXPECT_TRUE(verify_signed_pre_key(upload.identity_key, upload.signed_pre_key.public_key,
                                      upload.signed_pre_key.signature));
    EXPECT_EQ(parse_upload_set(to_json(upload)), upload);
    // All ten went to the directory: a local bundle falls back to the last-resort key.
    EXPECT_EQ(party->bundle(3).pre_key->id, kLastResortPreKeyId);
}

TEST(SignedPreKeys, RotationKeepsThePreviousKeyForTheGracePeriodOnly) {
    TempDir dir;
    PartyOptions options;
    options.signed_pre_key_grace = std::chrono::hours(24 * 7);
    auto bob = Party::open(dir / "bob.db", fast_key(), options);
    auto alice = Party::open(dir / "alice.db", fast_key());
    const auto t0 = std::chrono::system_clock::now();

    PreKeyBundle old_bundle = bob->bundle(1);  // fetched before the rotation
    SignedPublicPreKey first = old_bundle.signed_pre_key;
    SignedPublicPreKey second = bob->rotate_signed_pre_key(t0);
    EXPECT_NE(second.id, first.id);
    EXPECT_EQ(bob->current_signed_pre_key(), second);

    // A sender who fetched the old bundle is still understood during the grace period.
    alice->start_session({"bob", 1}, old_bundle);
    Ciphertext c = alice->encrypt({"bob", 1}, as_bytes("sent with the old bundle"));
    EXPECT_EQ(to_string(bob->decrypt({"alice", 1}, c.type, c.bytes)), "sent with the old bundle");

    bob->rotate_signed_pre_key(t0 + std::chrono::hours(24 * 3));
    EXPECT_EQ(bob->store().signed_pre_keys().size(), 3u);
    bob->rotate_signed_pre_key(t0 + std::chrono::hours(24 * 8));
    auto remaining = bob->store().signed_pre_keys();
    // `first` was superseded at t0 (> 7 days ago): gone. `second` was superseded at t0+3d: kept.
    EXPECT_FALSE(bob->store().contains_signed_pre_key(first.id));
    EXPECT_TRUE(bob->store().contains_signed_pre_key(second.id));
    EXPECT_EQ(remaining.size(), 3u);
}

}  // namespace

namespace {

TEST(Transactions, AnInnerStepThatFailsIsUndoneEvenWhenTheOuterOneCommits) {
    TempDir dir;
    StoreKey key = fast_key();
    {
        auto store = SealedStore::open(dir / "s.db", key);
        SealedStore::Transaction outer(*store);
        store->store_pre_key(10, as_bytes("kept"));
        {
            SealedStore::Transaction inner(*store);
            store->store_pre_key(11, as_bytes("undone"));
        }  // no commit: rolled back to the savepoint
        {
            SealedStore::Transaction inner(*store);
            store->store_pre_key(12, as_bytes("kept too"));
            inner.commit();
        }
        outer.commit();
    }
    auto store = SealedStore::open(dir / "s.db", key);
    EXPECT_TRUE(store->contains_pre_key(10));
    EXPECT_FALSE(store->contains_pre_key(11));
    EXPECT_TRUE(store->contains_pre_key(12));
    {
        SealedStore::Transaction abandoned(*store);
        store->store_pre_key(13, as_bytes("never committed"));
    }
    EXPECT_FALSE(store->contains_pre_key(13));
}

}  // namespace

namespace {

TEST(SenderKeys, RecordsAreSealedPerGroupAndSender) {
    TempDir dir;
    StoreKey key = fast_key();
    const Bytes group = to_bytes("team-north");
    const Bytes record = to_bytes("SENDER-KEY-CANARY-" + hex_encode(random_bytes(6)));
    {
        auto store = SealedStore::open(dir / "s.db", key);
        store->store_sender_key(group, {"worker-17", 2}, record);
        auto loaded = store->load_sender_key(group, {"worker-17", 2});
        ASSERT_TRUE(loaded.has_value());
        EXPECT_EQ(Bytes(loaded->data(), loaded->data() + loaded->size()), record);
        EXPECT_FALSE(store->load_sender_key(group, {"worker-17", 3}).has_value());
        EXPECT_FALSE(store->load_sender_key(to_bytes("team-south"), {"worker-17", 2}));
        EXPECT_FALSE(contains(read_file(dir / "s.db-wal"), record));
        EXPECT_FALSE(contains(read_file(dir / "s.db-wal"), as_bytes("team-north")));
    }
    run_sql(dir / "s.db", "UPDATE sender_keys SET device_id = 3");
    auto store = SealedStore::open(dir / "s.db", key);
    expect_error(ErrorCode::corrupt_record, [&] {
        store->load_sender_key(group, {"worker-17", 3});
    });
}

}  // namespace
