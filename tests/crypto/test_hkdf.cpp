#include "ariadne/crypto/hkdf.h"

#include <gtest/gtest.h>

#include "ariadne/crypto/error.h"

using namespace ariadne::crypto;

namespace {
Bytes from_hex(std::string_view hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}
}  // namespace

TEST(Hkdf, MatchesRfc5869TestCase1) {
    const Bytes ikm(22, 0x0b);
    const Bytes salt = from_hex("000102030405060708090a0b0c");
    const Bytes info = from_hex("f0f1f2f3f4f5f6f7f8f9");
    SecretBytes okm = hkdf_sha256(ikm, salt, info, 42);
    EXPECT_EQ(
        hex_encode(okm.view()),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
    const Bytes ikm(22, 0x0b);
    SecretBytes okm = hkdf_sha256(ikm, {}, {}, 42);
    EXPECT_EQ(
        hex_encode(okm.view()),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, DifferentInfoGivesIndependentKeys) {
    const Bytes ikm(32, 0x42);
    EXPECT_NE(hex_encode(hkdf_sha256(ikm, {}, as_bytes("ariadne/v1/auth"), 32).view()),
              hex_encode(hkdf_sha256(ikm, {}, as_bytes("ariadne/v1/identity"), 32).view()));
}

TEST(Hkdf, RefusesEmptyKeyMaterialAndImpossibleLengths) {
    const Bytes ikm(32, 1);
    EXPECT_THROW(hkdf_sha256({}, {}, {}, 32), Error);
    EXPECT_THROW(hkdf_sha256(ikm, {}, {}, 0), Error);
    EXPECT_THROW(hkdf_sha256(ikm, {}, {}, kHkdfSha256MaxLength + 1), Error);
    EXPECT_EQ(hkdf_sha256(ikm, {}, {}, kHkdfSha256MaxLength).size(), kHkdfSha256MaxLength);
}
