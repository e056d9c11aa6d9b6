// Party: session set-up, message flow, replay and tamper rejection, trust on first use,
// persistence, pre-key lifecycle and padding.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>

#include "ariadne/crypto/session.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;
using namespace ariadne::crypto::testing;

namespace {

const Address kAlice{"alice-case-K7Q2F9", 1};
const Address kBob{"bob-console-0042", 1};

struct Pair : ::testing::Test {
    TempDir dir;
    StoreKey alice_key = fast_key();
    StoreKey bob_key = fast_key();
    std::unique_ptr<Party> alice = Party::open(dir / "alice.db", alice_key);
    std::unique_ptr<Party> bob = Party::open(dir / "bob.db", bob_key);

    void SetUp() override { bob->generate_pre_keys(5); }

    // Alice starts from Bob's bundle; returns her first (pre-key) message.
    Ciphertext alice_opens(std::string_view text = "hello bob") {
        alice->start_session(kBob, bob->bundle(1));
        return alice->encrypt(kBob, as_bytes(text));
    }
    std::string bob_reads(const Ciphertext& c) {
        return to_string(bob->decrypt(kAlice, c.type, c.bytes));
    }
    std::string alice_reads(const Ciphertext& c) {
        return to_string(alice->decrypt(kBob, c.type, c.bytes));
    }
};

using SessionTest = Pair;

TEST_F(SessionTest, InitiatorSendsPreKeyMessagesUntilTheFirstReply) {
    Ciphertext first = alice_opens("first");
    Ciphertext second = alice->encrypt(kBob, as_bytes("second"));
    EXPECT_EQ(first.type, kPreKeyMessage);
    EXPECT_EQ(second.type, kPreKeyMessage);
    EXPECT_EQ(bob_reads(first), "first");
    EXPECT_EQ(bob_reads(second), "second");

    Ciphertext reply = bob->encrypt(kAlice, as_bytes("reply"));
    EXPECT_EQ(reply.type, kSignalMessage);
    EXPECT_EQ(alice_reads(reply), "reply");
    Ciphertext third = alice->encrypt(kBob, as_bytes("third"));
    EXPECT_EQ(third.type, kSignalMessage);
    EXPECT_EQ(bob_reads(third), "third");
}

TEST_F(SessionTest, AStoreImageWrittenElsewhereOpensAsTheSameDeviceAndItsSessionGoesOn) {
    EXPECT_EQ(bob_reads(alice_opens("first")), "first");
    const Bytes image = alice->store().image();
    // Written as another file (another node's working copy): the same identity and session.
    {
        std::ofstream out(dir / "copy.db", std::ios::binary);
        out.write(reinterpret_cast<const char*>(image.data()),
                  static_cast<std::streamsize>(image.size()));
    }
    auto copy = Party::open(dir / "copy.db", alice_key);
    EXPECT_EQ(copy->identity_key(), alice->identity_key());
    EXPECT_EQ(bob_reads(copy->encrypt(kBob, as_bytes("second, from the copy"))),
              "second, from the copy");
    Ciphertext reply = bob->encrypt(kAlice, as_bytes("reply"));
    EXPECT_EQ(to_string(copy->decrypt(kBob, reply.type, reply.bytes)), "reply");
    // What was sealed stays sealed in the image.
    const std::string bytes(image.begin(), image.end());
    EXPECT_EQ(bytes.find("bob-console-0042"), std::string::npos);
}

TEST_F(SessionTest, EitherSideCanInitiate) {
    alice->generate_pre_keys(1);
    bob->start_session(kAlice, alice->bundle(1));
    Ciphertext c = bob->encrypt(kAlice, as_bytes("from bob first"));
    EXPECT_EQ(c.type, kPreKeyMessage);
    EXPECT_EQ(alice_reads(c), "from bob first");
    EXPECT_EQ(bob_reads(alice->encrypt(kBob, as_bytes("answer"))), "answer");
}

TEST_F(SessionTest, ManyMessagesEachWayInBurstsAndAlternation) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 10; ++i) {
            std::string text = "a" + std::to_string(round) + "-" + std::to_string(i);
            ASSERT_EQ(bob_reads(alice->encrypt(kBob, as_bytes(text))), text);
        }
        for (int i = 0; i < round % 4 + 1; ++i) {
            std::string text = "b" + std::to_string(round) + "-" + std::to_string(i);
            ASSERT_EQ(alice_reads(bob->encrypt(kAlice, as_bytes(text))), text);
        }
    }
}

TEST_F(SessionTest, OutOfOrderDeliveryWithinTheWindowDecryptsEveryMessage) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    alice_reads(bob->encrypt(kAlice, as_bytes("ack")));
    std::vector<std::pair<std::string, Ciphertext>> sent;
    for (int i = 0; i < 30; ++i) {
        std::string text = "msg " + std::to_string(i);
        sent.emplace_back(text, alice->encrypt(kBob, as_bytes(text)));
    }
    std::mt19937 rng(7);
    std::shuffle(sent.begin(), sent.end(), rng);
    for (const auto& [text, c] : sent) EXPECT_EQ(bob_reads(c), text);
}

TEST_F(SessionTest, ReplayedMessageIsRejectedAsReplay) {
    Ciphertext first = alice_opens();
    EXPECT_EQ(bob_reads(first), "hello bob");
    std::string why = expect_error(ErrorCode::invalid_message, [&] { bob_reads(first); });
    EXPECT_NE(why.find("replay"), std::string::npos) << why;

    alice_reads(bob->encrypt(kAlice, as_bytes("ack")));
    Ciphertext normal = alice->encrypt(kBob, as_bytes("normal"));
    EXPECT_EQ(bob_reads(normal), "normal");
    why = expect_error(ErrorCode::invalid_message, [&] { bob_reads(normal); });
    EXPECT_NE(why.find("replay"), std::string::npos) << why;
}

TEST_F(SessionTest, FlippedBitAnywhereIsRejectedAndTheGenuineMessageStillOpens) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    alice_reads(bob->encrypt(kAlice, as_bytes("ack")));
    Ciphertext c = alice->encrypt(kBob, as_bytes("do not alter"));
    for (std::size_t i = 0; i < c.bytes.size(); i += 3) {
        Ciphertext tampered = c;
        tampered.bytes[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
        EXPECT_THROW(bob_reads(tampered), Error) << "byte " << i;
    }
    EXPECT_EQ(bob_reads(c), "do not alter");
}

TEST_F(SessionTest, FlippedBitInAPreKeyMessageLeavesNoSessionOrIdentityBehind) {
    Ciphertext c = alice_opens();
    Ciphertext tampered = c;
    tampered.bytes[tampered.bytes.size() - 3] ^= 0x01;  // inside the MAC
    expect_error(ErrorCode::invalid_message, [&] { bob_reads(tampered); });
    EXPECT_FALSE(bob->has_session(kAlice));
    EXPECT_FALSE(bob->remote_identity_key(kAlice).has_value());
    EXPECT_EQ(bob_reads(c), "hello bob");
}

TEST_F(SessionTest, ChangedIdentityKeyIsReportedUntrustedInBothDirections) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    // Bob loses his phone and comes back with a brand-new identity under the same address.
    bob.reset();
    std::filesystem::remove(dir / "bob.db");
    bob = Party::open(dir / "bob.db", bob_key);
    bob->generate_pre_keys(2);

    expect_error(ErrorCode::untrusted_identity,
                 [&] { alice->start_session(kBob, bob->bundle(1)); });

    alice->generate_pre_keys(1);
    bob->start_session(kAlice, alice->bundle(1));
    Ciphertext c = bob->encrypt(kAlice, as_bytes("it is me, new phone"));
    expect_error(ErrorCode::untrusted_identity, [&] { alice_reads(c); });

    // After verifying the new safety number, Alice accepts the key explicitly.
    alice->trust_identity(kBob, bob->identity_key());
    EXPECT_EQ(alice_reads(c), "it is me, new phone");
}

TEST_F(SessionTest, SessionsSurviveClosingAndReopeningBothStores) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    alice.reset();
    bob.reset();
    alice = Party::open(dir / "alice.db", alice_key);
    bob = Party::open(dir / "bob.db", bob_key);
    EXPECT_EQ(alice_reads(bob->encrypt(kAlice, as_bytes("after restart"))), "after restart");
    EXPECT_EQ(bob_reads(alice->encrypt(kBob, as_bytes("still here"))), "still here");
}

TEST_F(SessionTest, UsedOneTimePreKeyIsGone) {
    PreKeyBundle b = bob->bundle(1);
    ASSERT_TRUE(b.pre_key.has_value());
    ASSERT_TRUE(bob->store().contains_pre_key(b.pre_key->id));
    alice->start_session(kBob, b);
    bob_reads(alice->encrypt(kBob, as_bytes("uses the pre-key")));
    EXPECT_FALSE(bob->store().contains_pre_key(b.pre_key->id));
}

TEST_F(SessionTest, PreKeyExhaustionFallsBackToTheLastResortKeyWhichIsKept) {
    // SetUp generated 5 one-time keys: hand them all out.
    for (int i = 0; i < 5; ++i) {
        auto b = bob->bundle(1);
        ASSERT_TRUE(b.pre_key.has_value());
        EXPECT_NE(b.pre_key->id, kLastResortPreKeyId);
    }
    PreKeyBundle exhausted = bob->bundle(1);
    ASSERT_TRUE(exhausted.pre_key.has_value());
    EXPECT_EQ(exhausted.pre_key->id, kLastResortPreKeyId);

    // Two different senders both use the last-resort key; both first messages open.
    TempDir other;
    auto carol = Party::open(other / "carol.db", fast_key());
    const Address kCarol{"carol-console-7", 1};
    alice->start_session(kBob, exhausted);
    carol->start_session(kBob, exhausted);
    Ciphertext from_alice = alice->encrypt(kBob, as_bytes("alice via last resort"));
    Ciphertext from_carol = carol->encrypt(kBob, as_bytes("carol via last resort"));
    EXPECT_EQ(bob_reads(from_alice), "alice via last resort");
    EXPECT_EQ(to_string(bob->decrypt(kCarol, from_carol.type, from_carol.bytes)),
              "carol via last resort");
    EXPECT_TRUE(bob->store().contains_pre_key(kLastResortPreKeyId));
}

TEST_F(SessionTest, EncryptWithoutSessionAndNormalMessageWithoutSessionGiveNoSession) {
    expect_error(ErrorCode::no_session, [&] { alice->encrypt(kBob, as_bytes("x")); });
    Ciphertext c = alice_opens();
    bob_reads(c);
    alice_reads(bob->encrypt(kAlice, as_bytes("ack")));
    Ciphertext normal = alice->encrypt(kBob, as_bytes("normal"));
    TempDir other;
    auto stranger = Party::open(other / "s.db", fast_key());
    expect_error(ErrorCode::no_session,
                 [&] { stranger->decrypt(kAlice, normal.type, normal.bytes); });
}

TEST_F(SessionTest, GarbageAndTruncatedMessagesGiveErrorsNeverCrashes) {
    Ciphertext pre_key = alice_opens();
    std::mt19937 rng(42);
    for (int type : {kSignalMessage, kPreKeyMessage}) {
        for (std::size_t len : {1u, 2u, 5u, 33u, 64u, 200u}) {
            Bytes junk(len);
            for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
            EXPECT_THROW(bob->decrypt(kAlice, type, junk), Error);
            junk[0] = 0x33;  // a plausible version byte
            EXPECT_THROW(bob->decrypt(kAlice, type, junk), Error);
        }
        for (std::size_t cut = 0; cut < pre_key.bytes.size(); cut += 7) {
            ByteView truncated(pre_key.bytes.data(), cut);
            EXPECT_THROW(bob->decrypt(kAlice, type, truncated), Error) << "cut " << cut;
        }
    }
    expect_error(ErrorCode::invalid_message, [&] { bob->decrypt(kAlice, 1, pre_key.bytes); });
    expect_error(ErrorCode::invalid_message, [&] { bob->decrypt(kAlice, 3, Bytes{}); });
    // After all that noise the genuine message still opens.
    EXPECT_EQ(bob_reads(pre_key), "hello bob");
}

TEST_F(SessionTest, PersistCallbackRunsBeforeCommitAndAThrowLeavesTheMessageUnread) {
    Ciphertext c = alice_opens("keep me");
    EXPECT_THROW(bob->decrypt(kAlice, c.type, c.bytes,
                              [](ByteView) { throw std::runtime_error("disk full"); }),
                 std::runtime_error);
    std::string persisted;
    Bytes plain =
        bob->decrypt(kAlice, c.type, c.bytes, [&](ByteView p) { persisted = to_string(p); });
    EXPECT_EQ(persisted, "keep me");
    EXPECT_EQ(to_string(plain), "keep me");
}

TEST_F(SessionTest, PaddingBucketsHideTheExactLength) {
    EXPECT_EQ(bob_reads(alice_opens()), "hello bob");
    alice_reads(bob->encrypt(kAlice, as_bytes("ack")));
    auto size_for = [&](std::size_t n) {
        std::string text(n, 'x');
        Ciphertext c = alice->encrypt(kBob, as_bytes(text));
        EXPECT_EQ(bob_reads(c), text);
        return c.bytes.size();
    };
    std::size_t tiny = size_for(0), small = size_for(1), mid = size_for(100), edge = size_for(159);
    EXPECT_EQ(tiny, small);
    EXPECT_EQ(small, mid);
    EXPECT_EQ(mid, edge);
    EXPECT_GT(size_for(160), edge);
    EXPECT_EQ(size_for(600), size_for(1000));
}

TEST(Padding, BucketsAndMarkerAreUnambiguous) {
    EXPECT_EQ(padded_size(0), 160u);
    EXPECT_EQ(padded_size(159), 160u);
    EXPECT_EQ(padded_size(160), 512u);
    EXPECT_EQ(padded_size(1023), 1024u);
    EXPECT_EQ(padded_size(16383), 16384u);
    EXPECT_EQ(padded_size(16384), 32768u);
    EXPECT_EQ(padded_size(40000), 49152u);
    Bytes with_zeros = {'a', 0, 0, 0x80, 0};  // content may end in zeros or 0x80
    EXPECT_EQ(unpad_plaintext(pad_plaintext(with_zeros)), with_zeros);
    EXPECT_EQ(unpad_plaintext(pad_plaintext({})), Bytes{});
    expect_error(ErrorCode::invalid_message, [] { unpad_plaintext(Bytes(160, 0)); });
    expect_error(ErrorCode::invalid_message, [] { unpad_plaintext(Bytes{'a', 'b', 0}); });
    expect_error(ErrorCode::invalid_argument, [] { pad_plaintext(Bytes(kMaxPlaintext + 1, 1)); });
}

TEST(Seed, SameSeedGivesTheSameIdentityOnTwoFreshStores) {
    TempDir dir;
    Bytes seed = random_bytes(32);
    auto first = Party::create_from_seed(dir / "one.db", fast_key(), seed);
    auto second = Party::create_from_seed(dir / "two.db", fast_key(), seed);
    EXPECT_EQ(first->identity_key(), second->identity_key());
    EXPECT_EQ(first->registration_id(), second->registration_id());
    EXPECT_GE(first->registration_id(), 1u);
    EXPECT_LE(first->registration_id(), 16380u);

    auto other = Party::create_from_seed(dir / "three.db", fast_key(), random_bytes(32));
    EXPECT_NE(other->identity_key(), first->identity_key());
}

TEST(Seed, SeededIdentityCanSignAndRunSessions) {
    TempDir dir;
    auto survivor = Party::create_from_seed(dir / "s.db", fast_key(), random_bytes(32));
    auto worker = Party::open(dir / "w.db", fast_key());
    PreKeyBundle b = survivor->bundle(1);  // signature by the derived key must verify
    worker->start_session({"survivor", 1}, b);
    Ciphertext c = worker->encrypt({"survivor", 1}, as_bytes("welcome back"));
    EXPECT_EQ(to_string(survivor->decrypt({"worker", 1}, c.type, c.bytes)), "welcome back");
}

TEST(Seed, ReopeningWithTheSameSeedWorksAndAnotherSeedIsRefused) {
    TempDir dir;
    StoreKey key = fast_key();
    Bytes seed = random_bytes(32);
    Bytes identity = Party::create_from_seed(dir / "s.db", key, seed)->identity_key();
    EXPECT_EQ(Party::create_from_seed(dir / "s.db", key, seed)->identity_key(), identity);
    expect_error(ErrorCode::invalid_argument,
                 [&] { Party::create_from_seed(dir / "s.db", key, random_bytes(32)); });
    expect_error(ErrorCode::invalid_argument,
                 [&] { Party::create_from_seed(dir / "x.db", key, random_bytes(31)); });
}

}  // namespace

namespace {

TEST(Concurrency, OnePartyServesSeveralThreadsAndEveryMessageOpens) {
    TempDir dir;
    auto hub = Party::open(dir / "hub.db", fast_key());
    std::vector<std::unique_ptr<Party>> peers;
    for (int i = 0; i < 3; ++i) {
        peers.push_back(Party::open(dir / ("peer" + std::to_string(i) + ".db"), fast_key()));
        hub->start_session({"peer" + std::to_string(i), 1}, peers.back()->bundle(1));
    }
    std::vector<std::vector<Ciphertext>> sent(peers.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 40; ++n) {
                sent[i].push_back(hub->encrypt({"peer" + std::to_string(i), 1},
                                               as_bytes("m" + std::to_string(n))));
            }
        });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < peers.size(); ++i) {
        ASSERT_EQ(sent[i].size(), 40u);
        for (int n = 0; n < 40; ++n) {
            const auto& c = sent[i][static_cast<std::size_t>(n)];
            EXPECT_EQ(to_string(peers[i]->decrypt({"hub", 1}, c.type, c.bytes)),
                      "m" + std::to_string(n));
        }
    }
}

}  // namespace

namespace {

TEST_F(SessionTest, AtomicallyCommitsAFanOutOnceAndAFailedStepInsideLeavesNoTrace) {
    TempDir other;
    auto carol = Party::open(other / "carol.db", fast_key());
    const Address kCarol{"carol", 1};
    std::vector<Ciphertext> out;
    alice->atomically([&](Party& p) {
        p.start_session(kBob, bob->bundle(1));
        p.start_session(kCarol, carol->bundle(1));
        out.push_back(p.encrypt(kBob, as_bytes("to bob")));
        out.push_back(p.encrypt(kCarol, as_bytes("to carol")));
    });
    EXPECT_EQ(bob_reads(out[0]), "to bob");
    EXPECT_EQ(to_string(carol->decrypt(kAlice, out[1].type, out[1].bytes)), "to carol");

    // A forged pre-key message from a stranger fails inside a batch that goes on and commits:
    // the stranger's identity must not be pinned.
    TempDir third;
    auto mallory = Party::open(third / "m.db", fast_key());
    mallory->start_session(kBob, bob->bundle(1));
    Ciphertext forged = mallory->encrypt(kBob, as_bytes("x"));
    forged.bytes[forged.bytes.size() - 2] ^= 1;
    const Address kMallory{"mallory", 1};
    bob->atomically([&](Party& p) {
        EXPECT_THROW(p.decrypt(kMallory, forged.type, forged.bytes), Error);
        p.encrypt(kAlice, as_bytes("still fine"));
    });
    EXPECT_FALSE(bob->remote_identity_key(kMallory).has_value());

    // If the work throws, nothing at all is committed.
    EXPECT_THROW(alice->atomically([&](Party& p) {
        p.start_session({"dave", 1}, carol->bundle(1));
        throw std::runtime_error("abort");
    }),
                 std::runtime_error);
    EXPECT_FALSE(alice->has_session({"dave", 1}));
}

}  // namespace
