#include "ariadne/gateway/duress_words.h"

#include <algorithm>
#include <set>

#include <sqlite3.h>

#include "ariadne/crypto/phrase_digest.h"
#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& rule) {
    throw policies::Error(policies::ErrorCode::invalid_field, field, field + ": " + rule);
}

[[noreturn]] void storage(sqlite3* db) {
    throw policies::Error(
        policies::ErrorCode::storage, "",
        std::string("The duress words cannot be used (") + sqlite3_errmsg(db) + ").");
}

void exec(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) storage(db);
}

/// The phrase key: derived from the server key, so it is never stored and a copy of the
/// database alone cannot test guesses against the digests.
crypto::SecretBytes phrase_key(const ServerKey& key) {
    return crypto::SecretBytes(key.mac("duress_words", crypto::to_bytes("phrase key v1")));
}

struct Digests {
    std::set<crypto::Bytes> digests;
    std::size_t max_words = 0;
};

Digests read_digests(policies::PolicyStore& store) {
    auto guard = store.lock();
    sqlite3* db = store.connection();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT digest, words FROM gateway_duress_words", -1, &st,
                           nullptr) != SQLITE_OK) {
        storage(db);
    }
    Digests out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
        out.digests.emplace(p, p + sqlite3_column_bytes(st, 0));
        out.max_words =
            std::max(out.max_words, static_cast<std::size_t>(sqlite3_column_int64(st, 1)));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) storage(db);
    return out;
}

}  // namespace

std::size_t set_duress_words(policies::PolicyStore& store, const ServerKey& key,
                             const std::vector<std::string>& phrases, const policies::Actor& actor,
                             policies::Instant at) {
    if (actor.role != policies::Role::admin) {
        throw policies::Error(policies::ErrorCode::refused, "duress_words",
                              "duress_words: only an administrator may set them.");
    }
    if (phrases.size() > kMaxDuressWords) {
        invalid("duress_words", "at most " + std::to_string(kMaxDuressWords) + " phrases.");
    }
    auto pkey = phrase_key(key);
    std::vector<std::pair<crypto::Bytes, std::size_t>> rows;
    for (std::size_t i = 0; i < phrases.size(); ++i) {
        const std::string field = "duress_words[" + std::to_string(i) + "]";
        if (phrases[i].size() > kMaxDuressPhraseBytes) {
            invalid(field, "at most " + std::to_string(kMaxDuressPhraseBytes) + " bytes.");
        }
        auto words = crypto::phrase_words(phrases[i]);
        if (words.empty()) invalid(field, "holds no word (letters or digits).");
        if (words.size() > kMaxDuressPhraseWords) {
            invalid(field, "at most " + std::to_string(kMaxDuressPhraseWords) + " words.");
        }
        rows.emplace_back(crypto::phrase_digest(pkey.view(), phrases[i]), words.size());
    }
    auto guard = store.lock();
    sqlite3* db = store.connection();
    exec(db, "BEGIN IMMEDIATE");
    std::size_t stored = 0;
    try {
        exec(db, "DELETE FROM gateway_duress_words");
        for (const auto& [digest, words] : rows) {
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v2(db,
                                   "INSERT OR IGNORE INTO gateway_duress_words(digest, words) "
                                   "VALUES(?,?)",
                                   -1, &st, nullptr) != SQLITE_OK) {
                storage(db);
            }
            sqlite3_bind_blob(st, 1, digest.data(), static_cast<int>(digest.size()),
                              SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(words));
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) storage(db);
            stored += static_cast<std::size_t>(sqlite3_changes(db));
        }
        store.append_audit(actor.account.str(), "policy.duress_words", "", "",
                           std::to_string(stored), at);
        exec(db, "COMMIT");
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return stored;
}

std::size_t duress_word_count(policies::PolicyStore& store) {
    return read_digests(store).digests.size();
}

bool holds_duress_word(policies::PolicyStore& store, const ServerKey& key, std::string_view text) {
    Digests d = read_digests(store);
    if (d.digests.empty()) return false;
    auto pkey = phrase_key(key);
    return crypto::holds_phrase(pkey.view(), d.digests, d.max_words, text);
}

nlohmann::json duress_words_for_consoles(policies::PolicyStore& store, const ServerKey& key) {
    Digests d = read_digests(store);
    nlohmann::json digests = nlohmann::json::array();
    for (const auto& digest : d.digests) digests.push_back(crypto::base64_encode(digest));
    auto pkey = phrase_key(key);
    return {{"key", crypto::base64_encode(pkey.view())},
            {"max_words", d.max_words},
            {"digests", std::move(digests)}};
}

}  // namespace ariadne::gateway
