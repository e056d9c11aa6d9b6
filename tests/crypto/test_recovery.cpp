#include "ariadne/crypto/recovery.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/session.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;

namespace {
// 8 MiB, one pass: the derivation logic is the same, the suite stays fast under ASan.
RecoveryParams cheap_params() {
    RecoveryParams p = new_recovery_params();
    p.t_cost = 1;
    p.m_kib = 8 * 1024;
    return p;
}

std::string error_message(const std::function<void()>& f, ErrorCode expected) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected an ariadne::crypto::Error";
    return {};
}

Bytes challenge() { return random_bytes(32); }

const char* kCode = "07612 345 6789 0123";
}  // namespace

TEST(RecoveryCode, GeneratedDigitCodesHave16DigitsGrouped5344) {
    for (int i = 0; i < 20; ++i) {
        const std::string code = generate_recovery_code();
        ASSERT_EQ(code.size(), 19u) << code;
        for (std::size_t pos : {5u, 9u, 14u}) EXPECT_EQ(code[pos], ' ') << code;
        const std::string n = normalize_recovery_code(code);
        EXPECT_EQ(n.size(), 16u);
        EXPECT_TRUE(std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }));
        EXPECT_EQ(format_recovery_code(n), code);
    }
}

TEST(RecoveryCode, GeneratedDigitsUseEveryDigitInEveryPosition) {
    // 200 codes: a position missing a digit has probability < 16 * 10 * 0.9^200 ~ 1e-7.
    std::array<std::array<int, 10>, 16> seen{};
    for (int i = 0; i < 200; ++i) {
        const std::string n = normalize_recovery_code(generate_recovery_code());
        for (std::size_t pos = 0; pos < 16; ++pos)
            ++seen[pos][static_cast<std::size_t>(n[pos] - '0')];
    }
    for (std::size_t pos = 0; pos < 16; ++pos) {
        for (int d = 0; d < 10; ++d)
            EXPECT_GT(seen[pos][static_cast<std::size_t>(d)], 0) << pos << ":" << d;
    }
}

TEST(RecoveryCode, GeneratedCodesDiffer) {
    std::set<std::string> codes;
    for (int i = 0; i < 100; ++i) codes.insert(generate_recovery_code());
    EXPECT_EQ(codes.size(), 100u);
}

TEST(RecoveryCode, GeneratedWordCodesHave8ListWords) {
    const auto list = recovery_word_list();
    for (int i = 0; i < 20; ++i) {
        const std::string code = generate_recovery_code(RecoveryFormat::words);
        EXPECT_EQ(std::count(code.begin(), code.end(), ' '), 7) << code;
        EXPECT_EQ(normalize_recovery_code(code), code);
        std::size_t start = 0;
        for (int w = 0; w < 8; ++w) {
            const std::size_t end = code.find(' ', start);
            const std::string word = code.substr(start, end - start);
            EXPECT_TRUE(std::binary_search(list.begin(), list.end(), std::string_view(word)))
                << word;
            start = end + 1;
        }
    }
}

TEST(RecoveryCode, WordListHas256SortedWordsWithUniqueThreeLetterPrefixes) {
    const auto list = recovery_word_list();
    ASSERT_EQ(list.size(), 256u);
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    std::set<std::string_view> prefixes;
    for (auto w : list) {
        EXPECT_GE(w.size(), 3u);
        EXPECT_LE(w.size(), 6u);
        EXPECT_TRUE(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            << w;
        prefixes.insert(w.substr(0, 3));
    }
    EXPECT_EQ(prefixes.size(), 256u);
}

TEST(RecoveryCode, NormalisationAcceptsHowPeopleWritePhoneNumbers) {
    for (const char* typed :
         {"0761234567890123", "0761-2345-6789-0123", "07612 345 6789 0123", " 0761.2345.6789.0123 ",
          "+0761 2345 6789 0123", "(0761) 2345/6789-0123", "0761\t23456789 0123"}) {
        EXPECT_EQ(normalize_recovery_code(typed), "0761234567890123") << typed;
    }
}

TEST(RecoveryCode, NormalisationRefusesWrongLengthsLettersAndOtherCharacters) {
    EXPECT_EQ(error_message([] { normalize_recovery_code("07612 345 6789 012"); },
                            ErrorCode::invalid_argument),
              "a recovery code has 16 digits");
    EXPECT_EQ(error_message([] { normalize_recovery_code("07612 345 6789 01234"); },
                            ErrorCode::invalid_argument),
              "a recovery code has 16 digits");
    const std::string mixed = error_message([] { normalize_recovery_code("07612 345 6789 012O"); },
                                            ErrorCode::invalid_argument);
    EXPECT_NE(mixed.find("16 digits"), std::string::npos) << mixed;
    for (const char* bad : {"", "   ", "0761_2345_6789_0123", "0761*2345*6789*0123",
                            "\xd9\xa0\xd9\xa1" /* Arabic-Indic digits */}) {
        error_message([&] { normalize_recovery_code(bad); }, ErrorCode::invalid_argument);
    }
    error_message([] { normalize_recovery_code(std::string(300, '1')); },
                  ErrorCode::invalid_argument);
}

TEST(RecoveryCode, WordNormalisationLowerCasesAndSingleSpaces) {
    EXPECT_EQ(normalize_recovery_code("  Maple OTTER\tpencil-river, swan\nlemon  cabin tulip. "),
              "maple otter pencil river swan lemon cabin tulip");
}

TEST(RecoveryCode, WordErrorsNameThePositionButNeverTheWord) {
    const std::string msg = error_message(
        [] { normalize_recovery_code("maple otter pencul river swan lemon cabin tulip"); },
        ErrorCode::invalid_argument);
    EXPECT_EQ(msg, "word 3 of the recovery code is not in the word list");
    EXPECT_EQ(
        error_message([] { normalize_recovery_code("maple otter pencil river swan lemon cabin"); },
                      ErrorCode::invalid_argument),
        "a recovery code has 8 words");
    EXPECT_EQ(
        error_message(
            [] { normalize_recovery_code("maple otter pencil river swan lemon cabin tulip lime"); },
            ErrorCode::invalid_argument),
        "a recovery code has 8 words");
    error_message(
        [] { normalize_recovery_code("maple otter pencil river swan lemon cabin t\xc3\xbclip"); },
        ErrorCode::invalid_argument);
}

TEST(RecoveryParams, DefaultsAreArgon2idT3With64MiB) {
    const RecoveryParams p = new_recovery_params();
    EXPECT_EQ(p.t_cost, 3u);
    EXPECT_EQ(p.m_kib, 65536u);
    EXPECT_EQ(p.parallelism, 1u);
    EXPECT_EQ(p.salt.size(), 16u);
    EXPECT_NE(new_recovery_params().salt, p.salt);
}

TEST(RecoveryParams, SerialisedParamsReadBackExactly) {
    RecoveryParams p = cheap_params();
    p.t_cost = 4;
    p.parallelism = 2;
    const std::string text = serialize_recovery_params(p);
    EXPECT_EQ(text.rfind("$argon2id$v=19$m=8192,t=4,p=2$", 0), 0u) << text;
    const RecoveryParams back = parse_recovery_params(text);
    EXPECT_EQ(back.t_cost, 4u);
    EXPECT_EQ(back.m_kib, 8192u);
    EXPECT_EQ(back.parallelism, 2u);
    EXPECT_EQ(back.salt, p.salt);
    EXPECT_EQ(serialize_recovery_params(back), text);
}

TEST(RecoveryParams, MalformedParamsAreRefused) {
    const std::string good = serialize_recovery_params(cheap_params());
    for (const std::string& bad :
         {std::string(""), good + "$AAAAAAAAAAAAAAAAAAAAAA", good + "=",
          good.substr(0, good.size() - 2), "$argon2i" + good.substr(9),
          "$argon2id$v=19$m=8192,t=1$" + good.substr(good.rfind('$') + 1),
          std::string("$argon2id$v=19$m=8192,t=1,p=1$c29tZXNhbHQ") /* 8-byte salt */}) {
        error_message([&] { parse_recovery_params(bad); }, ErrorCode::invalid_argument);
    }
    RecoveryParams no_salt = cheap_params();
    no_salt.salt.clear();
    error_message([&] { serialize_recovery_params(no_salt); }, ErrorCode::invalid_argument);
    error_message([&] { derive_recovery_secrets(kCode, no_salt); }, ErrorCode::invalid_argument);
}

TEST(RecoverySecrets, SameCodeAndParamsGiveTheSameSecretsOnTwoDerivations) {
    const RecoveryParams p = cheap_params();
    const RecoverySecrets a = derive_recovery_secrets(kCode, p);
    // A new phone: she types it differently, params come back from their stored text.
    const RecoverySecrets b = derive_recovery_secrets(
        "0761-2345-6789-0123", parse_recovery_params(serialize_recovery_params(p)));
    EXPECT_EQ(hex_encode(a.identity_seed.view()), hex_encode(b.identity_seed.view()));
    EXPECT_EQ(hex_encode(a.auth_key.view()), hex_encode(b.auth_key.view()));
    EXPECT_EQ(a.auth_public_key, b.auth_public_key);
    EXPECT_EQ(a.locator, b.locator);
    EXPECT_EQ(a.verifier, b.verifier);
    EXPECT_EQ(a.master.size(), 32u);
    EXPECT_EQ(a.identity_seed.size(), 32u);
    EXPECT_EQ(a.auth_key.size(), 32u);
    EXPECT_EQ(a.locator.size(), 32u);
    EXPECT_EQ(a.verifier.size(), 32u);
    ASSERT_EQ(a.auth_public_key.size(), 33u);
    EXPECT_EQ(a.auth_public_key[0], 0x05);
}

TEST(RecoverySecrets, EveryDerivedValueIsDistinct) {
    const RecoverySecrets s = derive_recovery_secrets(kCode, cheap_params());
    const std::set<std::string> values = {
        hex_encode(s.master.view()), hex_encode(s.auth_key.view()),
        hex_encode(s.identity_seed.view()), hex_encode(s.locator), hex_encode(s.verifier)};
    EXPECT_EQ(values.size(), 5u);
}

TEST(RecoverySecrets, AnotherCodeOrAnotherSaltGivesOtherSecrets) {
    const RecoveryParams p = cheap_params();
    const RecoverySecrets a = derive_recovery_secrets(kCode, p);
    const RecoverySecrets other_code = derive_recovery_secrets("07612 345 6789 0124", p);
    const RecoverySecrets other_salt = derive_recovery_secrets(kCode, cheap_params());
    EXPECT_NE(hex_encode(a.identity_seed.view()), hex_encode(other_code.identity_seed.view()));
    EXPECT_NE(hex_encode(a.identity_seed.view()), hex_encode(other_salt.identity_seed.view()));
    EXPECT_NE(a.locator, other_code.locator);
}

TEST(RecoverySecrets, KnownAnswerPinsTheDerivation) {
    // Pins the whole chain (normalisation, Argon2id, HKDF infos, key clamping): if this
    // changes, every survivor's code stops working. Argon2id is checked against the reference
    // vector in test_password.cpp; identity_seed and the auth public key were recomputed from
    // master independently (Python hmac HKDF, pyca/cryptography X25519).
    RecoveryParams p;
    p.t_cost = 1;
    p.m_kib = 8 * 1024;
    p.salt = Bytes(16, 0xA5);
    const RecoverySecrets s = derive_recovery_secrets("07612 345 6789 0123", p);
    EXPECT_EQ(hex_encode(s.master.view()),
              "357ccc19103e6ee08c70f7c2b61c4c8ddc0d8047bdc12f3c1219432b323905a2");
    EXPECT_EQ(hex_encode(s.identity_seed.view()),
              "aefd64fd7822cc926bd80089a8d4d0ec03ff5e35676f9c2d524e7fe3a6e08173");
    EXPECT_EQ(hex_encode(s.auth_public_key),
              "05a37b6c36c6b983e4bb79f807c6898fff76eac23aa7e4d0b86aec84d8fe18fd34");
}

TEST(RecoveryVerifier, StoredRecordAcceptsTheCodeAndRefusesAnother) {
    const StoredRecovery stored = make_recovery_verifier(kCode, cheap_params());
    EXPECT_TRUE(verify_recovery_code(kCode, stored));
    EXPECT_TRUE(verify_recovery_code("0761-2345-6789-0123", stored));
    EXPECT_FALSE(verify_recovery_code("07612 345 6789 0122", stored));
    EXPECT_FALSE(verify_recovery_code("17612 345 6789 0123", stored));
}

TEST(RecoveryVerifier, WordCodesVerifyToo) {
    const std::string code = generate_recovery_code(RecoveryFormat::words);
    const StoredRecovery stored = make_recovery_verifier(code, cheap_params());
    std::string shouted = code;
    std::transform(shouted.begin(), shouted.end(), shouted.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    EXPECT_TRUE(verify_recovery_code(shouted, stored));
    EXPECT_FALSE(verify_recovery_code(generate_recovery_code(RecoveryFormat::words), stored));
}

TEST(RecoveryVerifier, ParamsAreReadFromTheStoredRecordAfterAStorageRoundTrip) {
    const RecoveryParams p = cheap_params();
    const StoredRecovery made = make_recovery_verifier(kCode, p);
    // What the gateway writes to its database and reads back later.
    const std::string params_column = serialize_recovery_params(made.params);
    const std::string locator_column = base64_encode(made.locator);
    const std::string verifier_column = base64_encode(made.verifier);
    StoredRecovery loaded{parse_recovery_params(params_column), base64_decode(locator_column),
                          base64_decode(verifier_column), made.auth_public_key};
    EXPECT_TRUE(verify_recovery_code(kCode, loaded));
    // The same code under other params is another record: params really come from storage.
    loaded.params.t_cost = 2;
    EXPECT_FALSE(verify_recovery_code(kCode, loaded));
}

TEST(RecoveryVerifier, StoredRecordHoldsNeitherTheCodeNorTheSecrets) {
    const RecoveryParams p = cheap_params();
    const StoredRecovery stored = make_recovery_verifier(kCode, p);
    const RecoverySecrets s = derive_recovery_secrets(kCode, p);
    const std::string all = hex_encode(stored.locator) + hex_encode(stored.verifier) +
                            hex_encode(stored.auth_public_key) +
                            serialize_recovery_params(stored.params);
    EXPECT_EQ(all.find("07612345"), std::string::npos);
    for (const SecretBytes* secret : {&s.master, &s.auth_key, &s.identity_seed}) {
        EXPECT_EQ(all.find(hex_encode(secret->view())), std::string::npos);
    }
}

TEST(RecoveryVerifier, MalformedCodeIsAnErrorNotAMismatch) {
    const StoredRecovery stored = make_recovery_verifier(kCode, cheap_params());
    error_message([&] { verify_recovery_code("0761 234", stored); }, ErrorCode::invalid_argument);
    StoredRecovery truncated = stored;
    truncated.verifier.resize(16);
    error_message([&] { verify_recovery_code(kCode, truncated); }, ErrorCode::invalid_argument);
}

TEST(RecoveryVerifier, RealDefaultParamsWork) {
    // The one test at production cost (t=3, 64 MiB).
    const RecoveryParams p = new_recovery_params();
    const StoredRecovery stored = make_recovery_verifier(kCode, p);
    EXPECT_TRUE(verify_recovery_code(kCode, stored));
}

TEST(LoginSignature, SignatureFromTheCodeVerifiesWithTheStoredPublicKey) {
    const RecoveryParams p = cheap_params();
    const StoredRecovery stored = make_recovery_verifier(kCode, p);
    // Later, on a new phone: only the code.
    const RecoverySecrets s = derive_recovery_secrets(kCode, p);
    const Bytes c = challenge();
    const Bytes sig = sign_login_challenge(s.auth_key, c);
    EXPECT_EQ(sig.size(), 64u);
    EXPECT_TRUE(verify_login_signature(stored.auth_public_key, c, sig));
}

TEST(LoginSignature, WrongChallengeFlippedBitsAndOtherKeysFail) {
    const RecoveryParams p = cheap_params();
    const RecoverySecrets s = derive_recovery_secrets(kCode, p);
    const Bytes c = challenge();
    const Bytes sig = sign_login_challenge(s.auth_key, c);
    ASSERT_TRUE(verify_login_signature(s.auth_public_key, c, sig));

    EXPECT_FALSE(verify_login_signature(s.auth_public_key, challenge(), sig));
    for (std::size_t bit : {0u, 100u, 255u, 511u}) {
        Bytes flipped = sig;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        EXPECT_FALSE(verify_login_signature(s.auth_public_key, c, flipped)) << bit;
    }
    Bytes flipped_challenge = c;
    flipped_challenge[7] ^= 0x10;
    EXPECT_FALSE(verify_login_signature(s.auth_public_key, flipped_challenge, sig));
    const RecoverySecrets other = derive_recovery_secrets("07612 345 6789 0124", p);
    EXPECT_FALSE(verify_login_signature(other.auth_public_key, c, sig));
    EXPECT_FALSE(verify_login_signature(s.auth_public_key, c, Bytes(sig.begin(), sig.end() - 1)));
    EXPECT_FALSE(verify_login_signature(s.auth_public_key, c, {}));
}

TEST(LoginSignature, BadKeysAndChallengesAreRefused) {
    const RecoverySecrets s = derive_recovery_secrets(kCode, cheap_params());
    const Bytes c = challenge();
    const Bytes sig = sign_login_challenge(s.auth_key, c);
    error_message([&] { sign_login_challenge(s.auth_key, Bytes(15, 1)); },
                  ErrorCode::invalid_argument);
    error_message([&] { sign_login_challenge(s.auth_key, Bytes(1025, 1)); },
                  ErrorCode::invalid_argument);
    error_message([&] { sign_login_challenge(SecretBytes(Bytes(31, 1)), c); },
                  ErrorCode::invalid_argument);
    Bytes no_prefix = s.auth_public_key;
    no_prefix[0] = 0x04;
    error_message([&] { verify_login_signature(no_prefix, c, sig); }, ErrorCode::invalid_argument);
    error_message([&] { verify_login_signature(Bytes(32, 5), c, sig); },
                  ErrorCode::invalid_argument);
}

TEST(RecoveryIdentity, SameCodeRebuildsTheSameSignalIdentityOnTwoFreshStores) {
    ariadne::crypto::testing::TempDir dir;
    const RecoveryParams p = cheap_params();
    const std::string published = serialize_recovery_params(p);  // what a new phone fetches

    const RecoverySecrets enrolment = derive_recovery_secrets(kCode, p);
    auto old_phone =
        Party::create_from_seed(dir / "old-phone.db", StoreKey::from_bytes(random_bytes(32)),
                                enrolment.identity_seed.view());
    // Years later, another phone, only the code (typed differently) and the published params.
    const RecoverySecrets later =
        derive_recovery_secrets("0761 2345 6789 0123", parse_recovery_params(published));
    auto new_phone = Party::create_from_seed(
        dir / "new-phone.db", StoreKey::from_bytes(random_bytes(32)), later.identity_seed.view());
    EXPECT_EQ(new_phone->identity_key(), old_phone->identity_key());
    EXPECT_EQ(new_phone->registration_id(), old_phone->registration_id());

    const RecoverySecrets other = derive_recovery_secrets("07612 345 6789 0124", p);
    auto other_phone = Party::create_from_seed(
        dir / "other.db", StoreKey::from_bytes(random_bytes(32)), other.identity_seed.view());
    EXPECT_NE(other_phone->identity_key(), old_phone->identity_key());
}
