// The gateway Store's repositories on a real SQLite file: accounts and their errors, the
// key directory handing out one-time pre-keys once, the mailbox's receipts, expiry and
// queued-bytes counts (kept across a restart).
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/storage/store.h"

namespace ariadne::storage {
namespace {

template <class T>
struct Outcome {
    CommitStatus status = CommitStatus::failed;
    T value{};
};

/// A completion that fills a future, for the group-committed writes.
template <class T>
std::pair<Completion<T>, std::future<Outcome<T>>> wait_for() {
    auto p = std::make_shared<std::promise<Outcome<T>>>();
    auto f = p->get_future();
    return {[p](CommitStatus s, T v) { p->set_value(Outcome<T>{s, std::move(v)}); }, std::move(f)};
}

class RepositoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-repositories-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        options_.path = dir_ / "ariadne.db";
        options_.max_delay = std::chrono::microseconds(0);
        options_.max_pre_keys_per_device = 3;
        options_.queue_quota.per_recipient_bytes = 100;
        options_.queue_quota.per_sender_bytes = 60;
        options_.metrics = &metrics_;
        store_ = std::make_unique<Store>(options_);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    Account caseworker(const std::string& username) {
        return store_->create_caseworker(new_account_id(), username, "$argon2id$hash",
                                         crypto::to_bytes("sealed"));
    }
    Account survivor() {
        return store_->create_survivor(crypto::random_bytes(32), crypto::random_bytes(33));
    }
    NewMessage message(const Account& from, const Account& to, std::size_t bytes) {
        NewMessage m;
        m.recipient = to.key;
        m.recipient_device = 1;
        m.sender = from;
        m.sender_device = 1;
        m.type = 3;
        m.body = crypto::Bytes(bytes, 0x5a);
        m.receipt_requested = true;
        return m;
    }
    std::vector<MailboxEntryPtr> store_messages(std::vector<NewMessage> ms) {
        auto [done, result] = wait_for<std::vector<MailboxEntryPtr>>();
        store_->store_messages(std::move(ms), done);
        auto r = result.get();
        EXPECT_EQ(r.status, CommitStatus::committed);
        return r.value;
    }

    std::filesystem::path dir_;
    gateway::Metrics metrics_;
    StoreOptions options_;
    std::unique_ptr<Store> store_;
};

TEST_F(RepositoryTest, ATakenUsernameIsAConstraintErrorAndAddsNoAccount) {
    auto first = caseworker("mara.k");
    try {
        caseworker("mara.k");
        FAIL() << "a second caseworker with the same username was created";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::constraint);
        EXPECT_STREQ(e.what(), "That username is already taken.");
    }
    auto found = store_->find_caseworker("mara.k");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->account.id, first.id);
    EXPECT_EQ(found->account.role, Role::caseworker);
    EXPECT_EQ(found->password_hash, "$argon2id$hash");
}

TEST_F(RepositoryTest, UnknownAccountsAreNotFoundNamingTheRoleAndTheId) {
    auto her = survivor();
    auto cw = caseworker("mara.k");
    std::string nobody = new_account_id();
    try {
        store_->assign(her.id, nobody);
        FAIL() << "assigned an unknown caseworker";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::not_found);
        EXPECT_EQ(std::string(e.what()), "No caseworker account has the id " + nobody + ".");
    }
    // A survivor is not a caseworker: roles are checked, not only ids.
    EXPECT_THROW(store_->set_caseworker_disabled(her.id, true), Error);
    EXPECT_THROW(
        store_->replace_survivor_code(cw.id, crypto::random_bytes(32), crypto::random_bytes(33)),
        Error);
    EXPECT_FALSE(store_->shares_assignment(her, cw));
    store_->assign(her.id, cw.id);
    store_->assign(her.id, cw.id);  // twice: a no-op
    EXPECT_TRUE(store_->shares_assignment(her, cw));
    auto neighbours = store_->assignment_neighbours(her);
    ASSERT_EQ(neighbours.size(), 1u);
    EXPECT_EQ(neighbours[0].id, cw.id);
}

TEST_F(RepositoryTest, DisablingReportsWhetherItChangedAnything) {
    auto cw = caseworker("mara.k");
    EXPECT_FALSE(store_->is_disabled(cw.key));
    EXPECT_TRUE(store_->set_caseworker_disabled(cw.id, true));
    EXPECT_FALSE(store_->set_caseworker_disabled(cw.id, true));
    EXPECT_TRUE(store_->is_disabled(cw.key));
    EXPECT_TRUE(store_->set_caseworker_disabled(cw.id, false));
    EXPECT_FALSE(store_->is_disabled(cw.key));
}

TEST_F(RepositoryTest, OneTimePreKeysAreHandedOutOnceThenTheLastResortKey) {
    auto her = survivor();
    auto [bound, bound_result] = wait_for<bool>();
    store_->bind_survivor_device(her.key, crypto::Bytes(33, 1), 42, {}, bound);
    ASSERT_EQ(bound_result.get().status, CommitStatus::committed);
    EXPECT_TRUE(store_->ready_devices(her.key).empty());  // no keys yet

    gateway::KeysUploadRequest keys;
    keys.signed_pre_key = gateway::SignedPreKeyUpload{5, crypto::Bytes(33, 2), crypto::Bytes(64)};
    keys.pre_keys = {{1, crypto::Bytes(33, 3)}, {2, crypto::Bytes(33, 4)}};
    keys.last_resort = gateway::PreKeyUpload{16777215, crypto::Bytes(33, 9)};
    auto [uploaded, upload_result] = wait_for<std::uint32_t>();
    store_->upload_keys(her.key, 1, keys, uploaded);
    auto up = upload_result.get();
    ASSERT_EQ(up.status, CommitStatus::committed);
    EXPECT_EQ(up.value, 2u);
    EXPECT_EQ(store_->ready_devices(her.key), std::vector<std::uint32_t>{1});

    std::vector<std::uint32_t> handed;
    for (int i = 0; i < 3; ++i) {
        auto [taken, take_result] = wait_for<std::vector<Bundle>>();
        store_->take_bundles(her.key, taken);
        auto t = take_result.get();
        ASSERT_EQ(t.status, CommitStatus::committed);
        ASSERT_EQ(t.value.size(), 1u);
        EXPECT_EQ(t.value[0].registration_id, 42u);
        EXPECT_EQ(t.value[0].signed_pre_key.id, 5u);
        handed.push_back(t.value[0].pre_key.id);
    }
    EXPECT_EQ(handed, (std::vector<std::uint32_t>{1, 2, 16777215}));
    EXPECT_EQ(store_->pre_key_count(her.key, 1), 0u);
}

TEST_F(RepositoryTest, AnUploadPastThePreKeyLimitIsRejectedAndStoresNothing) {
    auto her = survivor();
    gateway::KeysUploadRequest keys;
    for (std::uint32_t id = 1; id <= 4; ++id) keys.pre_keys.push_back({id, crypto::Bytes(33)});
    auto [uploaded, result] = wait_for<std::uint32_t>();
    store_->upload_keys(her.key, 1, keys, uploaded);
    EXPECT_EQ(result.get().status, CommitStatus::rejected);
    EXPECT_EQ(store_->pre_key_count(her.key, 1), 0u);
}

TEST_F(RepositoryTest, ASurvivorDeviceKeepsItsIdentityAndANewInstallationIsReported) {
    auto her = survivor();
    auto bind = [&](crypto::Bytes identity, crypto::Bytes installation) {
        auto [done, result] = wait_for<bool>();
        store_->bind_survivor_device(her.key, std::move(identity), 42, std::move(installation),
                                     done);
        return result.get();
    };
    auto first = bind(crypto::Bytes(33, 1), crypto::Bytes(33, 7));
    EXPECT_EQ(first.status, CommitStatus::committed);
    EXPECT_FALSE(first.value);  // her first login: nothing to report
    EXPECT_FALSE(bind(crypto::Bytes(33, 1), crypto::Bytes(33, 7)).value);
    EXPECT_TRUE(bind(crypto::Bytes(33, 1), crypto::Bytes(33, 8)).value);
    EXPECT_EQ(bind(crypto::Bytes(33, 2), crypto::Bytes(33, 8)).status, CommitStatus::rejected);
    auto device = store_->find_device(her.key, 1);
    ASSERT_TRUE(device);
    EXPECT_EQ(device->identity_key, crypto::Bytes(33, 1));
}

TEST_F(RepositoryTest, AnAcknowledgedMessageQueuesItsReceiptAndFreesItsQuota) {
    auto her = survivor();
    auto cw = caseworker("mara.k");
    auto stored = store_messages({message(cw, her, 40)});
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(store_->queued_bytes_for(her.key), 40u);
    EXPECT_EQ(store_->queued_bytes_from(cw.key), 40u);
    // 40 + 30 bytes would pass the sender's 60: refused, nothing queued, no completion.
    EXPECT_EQ(store_->store_messages_within_quota(
                  {message(cw, her, 30)},
                  [](CommitStatus, std::vector<MailboxEntryPtr>) { ADD_FAILURE(); }),
              gateway::QuotaVerdict::sender_full);

    auto pending = store_->pending(her.key, 1, 0, 10);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0]->delivery.from, cw.id);
    EXPECT_EQ(pending[0]->delivery.body, crypto::Bytes(40, 0x5a));

    auto [acked, ack_result] = wait_for<Store::AckOutcome>();
    store_->acknowledge(her.key, 1, stored[0]->delivery.server_id, acked, "not_delivered");
    auto ack = ack_result.get();
    ASSERT_EQ(ack.status, CommitStatus::committed);
    EXPECT_TRUE(ack.value.found);
    ASSERT_TRUE(ack.value.receipt);
    EXPECT_EQ(ack.value.receipt->recipient, cw.key);
    EXPECT_EQ(store_->queued_bytes_for(her.key), 0u);
    EXPECT_EQ(store_->queued_bytes_from(cw.key), 0u);

    auto receipts = store_->pending(cw.key, 1, 0, 10);
    ASSERT_EQ(receipts.size(), 1u);
    EXPECT_TRUE(receipts[0]->delivery.is_receipt);
    EXPECT_EQ(receipts[0]->delivery.from, her.id);
    EXPECT_EQ(receipts[0]->delivery.ref, stored[0]->delivery.server_id);
    EXPECT_EQ(receipts[0]->delivery.failure, "not_delivered");

    auto [again, again_result] = wait_for<Store::AckOutcome>();
    store_->acknowledge(her.key, 1, stored[0]->delivery.server_id, again);
    EXPECT_FALSE(again_result.get().value.found);
}

TEST_F(RepositoryTest, QueuedBytesAreCountedAgainAfterARestartAndExpiryReleasesThem) {
    auto her = survivor();
    auto cw = caseworker("mara.k");
    store_messages({message(cw, her, 25), message(cw, her, 15)});
    store_.reset();
    store_ = std::make_unique<Store>(options_);
    EXPECT_EQ(store_->queued_bytes_for(her.key), 40u);
    EXPECT_EQ(store_->queued_bytes_from(cw.key), 40u);

    auto [purged, result] = wait_for<std::int64_t>();
    // A cutoff a day ahead: everything stored so far counts as expired.
    auto tomorrow =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            (std::chrono::system_clock::now() + std::chrono::hours(24)).time_since_epoch())
            .count();
    store_->purge_expired(tomorrow, purged);
    auto p = result.get();
    EXPECT_EQ(p.status, CommitStatus::committed);
    EXPECT_EQ(p.value, 2);
    EXPECT_EQ(store_->mailbox_size(), 0);
    EXPECT_EQ(store_->queued_bytes_for(her.key), 0u);
    EXPECT_EQ(metrics_.messages_expired.load(), 2u);
}

TEST_F(RepositoryTest, AMalformedNoticeIsRejectedAndAWellFormedOneKeepsOnlyItsTokens) {
    auto her = survivor();
    NewNotice bad{her.key, 1, 0, "checkin", "1:2026-01-01", "en", "has space"};
    auto [refused, refused_result] = wait_for<MailboxEntryPtr>();
    store_->store_notice(bad, refused);
    EXPECT_EQ(refused_result.get().status, CommitStatus::rejected);

    NewNotice good{her.key, 1, 0, "checkin", "1:2026-01-01", "en", "checkin.default"};
    auto [stored, stored_result] = wait_for<MailboxEntryPtr>();
    store_->store_notice(good, stored);
    EXPECT_EQ(stored_result.get().status, CommitStatus::committed);
    auto pending = store_->pending(her.key, 1, 0, 10);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_TRUE(pending[0]->delivery.is_notice);
    EXPECT_EQ(pending[0]->delivery.reference, "1:2026-01-01");
    EXPECT_EQ(pending[0]->delivery.template_id, "checkin.default");
    EXPECT_TRUE(pending[0]->delivery.body.empty());
}

}  // namespace
}  // namespace ariadne::storage
