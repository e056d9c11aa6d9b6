// The organisation's duress words as stored: one keyed digest per phrase with its number of
// words (gateway_duress_words). Digesting, and the key, are the gateway's (duress_words.h):
// no phrase is ever stored or seen here in clear.
//
// The table lives in the policy store's database, on its connection (policy_connection.h).
// Thread safety: safe from any thread (every method holds the store's lock); must not outlive
// the store.
// Errors: every method throws storage::Error when SQLite fails.
#pragma once

#include <cstddef>
#include <vector>

#include "ariadne/crypto/bytes.h"
#include "ariadne/storage/policy_connection.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::storage {

struct DuressDigest {
    crypto::Bytes digest;
    std::size_t words = 0;  // words in the phrase, so a text is searched for phrases that long
};

class DuressDigests {
  public:
    explicit DuressDigests(const policies::PolicyStore& store);

    /// Replaces the whole list in one transaction (a savepoint inside a caller's); a digest
    /// given twice is stored once. Returns the number of rows stored.
    std::size_t replace_all(const std::vector<DuressDigest>& digests);
    /// Every stored digest, in no particular order.
    std::vector<DuressDigest> all() const;

  private:
    PolicyConnection db_;
};

}  // namespace ariadne::storage
