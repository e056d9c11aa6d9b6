#include <gtest/gtest.h>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"

using namespace ariadne::crypto;

TEST(Base64, RoundTripsEveryLengthRemainder) {
    for (std::size_t n = 0; n < 10; ++n) {
        Bytes data = random_bytes(n);
        EXPECT_EQ(base64_decode(base64_encode(data)), data);
    }
}

TEST(Base64, RefusesMissingPaddingAndInvalidCharacters) {
    EXPECT_THROW(base64_decode("abc"), Error);
    EXPECT_THROW(base64_decode("ab!="), Error);
    EXPECT_THROW(base64_decode("ab=c"), Error);
}
