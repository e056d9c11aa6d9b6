#include "ariadne/crypto/totp.h"

#include <gtest/gtest.h>

#include "ariadne/crypto/error.h"

using namespace ariadne::crypto;

namespace {
const Bytes kRfcSecret = to_bytes("12345678901234567890");
}

TEST(Totp, MatchesRfc6238Sha1TestVectors) {
    const std::pair<std::uint64_t, const char*> vectors[] = {
        {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
    };
    for (const auto& [time, code] : vectors) {
        EXPECT_EQ(totp_code(kRfcSecret, time, 8), code) << time;
        EXPECT_TRUE(verify_totp(kRfcSecret, code, time, 0, 8).has_value()) << time;
    }
}

TEST(Totp, SixDigitCodesMatchRfc4226HotpValues) {
    const char* hotp[] = {"755224", "287082", "359152", "969429", "338314",
                          "254676", "287922", "162583", "399871", "520489"};
    for (std::uint64_t counter = 0; counter < 10; ++counter) {
        EXPECT_EQ(totp_code(kRfcSecret, counter * 30 + 29), hotp[counter]) << counter;
    }
}

TEST(Totp, VerifyReturnsTheMatchedStepSoReplayCanBeRefused) {
    const std::uint64_t t = 1'700'000'000;
    const std::string code = totp_code(kRfcSecret, t);
    auto step = verify_totp(kRfcSecret, code, t);
    ASSERT_TRUE(step.has_value());
    EXPECT_EQ(*step, t / 30);
    // The same code a few seconds later resolves to the same step: the caller sees a replay.
    EXPECT_EQ(verify_totp(kRfcSecret, code, t + 5), step);
}

TEST(Totp, AcceptsOneStepOfClockDriftByDefaultButNotTwo) {
    const std::uint64_t t = 1'700'000'010;
    const std::string previous = totp_code(kRfcSecret, t - 30);
    const std::string next = totp_code(kRfcSecret, t + 30);
    EXPECT_EQ(verify_totp(kRfcSecret, previous, t), t / 30 - 1);
    EXPECT_EQ(verify_totp(kRfcSecret, next, t), t / 30 + 1);
    EXPECT_FALSE(verify_totp(kRfcSecret, totp_code(kRfcSecret, t - 60), t).has_value());
    EXPECT_FALSE(verify_totp(kRfcSecret, totp_code(kRfcSecret, t + 60), t).has_value());
    EXPECT_FALSE(verify_totp(kRfcSecret, previous, t, 0).has_value());
}

TEST(Totp, WrongCodeIsRejected) {
    const std::uint64_t t = 1'700'000'000;
    std::string code = totp_code(kRfcSecret, t);
    code[5] = code[5] == '9' ? '0' : static_cast<char>(code[5] + 1);
    EXPECT_FALSE(verify_totp(kRfcSecret, code, t).has_value());
}

TEST(Totp, MalformedCodesAreErrorsNotMismatches) {
    for (const char* bad : {"", "12345", "1234567", "12345a", " 123456", "123 456"}) {
        EXPECT_THROW(verify_totp(kRfcSecret, bad, 1'700'000'000), Error) << bad;
    }
    EXPECT_THROW(totp_code(kRfcSecret, 0, 7), Error);
    EXPECT_THROW(totp_code({}, 0), Error);
    EXPECT_THROW(verify_totp(kRfcSecret, "123456", 0, 11), Error);
}

TEST(Totp, WindowAtTheEpochDoesNotUnderflow) {
    EXPECT_EQ(verify_totp(kRfcSecret, totp_code(kRfcSecret, 0), 0), 0u);
}

TEST(Totp, GeneratedSecretsAre20RandomBytes) {
    SecretBytes a = generate_totp_secret();
    SecretBytes b = generate_totp_secret();
    EXPECT_EQ(a.size(), 20u);
    EXPECT_NE(hex_encode(a.view()), hex_encode(b.view()));
}

TEST(Base32, MatchesRfc4648TestVectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "MY"},
        {"fo", "MZXQ"},
        {"foo", "MZXW6"},
        {"foob", "MZXW6YQ"},
        {"fooba", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base32_encode(as_bytes(plain)), encoded);
        EXPECT_EQ(to_string(base32_decode(encoded)), plain);
    }
    EXPECT_EQ(to_string(base32_decode("mzxw6ytboi")), "foobar");
}

TEST(Base32, RoundTripsRandomSecrets) {
    for (int i = 0; i < 50; ++i) {
        Bytes data = random_bytes(static_cast<std::size_t>(i));
        EXPECT_EQ(base32_decode(base32_encode(data)), data);
    }
}

TEST(Base32, RefusesPaddingAndForeignCharacters) {
    for (const char* bad : {"MY======", "MZXW6===", "MY=", "M", "MZX", "MZXW6Y", "MZ XW", "MZ1W",
                            "MZ0W", "MZ8W", "MZ\nW", "MZ" /* non-zero trailing bits */}) {
        EXPECT_THROW(base32_decode(bad), Error) << bad;
    }
}

TEST(Totp, OtpauthUriIsPercentEncodedAndCarriesTheBase32Secret) {
    const Bytes secret = to_bytes("12345678901234567890");
    EXPECT_EQ(otpauth_uri("Ariadne Hilfe", "cw-0042@org", secret),
              "otpauth://totp/Ariadne%20Hilfe:cw-0042%40org?secret=" + base32_encode(secret) +
                  "&issuer=Ariadne%20Hilfe&algorithm=SHA1&digits=6&period=30");
    EXPECT_EQ(base32_encode(secret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    EXPECT_THROW(otpauth_uri("Org:X", "cw1", secret), Error);
    EXPECT_THROW(otpauth_uri("Org", "", secret), Error);
    EXPECT_THROW(otpauth_uri("Org", "cw1", {}), Error);
}
