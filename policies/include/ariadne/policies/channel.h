// Channel registry: the kinds of channel Ariadne knows, their classes (what an organisation
// can ban), their security labels (shown wherever a thread is shown), named providers, and
// the purposes a consent covers. Pure functions over constants; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::policies {

enum class ChannelKind {
    app,             // Ariadne app, Signal protocol end to end
    web,             // the gateway-served survivor web page
    sms,             // text message through the carrier (Kannel)
    voice_callback,  // a request that a caseworker calls her back (no telephony here)
    email,
    messenger,     // third-party messenger (WhatsApp, Signal …): only with signed consent
    social_media,  // Facebook, Instagram, TikTok, X, Telegram …: refused always
};

/// What an organisation policy bans. sms and voice_callback share `telephony`.
enum class ChannelClass { app, web, telephony, email, messenger, social_media };

/// How far the content is protected on its way to her.
enum class SecurityLabel {
    end_to_end,         // only her device and the caseworker's console can read it
    edge_encrypted,     // TLS to the gateway, encrypted at the gateway's edge
    carrier_plaintext,  // the carrier or provider can read it (SMS, call-back, e-mail, messenger)
};

enum class Purpose { replies, check_ins, case_updates };

const char* to_string(ChannelKind) noexcept;
const char* to_string(ChannelClass) noexcept;
const char* to_string(SecurityLabel) noexcept;
const char* to_string(Purpose) noexcept;
/// The human label every surface shows for a security label: "end-to-end encrypted",
/// "edge-encrypted" or "carrier plaintext". The only place these words are defined.
const char* describe(SecurityLabel) noexcept;

/// Parse stable names ("sms", "check_ins", ...); nullopt when unknown.
std::optional<ChannelKind> parse_channel_kind(std::string_view) noexcept;
std::optional<ChannelClass> parse_channel_class(std::string_view) noexcept;
std::optional<Purpose> parse_purpose(std::string_view) noexcept;

/// True when `kind` is one of the enumerators above (a value cast from a bad integer is not).
bool is_known(ChannelKind kind) noexcept;
ChannelClass class_of(ChannelKind kind) noexcept;
SecurityLabel label_of(ChannelKind kind) noexcept;
const std::vector<ChannelKind>& all_channel_kinds();
const std::vector<Purpose>& all_purposes();

/// Social-media providers by canonical name ("facebook", "instagram", "tiktok", "x",
/// "twitter", "telegram", "vk", "weibo", …; the list in docs/policies.md). Lower-case.
const std::vector<std::string_view>& social_media_providers();
/// The messenger providers Ariadne accepts without the organisation adding any ("whatsapp",
/// "signal", "viber", "threema"). An organisation may accept more (OrgPolicy).
const std::vector<std::string_view>& messenger_providers();
/// The provider as Ariadne compares and stores it: Unicode look-alikes folded to Latin
/// (full-width forms, Cyrillic and Greek letters that look Latin, accents, zero-width
/// characters), lower case, separators (space . _ - / ·) dropped, then a known alias mapped to
/// its canonical name ("FB" → "facebook", "tg" → "telegram", "insta" → "instagram",
/// "facebook-messenger" → "facebook_messenger", "ВКонтакте" → "vk", "微博" → "weibo").
/// Any other name comes back as its folded letters and digits ("Whats App" → "whatsapp").
/// nullopt when the text is empty, longer than 64 bytes, or keeps a character that is not a
/// Latin letter, a digit or a separator after folding.
std::optional<std::string> canonical_provider(std::string_view provider);
/// True when `provider`, canonicalised, is a social-media provider or one of its aliases.
bool is_social_media_provider(std::string_view provider) noexcept;
/// True when `provider`, canonicalised, is one of messenger_providers().
bool is_builtin_messenger(std::string_view provider) noexcept;

/// A channel as configured for a survivor: a kind plus, for messenger and social media, the
/// provider. Construction normalises: the provider is canonicalised (canonical_provider), and
/// a social-media provider or alias always yields kind social_media, whatever kind was asked
/// for (so "tg" filed as a messenger is social media "telegram"). Throws
/// Error{invalid_field} when the provider is malformed, missing for messenger/social_media,
/// or given for a kind that has none. Whether a messenger provider is accepted depends on
/// the organisation policy (OrgPolicy::accepts_messenger), checked by the store.
struct ChannelRef {
    ChannelKind kind = ChannelKind::app;
    std::string provider;  // lower-case; empty for app/web/sms/voice_callback/email

    static ChannelRef make(ChannelKind kind, std::string_view provider = {},
                           std::string_view field = "channel");
    bool operator==(const ChannelRef&) const = default;
    /// "sms", "messenger/whatsapp".
    std::string str() const;
};

/// `c` as every rule must treat it, for a value that did not come through make() (e.g. a
/// record stored before an alias was known): the provider canonicalised and a social-media
/// provider turned into kind social_media. A provider that cannot be canonicalised is kept
/// as it is with kind social_media (fail closed).
ChannelRef effective_channel(const ChannelRef& c);

}  // namespace ariadne::policies
