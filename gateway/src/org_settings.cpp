#include "ariadne/gateway/org_settings.h"

#include <sqlite3.h>

#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& rule) {
    throw policies::Error(policies::ErrorCode::invalid_field, field, field + ": " + rule);
}

[[noreturn]] void storage(sqlite3* db) {
    throw policies::Error(
        policies::ErrorCode::storage, "",
        std::string("The canned replies cannot be used (") + sqlite3_errmsg(db) + ").");
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

void ensure_table(sqlite3* db) {
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS gateway_canned_replies(position INTEGER PRIMARY "
                     "KEY, label TEXT NOT NULL, text TEXT NOT NULL)",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
        storage(db);
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
    auto guard = store.lock();
    sqlite3* db = store.connection();
    ensure_table(db);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT label, text FROM gateway_canned_replies ORDER BY position",
                           -1, &st, nullptr) != SQLITE_OK) {
        storage(db);
    }
    std::vector<CannedReply> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                       reinterpret_cast<const char*>(sqlite3_column_text(st, 1))});
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) storage(db);
    return out.empty() ? default_canned_replies() : out;
}

void set_canned_replies(policies::PolicyStore& store, const std::vector<CannedReply>& replies,
                        const policies::Actor& actor, policies::Instant at) {
    if (actor.role != policies::Role::admin) {
        throw policies::Error(policies::ErrorCode::refused, "canned_replies",
                              "canned_replies: only an administrator may set them.");
    }
    validate(replies);
    auto guard = store.lock();
    sqlite3* db = store.connection();
    ensure_table(db);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) storage(db);
    try {
        if (sqlite3_exec(db, "DELETE FROM gateway_canned_replies", nullptr, nullptr, nullptr) !=
            SQLITE_OK) {
            storage(db);
        }
        for (std::size_t i = 0; i < replies.size(); ++i) {
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v2(db,
                                   "INSERT INTO gateway_canned_replies(position, label, text) "
                                   "VALUES(?,?,?)",
                                   -1, &st, nullptr) != SQLITE_OK) {
                storage(db);
            }
            sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(i));
            sqlite3_bind_text(st, 2, replies[i].label.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, replies[i].text.c_str(), -1, SQLITE_TRANSIENT);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) storage(db);
        }
        store.append_audit(actor.account.str(), "policy.canned_replies", "", "",
                           replies.empty() ? "defaults" : "set", at);
        if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) storage(db);
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

nlohmann::json console_settings(policies::PolicyStore& store) {
    return {{"retention_days", store.org_policy().retention_days},
            {"canned_replies", canned_replies_json(canned_replies(store))}};
}

}  // namespace ariadne::gateway
