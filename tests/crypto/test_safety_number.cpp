// Safety numbers: both sides agree, the display format, and change detection.
#include <gtest/gtest.h>

#include "ariadne/crypto/safety_number.h"
#include "ariadne/crypto/session.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;
using namespace ariadne::crypto::testing;

namespace {

TEST(SafetyNumber, BothSidesSeeTheSameSixtyDigitsInTwelveGroups) {
    TempDir dir;
    auto worker = Party::open(dir / "w.db", fast_key());
    auto survivor = Party::open(dir / "s.db", fast_key());
    survivor->generate_pre_keys(1);
    worker->start_session({"survivor-K7Q", 1}, survivor->bundle(1));
    Ciphertext c = worker->encrypt({"survivor-K7Q", 1}, as_bytes("hi"));
    survivor->decrypt({"worker-17", 1}, c.type, c.bytes);

    std::string seen_by_worker =
        worker->safety_number("worker-17", "survivor-K7Q", {"survivor-K7Q", 1});
    std::string seen_by_survivor =
        survivor->safety_number("survivor-K7Q", "worker-17", {"worker-17", 1});
    EXPECT_EQ(seen_by_worker, seen_by_survivor);
    ASSERT_EQ(seen_by_worker.size(), 60u + 11u);
    for (std::size_t i = 0; i < seen_by_worker.size(); ++i) {
        if (i % 6 == 5)
            EXPECT_EQ(seen_by_worker[i], ' ');
        else
            EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(seen_by_worker[i])));
    }
    EXPECT_TRUE(safety_numbers_match(seen_by_worker, seen_by_survivor));
}

TEST(SafetyNumber, ChangesWhenEitherIdentityChanges) {
    TempDir dir;
    Bytes a = Party::open(dir / "a.db", fast_key())->identity_key();
    Bytes b = Party::open(dir / "b.db", fast_key())->identity_key();
    Bytes c = Party::open(dir / "c.db", fast_key())->identity_key();
    std::string ab = safety_number("a", a, "b", b);
    EXPECT_EQ(ab, safety_number("b", b, "a", a));
    EXPECT_FALSE(safety_numbers_match(ab, safety_number("a", a, "b", c)));
    EXPECT_FALSE(safety_numbers_match(ab, safety_number("a", c, "b", b)));
}

TEST(SafetyNumber, ComparisonIgnoresSpacesOnlyAndNeedsSixtyDigits) {
    const std::string digits(60, '7');
    const std::string grouped = format_safety_number(digits);
    EXPECT_TRUE(safety_numbers_match(digits, grouped));
    EXPECT_FALSE(safety_numbers_match(digits, std::string(59, '7')));
    EXPECT_FALSE(safety_numbers_match(digits, std::string(59, '7') + "8"));
    EXPECT_FALSE(safety_numbers_match(digits, std::string(59, '7') + "x"));
    EXPECT_FALSE(safety_numbers_match("", ""));
    expect_error(ErrorCode::invalid_argument, [] { format_safety_number("123"); });
    expect_error(ErrorCode::invalid_argument,
                 [] { safety_number("a", Bytes(33, 5), "", Bytes(33, 5)); });
}

TEST(SafetyNumber, UnknownPeerHasNoSafetyNumberYet) {
    TempDir dir;
    auto p = Party::open(dir / "p.db", fast_key());
    expect_error(ErrorCode::untrusted_identity, [&] { p->safety_number("me", "you", {"you", 1}); });
}

}  // namespace
