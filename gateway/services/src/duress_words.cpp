#include "ariadne/services/duress_words.h"

#include <algorithm>
#include <set>

#include "ariadne/crypto/phrase_digest.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/duress_digests.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_storage.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& rule) {
    throw policies::Error(policies::ErrorCode::invalid_field, field, field + ": " + rule);
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
    auto rows = policy_storage("duress words", [&] { return storage::DuressDigests(store).all(); });
    Digests out;
    for (auto& row : rows) {
        out.max_words = std::max(out.max_words, row.words);
        out.digests.insert(std::move(row.digest));
    }
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
    std::vector<storage::DuressDigest> rows;
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
        rows.push_back({crypto::phrase_digest(pkey.view(), phrases[i]), words.size()});
    }
    return policy_storage("duress words", [&] {
        // The list and its audit entry together, or neither.
        storage::SharedTransaction tx(store);
        std::size_t stored = storage::DuressDigests(store).replace_all(rows);
        store.append_audit(actor.account.str(), "policy.duress_words", "", "",
                           std::to_string(stored), at);
        tx.commit();
        return stored;
    });
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
