// make_sealed_fixture OUT_DIR: writes values sealed by the three sealing implementations that
// existed before crypto/aead.h (the gateway's ServerKey, the client SealedStore, the console
// History), for fixtures/sealed-2026-12-07/. Built by hand at commit ab28398 (README.md there);
// not part of the build, because it only means something when compiled against that code.
#include <sqlite3.h>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include "ariadne/console/history.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/store.h"
using namespace ariadne;
int main(int argc, char** argv) {
    std::filesystem::path out = argv[1];
    // 1. ServerKey vectors: key = bytes 0x00..0x1f
    crypto::Bytes k(32);
    for (int i = 0; i < 32; ++i) k[i] = static_cast<std::uint8_t>(i);
    gateway::ServerKey sk{crypto::SecretBytes(k)};
    struct V {
        const char* ctx;
        const char* plain;
    };
    for (V v : {V{"address:3f9a", "+447700900123"},
                V{"handover:KUA-5M5", "Prefers calls after 6pm; M.K."},
                V{"edge-history|a_SvcgI2HSxf7NuJNDMn6mqg", "{\"t\":\"hello\"}"},
                V{"a_L8FlL_Dx_f0qnynYd7qeoQ", ""}}) {
        auto s = sk.seal(v.ctx, crypto::as_bytes(std::string(v.plain)));
        std::cout << "server\t" << v.ctx << "\t" << v.plain << "\t" << crypto::hex_encode(s)
                  << "\n";
    }
    // A value whose random nonce happens to start with 0x01, the version-1 marker.
    for (int i = 0; i < 100000; ++i) {
        auto s = sk.seal("address:0x01", crypto::as_bytes(std::string("+15550100")));
        if (s[0] == 0x01) {
            std::cout << "server\taddress:0x01\t+15550100\t" << crypto::hex_encode(s) << "\n";
            break;
        }
    }
    for (const char* ctx : {"ariadne.audit.key.v1", "address"}) {
        std::string data = std::string(ctx) == "address" ? "+447700900123" : "audit";
        std::cout << "mac\t" << ctx << "\t" << data << "\t"
                  << crypto::hex_encode(sk.mac(ctx, crypto::as_bytes(data))) << "\n";
    }
    // 2. Client store: raw key 0x42*32, then dump raw sealed blobs.
    crypto::Bytes sk2(32, 0x42);
    auto key = crypto::StoreKey::from_bytes(sk2);
    {
        auto st = crypto::SealedStore::open(out / "store-2026-12-07.db", key);
        crypto::LocalIdentity id;
        id.registration_id = 4242;
        id.public_key = crypto::Bytes(33, 0x05);
        id.private_key = crypto::SecretBytes(crypto::Bytes(32, 0x11));
        st->set_local_identity(id);
        st->store_pre_key(7, crypto::as_bytes(std::string("pre-key record seven")));
        st->store_signed_pre_key(3, crypto::as_bytes(std::string("signed pre-key three")),
                                 1765000000);
        st->store_session({"a_L8FlL_Dx_f0qnynYd7qeoQ", 1},
                          crypto::as_bytes(std::string("session with mara")));
        st->save_remote_identity({"a_L8FlL_Dx_f0qnynYd7qeoQ", 1},
                                 crypto::ByteView(crypto::Bytes(33, 0x07)));
        std::string g = "group-1";
        st->store_sender_key(crypto::as_bytes(g), {"a_L8FlL_Dx_f0qnynYd7qeoQ", 2},
                             crypto::as_bytes(std::string("sender key record")));
    }
    {
        sqlite3* db = nullptr;
        sqlite3_open((out / "store-2026-12-07.db").c_str(), &db);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr,
                     nullptr, nullptr);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, "SELECT record FROM pre_keys WHERE id = 7", -1, &s, nullptr);
        sqlite3_step(s);
        auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
        crypto::Bytes b(p, p + sqlite3_column_bytes(s, 0));
        std::cout << "store\tariadne-store-v1|pre_keys|1:7\tpre-key record seven\t"
                  << crypto::hex_encode(b) << "\n";
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    // 3. Console history, raw key 0x42*32.
    {
        auto h = console::History::open(out / "history-2026-12-07.db", key);
        h->add_inbound("a_MeLlcujt2-cRG5RaUp6QTg", 101, 1765100000000, "M. to mara, message 1",
                       "app", false);
        auto o = h->add_outbound("a_MeLlcujt2-cRG5RaUp6QTg", 1765100060000, "mara to M., reply 1",
                                 "app");
        h->set_committed(o, {202});
        h->mark_delivered(202);
        h->add_inbound("a_MeLlcujt2-cRG5RaUp6QTg", 103, 1765100120000, "M. to mara, message 2",
                       "app", false);
        h->mark_read("a_MeLlcujt2-cRG5RaUp6QTg");
        h->set_verified("a_MeLlcujt2-cRG5RaUp6QTg", "12345 67890");
        h->add_inbound("a_SvcgI2HSxf7NuJNDMn6mqg", 104, 1765100180000, "L. from the page", "web",
                       false);
    }
    {
        sqlite3* db = nullptr;
        sqlite3_open((out / "history-2026-12-07.db").c_str(), &db);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr,
                     nullptr, nullptr);
        sqlite3_close(db);
    }
    return 0;
}
