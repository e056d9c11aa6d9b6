#include "ariadne/crypto/password.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ariadne/crypto/error.h"

using namespace ariadne::crypto;

namespace {
// Cheap parameters keep the suite fast under sanitizers; the defaults get one test.
PasswordParams cheap() {
    PasswordParams p;
    p.t_cost = 1;
    p.m_kib = 1024;
    return p;
}

ErrorCode code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    ADD_FAILURE() << "expected an ariadne::crypto::Error";
    return ErrorCode::internal;
}
}  // namespace

TEST(Password, CorrectPasswordVerifiesAndWrongOneDoesNot) {
    const std::string encoded = hash_password("correct horse battery staple", cheap());
    EXPECT_TRUE(verify_password("correct horse battery staple", encoded));
    EXPECT_FALSE(verify_password("correct horse battery stapl", encoded));
    EXPECT_FALSE(verify_password("Correct horse battery staple", encoded));
}

TEST(Password, DefaultsAreOwaspArgon2idAndSelfDescribing) {
    const std::string encoded = hash_password("s3cret pass");
    EXPECT_EQ(encoded.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << encoded;
    // 16-byte salt and 32-byte hash in unpadded base64: 22 and 43 characters.
    const auto salt_start = encoded.find('$', 30) + 1;
    const auto hash_start = encoded.find('$', salt_start) + 1;
    EXPECT_EQ(hash_start - salt_start - 1, 22u);
    EXPECT_EQ(encoded.size() - hash_start, 43u);
    EXPECT_TRUE(verify_password("s3cret pass", encoded));
    EXPECT_FALSE(password_needs_rehash(encoded));
}

TEST(Password, SamePasswordHashesDifferentlyEachTime) {
    EXPECT_NE(hash_password("same password", cheap()), hash_password("same password", cheap()));
}

TEST(Password, VerifiesTheArgon2ReferenceImplementationsOutput) {
    // From the phc-winner-argon2 test suite (src/test.c): password "password", salt "somesalt".
    EXPECT_TRUE(verify_password(
        "password",
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
    EXPECT_FALSE(verify_password(
        "passwore",
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
}

TEST(Password, ParametersAreReadBackFromTheStoredString) {
    PasswordParams p = cheap();
    p.t_cost = 3;
    p.m_kib = 2048;
    p.parallelism = 2;
    p.hash_length = 24;
    const std::string encoded = hash_password("pw", p);
    EXPECT_EQ(encoded.rfind("$argon2id$v=19$m=2048,t=3,p=2$", 0), 0u) << encoded;
    EXPECT_TRUE(verify_password("pw", encoded));  // verify does not need `p`
    EXPECT_FALSE(password_needs_rehash(encoded, p));
    EXPECT_TRUE(password_needs_rehash(encoded, cheap()));
}

TEST(Password, EmptyAndOverlongPasswordsAreRefused) {
    EXPECT_EQ(code_of([] { hash_password("", cheap()); }), ErrorCode::invalid_argument);
    EXPECT_EQ(code_of([] { hash_password(std::string(1025, 'a'), cheap()); }),
              ErrorCode::invalid_argument);
    EXPECT_NO_THROW(hash_password(std::string(1024, 'a'), cheap()));
    const std::string encoded = hash_password("x", cheap());
    EXPECT_EQ(code_of([&] { verify_password("", encoded); }), ErrorCode::invalid_argument);
}

TEST(Password, MalformedOrForeignHashStringsAreRefusedNotGuessed) {
    const std::string good = hash_password("pw", cheap());
    const std::string tail = good.substr(good.find("$m="));  // "$m=...$salt$hash"
    const std::string bad[] = {
        "",
        "plaintext",
        "$argon2i$v=19" + tail,                                                   // other algorithm
        "$argon2d$v=19" + tail,                                                   // other algorithm
        "$argon2id$v=16" + tail,                                                  // old version
        "$argon2id" + tail,                                                       // version missing
        "$argon2id$v=19$t=1,m=1024,p=1" + tail.substr(tail.find("$", 1)),         // field order
        "$argon2id$v=19$m=01024,t=1,p=1" + tail.substr(tail.find("$", 1)),        // leading zero
        "$argon2id$v=19$m=1024,t=+1,p=1" + tail.substr(tail.find("$", 1)),        // sign
        "$argon2id$v=19$m=1024,t=0,p=1" + tail.substr(tail.find("$", 1)),         // out of bounds
        "$argon2id$v=19$m=99999999999,t=1,p=1" + tail.substr(tail.find("$", 1)),  // overflow
        "$argon2id$v=19$m=8388608,t=1,p=1" + tail.substr(tail.find("$", 1)),      // 8 GiB
        good + "=",                                                               // padding
        good + "$extra",                                                          // extra field
        good.substr(0, good.rfind('$')),                                          // hash missing
        good.substr(0, good.size() - 1) + "!",                                    // not base64
        good + " ",                                                               // trailing space
    };
    for (const auto& s : bad) {
        EXPECT_EQ(code_of([&] { verify_password("pw", s); }), ErrorCode::invalid_argument) << s;
    }
}

TEST(Password, OutOfBoundsParametersAreRefusedWhenHashing) {
    PasswordParams p = cheap();
    p.salt_length = 8;
    EXPECT_EQ(code_of([&] { hash_password("pw", p); }), ErrorCode::invalid_argument);
    p = cheap();
    p.m_kib = 4;
    EXPECT_EQ(code_of([&] { hash_password("pw", p); }), ErrorCode::invalid_argument);
    p = cheap();
    p.hash_length = 8;
    EXPECT_EQ(code_of([&] { hash_password("pw", p); }), ErrorCode::invalid_argument);
}
