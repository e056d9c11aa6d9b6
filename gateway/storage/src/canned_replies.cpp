#include "ariadne/storage/canned_replies.h"

#include "ariadne/storage/shared_transaction.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

CannedReplies::CannedReplies(policies::PolicyStore& store) : store_(store) {}

std::vector<CannedReply> CannedReplies::list() const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    auto st =
        db.prepare("SELECT label, text, language FROM gateway_canned_replies ORDER BY position");
    std::vector<CannedReply> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2)});
    return out;
}

void CannedReplies::replace(const std::vector<CannedReply>& replies, const std::string& actor,
                            policies::Instant at) {
    SharedTransaction tx(store_);
    Connection db(store_.connection());
    db.exec("DELETE FROM gateway_canned_replies");
    auto insert = db.prepare(
        "INSERT INTO gateway_canned_replies(position, label, text, language) "
        "VALUES(?,?,?,?)");
    for (std::size_t i = 0; i < replies.size(); ++i) {
        insert.bind(1, static_cast<std::int64_t>(i))
            .bind(2, replies[i].label)
            .bind(3, replies[i].text)
            .bind(4, replies[i].language)
            .run();
        insert.reset();
    }
    store_.append_audit(actor, "policy.canned_replies", "", "",
                        replies.empty() ? "defaults" : "set", at);
    tx.commit();
}

}  // namespace ariadne::storage
