// Bundle and upload-set JSON: round trips, field-naming errors, hostile input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/session.h"
#include "signal_test_support.h"

using namespace ariadne::crypto;
using namespace ariadne::crypto::testing;
using nlohmann::json;

namespace {

struct BundleTest : ::testing::Test {
    TempDir dir;
    std::unique_ptr<Party> party = Party::open(dir / "s.db", fast_key());
    void SetUp() override { party->generate_pre_keys(2); }
    json bundle_json() { return json::parse(to_json(party->bundle(4))); }
    std::string error_for(const json& j) {
        return expect_error(ErrorCode::invalid_bundle, [&] { parse_bundle(j.dump()); });
    }
};

TEST_F(BundleTest, RoundTripsThroughJsonWithAndWithoutAOneTimePreKey) {
    PreKeyBundle b = party->bundle(4);
    EXPECT_EQ(parse_bundle(to_json(b)), b);
    b.pre_key.reset();
    EXPECT_EQ(parse_bundle(to_json(b)), b);
    EXPECT_EQ(json::parse(to_json(b)).count("pre_key"), 0u);
}

TEST_F(BundleTest, JsonUsesTheDocumentedFieldNames) {
    json j = bundle_json();
    EXPECT_EQ(j["device_id"], 4);
    EXPECT_TRUE(j["registration_id"].is_number_unsigned());
    EXPECT_EQ(base64_decode(j["identity_key"].get<std::string>()), party->identity_key());
    EXPECT_TRUE(j["signed_pre_key"].contains("id"));
    EXPECT_EQ(base64_decode(j["signed_pre_key"]["signature"].get<std::string>()).size(), 64u);
    EXPECT_EQ(base64_decode(j["pre_key"]["public_key"].get<std::string>()).size(), 33u);
}

TEST_F(BundleTest, ErrorsNameTheBadField) {
    json j = bundle_json();
    j.erase("identity_key");
    EXPECT_NE(error_for(j).find("'identity_key' is missing"), std::string::npos);

    j = bundle_json();
    j["signed_pre_key"]["public_key"] = "not base64!";
    EXPECT_NE(error_for(j).find("'signed_pre_key.public_key'"), std::string::npos);

    j = bundle_json();
    j["pre_key"]["public_key"] = base64_encode(Bytes(32, 5));
    EXPECT_NE(error_for(j).find("'pre_key.public_key' must decode to 33 bytes"), std::string::npos);

    j = bundle_json();
    j["pre_key"]["id"] = 0;
    EXPECT_NE(error_for(j).find("'pre_key.id'"), std::string::npos);

    j = bundle_json();
    j["device_id"] = -1;
    EXPECT_NE(error_for(j).find("'device_id'"), std::string::npos);

    j = bundle_json();
    j["registration_id"] = 1.5;
    EXPECT_NE(error_for(j).find("'registration_id'"), std::string::npos);

    j = bundle_json();
    Bytes key = base64_decode(j["identity_key"].get<std::string>());
    key[0] = 0x06;
    j["identity_key"] = base64_encode(key);
    EXPECT_NE(error_for(j).find("type byte"), std::string::npos);
}

TEST_F(BundleTest, ForgedSignedPreKeySignatureIsRefused) {
    json j = bundle_json();
    Bytes sig = base64_decode(j["signed_pre_key"]["signature"].get<std::string>());
    sig[10] ^= 0x40;
    j["signed_pre_key"]["signature"] = base64_encode(sig);
    EXPECT_NE(error_for(j).find("does not verify"), std::string::npos);

    // Another identity's valid signature over the same key does not verify either.
    TempDir other;
    auto mallory = Party::open(other / "m.db", fast_key());
    json forged = bundle_json();
    forged["identity_key"] = base64_encode(mallory->identity_key());
    error_for(forged);

    // start_session refuses a forged bundle built in code, too.
    PreKeyBundle b = party->bundle(1);
    b.signed_pre_key.signature[0] ^= 1;
    expect_error(ErrorCode::invalid_bundle, [&] { mallory->start_session({"x", 1}, b); });
}

TEST_F(BundleTest, VerifySignedPreKeyIsFalseForMalformedInputNeverThrows) {
    PreKeyBundle b = party->bundle(1);
    const auto& s = b.signed_pre_key;
    EXPECT_TRUE(verify_signed_pre_key(b.identity_key, s.public_key, s.signature));
    EXPECT_FALSE(verify_signed_pre_key(b.identity_key, b.pre_key->public_key, s.signature));
    EXPECT_FALSE(verify_signed_pre_key({}, s.public_key, s.signature));
    EXPECT_FALSE(
        verify_signed_pre_key(b.identity_key, s.public_key, ByteView(s.signature).first(63)));
    EXPECT_FALSE(
        verify_signed_pre_key(ByteView(b.identity_key).first(32), s.public_key, s.signature));
}

TEST_F(BundleTest, GarbageAndTruncatedJsonGiveErrorsNeverCrashes) {
    const std::string valid = to_json(party->bundle(1));
    for (std::size_t cut = 0; cut < valid.size(); ++cut) {
        EXPECT_THROW(parse_bundle(std::string_view(valid).substr(0, cut)), Error) << cut;
    }
    std::mt19937 rng(3);
    for (int i = 0; i < 300; ++i) {
        std::string junk(rng() % 200, '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        EXPECT_THROW(parse_bundle(junk), Error);
        std::string mutated = valid;
        mutated[rng() % mutated.size()] = static_cast<char>(rng());
        try {
            parse_bundle(mutated);  // may survive a harmless change (e.g. a digit)
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_bundle);
        }
    }
    for (const char* text : {"", "null", "[]", "42", "\"x\"", "{}", "{\"identity_key\":null}"}) {
        expect_error(ErrorCode::invalid_bundle, [&] { parse_bundle(text); });
    }
    expect_error(ErrorCode::invalid_bundle, [] { parse_bundle(std::string(100000, '[')); });
    expect_error(ErrorCode::invalid_bundle, [] { parse_bundle(std::string(300000, ' ')); });
}

TEST_F(BundleTest, UploadSetRoundTripsAndRejectsBadBatches) {
    UploadSet upload = party->upload_set(2, 5);
    EXPECT_EQ(parse_upload_set(to_json(upload)), upload);

    json j = json::parse(to_json(upload));
    j["pre_keys"][3]["id"] = j["pre_keys"][1]["id"];
    EXPECT_NE(expect_error(ErrorCode::invalid_bundle, [&] { parse_upload_set(j.dump()); })
                  .find("'pre_keys[3].id' repeats"),
              std::string::npos);

    j = json::parse(to_json(upload));
    j["last_resort_pre_key"]["id"] = 7;
    expect_error(ErrorCode::invalid_bundle, [&] { parse_upload_set(j.dump()); });

    j = json::parse(to_json(upload));
    j["pre_keys"][0]["id"] = kLastResortPreKeyId;
    expect_error(ErrorCode::invalid_bundle, [&] { parse_upload_set(j.dump()); });

    j = json::parse(to_json(upload));
    j["pre_keys"] = json::array();
    for (int i = 1; i <= 1001; ++i) {
        j["pre_keys"].push_back({{"id", i}, {"public_key", base64_encode(upload.identity_key)}});
    }
    expect_error(ErrorCode::invalid_bundle, [&] { parse_upload_set(j.dump()); });
}

}  // namespace
