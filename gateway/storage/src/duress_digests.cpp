#include "ariadne/storage/duress_digests.h"

namespace ariadne::storage {

DuressDigests::DuressDigests(const policies::PolicyStore& store) : db_(store) {}

std::size_t DuressDigests::replace_all(const std::vector<DuressDigest>& digests) {
    auto db = db_.lock();
    Transaction tx(*db);
    db->exec("DELETE FROM gateway_duress_words");
    std::size_t stored = 0;
    for (const auto& d : digests) {
        db->cached("INSERT INTO gateway_duress_words(digest, words) VALUES(?,?) ON CONFLICT DO NOTHING")
            .bind_blob(1, d.digest)
            .bind(2, static_cast<std::int64_t>(d.words))
            .run();
        stored += static_cast<std::size_t>(db->changes());
    }
    tx.commit();
    return stored;
}

std::vector<DuressDigest> DuressDigests::all() const {
    auto db = db_.lock();
    std::vector<DuressDigest> out;
    auto s = db->cached("SELECT digest, words FROM gateway_duress_words");
    while (s.step()) {
        out.push_back({s.blob(0), static_cast<std::size_t>(s.integer(1))});
    }
    return out;
}

}  // namespace ariadne::storage
