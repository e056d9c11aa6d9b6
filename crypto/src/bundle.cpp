#include "ariadne/crypto/bundle.h"

#include <curve.h>
#include <signal_protocol.h>

#include <nlohmann/json.hpp>
#include <set>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/store.h"

namespace ariadne::crypto {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;  // output keeps the documented field order

constexpr std::size_t kPublicKeyLen = 33;
constexpr std::uint8_t kDjbType = 0x05;
constexpr std::size_t kSignatureLen = 64;
constexpr std::size_t kMaxJsonBytes = 256 * 1024;  // 1000 pre-keys ≈ 70 KB
constexpr int kMaxDepth = 6;                       // the formats nest 3 deep

[[noreturn]] void bad(const std::string& field, const std::string& why) {
    throw Error(ErrorCode::invalid_bundle, "bundle field '" + field + "' " + why);
}

// Refuses deep nesting before the JSON parser sees it (bounded work on hostile input).
void check_shape(std::string_view text) {
    if (text.size() > kMaxJsonBytes) {
        throw Error(ErrorCode::invalid_bundle, "the bundle is larger than 256 KiB");
    }
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxDepth) {
                throw Error(ErrorCode::invalid_bundle, "the bundle is nested too deeply");
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
}

json parse_object(std::string_view text) {
    check_shape(text);
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw Error(ErrorCode::invalid_bundle, "the bundle is not valid JSON");
    if (!j.is_object()) throw Error(ErrorCode::invalid_bundle, "the bundle is not a JSON object");
    return j;
}

const json& member(const json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end()) bad(field, "is missing");
    return *it;
}

std::uint64_t unsigned_field(const json& object, const char* key, const std::string& field,
                             std::uint64_t min, std::uint64_t max) {
    const json& v = member(object, key, field);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
        bad(field, "must be a non-negative integer");
    }
    auto value = v.get<std::uint64_t>();
    if (value < min || value > max) {
        bad(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return value;
}

Bytes binary_field(const json& object, const char* key, const std::string& field,
                   std::size_t length) {
    const json& v = member(object, key, field);
    if (!v.is_string()) bad(field, "must be a base64 string");
    Bytes bytes;
    try {
        bytes = base64_decode(v.get_ref<const std::string&>());
    } catch (const Error& e) {
        bad(field, std::string("is not valid base64: ") + e.what());
    }
    if (bytes.size() != length) {
        bad(field, "must decode to " + std::to_string(length) + " bytes");
    }
    return bytes;
}

Bytes public_key_field(const json& object, const char* key, const std::string& field) {
    Bytes k = binary_field(object, key, field, kPublicKeyLen);
    if (k[0] != kDjbType) bad(field, "is not a Curve25519 public key (type byte 0x05)");
    return k;
}

const json& object_field(const json& object, const char* key, const std::string& field) {
    const json& v = member(object, key, field);
    if (!v.is_object()) bad(field, "must be an object");
    return v;
}

PublicPreKey parse_pre_key(const json& j, const std::string& field) {
    if (!j.is_object()) bad(field, "must be an object");
    PublicPreKey k;
    k.id = static_cast<std::uint32_t>(unsigned_field(j, "id", field + ".id", 1, 0xFFFFFF));
    k.public_key = public_key_field(j, "public_key", field + ".public_key");
    return k;
}

SignedPublicPreKey parse_signed_pre_key(const json& j, const Bytes& identity_key,
                                        const std::string& field) {
    SignedPublicPreKey k;
    k.id = static_cast<std::uint32_t>(unsigned_field(j, "id", field + ".id", 0, 0xFFFFFF));
    k.public_key = public_key_field(j, "public_key", field + ".public_key");
    k.signature = binary_field(j, "signature", field + ".signature", kSignatureLen);
    if (!verify_signed_pre_key(identity_key, k.public_key, k.signature)) {
        bad(field + ".signature", "does not verify against identity_key");
    }
    return k;
}

ordered pre_key_json(const PublicPreKey& k) {
    return ordered{{"id", k.id}, {"public_key", base64_encode(k.public_key)}};
}

ordered signed_pre_key_json(const SignedPublicPreKey& k) {
    return ordered{{"id", k.id},
                   {"public_key", base64_encode(k.public_key)},
                   {"signature", base64_encode(k.signature)}};
}

}  // namespace

bool verify_signed_pre_key(ByteView identity_key, ByteView public_key, ByteView signature) {
    if (identity_key.size() != kPublicKeyLen || identity_key[0] != kDjbType ||
        public_key.size() != kPublicKeyLen || public_key[0] != kDjbType ||
        signature.size() != kSignatureLen) {
        return false;
    }
    ec_public_key* key = nullptr;
    // Lengths and type byte are checked above, so libsignal never needs its context to log.
    if (curve_decode_point(&key, identity_key.data(), identity_key.size(), nullptr) != 0 ||
        key == nullptr) {
        return false;
    }
    int rc = curve_verify_signature(key, public_key.data(), public_key.size(), signature.data(),
                                    signature.size());
    SIGNAL_UNREF(key);
    return rc == 1;
}

PreKeyBundle parse_bundle(std::string_view text) {
    json j = parse_object(text);
    PreKeyBundle b;
    b.registration_id = static_cast<std::uint32_t>(
        unsigned_field(j, "registration_id", "registration_id", 0, 0x7FFFFFFF));
    b.device_id =
        static_cast<std::int32_t>(unsigned_field(j, "device_id", "device_id", 1, 0x7FFFFFFF));
    b.identity_key = public_key_field(j, "identity_key", "identity_key");
    b.signed_pre_key = parse_signed_pre_key(object_field(j, "signed_pre_key", "signed_pre_key"),
                                            b.identity_key, "signed_pre_key");
    if (auto it = j.find("pre_key"); it != j.end() && !it->is_null()) {
        b.pre_key = parse_pre_key(*it, "pre_key");
    }
    return b;
}

std::string to_json(const PreKeyBundle& b) {
    ordered j{{"registration_id", b.registration_id},
              {"device_id", b.device_id},
              {"identity_key", base64_encode(b.identity_key)},
              {"signed_pre_key", signed_pre_key_json(b.signed_pre_key)}};
    if (b.pre_key) j["pre_key"] = pre_key_json(*b.pre_key);
    return j.dump();
}

UploadSet parse_upload_set(std::string_view text) {
    json j = parse_object(text);
    UploadSet u;
    u.registration_id = static_cast<std::uint32_t>(
        unsigned_field(j, "registration_id", "registration_id", 0, 0x7FFFFFFF));
    u.device_id =
        static_cast<std::int32_t>(unsigned_field(j, "device_id", "device_id", 1, 0x7FFFFFFF));
    u.identity_key = public_key_field(j, "identity_key", "identity_key");
    u.signed_pre_key = parse_signed_pre_key(object_field(j, "signed_pre_key", "signed_pre_key"),
                                            u.identity_key, "signed_pre_key");
    const json& list = member(j, "pre_keys", "pre_keys");
    if (!list.is_array()) bad("pre_keys", "must be an array");
    if (list.size() > kMaxPreKeysPerUpload) bad("pre_keys", "holds more than 1000 keys");
    std::set<std::uint32_t> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string field = "pre_keys[" + std::to_string(i) + "]";
        PublicPreKey k = parse_pre_key(list[i], field);
        if (k.id == kLastResortPreKeyId) bad(field + ".id", "is the last-resort id 16777215");
        if (!seen.insert(k.id).second) bad(field + ".id", "repeats an earlier id");
        u.pre_keys.push_back(std::move(k));
    }
    u.last_resort_pre_key = parse_pre_key(
        object_field(j, "last_resort_pre_key", "last_resort_pre_key"), "last_resort_pre_key");
    if (u.last_resort_pre_key.id != kLastResortPreKeyId) {
        bad("last_resort_pre_key.id", "must be 16777215");
    }
    return u;
}

std::string to_json(const UploadSet& u) {
    ordered pre_keys = ordered::array();
    for (const auto& k : u.pre_keys) pre_keys.push_back(pre_key_json(k));
    ordered j{{"registration_id", u.registration_id},
              {"device_id", u.device_id},
              {"identity_key", base64_encode(u.identity_key)},
              {"signed_pre_key", signed_pre_key_json(u.signed_pre_key)},
              {"pre_keys", std::move(pre_keys)},
              {"last_resort_pre_key", pre_key_json(u.last_resort_pre_key)}};
    return j.dump();
}

}  // namespace ariadne::crypto
