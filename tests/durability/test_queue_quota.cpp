// Queued-bytes quotas against the real server: a sender that keeps sending to a recipient who
// does not collect is refused with `quota_exceeded` (naming the quota) once its undelivered
// bytes reach --queue-mib-per-sender, and the recipient's mailbox is closed to everyone at
// --queue-mib-per-recipient; what was accepted is all delivered, the counts survive a kill -9,
// and sends go through again once the recipient has collected.
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "ariadne/crypto/bytes.h"
#include "traffic.h"

namespace ariadne::durability {
namespace {

// Two console devices x 20,000 bytes: 40,000 bytes counted per send, in a 53 KiB frame.
constexpr std::size_t kBigBody = 20000;

Json big_send(const Cluster& cluster) {
    Json messages = Json::array();
    for (auto device : cluster.console_ids) {
        messages.push_back({{"device_id", device},
                            {"type", 2},
                            {"body", crypto::base64_encode(crypto::random_bytes(kBigBody))}});
    }
    return {{"type", "send"}, {"to", cluster.caseworker.account}, {"messages", messages}};
}

/// Sends until refused; returns the refusal and counts the sends accepted.
Json send_until_refused(client::Connection& conn, const Cluster& cluster, int& accepted) {
    for (int i = 0; i < 400; ++i) {
        Json answer = conn.request(big_send(cluster), 30s);
        if (answer["type"] != "ok") return answer;
        ++accepted;
    }
    return {};
}

/// Receives and acknowledges on console device `index` until nothing arrives for a second;
/// returns the server ids received.
std::set<std::int64_t> collect(const Cluster& cluster, std::size_t index) {
    auto conn = cluster.console(index);
    std::set<std::int64_t> ids;
    while (auto frame = conn->next_unsolicited(1000ms)) {
        if (!frame->is_object() || frame->value("type", "") != "deliver") continue;
        const auto sid = frame->at("message").at("server_id").get<std::int64_t>();
        ids.insert(sid);
        EXPECT_EQ(conn->request({{"type", "ack"}, {"server_id", sid}})["type"], "ok");
    }
    return ids;
}

TEST(QueueQuota, SendersAndRecipientsAreBoundedWithQuotaExceededAndNothingAcceptedIsLost) {
    e2e::TempDir tmp;
    Cluster cluster(tmp.path(), 2,
                    {"--queue-mib-per-sender", "2", "--queue-mib-per-recipient", "3"});
    const std::uint64_t mib = 1 << 20;

    // Survivor 0 writes to her caseworker, who is not collecting: refused at 2 MiB of her own.
    auto first = cluster.survivor(0);
    int accepted0 = 0;
    Json refused = send_until_refused(*first, cluster, accepted0);
    ASSERT_EQ(refused.value("code", ""), "quota_exceeded") << refused.dump();
    EXPECT_EQ(refused.value("quota", ""), "sender");
    EXPECT_FALSE(refused.value("message", "").empty());
    EXPECT_EQ(accepted0, static_cast<int>(2 * mib / (2 * kBigBody)));
    // The refusal loses nothing else: the connection stays usable.
    EXPECT_EQ(first->request({{"type", "ping"}})["type"], "ok");

    // Survivor 1 fills what is left of the caseworker's 3 MiB: refused for the recipient.
    auto second = cluster.survivor(1);
    int accepted1 = 0;
    refused = send_until_refused(*second, cluster, accepted1);
    ASSERT_EQ(refused.value("code", ""), "quota_exceeded") << refused.dump();
    EXPECT_EQ(refused.value("quota", ""), "recipient");
    EXPECT_EQ((accepted0 + accepted1) * 2 * kBigBody <= 3 * mib, true);
    EXPECT_GT((accepted0 + accepted1 + 1) * 2 * kBigBody, 3 * mib);

    // The counts are rebuilt from the mailbox after a crash.
    first.reset();
    second.reset();
    cluster.gateway.stop(SIGKILL);
    cluster.gateway.start();
    first = cluster.survivor(0);
    EXPECT_EQ(first->request(big_send(cluster), 30s).value("code", ""), "quota_exceeded");

    // Everything accepted is delivered to both devices; once collected, sends go through.
    for (std::size_t d = 0; d < 2; ++d) {
        EXPECT_EQ(collect(cluster, d).size(), static_cast<std::size_t>(accepted0 + accepted1))
            << "device " << d;
    }
    EXPECT_EQ(first->request(big_send(cluster), 30s)["type"], "ok");
}

}  // namespace
}  // namespace ariadne::durability
