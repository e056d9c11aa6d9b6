// Small validated value types. Each is checked when it is constructed, so a value that
// exists is valid; a bad input throws `Error{invalid_field}` naming the field. All types are
// plain values: copyable, immutable, thread-safe to share.
#pragma once

#include <chrono>
#include <compare>
#include <string>
#include <string_view>

namespace ariadne::policies {

/// A moment in UTC, microsecond resolution (the unit stored in SQLite).
using Instant = std::chrono::sys_time<std::chrono::microseconds>;

/// A survivor's initials: 1 to 4 letters of any script (Unicode general category L*, each
/// optionally followed by combining marks), optionally separated by dots and spaces, e.g.
/// "M.K.", "AN", "ΑΒ", "م ع". So that a short name ("Ana", "Li", "سارة") is not taken for
/// initials: a letter of a script with case must be a capital (no lowercase letter), and a
/// letter of a script without case (Arabic, Hebrew, CJK, Devanagari…) must be separated from
/// its neighbours by a dot or a space. Anything else is refused with a message that starts
/// "initials only are allowed: 1 to 4 letters, e.g. 'M.K.'" and names the rule broken (never
/// repeating the text). Leading/trailing spaces are trimmed.
class Initials {
  public:
    /// Throws Error{invalid_field, field} when `text` is not initials.
    explicit Initials(std::string_view text, std::string_view field = "initials");
    const std::string& str() const noexcept { return text_; }
    auto operator<=>(const Initials&) const = default;

  private:
    std::string text_;
};

/// A survivor's internal identifier: 6 characters of an unambiguous alphabet
/// (23456789ABCDEFGHJKMNPQRSTUVWXYZ — no 0/O, 1/I/L) shown as "K7Q-2F9".
class CaseCode {
  public:
    static constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    /// A new random code from OpenSSL's CSPRNG (uniform over 31^6 ≈ 8.9e8 codes; the store
    /// retries on the rare collision). Throws Error{storage} if the CSPRNG fails.
    static CaseCode generate();
    /// Parses "K7Q-2F9"; lower case and a missing dash are accepted ("k7q2f9"). Throws
    /// Error{invalid_field, field} for anything else.
    explicit CaseCode(std::string_view text, std::string_view field = "case_code");
    /// Canonical form "K7Q-2F9".
    const std::string& str() const noexcept { return text_; }
    auto operator<=>(const CaseCode&) const = default;

  private:
    CaseCode() = default;
    std::string text_;
};

/// An opaque account id (caseworker, admin, partner organisation): 1–64 characters of
/// [A-Za-z0-9._:-]. Never a name or an e-mail address (no '@', no spaces).
class AccountId {
  public:
    explicit AccountId(std::string_view text, std::string_view field = "account_id");
    const std::string& str() const noexcept { return text_; }
    auto operator<=>(const AccountId&) const = default;

  private:
    std::string text_;
};

/// A language tag such as "en", "ro", "pt-BR" (BCP 47 shape: 2–3 letter primary subtag,
/// optional 2–8 alphanumeric subtags). Stored lower-case primary subtag as given.
class LanguageTag {
  public:
    explicit LanguageTag(std::string_view text, std::string_view field = "language");
    const std::string& str() const noexcept { return text_; }
    /// The primary subtag, lower-case ("pt" for "pt-BR"), used for template lookup.
    std::string primary() const;
    auto operator<=>(const LanguageTag&) const = default;

  private:
    std::string text_;
};

/// Microseconds since the Unix epoch, and back (the SQLite representation).
inline std::int64_t to_micros(Instant t) noexcept { return t.time_since_epoch().count(); }
inline Instant from_micros(std::int64_t us) noexcept {
    return Instant{std::chrono::microseconds{us}};
}

}  // namespace ariadne::policies
