// crypto/aead.h: the one sealing format. Values written by the code before it (the fixture
// folder tests/upgrade/fixtures/sealed-2026-12-07, made at ab28398) still open; every refusal
// says why.
#include "ariadne/crypto/aead.h"

#include <gtest/gtest.h>

#include <set>

#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/store.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;
using namespace ariadne::crypto::testing;

namespace {

Bytes from_hex(std::string_view hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string text_of(const SecretBytes& b) { return std::string(b.data(), b.data() + b.size()); }

// The gateway's ServerKey before the versioned format, under the key 00 01 … 1f.
Bytes server_key_bytes() {
    Bytes k(32);
    for (int i = 0; i < 32; ++i) k[i] = static_cast<std::uint8_t>(i);
    return k;
}
struct Vector {
    const char* label;
    const char* plaintext;
    const char* hex;
};
const Vector kOldServerKeyValues[] = {
    {"address:3f9a", "+447700900123",
     "392bbbdd7fe6b1c09fecf77e9ebbd825830daf43b22552e1283b47ed1e66fb2f391198e9eae044510a"},
    {"handover:KUA-5M5", "Prefers calls after 6pm; M.K.",
     "f5b33a1d903fddd54475dcb5d84a90689abfdab03a4486440fef125e11d5f2930d0ea6c05f3b7b43d2039678ed"
     "f2822f8ee6f19b8f3d6bfe09"},
    {"edge-history|a_SvcgI2HSxf7NuJNDMn6mqg", "{\"t\":\"hello\"}",
     "3a031a55df41911a6fe782d0987db5af524cff61b67fc801479749f0deb2fee14fa30678bff335a230"},
    {"a_L8FlL_Dx_f0qnynYd7qeoQ", "", "1c4d33b3a15c102035964c6090b8c3a8292cb234cfb199581e3d326b"},
    // Its random nonce starts with 0x01, the version-1 marker.
    {"address:0x01", "+15550100",
     "01cca7ccc2ae8354eafd75cb3d13b8f8959ee57d616896f8458b387911f4338fdff726df1f"},
};

// The client store's pre_keys row 7 (version 1), under the store's derived seal key.
constexpr const char* kOldStoreLabel = "ariadne-store-v1|pre_keys|1:7";
constexpr const char* kOldStoreHex =
    "01c10b9eee5adcbab97ce5cf10a983ba4fd09f413968e3876f9af8ba43edd387888754e6d244b0917eab155e70af"
    "ab9b4f";
SecretBytes old_store_seal_key() {
    return hkdf_sha256(Bytes(32, 0x42), {}, as_bytes("ariadne store seal key v1"), 32);
}

OpenError::Reason refusal(ByteView key, std::string_view label, ByteView sealed,
                          Accept accept = Accept::versioned) {
    try {
        open_sealed(key, label, sealed, accept);
    } catch (const OpenError& e) {
        EXPECT_EQ(e.code(), ErrorCode::corrupt_record);
        return e.reason();
    }
    ADD_FAILURE() << "the value opened";
    return OpenError::Reason::not_authentic;
}

}  // namespace

TEST(Aead, SealsInVersionOneWithAFreshNonceAndOpensUnderTheSameLabel) {
    const Bytes key = random_bytes(32);
    Bytes a = seal(key, "purpose:row-1", as_bytes("a secret"));
    Bytes b = seal(key, "purpose:row-1", as_bytes("a secret"));
    ASSERT_EQ(a.size(), kSealOverhead + 8);
    EXPECT_EQ(a[0], kSealVersion1);
    EXPECT_NE(Bytes(a.begin() + 1, a.begin() + 13), Bytes(b.begin() + 1, b.begin() + 13));
    EXPECT_FALSE(contains(a, as_bytes("a secret")));
    EXPECT_EQ(text_of(open_sealed(key, "purpose:row-1", a)), "a secret");
    EXPECT_EQ(text_of(open_sealed(key, "purpose:row-1", seal(key, "purpose:row-1", {}))), "");
}

TEST(Aead, TheClientStoresFormatIsVersionOneByteForByte) {
    // Written by the old SealedStore::seal: version 1 is exactly that format.
    EXPECT_EQ(
        text_of(open_sealed(old_store_seal_key().view(), kOldStoreLabel, from_hex(kOldStoreHex))),
        "pre-key record seven");
}

TEST(Aead, ValuesOfTheOldUnversionedWritersOpenWhenAskedFor) {
    for (const auto& v : kOldServerKeyValues) {
        SecretBytes plain = open_sealed(server_key_bytes(), v.label, from_hex(v.hex),
                                        Accept::versioned_or_unversioned);
        EXPECT_EQ(text_of(plain), v.plaintext) << v.label;
    }
}

TEST(Aead, UnversionedValuesAreRefusedWhereOnlyVersionOneIsExpected) {
    EXPECT_EQ(refusal(server_key_bytes(), kOldServerKeyValues[0].label,
                      from_hex(kOldServerKeyValues[0].hex)),
              OpenError::Reason::unknown_version);
    // Starts with 0x01, so it parses as version 1 and fails its tag.
    EXPECT_EQ(refusal(server_key_bytes(), kOldServerKeyValues[4].label,
                      from_hex(kOldServerKeyValues[4].hex)),
              OpenError::Reason::not_authentic);
}

TEST(Aead, WrongKeyAndWrongLabelAreRefusedInBothFormats) {
    const Bytes other_key = random_bytes(32);
    for (Accept accept : {Accept::versioned, Accept::versioned_or_unversioned}) {
        Bytes sealed = seal(server_key_bytes(), "address:1", as_bytes("+15550100"));
        EXPECT_EQ(refusal(other_key, "address:1", sealed, accept),
                  OpenError::Reason::not_authentic);
        EXPECT_EQ(refusal(server_key_bytes(), "address:2", sealed, accept),
                  OpenError::Reason::not_authentic);
    }
    const Vector& old = kOldServerKeyValues[1];
    EXPECT_EQ(refusal(other_key, old.label, from_hex(old.hex), Accept::versioned_or_unversioned),
              OpenError::Reason::not_authentic);
    EXPECT_EQ(refusal(server_key_bytes(), "handover:OTHER", from_hex(old.hex),
                      Accept::versioned_or_unversioned),
              OpenError::Reason::not_authentic);
}

TEST(Aead, EveryAlteredByteIsRefused) {
    const Bytes key = random_bytes(32);
    const Bytes sealed = seal(key, "label", as_bytes("twelve bytes"));
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        Bytes altered = sealed;
        altered[i] ^= 0x01;
        for (Accept accept : {Accept::versioned, Accept::versioned_or_unversioned}) {
            auto why = refusal(key, "label", altered, accept);
            if (i == 0 && accept == Accept::versioned) {
                EXPECT_EQ(why, OpenError::Reason::unknown_version);
            } else {
                EXPECT_EQ(why, OpenError::Reason::not_authentic) << "byte " << i;
            }
        }
    }
    Bytes old = from_hex(kOldServerKeyValues[2].hex);
    old[old.size() / 2] ^= 0x80;
    EXPECT_EQ(refusal(server_key_bytes(), kOldServerKeyValues[2].label, old,
                      Accept::versioned_or_unversioned),
              OpenError::Reason::not_authentic);
}

TEST(Aead, TruncatedValuesAreRefusedAsTooShortOrNotAuthentic) {
    const Bytes key = random_bytes(32);
    const Bytes sealed = seal(key, "label", as_bytes("some text"));
    for (std::size_t n = 0; n < sealed.size(); ++n) {
        ByteView cut(sealed.data(), n);
        auto versioned = refusal(key, "label", cut);
        EXPECT_EQ(versioned, n < kSealOverhead ? OpenError::Reason::too_short
                                               : OpenError::Reason::not_authentic)
            << n;
        auto either = refusal(key, "label", cut, Accept::versioned_or_unversioned);
        EXPECT_EQ(either, n < kSealOverhead - 1 ? OpenError::Reason::too_short
                                                : OpenError::Reason::not_authentic)
            << n;
    }
}

TEST(Aead, AnUnknownVersionIsNamed) {
    const Bytes key = random_bytes(32);
    Bytes sealed = seal(key, "label", as_bytes("x"));
    sealed[0] = 0x02;
    std::string why =
        expect_error(ErrorCode::corrupt_record, [&] { open_sealed(key, "label", sealed); });
    EXPECT_EQ(why, "the sealed value has an unknown format version 2");
}

TEST(Aead, AKeyOfAnotherLengthIsAnInvalidArgument) {
    expect_error(ErrorCode::invalid_argument, [] { seal(Bytes(31), "l", as_bytes("x")); });
    expect_error(ErrorCode::invalid_argument, [] { open_sealed(Bytes(33), "l", Bytes(40, 0x01)); });
}

TEST(Aead, AClientStoreWrittenByTheOldCodeOpensWithEveryRecord) {
    TempDir dir;
    std::filesystem::copy_file(std::filesystem::path(ARIADNE_SEALED_FIXTURES) / "store.db",
                               dir / "store.db");
    std::filesystem::permissions(
        dir / "store.db", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto store = SealedStore::open(dir / "store.db", StoreKey::from_bytes(Bytes(32, 0x42)));
    auto identity = store->local_identity();
    ASSERT_TRUE(identity.has_value());
    EXPECT_EQ(identity->registration_id, 4242u);
    EXPECT_EQ(identity->private_key.view().size(), 32u);
    EXPECT_EQ(Bytes(identity->private_key.data(), identity->private_key.data() + 32),
              Bytes(32, 0x11));
    EXPECT_EQ(text_of(*store->load_pre_key(7)), "pre-key record seven");
    EXPECT_EQ(text_of(*store->load_signed_pre_key(3)), "signed pre-key three");
    const Address mara{"a_L8FlL_Dx_f0qnynYd7qeoQ", 1};
    EXPECT_EQ(text_of(*store->load_session(mara)), "session with mara");
    EXPECT_EQ(*store->remote_identity(mara), Bytes(33, 0x07));
    EXPECT_EQ(text_of(*store->load_sender_key(as_bytes("group-1"), {mara.name, 2})),
              "sender key record");

    // A wrong key is still refused by the key check, naming the reason.
    store.reset();
    std::string why = expect_error(ErrorCode::wrong_passphrase, [&] {
        SealedStore::open(dir / "store.db", StoreKey::from_bytes(Bytes(32, 0x43)));
    });
    EXPECT_EQ(why, "the key does not open this store");
}
