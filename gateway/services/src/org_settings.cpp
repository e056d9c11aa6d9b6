#include "ariadne/services/org_settings.h"

#include <cctype>
#include <map>
#include <set>

#include "ariadne/policies/error.h"
#include "ariadne/policies/values.h"
#include "ariadne/storage/canned_replies.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& rule) {
    throw policies::Error(policies::ErrorCode::invalid_field, field, field + ": " + rule);
}

[[noreturn]] void storage(const storage::Error& e) {
    throw policies::Error(policies::ErrorCode::storage, "",
                          std::string("The canned replies cannot be used (") + e.what() + ")");
}

void check_text(const std::string& value, const std::string& field, std::size_t max,
                bool newlines) {
    if (value.empty() || value.size() > max) {
        invalid(field, "must be 1 to " + std::to_string(max) + " bytes of text.");
    }
    for (unsigned char c : value) {
        if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7F) {
            invalid(field, "control characters are not allowed.");
        }
    }
}

/// `canned_replies` for the default language (a plain list), `canned_replies.ar` for another.
std::string list_field(const std::string& language) {
    return language == kDefaultCannedLanguage ? "canned_replies" : "canned_replies." + language;
}

void validate(const std::vector<CannedReply>& replies) {
    std::map<std::string, std::size_t> per_language;
    for (const auto& r : replies) {
        std::size_t i = per_language[r.language]++;
        std::string field = list_field(r.language);
        policies::LanguageTag tag(r.language, field);
        if (per_language[r.language] > kMaxCannedReplies) {
            invalid(field, "at most " + std::to_string(kMaxCannedReplies) + " replies.");
        }
        std::string at = field + "[" + std::to_string(i) + "]";
        check_text(r.label, at + ".label", 40, false);
        check_text(r.text, at + ".text", 1000, true);
    }
    if (per_language.size() > kMaxCannedLanguages) {
        invalid("canned_replies", "at most " + std::to_string(kMaxCannedLanguages) + " languages.");
    }
}

void parse_list(const nlohmann::json& list, const std::string& language,
                std::vector<CannedReply>& out) {
    std::string field = list_field(language);
    if (!list.is_array()) invalid(field, "must be a list of {label, text}.");
    std::size_t count = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string at = field + "[" + std::to_string(i) + "]";
        const auto& e = list[i];
        if (!e.is_object()) invalid(at, "must be an object with label and text.");
        for (const auto& [k, v] : e.items()) {
            if (k != "label" && k != "text") invalid(at, "unknown field (known: label, text).");
        }
        if (!e.contains("text") || !e["text"].is_string()) invalid(at + ".text", "is missing.");
        if (!e.contains("label") || !e["label"].is_string()) invalid(at + ".label", "is missing.");
        out.push_back({e["label"].get<std::string>(), e["text"].get<std::string>(), language});
        if (++count > kMaxCannedReplies) break;
    }
}

}  // namespace

std::vector<CannedReply> default_canned_replies() {
    return {
        {"I'm here", "Thank you for writing. I'm here and I'm reading your message."},
        {"Good moment?", "Is it a good moment to write? You can answer just yes or no."},
        {"No rush", "Take your time. There is no rush, and you don't have to explain anything."},
        {"Call back", "Would you like me to call you? Tell me a time that is good for you."},
        {"Glad you wrote", "I'm glad you got in touch. Whatever you decide, I'm here to help."},
        {"Stop any time", "If now is not a good moment, you can stop at any time. I'll be here."},
    };
}

std::vector<CannedReply> parse_canned_replies(const nlohmann::json& value) {
    std::vector<CannedReply> out;
    if (value.is_array()) {
        parse_list(value, kDefaultCannedLanguage, out);
    } else if (value.is_object()) {
        std::set<std::string> seen;
        for (const auto& [language, list] : value.items()) {
            policies::LanguageTag tag(language, "canned_replies." + language);
            std::string lower = language;
            for (char& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (!seen.insert(lower).second) {
                invalid("canned_replies." + language, "this language is given twice.");
            }
            parse_list(list, tag.str(), out);
        }
    } else {
        invalid("canned_replies",
                "must be a list of {label, text} or an object of language tag -> list.");
    }
    validate(out);
    return out;
}

nlohmann::json canned_replies_json(const std::vector<CannedReply>& replies) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : replies) {
        if (r.language == kDefaultCannedLanguage) {
            out.push_back({{"label", r.label}, {"text", r.text}});
        }
    }
    return out;
}

nlohmann::json canned_replies_by_language_json(const std::vector<CannedReply>& replies) {
    nlohmann::json out = nlohmann::json::object();
    out[kDefaultCannedLanguage] = nlohmann::json::array();
    for (const auto& r : replies) {
        if (!out.contains(r.language)) out[r.language] = nlohmann::json::array();
        out[r.language].push_back({{"label", r.label}, {"text", r.text}});
    }
    return out;
}

std::vector<CannedReply> canned_replies(policies::PolicyStore& store) {
    std::vector<CannedReply> out;
    try {
        out = storage::CannedReplies(store).list();
    } catch (const storage::Error& e) {
        storage(e);
    }
    // Without English replies of its own the organisation's other languages still come with
    // the built-in English set, so a console always has something to fall back to.
    bool has_default = false;
    for (const auto& r : out) has_default = has_default || r.language == kDefaultCannedLanguage;
    if (!has_default) {
        auto defaults = default_canned_replies();
        out.insert(out.begin(), defaults.begin(), defaults.end());
    }
    return out;
}

void set_canned_replies(policies::PolicyStore& store, const std::vector<CannedReply>& replies,
                        const policies::Actor& actor, policies::Instant at) {
    if (actor.role != policies::Role::admin) {
        throw policies::Error(policies::ErrorCode::refused, "canned_replies",
                              "canned_replies: only an administrator may set them.");
    }
    validate(replies);
    try {
        storage::CannedReplies(store).replace(replies, actor.account.str(), at);
    } catch (const storage::Error& e) {
        storage(e);
    }
}

nlohmann::json console_settings(policies::PolicyStore& store) {
    auto replies = canned_replies(store);
    return {{"retention_days", store.org_policy().retention_days},
            {"canned_replies", canned_replies_json(replies)},
            {"canned_replies_by_language", canned_replies_by_language_json(replies)},
            {"default_language", kDefaultCannedLanguage}};
}

}  // namespace ariadne::gateway
