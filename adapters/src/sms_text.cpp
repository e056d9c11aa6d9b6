#include "ariadne/adapters/sms_text.h"

#include "ariadne/adapters/edge.h"

namespace ariadne::adapters {

namespace {

// GSM 03.38 default alphabet (one septet each), as Unicode code points.
constexpr char32_t kGsmBasic[] = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò',  U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å',
    U'å', U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ',  U'Σ', U'Θ',  U'Ξ', U'Æ', U'æ',  U'ß',
    U'É', U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')',  U'*', U'+', U',',  U'-',
    U'.', U'/', U'0', U'1', U'2', U'3', U'4', U'5', U'6',  U'7', U'8',  U'9', U':', U';',  U'<',
    U'=', U'>', U'?', U'¡', U'A', U'B', U'C', U'D', U'E',  U'F', U'G',  U'H', U'I', U'J',  U'K',
    U'L', U'M', U'N', U'O', U'P', U'Q', U'R', U'S', U'T',  U'U', U'V',  U'W', U'X', U'Y',  U'Z',
    U'Ä', U'Ö', U'Ñ', U'Ü', U'§', U'¿', U'a', U'b', U'c',  U'd', U'e',  U'f', U'g', U'h',  U'i',
    U'j', U'k', U'l', U'm', U'n', U'o', U'p', U'q', U'r',  U's', U't',  U'u', U'v', U'w',  U'x',
    U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};
// Extension table: escape + one septet.
constexpr char32_t kGsmExtension[] = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

/// Septets a code point takes in GSM-7, or 0 if it has none.
int gsm_septets(char32_t c) {
    for (char32_t b : kGsmBasic) {
        if (b == c) return 1;
    }
    for (char32_t e : kGsmExtension) {
        if (e == c) return 2;
    }
    return 0;
}

struct CodePoint {
    char32_t value;
    std::size_t offset, length;  // in the UTF-8 input
};

std::vector<CodePoint> decode(std::string_view s) {
    std::vector<CodePoint> out;
    auto bad = [] {
        return AdapterError(AdapterError::Code::invalid_input, "the text is not valid UTF-8");
    };
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80         ? 1
                        : (b >> 5) == 6  ? 2
                        : (b >> 4) == 14 ? 3
                        : (b >> 3) == 30 ? 4
                                         : 0;
        if (n == 0 || i + n > s.size()) throw bad();
        char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
            auto cb = static_cast<unsigned char>(s[i + k]);
            if ((cb >> 6) != 2) throw bad();
            c = (c << 6) | (cb & 0x3F);
        }
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < kMin[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) throw bad();
        out.push_back({c, i, n});
        i += n;
    }
    return out;
}

}  // namespace

SmsEncoding sms_encoding(std::string_view utf8) {
    for (const auto& cp : decode(utf8)) {
        if (gsm_septets(cp.value) == 0) return SmsEncoding::ucs2;
    }
    return SmsEncoding::gsm7;
}

SmsSegments split_sms(std::string_view utf8) {
    const auto cps = decode(utf8);
    SmsSegments result;
    result.encoding = SmsEncoding::gsm7;
    for (const auto& cp : cps) {
        if (gsm_septets(cp.value) == 0) result.encoding = SmsEncoding::ucs2;
    }
    const bool gsm = result.encoding == SmsEncoding::gsm7;
    auto units = [&](char32_t c) { return gsm ? gsm_septets(c) : (c > 0xFFFF ? 2 : 1); };
    std::size_t total = 0;
    for (const auto& cp : cps) total += static_cast<std::size_t>(units(cp.value));
    if (cps.empty()) return result;
    const std::size_t single = gsm ? 160 : 70;
    if (total <= single) {
        result.parts.emplace_back(utf8);
        return result;
    }
    const std::size_t part = gsm ? 153 : 67;
    std::size_t used = 0, start = 0;
    for (const auto& cp : cps) {
        const auto u = static_cast<std::size_t>(units(cp.value));
        if (used + u > part) {
            result.parts.emplace_back(utf8.substr(start, cp.offset - start));
            start = cp.offset;
            used = 0;
        }
        used += u;
    }
    result.parts.emplace_back(utf8.substr(start));
    return result;
}

}  // namespace ariadne::adapters
