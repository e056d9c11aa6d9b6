#include "argon2id_phc.h"

#include <argon2.h>

#include <charconv>
#include <limits>
#include <vector>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto::detail {

namespace {
constexpr std::string_view kPrefix = "$argon2id$v=19$";

std::string b64_unpadded(ByteView data) {
    std::string s = base64_encode(data);
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
}

Bytes b64_unpadded_decode(std::string_view text, const std::string& what) {
    if (text.find('=') != std::string_view::npos || text.size() % 4 == 1) {
        throw Error(ErrorCode::invalid_argument, what + " is not unpadded base64");
    }
    std::string padded(text);
    padded.append((4 - padded.size() % 4) % 4, '=');
    try {
        return base64_decode(padded);
    } catch (const Error&) {
        throw Error(ErrorCode::invalid_argument, what + " is not canonical unpadded base64");
    }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (;;) {
        auto pos = s.find(sep);
        parts.push_back(s.substr(0, pos));
        if (pos == std::string_view::npos) return parts;
        s.remove_prefix(pos + 1);
    }
}

// "<key>=<decimal>" with no sign, no leading zero, no overflow.
std::uint32_t parse_number(std::string_view field, std::string_view key, const std::string& what) {
    const std::string bad = what + " has a malformed '" + std::string(key) + "=' field";
    if (field.size() <= key.size() + 1 || field.substr(0, key.size()) != key ||
        field[key.size()] != '=') {
        throw Error(ErrorCode::invalid_argument, bad);
    }
    std::string_view digits = field.substr(key.size() + 1);
    if (digits.size() > 1 && digits[0] == '0') throw Error(ErrorCode::invalid_argument, bad);
    for (char c : digits) {
        if (c < '0' || c > '9') throw Error(ErrorCode::invalid_argument, bad);
    }
    std::uint32_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        throw Error(ErrorCode::invalid_argument, bad);
    }
    return value;
}
}  // namespace

void check_cost(const Argon2idCost& cost) {
    if (cost.t_cost < 1 || cost.t_cost > kMaxTCost) {
        throw Error(ErrorCode::invalid_argument, "Argon2id t (passes) must be between 1 and 64");
    }
    if (cost.parallelism < 1 || cost.parallelism > kMaxParallelism) {
        throw Error(ErrorCode::invalid_argument,
                    "Argon2id p (parallelism) must be between 1 and 16");
    }
    if (cost.m_kib < 8 * cost.parallelism || cost.m_kib > kMaxMKib) {
        throw Error(ErrorCode::invalid_argument,
                    "Argon2id m (memory) must be between 8*p KiB and 4 GiB");
    }
}

SecretBytes argon2id(ByteView secret, ByteView salt, const Argon2idCost& cost,
                     std::size_t out_length) {
    check_cost(cost);
    if (salt.size() < kMinSaltLength || salt.size() > kMaxSaltLength) {
        throw Error(ErrorCode::invalid_argument, "Argon2id salt must be 8 to 64 bytes");
    }
    if (out_length < kMinHashLength || out_length > kMaxHashLength) {
        throw Error(ErrorCode::invalid_argument, "Argon2id output must be 16 to 64 bytes");
    }
    if (secret.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw Error(ErrorCode::invalid_argument, "Argon2id input is too long");
    }
    SecretBytes out(out_length);
    int rc = argon2id_hash_raw(cost.t_cost, cost.m_kib, cost.parallelism, secret.data(),
                               secret.size(), salt.data(), salt.size(), out.data(), out.size());
    if (rc != ARGON2_OK) {
        throw Error(ErrorCode::internal,
                    std::string("Argon2id failed: ") + argon2_error_message(rc));
    }
    return out;
}

std::string phc_encode(const Argon2idCost& cost, ByteView salt, ByteView hash) {
    // Appended piece by piece: `"literal" + std::string` trips g++ 12's -Wrestrict at -O3.
    std::string s(kPrefix);
    s.append("m=").append(std::to_string(cost.m_kib));
    s.append(",t=").append(std::to_string(cost.t_cost));
    s.append(",p=").append(std::to_string(cost.parallelism));
    s.append("$").append(b64_unpadded(salt));
    if (!hash.empty()) s.append("$").append(b64_unpadded(hash));
    return s;
}

PhcRecord phc_decode(std::string_view text, bool with_hash, const char* what_c) {
    const std::string what(what_c);
    const std::string expected =
        what + " must look like $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>" +
        (with_hash ? "$<hash>" : "");
    if (text.substr(0, kPrefix.size()) != kPrefix) {
        throw Error(ErrorCode::invalid_argument, expected);
    }
    auto fields = split(text.substr(kPrefix.size()), '$');
    if (fields.size() != (with_hash ? 3u : 2u)) throw Error(ErrorCode::invalid_argument, expected);
    auto numbers = split(fields[0], ',');
    if (numbers.size() != 3) throw Error(ErrorCode::invalid_argument, expected);

    PhcRecord r;
    r.cost.m_kib = parse_number(numbers[0], "m", what);
    r.cost.t_cost = parse_number(numbers[1], "t", what);
    r.cost.parallelism = parse_number(numbers[2], "p", what);
    check_cost(r.cost);
    r.salt = b64_unpadded_decode(fields[1], what + " salt");
    if (r.salt.size() < kMinSaltLength || r.salt.size() > kMaxSaltLength) {
        throw Error(ErrorCode::invalid_argument, what + " salt must be 8 to 64 bytes");
    }
    if (with_hash) {
        r.hash = b64_unpadded_decode(fields[2], what + " hash");
        if (r.hash.size() < kMinHashLength || r.hash.size() > kMaxHashLength) {
            throw Error(ErrorCode::invalid_argument, what + " hash must be 16 to 64 bytes");
        }
    }
    return r;
}

}  // namespace ariadne::crypto::detail
