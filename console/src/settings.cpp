// The console's settings: its own settings file, and the organisation's retention, canned
// replies and duress words as the gateway's `settings` answer gives them.
#include "ariadne/console/settings.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>

#include "ariadne/client/error.h"
#include "ariadne/console/assets.h"
#include "ariadne/console/service.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/phrase_digest.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::text_field;

Json default_canned_replies() {
    // The defaults live in console/web/canned.json, compiled into the binary.
    const Asset* a = find_asset("/canned.json");
    return a ? Json::parse(a->body) : Json::array();
}

ConsoleSettings ConsoleSettings::load(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("the console settings file " + path.string() + " cannot be read");
    Json j;
    try {
        j = Json::parse(in);
    } catch (const Json::exception&) {
        throw std::runtime_error("the console settings file " + path.string() +
                                 " is not valid JSON");
    }
    if (!j.is_object()) throw std::runtime_error("the console settings must be a JSON object");
    ConsoleSettings s;
    for (auto& [key, value] : j.items()) {
        if (key == "retention_days") {
            if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 36500) {
                throw std::runtime_error(
                    "'retention_days' must be a whole number of days, 1 to "
                    "36500");
            }
            s.retention_days = value.get<int>();
        } else if (key == "duress_keywords") {
            throw std::runtime_error(
                "'duress_keywords' is no longer a console setting: the organisation's duress "
                "words are set at the gateway by an administrator (ariadne admin "
                "duress-words-set) and every console receives them; remove it from this file");
        } else if (key == "canned_replies") {
            if (!value.is_array()) throw std::runtime_error("'canned_replies' must be a list");
            for (const Json& c : value) {
                if (!c.is_object() || !c.contains("text") || !c["text"].is_string() ||
                    c["text"].get<std::string>().empty() ||
                    c["text"].get<std::string>().size() > 1000) {
                    throw std::runtime_error(
                        "each of 'canned_replies' needs a 'text' of 1 to 1000 bytes");
                }
                s.canned.push_back(
                    {{"label", c.value("label", c["text"].get<std::string>().substr(0, 24))},
                     {"text", c["text"]}});
            }
        } else {
            throw std::runtime_error("unknown setting '" + key +
                                     "' (known: retention_days, canned_replies)");
        }
    }
    return s;
}

void ConsoleService::refresh_settings() {
    Json answer;
    try {
        answer = messenger_->connection().call({{"type", "settings"}});
    } catch (const client::ServerError&) {
        return;  // an older gateway: the console's own settings apply
    }
    std::lock_guard lock(mu_);
    auto days = answer.find("retention_days");
    if (days != answer.end() && days->is_number_integer() && days->get<int>() >= 1 &&
        days->get<int>() <= 36500) {
        org_retention_days_ = days->get<int>();
    }
    auto clean_list = [](const Json& replies) {
        Json clean = Json::array();
        for (const Json& r : replies) {
            std::string text = text_field(r, "text");
            if (text.empty() || text.size() > 1000) continue;
            std::string label = text_field(r, "label");
            clean.push_back(
                {{"label", label.empty() ? text.substr(0, 24) : label}, {"text", text}});
        }
        return clean;
    };
    auto replies = answer.find("canned_replies");
    if (replies != answer.end() && replies->is_array()) org_canned_ = clean_list(*replies);
    // {"en": [...], "ar": [...]}: an older gateway sends only the one list.
    auto by_language = answer.find("canned_replies_by_language");
    if (by_language != answer.end() && by_language->is_object()) {
        Json clean = Json::object();
        for (const auto& [language, list] : by_language->items()) {
            if (list.is_array() && !language.empty() && language.size() <= 35) {
                clean[language] = clean_list(list);
            }
        }
        org_canned_by_language_ = std::move(clean);
    } else {
        org_canned_by_language_ = nullptr;
    }
    std::string language = text_field(answer, "default_language");
    org_default_language_ = language.empty() ? "en" : language;
    // {"key": base64, "max_words": N, "digests": [base64, ...]}; anything malformed leaves
    // the last good list in place.
    auto words = answer.find("duress_words");
    if (words != answer.end() && words->is_object()) {
        try {
            auto key = crypto::base64_decode(words->at("key").get<std::string>());
            std::set<std::vector<std::uint8_t>> digests;
            for (const Json& d : words->at("digests")) {
                digests.insert(crypto::base64_decode(d.get<std::string>()));
            }
            auto max_words = words->at("max_words").get<std::size_t>();
            if (key.size() == crypto::kPhraseDigestBytes) {
                duress_key_ = std::move(key);
                duress_digests_ = std::move(digests);
                duress_max_words_ = max_words;
            }
        } catch (const std::exception&) {
        }
    }
}

int ConsoleService::effective_retention_days() {
    std::lock_guard lock(mu_);
    int local = settings_.retention_days;
    if (org_retention_days_ > 0) {
        return local > 0 ? std::min(local, org_retention_days_) : org_retention_days_;
    }
    return local > 0 ? local : 365;
}

Json ConsoleService::canned() {
    std::lock_guard lock(mu_);
    Json replies = org_canned_.is_array() ? org_canned_ : settings_.canned;
    Json by_language = org_canned_by_language_.is_object() ? org_canned_by_language_
                                                           : Json{{org_default_language_, replies}};
    return {{"replies", replies},
            {"by_language", by_language},
            {"default_language", org_default_language_}};
}

}  // namespace ariadne::console
