#include "ariadne/policies/values.h"

#include <openssl/rand.h>
#include <unicode/uchar.h>

#include <cctype>
#include <cstdint>

#include "ariadne/policies/error.h"

namespace ariadne::policies {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_field:
            return "invalid_field";
        case ErrorCode::refused:
            return "refused";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::conflict:
            return "conflict";
        case ErrorCode::storage:
            return "storage";
        case ErrorCode::time_zone:
            return "time_zone";
    }
    return "unknown";
}

namespace {

// Decodes one UTF-8 code point at text[i], advancing i; returns -1 on malformed input
// (overlong forms, surrogates and values above U+10FFFF are malformed too).
std::int32_t next_code_point(std::string_view text, std::size_t& i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char b0 = byte(i);
    int len = b0 < 0x80           ? 1
              : (b0 >> 5) == 0x6  ? 2
              : (b0 >> 4) == 0xE  ? 3
              : (b0 >> 3) == 0x1E ? 4
                                  : 0;
    if (len == 0 || i + len > text.size()) return -1;
    std::int32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < len; ++k) {
        unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    i += len;
    return cp;
}

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    return std::string(s.substr(b, e - b));
}

[[noreturn]] void invalid(std::string_view field, const std::string& what) {
    throw Error(ErrorCode::invalid_field, std::string(field), std::string(field) + ": " + what);
}

}  // namespace

Initials::Initials(std::string_view text, std::string_view field) {
    static const std::string kRule = "initials only are allowed: 1 to 4 letters, e.g. 'M.K.'";
    // A short name ("Ana", "Li", "سارة") is also 1 to 4 letters, so the letters' form decides:
    // in a script with capitals initials are capitals; in one without, each letter stands
    // apart (a dot or a space between letters), since run-together letters spell a word.
    static const std::string kCapitals =
        kRule +
        " (in scripts with capitals, initials are capitals: 'A.N.' or 'AN', not a first "
        "name)";
    static const std::string kSeparated =
        kRule +
        " (in scripts without capitals, separate the letters with dots or spaces: 'س.ع.' or "
        "'س ع', not a name written as one word)";
    std::string t = trim(text);
    if (t.empty() || t.size() > 64) invalid(field, kRule);
    int letters = 0;
    bool previous_was_letter = false;      // a combining mark must follow a letter
    bool previous_letter_uncased = false;  // the letter just before (no separator) has no case
    for (std::size_t i = 0; i < t.size();) {
        std::int32_t cp = next_code_point(t, i);
        if (cp < 0) invalid(field, kRule + " (the text is not valid UTF-8)");
        if (cp == '.' || cp == ' ') {
            previous_was_letter = false;
            continue;
        }
        int8_t category = u_charType(cp);
        bool is_letter = category == U_UPPERCASE_LETTER || category == U_LOWERCASE_LETTER ||
                         category == U_TITLECASE_LETTER || category == U_MODIFIER_LETTER ||
                         category == U_OTHER_LETTER;
        bool is_mark = category == U_NON_SPACING_MARK || category == U_COMBINING_SPACING_MARK ||
                       category == U_ENCLOSING_MARK;
        if (is_letter) {
            if (category == U_LOWERCASE_LETTER) invalid(field, kCapitals);
            const bool uncased = category == U_OTHER_LETTER || category == U_MODIFIER_LETTER;
            if (previous_was_letter && (uncased || previous_letter_uncased)) {
                invalid(field, kSeparated);
            }
            ++letters;
            previous_was_letter = true;
            previous_letter_uncased = uncased;
        } else if (is_mark && previous_was_letter) {
            continue;  // part of the letter before it (e.g. a Devanagari vowel sign)
        } else {
            invalid(field, kRule);
        }
    }
    if (letters < 1 || letters > 4) invalid(field, kRule);
    text_ = std::move(t);
}

CaseCode CaseCode::generate() {
    // Rejection sampling: 248 = 8 * 31 is the largest multiple of 31 below 256.
    CaseCode code;
    code.text_.reserve(7);
    while (code.text_.size() < 7) {
        unsigned char buf[16];
        if (RAND_bytes(buf, sizeof buf) != 1) {
            throw Error(ErrorCode::storage, "case_code",
                        "case_code: the random number generator failed; no code was issued");
        }
        for (unsigned char b : buf) {
            if (code.text_.size() == 7) break;
            if (b >= 248) continue;
            if (code.text_.size() == 3) code.text_.push_back('-');
            code.text_.push_back(kAlphabet[b % kAlphabet.size()]);
        }
    }
    return code;
}

CaseCode::CaseCode(std::string_view text, std::string_view field) {
    std::string t = trim(text);
    std::string out;
    for (std::size_t i = 0; i < t.size(); ++i) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(t[i])));
        if (c == '-' && i == 3 && out.size() == 3) continue;
        if (kAlphabet.find(c) == std::string_view::npos || out.size() == 6) {
            invalid(field,
                    "a case code is 6 characters from 23456789ABCDEFGHJKMNPQRSTUVWXYZ, "
                    "written like 'K7Q-2F9'");
        }
        out.push_back(c);
    }
    if (out.size() != 6) {
        invalid(field,
                "a case code is 6 characters from 23456789ABCDEFGHJKMNPQRSTUVWXYZ, written "
                "like 'K7Q-2F9'");
    }
    text_ = out.substr(0, 3) + "-" + out.substr(3);
}

AccountId::AccountId(std::string_view text, std::string_view field) {
    bool ok = !text.empty() && text.size() <= 64;
    for (char c : text) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                    c == ':' || c == '-');
    }
    if (!ok) {
        invalid(field,
                "an account id is 1 to 64 characters of letters, digits and . _ : - "
                "(an opaque id, never a name or an e-mail address)");
    }
    text_ = std::string(text);
}

LanguageTag::LanguageTag(std::string_view text, std::string_view field) {
    static const std::string kRule =
        "a language tag looks like 'en', 'ro' or 'pt-BR' (2-3 letters, then optional "
        "subtags of 2-8 letters or digits)";
    std::size_t start = 0;
    bool first = true;
    if (text.empty() || text.size() > 35) invalid(field, kRule);
    while (start <= text.size()) {
        std::size_t dash = text.find('-', start);
        std::string_view part = text.substr(
            start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
        bool ok =
            first ? part.size() >= 2 && part.size() <= 3 : part.size() >= 2 && part.size() <= 8;
        for (char c : part) {
            ok = ok && (first ? std::isalpha(static_cast<unsigned char>(c)) != 0
                              : std::isalnum(static_cast<unsigned char>(c)) != 0);
        }
        if (!ok) invalid(field, kRule);
        first = false;
        if (dash == std::string_view::npos) break;
        start = dash + 1;
    }
    text_ = std::string(text);
}

std::string LanguageTag::primary() const {
    std::string p = text_.substr(0, text_.find('-'));
    for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return p;
}

}  // namespace ariadne::policies
