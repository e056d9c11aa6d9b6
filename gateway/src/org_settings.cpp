#include "ariadne/gateway/org_settings.h"

#include "ariadne/policies/error.h"
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

void validate(const std::vector<CannedReply>& replies) {
    if (replies.size() > kMaxCannedReplies) {
        invalid("canned_replies", "at most " + std::to_string(kMaxCannedReplies) + " replies.");
    }
    for (std::size_t i = 0; i < replies.size(); ++i) {
        std::string at = "canned_replies[" + std::to_string(i) + "]";
        check_text(replies[i].label, at + ".label", 40, false);
        check_text(replies[i].text, at + ".text", 1000, true);
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

std::vector<CannedReply> parse_canned_replies(const nlohmann::json& list) {
    if (!list.is_array()) invalid("canned_replies", "must be a list of {label, text}.");
    std::vector<CannedReply> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string at = "canned_replies[" + std::to_string(i) + "]";
        const auto& e = list[i];
        if (!e.is_object()) invalid(at, "must be an object with label and text.");
        for (const auto& [k, v] : e.items()) {
            if (k != "label" && k != "text") invalid(at, "unknown field (known: label, text).");
        }
        if (!e.contains("text") || !e["text"].is_string()) invalid(at + ".text", "is missing.");
        if (!e.contains("label") || !e["label"].is_string()) invalid(at + ".label", "is missing.");
        out.push_back({e["label"].get<std::string>(), e["text"].get<std::string>()});
        if (out.size() > kMaxCannedReplies) break;
    }
    validate(out);
    return out;
}

nlohmann::json canned_replies_json(const std::vector<CannedReply>& replies) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : replies) out.push_back({{"label", r.label}, {"text", r.text}});
    return out;
}

std::vector<CannedReply> canned_replies(policies::PolicyStore& store) {
    std::vector<CannedReply> out;
    try {
        out = storage::CannedReplies(store).list();
    } catch (const storage::Error& e) {
        storage(e);
    }
    return out.empty() ? default_canned_replies() : out;
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
    return {{"retention_days", store.org_policy().retention_days},
            {"canned_replies", canned_replies_json(canned_replies(store))}};
}

}  // namespace ariadne::gateway
