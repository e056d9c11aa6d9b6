#include "ariadne/crypto/bytes.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <limits>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument:
            return "invalid_argument";
        case ErrorCode::invalid_bundle:
            return "invalid_bundle";
        case ErrorCode::invalid_message:
            return "invalid_message";
        case ErrorCode::untrusted_identity:
            return "untrusted_identity";
        case ErrorCode::no_session:
            return "no_session";
        case ErrorCode::wrong_passphrase:
            return "wrong_passphrase";
        case ErrorCode::corrupt_record:
            return "corrupt_record";
        case ErrorCode::storage:
            return "storage";
        case ErrorCode::wrong_code:
            return "wrong_code";
        case ErrorCode::internal:
            return "internal";
    }
    return "internal";
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kDecode = make_decode_table();
}  // namespace

std::string base64_encode(ByteView data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    std::size_t rest = data.size() - i;
    if (rest == 1) {
        std::uint32_t v = data[i] << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

Bytes base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        throw Error(ErrorCode::invalid_argument,
                    "base64 text length must be a multiple of 4 (padding is required)");
    }
    Bytes out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int pad = 0;
        std::uint32_t v = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            unsigned char c = static_cast<unsigned char>(text[i + j]);
            if (c == '=' && last && j >= 2) {
                ++pad;
                v <<= 6;
                continue;
            }
            if (pad > 0 || kDecode[c] < 0) {
                throw Error(ErrorCode::invalid_argument,
                            "base64 text contains an invalid character at position " +
                                std::to_string(i + j));
            }
            v = (v << 6) | static_cast<std::uint32_t>(kDecode[c]);
        }
        out.push_back(static_cast<std::uint8_t>(v >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(v >> 8));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(v));
        // Non-canonical encodings (stray bits in the last symbol) are refused.
        if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0)) {
            throw Error(ErrorCode::invalid_argument, "base64 text is not canonically encoded");
        }
    }
    return out;
}

std::string hex_encode(ByteView data) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

Bytes random_bytes(std::size_t n) {
    Bytes out(n);
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1)) {
        throw Error(ErrorCode::internal, "the system random generator failed");
    }
    return out;
}

std::uint32_t random_uniform(std::uint32_t bound) {
    if (bound == 0) throw Error(ErrorCode::invalid_argument, "random_uniform bound must be > 0");
    // Rejection sampling: discard values in the incomplete top range.
    const std::uint32_t limit = std::numeric_limits<std::uint32_t>::max() -
                                (std::numeric_limits<std::uint32_t>::max() % bound);
    for (;;) {
        Bytes b = random_bytes(4);
        std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                          (std::uint32_t{b[2]} << 8) | b[3];
        if (v < limit) return v % bound;
    }
}

bool equal_constant_time(ByteView a, ByteView b) noexcept {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(void* data, std::size_t size) noexcept {
    if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

}  // namespace ariadne::crypto
