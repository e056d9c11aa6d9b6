#include "ariadne/policies/channel.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>

#include "ariadne/policies/error.h"

namespace ariadne::policies {

const char* to_string(ChannelKind k) noexcept {
    switch (k) {
        case ChannelKind::app:
            return "app";
        case ChannelKind::web:
            return "web";
        case ChannelKind::sms:
            return "sms";
        case ChannelKind::voice_callback:
            return "voice_callback";
        case ChannelKind::email:
            return "email";
        case ChannelKind::messenger:
            return "messenger";
        case ChannelKind::social_media:
            return "social_media";
    }
    return "unknown";
}

const char* to_string(ChannelClass c) noexcept {
    switch (c) {
        case ChannelClass::app:
            return "app";
        case ChannelClass::web:
            return "web";
        case ChannelClass::telephony:
            return "telephony";
        case ChannelClass::email:
            return "email";
        case ChannelClass::messenger:
            return "messenger";
        case ChannelClass::social_media:
            return "social_media";
    }
    return "unknown";
}

const char* to_string(SecurityLabel l) noexcept {
    switch (l) {
        case SecurityLabel::end_to_end:
            return "end_to_end";
        case SecurityLabel::edge_encrypted:
            return "edge_encrypted";
        case SecurityLabel::carrier_plaintext:
            return "carrier_plaintext";
    }
    return "unknown";
}

const char* describe(SecurityLabel l) noexcept {
    switch (l) {
        case SecurityLabel::end_to_end:
            return "end-to-end encrypted";
        case SecurityLabel::edge_encrypted:
            return "edge-encrypted";
        case SecurityLabel::carrier_plaintext:
            return "carrier plaintext";
    }
    return "unknown";
}

const char* to_string(Purpose p) noexcept {
    switch (p) {
        case Purpose::replies:
            return "replies";
        case Purpose::check_ins:
            return "check_ins";
        case Purpose::case_updates:
            return "case_updates";
    }
    return "unknown";
}

const std::vector<ChannelKind>& all_channel_kinds() {
    static const std::vector<ChannelKind> kinds{
        ChannelKind::app,         ChannelKind::web,
        ChannelKind::sms,         ChannelKind::voice_callback,
        ChannelKind::email,       ChannelKind::messenger,
        ChannelKind::social_media};
    return kinds;
}

const std::vector<Purpose>& all_purposes() {
    static const std::vector<Purpose> purposes{Purpose::replies, Purpose::check_ins,
                                               Purpose::case_updates};
    return purposes;
}

std::optional<ChannelKind> parse_channel_kind(std::string_view s) noexcept {
    for (ChannelKind k : all_channel_kinds()) {
        if (s == to_string(k)) return k;
    }
    return std::nullopt;
}

std::optional<ChannelClass> parse_channel_class(std::string_view s) noexcept {
    for (ChannelClass c :
         {ChannelClass::app, ChannelClass::web, ChannelClass::telephony, ChannelClass::email,
          ChannelClass::messenger, ChannelClass::social_media}) {
        if (s == to_string(c)) return c;
    }
    return std::nullopt;
}

std::optional<Purpose> parse_purpose(std::string_view s) noexcept {
    for (Purpose p : all_purposes()) {
        if (s == to_string(p)) return p;
    }
    return std::nullopt;
}

bool is_known(ChannelKind kind) noexcept {
    auto v = static_cast<int>(kind);
    return v >= static_cast<int>(ChannelKind::app) &&
           v <= static_cast<int>(ChannelKind::social_media);
}

ChannelClass class_of(ChannelKind kind) noexcept {
    switch (kind) {
        case ChannelKind::app:
            return ChannelClass::app;
        case ChannelKind::web:
            return ChannelClass::web;
        case ChannelKind::sms:
        case ChannelKind::voice_callback:
            return ChannelClass::telephony;
        case ChannelKind::email:
            return ChannelClass::email;
        case ChannelKind::messenger:
            return ChannelClass::messenger;
        case ChannelKind::social_media:
            return ChannelClass::social_media;
    }
    return ChannelClass::social_media;  // unknown values are treated as the most restricted
}

SecurityLabel label_of(ChannelKind kind) noexcept {
    switch (kind) {
        case ChannelKind::app:
            return SecurityLabel::end_to_end;
        case ChannelKind::web:
            return SecurityLabel::edge_encrypted;
        // A messenger's provider carries her words before they reach the gateway, and its
        // encryption is not ours to vouch for: a label must never promise more than we know.
        case ChannelKind::messenger:
        default:
            return SecurityLabel::carrier_plaintext;
    }
}

const std::vector<std::string_view>& social_media_providers() {
    static const std::vector<std::string_view> names{"facebook",  "facebook_messenger",
                                                     "instagram", "tiktok",
                                                     "x",         "twitter",
                                                     "telegram",  "snapchat",
                                                     "vk",        "linkedin",
                                                     "wechat",    "line",
                                                     "discord",   "reddit",
                                                     "youtube",   "pinterest",
                                                     "tumblr",    "kik",
                                                     "threads",   "bluesky",
                                                     "mastodon",  "odnoklassniki",
                                                     "weibo",     "qq",
                                                     "kakaotalk", "twitch",
                                                     "clubhouse", "truth_social",
                                                     "tinder",    "badoo",
                                                     "bumble",    "grindr",
                                                     "onlyfans"};
    return names;
}

const std::vector<std::string_view>& messenger_providers() {
    static const std::vector<std::string_view> names{"whatsapp", "signal", "viber", "threema"};
    return names;
}

namespace {

struct Alias {
    std::string_view key;        // folded: a-z and 0-9 only, or a native-script spelling
    std::string_view canonical;  // a name of social_media_providers() or messenger_providers()
};

// Common spellings, abbreviations, domains and native-script names. Keys are compared after
// folding, so "F.B.", "fb.com" and "ＦＢ" all meet "fb" / "fbcom".
constexpr Alias kAliases[] = {
    {"facebook", "facebook"},
    {"fb", "facebook"},
    {"fbook", "facebook"},
    {"facebookcom", "facebook"},
    {"fbcom", "facebook"},
    {"meta", "facebook"},
    {"metacom", "facebook"},
    {"фейсбук", "facebook"},
    {"facebookmessenger", "facebook_messenger"},
    {"fbmessenger", "facebook_messenger"},
    {"fbm", "facebook_messenger"},
    {"messenger", "facebook_messenger"},
    {"metamessenger", "facebook_messenger"},
    {"messengercom", "facebook_messenger"},
    {"instagram", "instagram"},
    {"ig", "instagram"},
    {"insta", "instagram"},
    {"instagramcom", "instagram"},
    {"instagramdirect", "instagram"},
    {"igdirect", "instagram"},
    {"инстаграм", "instagram"},
    {"tiktok", "tiktok"},
    {"tiktokcom", "tiktok"},
    {"douyin", "tiktok"},
    {"抖音", "tiktok"},
    {"тикток", "tiktok"},
    {"x", "x"},
    {"xcom", "x"},
    {"twitter", "twitter"},
    {"twittercom", "twitter"},
    {"telegram", "telegram"},
    {"tg", "telegram"},
    {"tgram", "telegram"},
    {"telegramorg", "telegram"},
    {"tme", "telegram"},
    {"телеграм", "telegram"},
    {"телеграмм", "telegram"},
    {"snapchat", "snapchat"},
    {"snap", "snapchat"},
    {"vk", "vk"},
    {"vkontakte", "vk"},
    {"vkcom", "vk"},
    {"вк", "vk"},
    {"вконтакте", "vk"},
    {"linkedin", "linkedin"},
    {"linkedincom", "linkedin"},
    {"wechat", "wechat"},
    {"weixin", "wechat"},
    {"微信", "wechat"},
    {"line", "line"},
    {"lineapp", "line"},
    {"discord", "discord"},
    {"discordapp", "discord"},
    {"reddit", "reddit"},
    {"youtube", "youtube"},
    {"yt", "youtube"},
    {"pinterest", "pinterest"},
    {"tumblr", "tumblr"},
    {"kik", "kik"},
    {"kikmessenger", "kik"},
    {"threads", "threads"},
    {"threadsnet", "threads"},
    {"bluesky", "bluesky"},
    {"bsky", "bluesky"},
    {"bskysocial", "bluesky"},
    {"mastodon", "mastodon"},
    {"odnoklassniki", "odnoklassniki"},
    {"ok", "odnoklassniki"},
    {"okru", "odnoklassniki"},
    {"одноклассники", "odnoklassniki"},
    {"weibo", "weibo"},
    {"sinaweibo", "weibo"},
    {"微博", "weibo"},
    {"qq", "qq"},
    {"kakaotalk", "kakaotalk"},
    {"kakao", "kakaotalk"},
    {"twitch", "twitch"},
    {"clubhouse", "clubhouse"},
    {"truthsocial", "truth_social"},
    {"tinder", "tinder"},
    {"badoo", "badoo"},
    {"bumble", "bumble"},
    {"grindr", "grindr"},
    {"onlyfans", "onlyfans"},
    {"whatsapp", "whatsapp"},
    {"wa", "whatsapp"},
    {"whatsappcom", "whatsapp"},
    {"signal", "signal"},
    {"signalapp", "signal"},
    {"signalorg", "signal"},
    {"viber", "viber"},
    {"threema", "threema"},
};

// One UTF-8 code point at s[i] (advancing i), or -1 for malformed input.
std::int32_t next_code_point(std::string_view s, std::size_t& i) {
    auto b0 = static_cast<unsigned char>(s[i]);
    int len = b0 < 0x80           ? 1
              : (b0 >> 5) == 0x6  ? 2
              : (b0 >> 4) == 0xE  ? 3
              : (b0 >> 3) == 0x1E ? 4
                                  : 0;
    if (len == 0 || i + len > s.size()) return -1;
    std::int32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < len; ++k) {
        auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    i += len;
    return cp;
}

void append_utf8(std::string& out, std::int32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool is_separator(std::int32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '.' || cp == '_' || cp == '-' || cp == '/' ||
           cp == 0xB7 || cp == 0x2010 || cp == 0x2011 || cp == 0x2012 || cp == 0x2013 ||
           cp == 0x2014 || cp == 0x2212 || cp == 0x3000 || cp == 0xA0 || cp == 0x30FB;
}

bool is_invisible(std::int32_t cp) {
    return (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF || cp == 0xAD ||
           (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0xFE00 && cp <= 0xFE0F);
}

// Latin look-alikes: Cyrillic and Greek letters, accented Latin letters and dotless i.
// Returns the ASCII letter, or 0 when `cp` has none.
char latin_look_alike(std::int32_t cp) {
    static constexpr std::pair<std::int32_t, char> kTable[] = {
        // Cyrillic lower case, then upper case
        {0x0430, 'a'},
        {0x0432, 'b'},
        {0x0435, 'e'},
        {0x043A, 'k'},
        {0x043C, 'm'},
        {0x043D, 'h'},
        {0x043E, 'o'},
        {0x0440, 'p'},
        {0x0441, 'c'},
        {0x0442, 't'},
        {0x0443, 'y'},
        {0x0445, 'x'},
        {0x0456, 'i'},
        {0x0458, 'j'},
        {0x0455, 's'},
        {0x0501, 'd'},
        {0x04CF, 'l'},
        {0x051B, 'q'},
        {0x051D, 'w'},
        {0x0410, 'a'},
        {0x0412, 'b'},
        {0x0415, 'e'},
        {0x041A, 'k'},
        {0x041C, 'm'},
        {0x041D, 'h'},
        {0x041E, 'o'},
        {0x0420, 'p'},
        {0x0421, 'c'},
        {0x0422, 't'},
        {0x0423, 'y'},
        {0x0425, 'x'},
        {0x0406, 'i'},
        {0x0408, 'j'},
        {0x0405, 's'},
        // Greek
        {0x03B1, 'a'},
        {0x03B5, 'e'},
        {0x03B9, 'i'},
        {0x03BA, 'k'},
        {0x03BD, 'v'},
        {0x03BF, 'o'},
        {0x03C1, 'p'},
        {0x03C4, 't'},
        {0x03C5, 'u'},
        {0x03C7, 'x'},
        {0x0391, 'a'},
        {0x0392, 'b'},
        {0x0395, 'e'},
        {0x0396, 'z'},
        {0x0397, 'h'},
        {0x0399, 'i'},
        {0x039A, 'k'},
        {0x039C, 'm'},
        {0x039D, 'n'},
        {0x039F, 'o'},
        {0x03A1, 'p'},
        {0x03A4, 't'},
        {0x03A5, 'y'},
        {0x03A7, 'x'},
        // dotless i, long s, script g
        {0x0131, 'i'},
        {0x017F, 's'},
        {0x0261, 'g'}};
    for (const auto& [from, to] : kTable) {
        if (from == cp) return to;
    }
    // Latin-1 and Latin Extended-A letters with diacritics: their base letter.
    static constexpr std::string_view kLatin1 =
        "aaaaaaaceeeeiiiidnooooo.ouuuuyty";  // U+00E0..U+00FF (lower case)
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return kLatin1[cp - 0xC0];
    if (cp >= 0xE0 && cp <= 0xFF && cp != 0xF7) return kLatin1[cp - 0xE0];
    return 0;
}

// Folds `text`: ASCII kept (upper case lowered), full-width ASCII mapped down, look-alikes
// mapped to Latin, invisible characters and separators dropped. Other code points (e.g.
// Cyrillic words, CJK) are kept lower-cased in `native` for the native-script aliases; `ascii`
// then reports whether only Latin letters and digits remain.
struct Folded {
    std::string latin;   // a-z 0-9, look-alikes folded
    std::string native;  // lower-cased original letters, separators dropped
    bool ascii = true;   // every letter folded to Latin
    bool ok = true;      // valid UTF-8, no control or punctuation left
};

Folded fold(std::string_view text) {
    Folded f;
    for (std::size_t i = 0; i < text.size();) {
        std::int32_t cp = next_code_point(text, i);
        if (cp < 0) {
            f.ok = false;
            return f;
        }
        if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
        if (is_invisible(cp) || is_separator(cp)) continue;
        std::int32_t lower = u_tolower(cp);
        append_utf8(f.native, lower);
        if (cp < 0x80) {
            if (!std::isalnum(static_cast<unsigned char>(cp))) {
                f.ok = false;
                return f;
            }
            f.latin.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(cp))));
        } else if (char c = latin_look_alike(cp) ? latin_look_alike(cp) : latin_look_alike(lower)) {
            f.latin.push_back(c);
        } else if (u_isalnum(cp)) {
            f.ascii = false;
        } else {
            f.ok = false;
            return f;
        }
    }
    return f;
}

}  // namespace

std::optional<std::string> canonical_provider(std::string_view provider) {
    if (provider.empty() || provider.size() > 64) return std::nullopt;
    Folded f = fold(provider);
    if (!f.ok || f.native.empty()) return std::nullopt;
    for (const Alias& a : kAliases) {
        if (a.key == f.native || (f.ascii && a.key == f.latin)) return std::string(a.canonical);
    }
    if (!f.ascii || f.latin.empty()) return std::nullopt;
    return f.latin;
}

bool is_social_media_provider(std::string_view provider) noexcept {
    try {
        auto c = canonical_provider(provider);
        if (!c) return false;
        const auto& names = social_media_providers();
        return std::find(names.begin(), names.end(), *c) != names.end();
    } catch (...) {
        return true;  // cannot tell: treat as social media (fail closed)
    }
}

bool is_builtin_messenger(std::string_view provider) noexcept {
    try {
        auto c = canonical_provider(provider);
        if (!c) return false;
        const auto& names = messenger_providers();
        return std::find(names.begin(), names.end(), *c) != names.end();
    } catch (...) {
        return false;
    }
}

ChannelRef ChannelRef::make(ChannelKind kind, std::string_view provider, std::string_view field) {
    auto fail = [&](const std::string& what) -> ChannelRef {
        throw Error(ErrorCode::invalid_field, std::string(field), std::string(field) + ": " + what);
    };
    if (!is_known(kind)) return fail("unknown channel kind");
    std::string p;
    if (!provider.empty()) {
        auto c = canonical_provider(provider);
        if (!c) {
            return fail(
                "a provider name is letters and digits, optionally separated by spaces, '.', '_' "
                "or '-' (at most 64 bytes), e.g. 'whatsapp'");
        }
        p = std::move(*c);
        if (p.size() > 32) return fail("a provider name is at most 32 letters and digits");
    }
    if (!p.empty() && is_social_media_provider(p)) return ChannelRef{ChannelKind::social_media, p};
    bool needs_provider = kind == ChannelKind::messenger || kind == ChannelKind::social_media;
    if (needs_provider && p.empty()) {
        return fail(std::string("a ") + to_string(kind) +
                    " channel needs a provider, e.g. 'whatsapp'");
    }
    if (!needs_provider && !p.empty()) {
        return fail(std::string("a ") + to_string(kind) + " channel takes no provider");
    }
    return ChannelRef{kind, p};
}

ChannelRef effective_channel(const ChannelRef& c) {
    if (c.provider.empty()) return c;
    auto canonical = canonical_provider(c.provider);
    if (!canonical) return ChannelRef{ChannelKind::social_media, c.provider};
    if (is_social_media_provider(*canonical)) {
        return ChannelRef{ChannelKind::social_media, *canonical};
    }
    return ChannelRef{c.kind, *canonical};
}

std::string ChannelRef::str() const {
    return provider.empty() ? std::string(to_string(kind))
                            : std::string(to_string(kind)) + "/" + provider;
}

}  // namespace ariadne::policies
