#include "ariadne/crypto/totp.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <memory>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

namespace {
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr unsigned kMaxWindow = 10;

struct MacDeleter {
    void operator()(EVP_MAC* m) const noexcept { EVP_MAC_free(m); }
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

void check_digits(int digits) {
    if (digits != 6 && digits != 8) {
        throw Error(ErrorCode::invalid_argument, "a TOTP code has 6 or 8 digits");
    }
}

std::array<std::uint8_t, 20> hmac_sha1(ByteView key, ByteView message) {
    std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) throw Error(ErrorCode::internal, "OpenSSL has no HMAC implementation");
    std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) throw Error(ErrorCode::internal, "could not allocate an HMAC context");
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    std::array<std::uint8_t, 20> out{};
    std::size_t out_len = 0;
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != 20) {
        throw Error(ErrorCode::internal, "HMAC-SHA1 failed in OpenSSL");
    }
    return out;
}

// RFC 4226 §5.3: HMAC over the big-endian counter, dynamic truncation, modulo 10^digits.
std::uint32_t hotp_value(ByteView secret, std::uint64_t counter, int digits) {
    std::array<std::uint8_t, 8> msg{};
    for (int i = 7; i >= 0; --i) {
        msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xFF);
        counter >>= 8;
    }
    auto h = hmac_sha1(secret, msg);
    const unsigned offset = h[19] & 0x0F;
    const std::uint32_t bin = (std::uint32_t{h[offset]} & 0x7F) << 24 |
                              std::uint32_t{h[offset + 1]} << 16 |
                              std::uint32_t{h[offset + 2]} << 8 | std::uint32_t{h[offset + 3]};
    return bin % (digits == 6 ? 1'000'000u : 100'000'000u);
}

std::string format_code(std::uint32_t value, int digits) {
    std::string s(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return s;
}

void check_label(std::string_view s, const char* what) {
    if (s.empty() || s.size() > 64 || s.find(':') != std::string_view::npos) {
        throw Error(ErrorCode::invalid_argument,
                    std::string("the otpauth ") + what + " must be 1 to 64 bytes without ':'");
    }
}

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}
}  // namespace

SecretBytes generate_totp_secret() { return SecretBytes(random_bytes(20)); }

std::string base32_encode(ByteView data) {
    std::string out;
    out.reserve((data.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (auto byte : data) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out += kBase32Alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 31];
    return out;
}

Bytes base32_decode(std::string_view text) {
    // Lengths mod 8 of 1, 3 and 6 symbols cannot come from whole bytes.
    const std::size_t rest = text.size() % 8;
    if (rest == 1 || rest == 3 || rest == 6) {
        throw Error(ErrorCode::invalid_argument, "base32 text has an impossible length");
    }
    Bytes out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        std::uint32_t v;
        if (c >= 'A' && c <= 'Z') {
            v = static_cast<std::uint32_t>(c - 'A');
        } else if (c >= 'a' && c <= 'z') {
            v = static_cast<std::uint32_t>(c - 'a');
        } else if (c >= '2' && c <= '7') {
            v = static_cast<std::uint32_t>(c - '2' + 26);
        } else {
            throw Error(ErrorCode::invalid_argument,
                        "base32 text contains an invalid character at position " +
                            std::to_string(i) + " (padding is not accepted)");
        }
        buffer = ((buffer << 5) | v) & 0xFFF;  // at most 12 bits are ever pending
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    if ((buffer & ((1u << bits) - 1)) != 0) {
        throw Error(ErrorCode::invalid_argument, "base32 text is not canonically encoded");
    }
    return out;
}

std::string totp_code(ByteView secret, std::uint64_t unix_time, int digits) {
    check_digits(digits);
    if (secret.empty()) throw Error(ErrorCode::invalid_argument, "the TOTP secret is empty");
    return format_code(hotp_value(secret, unix_time / kTotpStepSeconds, digits), digits);
}

std::optional<std::uint64_t> verify_totp(ByteView secret, std::string_view code,
                                         std::uint64_t unix_time, unsigned window, int digits) {
    check_digits(digits);
    if (secret.empty()) throw Error(ErrorCode::invalid_argument, "the TOTP secret is empty");
    if (window > kMaxWindow) {
        throw Error(ErrorCode::invalid_argument, "the TOTP window must be at most 10 steps");
    }
    bool all_digits = code.size() == static_cast<std::size_t>(digits);
    for (char c : code) all_digits = all_digits && c >= '0' && c <= '9';
    if (!all_digits) {
        throw Error(ErrorCode::invalid_argument,
                    digits == 6 ? "a TOTP code has 6 digits" : "a TOTP code has 8 digits");
    }
    const std::uint64_t now = unix_time / kTotpStepSeconds;
    const std::uint64_t first = now >= window ? now - window : 0;
    const std::uint64_t last = now + window;
    // Every candidate is computed and compared so timing does not reveal which step matched.
    std::optional<std::uint64_t> match;
    for (std::uint64_t step = first; step <= last; ++step) {
        const std::string expected = format_code(hotp_value(secret, step, digits), digits);
        if (equal_constant_time(as_bytes(expected), as_bytes(code)) && !match) match = step;
    }
    return match;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account_label, ByteView secret) {
    check_label(issuer, "issuer");
    check_label(account_label, "account label");
    if (secret.empty()) throw Error(ErrorCode::invalid_argument, "the TOTP secret is empty");
    const std::string enc_issuer = percent_encode(issuer);
    return "otpauth://totp/" + enc_issuer + ":" + percent_encode(account_label) +
           "?secret=" + base32_encode(secret) + "&issuer=" + enc_issuer +
           "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace ariadne::crypto
