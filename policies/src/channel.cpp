#include "ariadne/policies/channel.h"

#include <algorithm>
#include <cctype>

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
                                                     "mastodon",  "odnoklassniki"};
    return names;
}

const std::vector<std::string_view>& messenger_providers() {
    static const std::vector<std::string_view> names{"whatsapp", "signal", "viber", "threema"};
    return names;
}

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

bool is_social_media_provider(std::string_view provider) noexcept {
    std::string p = lower(provider);
    const auto& names = social_media_providers();
    return std::find(names.begin(), names.end(), p) != names.end();
}

ChannelRef ChannelRef::make(ChannelKind kind, std::string_view provider, std::string_view field) {
    auto fail = [&](const std::string& what) -> ChannelRef {
        throw Error(ErrorCode::invalid_field, std::string(field), std::string(field) + ": " + what);
    };
    if (!is_known(kind)) return fail("unknown channel kind");
    std::string p = lower(provider);
    if (p.size() > 32) return fail("a provider name is at most 32 characters");
    for (char c : p) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
            return fail("a provider name is lower-case letters, digits, '_' or '-'");
        }
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

std::string ChannelRef::str() const {
    return provider.empty() ? std::string(to_string(kind))
                            : std::string(to_string(kind)) + "/" + provider;
}

}  // namespace ariadne::policies
