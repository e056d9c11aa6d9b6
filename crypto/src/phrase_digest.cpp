#include "ariadne/crypto/phrase_digest.h"

#include <openssl/evp.h>

#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

/// Decodes one UTF-8 character at `i` (advancing it); kInvalid for a malformed sequence
/// (one byte consumed).
char32_t next_code_point(std::string_view s, std::size_t& i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b = byte(i);
    std::size_t len = b < 0x80           ? 1
                      : (b >> 5) == 0x6  ? 2
                      : (b >> 4) == 0xE  ? 3
                      : (b >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) {
        ++i;
        return kInvalid;
    }
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            ++i;
            return kInvalid;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return kInvalid;
    }
    i += len;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_word_character(char32_t cp) {
    if (cp == kInvalid) return false;
    if (cp < 0x80) {
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    }
    if (cp < 0xA0) return false;                     // C1 controls
    if (cp <= 0xBF) return false;                    // Latin-1 punctuation and symbols
    if (cp == 0xD7 || cp == 0xF7) return false;      // × ÷
    if (cp >= 0x2000 && cp <= 0x206F) return false;  // general punctuation, spaces
    if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
    if (cp == 0xFEFF) return false;                  // byte order mark
    return true;
}

/// Simple lower-case folding for the scripts of the organisation's languages that have case.
char32_t fold(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp == 0x178) return 0xFF;
    if (cp >= 0x100 && cp <= 0x17F) {
        // Latin Extended-A: upper/lower pairs, the upper one even except 0x139..0x148 and
        // 0x179..0x17E; 0x130/0x131 (Turkish dotted/dotless i) and 0x138 (kra) stand alone.
        if (cp == 0x130) return 'i';
        if (cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) return cp;
        bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        return (cp % 2 == 1) == odd_upper ? cp + 1 : cp;
    }
    if (cp >= 0x200 && cp <= 0x233 && cp != 0x220 && cp != 0x221) {
        return cp % 2 == 0 ? cp + 1 : cp;  // Latin Extended-B pairs (Romanian ș ț among them)
    }
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;  // Greek
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;  // Cyrillic
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
        (cp >= 0x4D0 && cp <= 0x52F)) {
        return cp % 2 == 0 ? cp + 1 : cp;
    }
    return cp;
}

std::string join(const std::vector<std::string>& words, std::size_t from, std::size_t count) {
    std::string out;
    for (std::size_t k = 0; k < count; ++k) {
        if (k) out += ' ';
        out += words[from + k];
    }
    return out;
}

Bytes hmac(ByteView key, std::string_view data) {
    if (key.size() != kPhraseDigestBytes) {
        throw Error(ErrorCode::invalid_argument, "the phrase key must be 32 bytes");
    }
    Bytes out(kPhraseDigestBytes);
    std::size_t len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                  out.size(), &len) == nullptr ||
        len != out.size()) {
        throw Error(ErrorCode::internal, "HMAC-SHA256 failed");
    }
    return out;
}

}  // namespace

std::vector<std::string> phrase_words(std::string_view text) {
    std::vector<std::string> words;
    std::string current;
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = next_code_point(text, i);
        if (is_word_character(cp)) {
            append_utf8(current, fold(cp));
        } else if (!current.empty()) {
            words.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) words.push_back(std::move(current));
    return words;
}

std::string normalise_phrase(std::string_view phrase) {
    auto words = phrase_words(phrase);
    return join(words, 0, words.size());
}

Bytes phrase_digest(ByteView key, std::string_view phrase) {
    std::string normal = normalise_phrase(phrase);
    if (normal.empty()) throw Error(ErrorCode::invalid_argument, "the phrase has no word");
    return hmac(key, normal);
}

bool holds_phrase(ByteView key, const std::set<Bytes>& digests, std::size_t max_words,
                  std::string_view text) {
    if (key.size() != kPhraseDigestBytes) {
        throw Error(ErrorCode::invalid_argument, "the phrase key must be 32 bytes");
    }
    if (digests.empty()) return false;
    auto words = phrase_words(text);
    for (std::size_t from = 0; from < words.size(); ++from) {
        for (std::size_t n = 1; n <= max_words && from + n <= words.size(); ++n) {
            if (digests.count(hmac(key, join(words, from, n)))) return true;
        }
    }
    return false;
}

}  // namespace ariadne::crypto
