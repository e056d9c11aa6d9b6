#include "ariadne/crypto/safety_number.h"

#include <curve.h>
#include <fingerprint.h>
#include <signal_protocol.h>

#include <optional>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/signal_context.h"

namespace ariadne::crypto {
namespace {

constexpr std::size_t kDigits = 60;
constexpr int kScannableVersion = 1;

struct KeyRef {
    ec_public_key* p = nullptr;
    ~KeyRef() {
        if (p) SIGNAL_UNREF(p);
    }
};

void check_key(ByteView key) {
    if (key.size() != 33 || key[0] != 0x05) {
        throw Error(ErrorCode::invalid_argument, "an identity key is 33 bytes starting with 0x05");
    }
}

// Digits only; nullopt if any other character than digits and spaces appears.
std::optional<std::string> digits_of(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c >= '0' && c <= '9')
            out += c;
        else if (c != ' ')
            return std::nullopt;
    }
    return out;
}

}  // namespace

std::string safety_number(std::string_view local_id, ByteView local_identity_key,
                          std::string_view remote_id, ByteView remote_identity_key) {
    if (local_id.empty() || remote_id.empty()) {
        throw Error(ErrorCode::invalid_argument, "safety numbers need both stable identifiers");
    }
    check_key(local_identity_key);
    check_key(remote_identity_key);
    SignalContext context;
    auto lock = context.lock();
    KeyRef local, remote;
    if (curve_decode_point(&local.p, local_identity_key.data(), local_identity_key.size(),
                           context.get()) != 0 ||
        curve_decode_point(&remote.p, remote_identity_key.data(), remote_identity_key.size(),
                           context.get()) != 0) {
        throw Error(ErrorCode::invalid_argument, "an identity key cannot be decoded");
    }
    fingerprint_generator* generator = nullptr;
    if (fingerprint_generator_create(&generator, kSafetyNumberIterations, kScannableVersion,
                                     context.get()) != 0) {
        throw Error(ErrorCode::internal, "libsignal could not create a fingerprint generator");
    }
    const std::string local_name(local_id), remote_name(remote_id);
    fingerprint* result = nullptr;
    int rc = fingerprint_generator_create_for(generator, local_name.c_str(), local.p,
                                              remote_name.c_str(), remote.p, &result);
    fingerprint_generator_free(generator);
    if (rc != 0 || result == nullptr) {
        throw Error(ErrorCode::internal, "libsignal could not compute the safety number");
    }
    std::string digits = displayable_fingerprint_text(fingerprint_get_displayable(result));
    SIGNAL_UNREF(result);
    return format_safety_number(digits);
}

std::string format_safety_number(std::string_view digits) {
    if (digits.size() != kDigits ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
        throw Error(ErrorCode::invalid_argument, "a safety number has exactly 60 digits");
    }
    std::string out;
    for (std::size_t i = 0; i < kDigits; i += 5) {
        if (i) out += ' ';
        out += digits.substr(i, 5);
    }
    return out;
}

bool safety_numbers_match(std::string_view a, std::string_view b) {
    auto da = digits_of(a), db = digits_of(b);
    if (!da || !db || da->size() != kDigits || db->size() != kDigits) return false;
    return equal_constant_time(as_bytes(*da), as_bytes(*db));
}

}  // namespace ariadne::crypto
