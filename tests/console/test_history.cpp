// The console's history keeps decrypted messages only sealed, on the caseworker's machine.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include "ariadne/console/history.h"
#include "ariadne/crypto/error.h"

namespace ariadne::console {
namespace {

namespace fs = std::filesystem;

class HistoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ariadne-history-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        path_ = dir_ / "history.db";
    }
    void TearDown() override { fs::remove_all(dir_); }

    static crypto::StoreKey key(const char* pass = "a long console passphrase") {
        return crypto::StoreKey::from_passphrase(pass, crypto::Argon2Params::for_tests());
    }

    std::string file_bytes() const {
        std::string all;
        for (const char* suffix : {"", "-wal"}) {
            std::ifstream in(path_.string() + suffix, std::ios::binary);
            all.append(std::istreambuf_iterator<char>(in), {});
        }
        return all;
    }

    fs::path dir_, path_;
};

TEST_F(HistoryTest, MessagesAndAccountIdsAreNotInClearOnDisk) {
    auto h = History::open(path_, key());
    h->add_inbound("a_CanaryAccountId000000", 10, 1000, "meet me at Via Canary 12");
    std::int64_t out = h->add_outbound("a_CanaryAccountId000000", 2000, "call 333 123 4567");
    h->set_committed(out, {11});
    h->set_verified("a_CanaryAccountId000000", "12345 67890");
    std::string bytes = file_bytes();
    ASSERT_FALSE(bytes.empty());
    for (const char* canary : {"Via Canary", "333 123 4567", "a_CanaryAccountId", "12345 67890"}) {
        EXPECT_EQ(bytes.find(canary), std::string::npos) << canary;
    }
}

TEST_F(HistoryTest, ReopensWithTheSamePassphraseAndRefusesAnother) {
    {
        auto h = History::open(path_, key());
        h->add_inbound("a_1", 1, 1000, "hello");
    }
    try {
        History::open(path_, key("another passphrase"));
        FAIL() << "opened with the wrong passphrase";
    } catch (const crypto::Error& e) {
        EXPECT_EQ(e.code(), crypto::ErrorCode::wrong_passphrase);
    }
    auto h = History::open(path_, key());
    auto msgs = h->conversation("a_1");
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].text, "hello");
    EXPECT_FALSE(msgs[0].outbound);
    EXPECT_EQ(msgs[0].state, DeliveryState::received);
}

TEST_F(HistoryTest, RedeliveryWithTheSameServerIdIsRecordedOnce) {
    auto h = History::open(path_, key());
    auto a = h->add_inbound("a_1", 7, 1000, "hi");
    auto b = h->add_inbound("a_1", 7, 1000, "hi");
    EXPECT_EQ(a, b);
    EXPECT_EQ(h->conversation("a_1").size(), 1u);
}

TEST_F(HistoryTest, OutboundProgressesFromSendingToCommittedToDeliveredByReceipt) {
    auto h = History::open(path_, key());
    auto id = h->add_outbound("a_1", 1000, "reply");
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::sending);
    h->set_committed(id, {41, 42});
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::committed);
    EXPECT_FALSE(h->mark_delivered(99));
    EXPECT_TRUE(h->mark_delivered(42));
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::delivered);
}

TEST_F(HistoryTest, AReplyToHerPageWaitsThenIsReadAndOnlyHerAppMeansHerPhone) {
    auto h = History::open(path_, key());
    auto id = h->add_outbound("a_1", 1000, "reply", "web");
    h->set_committed(id, {41, 42});
    EXPECT_TRUE(h->mark_on_page(42, false));
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::waiting_on_page);
    // Her app (device 1) also took it: on her phone, whatever the page says.
    EXPECT_TRUE(h->mark_delivered(41, 1));
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::delivered);
    EXPECT_EQ(h->conversation("a_1")[0].delivered_by, "app");
    EXPECT_TRUE(h->mark_on_page(42, true));
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::read_on_page);
    // Nothing later takes "read" back.
    h->mark_delivered(41, 1);
    h->mark_not_delivered(42, "Not delivered.");
    h->mark_on_page(42, false);
    EXPECT_EQ(h->conversation("a_1")[0].state, DeliveryState::read_on_page);
    // A plain receipt from her edge device (the SMS network) is recorded as such.
    auto sms = h->add_outbound("a_1", 2000, "by sms", "sms");
    h->set_committed(sms, {43});
    h->mark_delivered(43, 2);
    EXPECT_EQ(h->conversation("a_1")[1].delivered_by, "edge");
}

TEST_F(HistoryTest, RefusedReplyKeepsTheGatewaySentence) {
    auto h = History::open(path_, key());
    auto id = h->add_outbound("a_1", 1000, "reply");
    h->set_not_sent(id, DeliveryState::refused, "Not sent: it is within quiet hours.");
    auto m = h->conversation("a_1")[0];
    EXPECT_EQ(m.state, DeliveryState::refused);
    EXPECT_EQ(m.refusal, "Not sent: it is within quiet hours.");
}

TEST_F(HistoryTest, UnreadCountsInboundAfterTheLastReadMark) {
    auto h = History::open(path_, key());
    h->add_inbound("a_1", 1, 1000, "one");
    h->add_inbound("a_1", 2, 2000, "two");
    h->add_outbound("a_2", 3000, "to someone else");
    auto list = h->conversations();
    ASSERT_EQ(list.size(), 2u);
    for (const auto& c : list) {
        if (c.account == "a_1") {
            EXPECT_EQ(c.unread, 2);
            EXPECT_EQ(c.last_activity_ms, 2000);
        } else {
            EXPECT_EQ(c.unread, 0);
        }
    }
    h->mark_read("a_1");
    h->add_inbound("a_1", 4, 4000, "three");
    for (const auto& c : h->conversations()) {
        if (c.account == "a_1") {
            EXPECT_EQ(c.unread, 1);
        }
    }
}

TEST_F(HistoryTest, RetentionPurgesOldMessagesAndTheirText) {
    auto h = History::open(path_, key());
    h->add_inbound("a_1", 1, 1000, "old secret words");
    h->add_inbound("a_1", 2, 5000, "recent");
    EXPECT_EQ(h->purge_older_than(2000), 1);
    auto msgs = h->conversation("a_1");
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].text, "recent");
    // Ids keep increasing after a purge, so last-read marks stay meaningful.
    EXPECT_GT(h->add_inbound("a_1", 3, 6000, "newer"), msgs[0].id);
}

TEST_F(HistoryTest, ARecordMovedToAnotherRowFailsToOpen) {
    {
        auto h = History::open(path_, key());
        h->add_inbound("a_1", 1, 1000, "first");
        h->add_inbound("a_2", 2, 2000, "second");
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "UPDATE messages SET sealed = (SELECT sealed FROM messages WHERE id = 2) "
                     "WHERE id = 1",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    auto h = History::open(path_, key());
    try {
        h->conversation("a_1");
        FAIL() << "a moved record opened";
    } catch (const crypto::Error& e) {
        EXPECT_EQ(e.code(), crypto::ErrorCode::corrupt_record);
    }
}

TEST_F(HistoryTest, AHistoryWrittenBeforeTheVersionedFormatOpensAndTakesNewMessages) {
    // Written by the console of ab28398 (tests/upgrade/fixtures/sealed-2026-12-07/README.md).
    fs::copy_file(fs::path(ARIADNE_SEALED_FIXTURES) / "history.db", path_);
    const auto old_key = crypto::StoreKey::from_bytes(crypto::Bytes(32, 0x42));
    const std::string mk = "a_MeLlcujt2-cRG5RaUp6QTg", ln = "a_SvcgI2HSxf7NuJNDMn6mqg";
    {
        auto h = History::open(path_, old_key);
        auto msgs = h->conversation(mk);
        ASSERT_EQ(msgs.size(), 3u);
        EXPECT_EQ(msgs[0].text, "M. to mara, message 1");
        EXPECT_EQ(msgs[0].time_ms, 1765100000000);
        EXPECT_EQ(msgs[1].text, "mara to M., reply 1");
        EXPECT_TRUE(msgs[1].outbound);
        EXPECT_EQ(msgs[1].state, DeliveryState::delivered);
        EXPECT_EQ(msgs[2].text, "M. to mara, message 2");
        EXPECT_EQ(h->marks(mk).verified_number, "12345 67890");
        EXPECT_EQ(h->marks(mk).last_read_id, msgs[2].id);
        auto page = h->conversation(ln);
        ASSERT_EQ(page.size(), 1u);
        EXPECT_EQ(page[0].channel, "web");
        // What is written from now on is versioned; old records stay as they are.
        h->add_inbound(ln, 105, 1765100240000, "L. again", "web", false);
        h->set_verified(ln, "55555 66666");
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  db, "SELECT hex(substr(sealed, 1, 1)) FROM messages WHERE server_id = 105", -1,
                  &st, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), "01");
    sqlite3_finalize(st);
    sqlite3_close(db);

    auto h = History::open(path_, old_key);
    auto page = h->conversation(ln);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].text, "L. from the page");
    EXPECT_EQ(page[1].text, "L. again");
    EXPECT_EQ(h->marks(ln).verified_number, "55555 66666");
    EXPECT_EQ(h->conversation(mk).size(), 3u);
}

TEST_F(HistoryTest, AnOldHistoryRefusesAnotherKeyAndADamagedRecordIsNamed) {
    fs::copy_file(fs::path(ARIADNE_SEALED_FIXTURES) / "history.db", path_);
    try {
        History::open(path_, crypto::StoreKey::from_bytes(crypto::Bytes(32, 0x43)));
        FAIL() << "another key opened the history";
    } catch (const crypto::Error& e) {
        EXPECT_EQ(e.code(), crypto::ErrorCode::wrong_passphrase);
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "UPDATE messages SET sealed = substr(sealed, 1, 20) WHERE server_id = 101;"
                     "UPDATE messages SET sealed = substr(sealed, 1, length(sealed) - 1) "
                     "WHERE server_id = 104",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    auto h = History::open(path_, crypto::StoreKey::from_bytes(crypto::Bytes(32, 0x42)));
    auto error_of = [&](const std::string& account) -> std::string {
        try {
            h->conversation(account);
        } catch (const crypto::Error& e) {
            EXPECT_EQ(e.code(), crypto::ErrorCode::corrupt_record);
            return e.what();
        }
        return "opened";
    };
    EXPECT_EQ(error_of("a_MeLlcujt2-cRG5RaUp6QTg"), "A history record is damaged.");
    EXPECT_EQ(error_of("a_SvcgI2HSxf7NuJNDMn6mqg"),
              "A history record failed to open (damaged, or moved to another row).");
}

TEST_F(HistoryTest, ASqliteFailureIsAStorageErrorInTheHistorysOwnWords) {
    {
        std::ofstream junk(path_, std::ios::binary);
        junk << std::string(4096, 'J');
    }
    try {
        History::open(path_, key());
        FAIL() << "a file that is not a database must be refused";
    } catch (const crypto::Error& e) {
        EXPECT_EQ(e.code(), crypto::ErrorCode::storage);
        EXPECT_STREQ(e.what(), "The console history could not be updated: file is not a database.");
    }
    try {
        History::open(dir_ / "no-such-dir" / "history.db", key());
        FAIL() << "a history in a missing folder cannot be created";
    } catch (const crypto::Error& e) {
        EXPECT_EQ(e.code(), crypto::ErrorCode::storage);
        EXPECT_STREQ(e.what(),
                     "The console history could not be opened: unable to open database file.");
    }
}

TEST_F(HistoryTest, FileIsPrivateToTheUser) {
    History::open(path_, key());
    auto perms = fs::status(path_).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

}  // namespace
}  // namespace ariadne::console
