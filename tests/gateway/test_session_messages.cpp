// Keys, contacts, send, deliver and ack through Sessions on a real SQLite file.
#include <future>
#include <set>
#include <thread>

#include "ariadne/crypto/bundle.h"
#include "harness.h"

namespace ariadne::gateway::test {
namespace {

/// A survivor, her two-caseworker team, and logged-in devices with keys.
struct Team {
    Harness& h;
    CaseworkerLogin mara, jo;
    SurvivorLogin amina;
    Device mara_device, jo_device, amina_device;

    explicit Team(Harness& harness, int pre_keys = 5)
        : h(harness),
          mara(h.add_caseworker("mara.k")),
          jo(h.add_caseworker("jo.b")),
          amina(h.add_survivor({mara.account, jo.account})) {
        login_caseworker(mara_device, mara, pre_keys);
        login_caseworker(jo_device, jo, pre_keys);
        amina_device.client = h.connect();
        json r = h.auth_survivor(amina_device.client, amina, *amina_device.identity);
        EXPECT_EQ(r["type"], "ok") << r.dump();
        amina_device.account = amina.account.id;
        amina_device.device_id = 1;
        EXPECT_EQ(h.upload_keys(amina_device.client, *amina_device.identity, pre_keys)["type"],
                  "ok");
    }

    void login_caseworker(Device& d, const CaseworkerLogin& cw, int pre_keys) {
        d.client = h.connect();
        json r = h.register_device(d.client, cw, *d.identity);
        EXPECT_EQ(r["type"], "ok") << r.dump();
        d.account = cw.account.id;
        d.device_id = r["device_id"].get<std::uint32_t>();
        EXPECT_EQ(h.upload_keys(d.client, *d.identity, pre_keys)["type"], "ok");
    }
};

json message(std::uint32_t device, const std::string& body, int type = 3) {
    return {{"device_id", device}, {"type", type}, {"body", b64(crypto::to_bytes(body))}};
}

// A vector, not a json: a one-element braced list would be read as a copy by clang.
json send(Client& c, const std::string& to, std::vector<json> messages, bool receipt = false) {
    json frame = {{"type", "send"}, {"to", to}, {"messages", json(std::move(messages))}};
    if (receipt) frame["receipt"] = true;
    return c.call(frame);
}

TEST(SessionKeys, UploadVerifiesTheSignedPreKeySignature) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    Device d;
    d.client = h.connect();
    ASSERT_EQ(h.register_device(d.client, cw, *d.identity)["type"], "ok");
    Bytes spk = TestIdentity::random_public_key();
    TestIdentity stranger;
    json r = d.client.call(
        {{"type", "keys_upload"},
         {"signed_pre_key",
          {{"id", 1}, {"public_key", b64(spk)}, {"signature", b64(stranger.sign(spk))}}}});
    EXPECT_EQ(r["code"], "invalid_keys") << r.dump();
    EXPECT_NE(r["message"].get<std::string>().find("signed_pre_key.signature"), std::string::npos);
    r = d.client.call({{"type", "keys_upload"},
                       {"pre_keys", json::array({json{{"id", 0}, {"public_key", b64(spk)}}})}});
    EXPECT_EQ(r["code"], "invalid_keys");
    r = d.client.call(
        {{"type", "keys_upload"}, {"last_resort", {{"id", 5}, {"public_key", b64(spk)}}}});
    EXPECT_EQ(r["code"], "invalid_keys");
    EXPECT_EQ(h.upload_keys(d.client, *d.identity, 3)["pre_key_count"], 3);
    EXPECT_EQ(d.client.call({{"type", "keys_count"}})["pre_key_count"], 3);
}

TEST(SessionKeys, FetchHandsOutEachPreKeyOnceThenTheLastResortKey) {
    Harness h;
    Team t(h, 2);
    Client& c = t.amina_device.client;
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 3; ++i) {
        json r = c.call({{"type", "keys_fetch"}, {"account", t.mara.account.id}});
        ASSERT_EQ(r["type"], "ok") << r.dump();
        ASSERT_EQ(r["bundles"].size(), 1u);
        const json& b = r["bundles"][0];
        EXPECT_EQ(b["device_id"], t.mara_device.device_id);
        EXPECT_EQ(unb64(b["identity_key"]), t.mara_device.identity->public_key());
        EXPECT_TRUE(crypto::verify_signed_pre_key(unb64(b["identity_key"]),
                                                  unb64(b["signed_pre_key"]["public_key"]),
                                                  unb64(b["signed_pre_key"]["signature"])));
        seen.insert(b["pre_key"]["id"].get<std::uint32_t>());
    }
    EXPECT_EQ(seen, (std::set<std::uint32_t>{1, 2, 16777215}));
    EXPECT_EQ(t.mara_device.client.call({{"type", "keys_count"}})["pre_key_count"], 0);
}

TEST(SessionKeys, TwoConcurrentFetchesNeverReceiveTheSamePreKey) {
    Harness h;
    Team t(h, 40);
    Device second;  // jo's second connection, fetching mara's keys alongside amina
    second.client = h.connect();
    ASSERT_EQ(h.auth_device(second.client, t.jo.account.id, t.jo_device.device_id,
                            *t.jo_device.identity)["type"],
              "ok");
    std::vector<std::uint32_t> a_ids, b_ids;
    auto fetch = [&](Client& c, std::vector<std::uint32_t>& ids) {
        for (int i = 0; i < 25; ++i) {
            json r = c.call({{"type", "keys_fetch"}, {"account", t.mara.account.id}});
            ids.push_back(r["bundles"][0]["pre_key"]["id"].get<std::uint32_t>());
        }
    };
    std::thread ta([&] { fetch(t.amina_device.client, a_ids); });
    std::thread tb([&] { fetch(second.client, b_ids); });
    ta.join();
    tb.join();
    std::multiset<std::uint32_t> one_time;
    int last_resort = 0;
    for (auto v : {a_ids, b_ids}) {
        for (auto id : v) {
            if (id == 16777215) {
                ++last_resort;
            } else {
                one_time.insert(id);
            }
        }
    }
    EXPECT_EQ(one_time.size(), 40u);
    EXPECT_EQ(std::set<std::uint32_t>(one_time.begin(), one_time.end()).size(), 40u)
        << "a pre-key was handed out twice";
    EXPECT_EQ(last_resort, 10);
}

TEST(SessionKeys, FetchAndSendToAnUnrelatedOrUnknownAccountAreForbidden) {
    Harness h;
    Team t(h);
    auto outsider = h.add_caseworker("other");
    Client& c = t.amina_device.client;
    EXPECT_EQ(c.call({{"type", "keys_fetch"}, {"account", outsider.account.id}})["code"],
              "forbidden");
    EXPECT_EQ(c.call({{"type", "keys_fetch"}, {"account", new_account_id()}})["code"], "forbidden");
    EXPECT_EQ(send(c, new_account_id(), {message(1, "x")})["code"], "forbidden");
    EXPECT_EQ(send(c, outsider.account.id, {message(1, "x")})["code"], "forbidden");
}

TEST(SessionContacts, ListTeamsWithReadyDevices) {
    Harness h;
    Team t(h);
    json r = t.amina_device.client.call({{"type", "contacts"}});
    ASSERT_EQ(r["contacts"].size(), 2u) << r.dump();
    for (const auto& c : r["contacts"]) {
        EXPECT_EQ(c["role"], "caseworker");
        EXPECT_EQ(c["devices"], json::array({1}));
    }
    r = t.mara_device.client.call({{"type", "contacts"}});
    ASSERT_EQ(r["contacts"].size(), 2u) << r.dump();  // amina + jo (shares amina)
}

TEST(SessionMessages, SurvivorReachesHerCaseworkerWhoAcks) {
    Harness h;
    Team t(h);
    json r = send(t.amina_device.client, t.mara.account.id, {message(1, "hello")});
    ASSERT_EQ(r["type"], "ok") << r.dump();
    ASSERT_EQ(r["server_ids"].size(), 1u);
    std::int64_t server_id = r["server_ids"][0]["server_id"];
    EXPECT_EQ(r["server_ids"][0]["device_id"], 1);
    // The ok came after the commit: the row is in the file.
    EXPECT_EQ(h.store->mailbox_size(), 1);

    json d = t.mara_device.client.out->next_push();
    EXPECT_EQ(d["type"], "deliver");
    EXPECT_EQ(d["message"]["server_id"], server_id);
    EXPECT_EQ(d["message"]["kind"], "message");
    EXPECT_EQ(d["message"]["from"], t.amina.account.id);
    EXPECT_EQ(d["message"]["from_device"], 1);
    EXPECT_EQ(d["message"]["type"], 3);
    EXPECT_EQ(crypto::to_string(unb64(d["message"]["body"])), "hello");

    EXPECT_EQ(t.mara_device.client.call({{"type", "ack"}, {"server_id", server_id}})["type"], "ok");
    EXPECT_EQ(h.store->mailbox_size(), 0);
    EXPECT_EQ(t.mara_device.client.call({{"type", "ack"}, {"server_id", server_id}})["code"],
              "not_found");
    // Never delivered again after the ack, also not on a new connection.
    Client again = h.connect();
    ASSERT_EQ(h.auth_device(again, t.mara.account.id, 1, *t.mara_device.identity)["type"], "ok");
    EXPECT_TRUE(again.out->no_push_for(std::chrono::milliseconds(200)));
}

TEST(SessionMessages, StaleDeviceListGetsTheDiff) {
    Harness h;
    Team t(h);
    json r = send(t.amina_device.client, t.mara.account.id, {message(2, "x")});
    EXPECT_EQ(r["code"], "stale_devices") << r.dump();
    EXPECT_EQ(r["missing"], json::array({1}));
    EXPECT_EQ(r["extra"], json::array({2}));
    EXPECT_EQ(h.store->mailbox_size(), 0);
    // A second device of mara appears: the old list is missing it.
    h.now += 30000;
    Device second;
    t.login_caseworker(second, t.mara, 2);
    r = send(t.amina_device.client, t.mara.account.id, {message(1, "x")});
    EXPECT_EQ(r["code"], "stale_devices");
    EXPECT_EQ(r["missing"], json::array({2}));
    EXPECT_EQ(r["extra"], json::array());
    r = send(t.amina_device.client, t.mara.account.id, {message(1, "x"), message(2, "y", 2)});
    EXPECT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(t.mara_device.client.out->next_push()["message"]["body"], b64(crypto::to_bytes("x")));
    EXPECT_EQ(second.client.out->next_push()["message"]["body"], b64(crypto::to_bytes("y")));
}

TEST(SessionMessages, OfflineDeviceGetsQueuedMessagesInOrderOnLogin) {
    Harness h;
    Team t(h);
    t.mara_device.client.close();
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 100; ++i) {
        json r =
            send(t.amina_device.client, t.mara.account.id, {message(1, "m" + std::to_string(i))});
        ASSERT_EQ(r["type"], "ok");
        ids.push_back(r["server_ids"][0]["server_id"]);
    }
    Client c = h.connect();
    ASSERT_EQ(h.auth_device(c, t.mara.account.id, 1, *t.mara_device.identity)["type"], "ok");
    // At most 64 in flight until acks arrive.
    std::vector<std::int64_t> got;
    for (int i = 0; i < 64; ++i) got.push_back(c.out->next_push()["message"]["server_id"]);
    EXPECT_TRUE(c.out->no_push_for(std::chrono::milliseconds(200)));
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(c.call({{"type", "ack"}, {"server_id", got[i]}})["type"], "ok");
    }
    while (got.size() < 100) {
        json d = c.out->next_push();
        if (d.is_null()) break;
        got.push_back(d["message"]["server_id"]);
        EXPECT_EQ(c.call({{"type", "ack"}, {"server_id", got.back()}})["type"], "ok");
    }
    EXPECT_EQ(got, ids);
    EXPECT_EQ(h.store->mailbox_size(), 0);
}

TEST(SessionMessages, UnackedMessagesComeBackOnTheNextConnection) {
    Harness h;
    Team t(h);
    json r = send(t.amina_device.client, t.jo.account.id, {message(1, "again")});
    std::int64_t id = r["server_ids"][0]["server_id"];
    EXPECT_EQ(t.jo_device.client.out->next_push()["message"]["server_id"], id);
    t.jo_device.client.close();
    Client c = h.connect();
    ASSERT_EQ(h.auth_device(c, t.jo.account.id, 1, *t.jo_device.identity)["type"], "ok");
    EXPECT_EQ(c.out->next_push()["message"]["server_id"], id);
}

TEST(SessionMessages, UndeliveredMessagesSurviveARestart) {
    Harness h;
    std::string mara_id;
    std::vector<std::int64_t> ids;
    TestIdentity mara_identity_copy;
    {
        Team t(h);
        mara_id = t.mara.account.id;
        t.mara_device.client.close();
        for (int i = 0; i < 3; ++i) {
            ids.push_back(send(t.amina_device.client, mara_id,
                               {message(1, "kept")})["server_ids"][0]["server_id"]);
        }
        // Restart the store and gateway on the same file.
        h.restart();
        Client c = h.connect();
        ASSERT_EQ(h.auth_device(c, mara_id, 1, *t.mara_device.identity)["type"], "ok");
        for (auto id : ids) EXPECT_EQ(c.out->next_push()["message"]["server_id"], id);
    }
}

TEST(SessionMessages, ReceiptReachesTheSenderAfterTheAck) {
    Harness h;
    Team t(h);
    json r = send(t.mara_device.client, t.amina.account.id, {message(1, "are you ok?")}, true);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    std::int64_t id = r["server_ids"][0]["server_id"];
    json d = t.amina_device.client.out->next_push();
    EXPECT_TRUE(t.mara_device.client.out->no_push_for(std::chrono::milliseconds(100)));
    EXPECT_EQ(t.amina_device.client.call(
                  {{"type", "ack"}, {"server_id", d["message"]["server_id"]}})["type"],
              "ok");
    json receipt = t.mara_device.client.out->next_push();
    EXPECT_EQ(receipt["message"]["kind"], "receipt");
    EXPECT_EQ(receipt["message"]["ref"], id);
    EXPECT_EQ(receipt["message"]["from"], t.amina.account.id);
    EXPECT_EQ(receipt["message"]["from_device"], 1);
    EXPECT_EQ(t.mara_device.client.call(
                  {{"type", "ack"}, {"server_id", receipt["message"]["server_id"]}})["type"],
              "ok");
    EXPECT_EQ(h.store->mailbox_size(), 0);
}

TEST(SessionMessages, OnlyAnEdgeDeviceCanReportAMessageNotDeliveredAndTheReceiptSaysSo) {
    Harness h;
    Team t(h);
    // Her edge device (device 2, the gateway's SMS/web adapter), bound as the adapter does.
    Device edge;
    std::promise<CommitStatus> bound;
    h.store->bind_edge_device(t.amina.account.key, 2, edge.identity->public_key(), 99,
                              [&](CommitStatus status, bool) { bound.set_value(status); });
    ASSERT_EQ(bound.get_future().get(), CommitStatus::committed);
    edge.client = h.connect();
    ASSERT_EQ(h.auth_device(edge.client, t.amina.account.id, 2, *edge.identity)["type"], "ok");
    ASSERT_EQ(h.upload_keys(edge.client, *edge.identity, 3)["type"], "ok");

    json r = send(t.mara_device.client, t.amina.account.id,
                  {message(1, "are you ok?"), message(2, "are you ok?")}, true);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    std::int64_t to_app = r["server_ids"][0]["server_id"],
                 to_edge = r["server_ids"][1]["server_id"];
    const json failed_ack = {{"type", "ack"},
                             {"server_id", to_app},
                             {"status", "failed"},
                             {"reason", "sms_not_delivered"}};
    // Her own app (device 1) and a caseworker cannot claim "not delivered".
    (void)t.amina_device.client.out->next_push();
    EXPECT_EQ(t.amina_device.client.call(failed_ack)["code"], "forbidden");
    json cw_ack = failed_ack;
    cw_ack["server_id"] = to_edge;
    EXPECT_EQ(t.jo_device.client.call(cw_ack)["code"], "forbidden");
    EXPECT_TRUE(t.mara_device.client.out->no_push_for(std::chrono::milliseconds(100)));
    // Malformed: unknown status, missing or non-code reason.
    json bad = cw_ack;
    bad["status"] = "lost";
    EXPECT_EQ(edge.client.call(bad)["code"], "invalid_frame");
    bad["status"] = "failed";
    bad.erase("reason");
    EXPECT_NE(edge.client.call(bad)["message"].get<std::string>().find("'reason'"),
              std::string::npos);
    bad["reason"] = "<script>x</script>";
    EXPECT_EQ(edge.client.call(bad)["code"], "invalid_frame");
    bad["reason"] = std::string(41, 'a');
    EXPECT_EQ(edge.client.call(bad)["code"], "invalid_frame");
    // The edge device's failed ack: the entry is gone, the sender gets a failed receipt.
    (void)edge.client.out->next_push();
    EXPECT_EQ(edge.client.call(cw_ack)["type"], "ok");
    json receipt = t.mara_device.client.out->next_push();
    EXPECT_EQ(receipt["message"]["kind"], "receipt");
    EXPECT_EQ(receipt["message"]["ref"], to_edge);
    EXPECT_EQ(receipt["message"]["from_device"], 2);
    EXPECT_EQ(receipt["message"]["status"], "failed");
    EXPECT_EQ(receipt["message"]["reason"], "sms_not_delivered");
    EXPECT_EQ(edge.client.call(cw_ack)["code"], "not_found");  // replay
    // Stored as such: after a restart it is delivered again with the same status.
    h.restart();
    Client again = h.connect();
    ASSERT_EQ(h.auth_device(again, t.mara.account.id, t.mara_device.device_id,
                            *t.mara_device.identity)["type"],
              "ok");
    json later = again.out->next_push();
    EXPECT_EQ(later["message"]["ref"], to_edge);
    EXPECT_EQ(later["message"]["status"], "failed");
    EXPECT_EQ(later["message"]["reason"], "sms_not_delivered");
}

TEST(SessionMessages, AnotherDevicesMessageCannotBeAcked) {
    Harness h;
    Team t(h);
    json r = send(t.amina_device.client, t.mara.account.id, {message(1, "private")});
    std::int64_t id = r["server_ids"][0]["server_id"];
    EXPECT_EQ(t.jo_device.client.call({{"type", "ack"}, {"server_id", id}})["code"], "not_found");
    EXPECT_EQ(h.store->mailbox_size(), 1);
}

TEST(SessionMessages, ErrorsLeaveTheSessionUsableAndAnswersKeepRequestOrder) {
    Harness h;
    Team t(h);
    Client& c = t.amina_device.client;
    // Pipeline: send, malformed frame, ping, binary frame, send; answers come back in order.
    json s1 = {{"v", 1},
               {"id", 100},
               {"type", "send"},
               {"to", t.mara.account.id},
               {"messages", json::array({message(1, "a")})}};
    json s2 = s1;
    s2["id"] = 104;
    c.session->on_text(s1.dump());
    c.session->on_text("{broken");
    c.session->on_text(R"({"v":1,"id":102,"type":"ping"})");
    c.session->on_binary();
    c.session->on_text(s2.dump());
    std::vector<json> answers;
    for (int i = 0; i < 5; ++i) answers.push_back(c.out->next_response());
    EXPECT_EQ(answers[0]["id"], 100);
    EXPECT_EQ(answers[0]["type"], "ok");
    EXPECT_TRUE(answers[1]["id"].is_null());
    EXPECT_EQ(answers[1]["code"], "malformed_json");
    EXPECT_EQ(answers[2]["id"], 102);
    EXPECT_EQ(answers[3]["code"], "invalid_frame");
    EXPECT_EQ(answers[4]["id"], 104);
    EXPECT_EQ(answers[4]["type"], "ok");
}

TEST(SessionMessages, SendRateIsLimitedPerAccount) {
    Harness h([](StoreOptions&) {},
              [](GatewayOptions& o) {
                  o.send_burst = 3;
                  o.sends_per_second = 1;
              });
    Team t(h);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(send(t.amina_device.client, t.mara.account.id, {message(1, "x")})["type"], "ok");
    }
    json r = send(t.amina_device.client, t.mara.account.id, {message(1, "x")});
    EXPECT_EQ(r["code"], "rate_limited");
    EXPECT_EQ(r["retry_after_ms"], 1000);
    h.now += 1000;
    EXPECT_EQ(send(t.amina_device.client, t.mara.account.id, {message(1, "x")})["type"], "ok");
}

TEST(SessionMessages, ConcurrentSendsShareGroupCommits) {
    Harness h([](StoreOptions& o) { o.max_delay = std::chrono::milliseconds(5); });
    Team t(h);
    std::uint64_t commits_before = h.store->commit_count();
    constexpr int kPerClient = 40;
    auto burst = [&](Client& c, const std::string& to) {
        for (int i = 0; i < kPerClient; ++i) {
            json frame = {{"v", 1},
                          {"id", 1000 + i},
                          {"type", "send"},
                          {"to", to},
                          {"messages", json::array({message(1, "x")})}};
            c.session->on_text(frame.dump());
        }
        for (int i = 0; i < kPerClient; ++i) EXPECT_EQ(c.out->next_response()["type"], "ok");
    };
    std::thread a([&] { burst(t.mara_device.client, t.amina.account.id); });
    std::thread b([&] { burst(t.jo_device.client, t.amina.account.id); });
    a.join();
    b.join();
    std::uint64_t commits = h.store->commit_count() - commits_before;
    EXPECT_LT(commits, 2u * kPerClient / 2) << "sends were not batched";
    EXPECT_GT(h.metrics.commit_batch_size.max(), 1.0);
    EXPECT_EQ(h.store->mailbox_size(), 2 * kPerClient);
}

TEST(SessionMessages, ExpiredMessagesArePurgedAndCounted) {
    Harness h;
    Team t(h);
    t.mara_device.client.close();
    send(t.amina_device.client, t.mara.account.id, {message(1, "old")});
    send(t.amina_device.client, t.mara.account.id, {message(1, "old")});
    std::promise<std::int64_t> purged;
    auto future_cutoff = h.now.load() + 3600 * 1000;
    h.store->purge_expired(future_cutoff,
                           [&](CommitStatus, std::int64_t n) { purged.set_value(n); });
    EXPECT_EQ(purged.get_future().get(), 2);
    EXPECT_EQ(h.store->mailbox_size(), 0);
    EXPECT_EQ(h.metrics.messages_expired.load(), 2u);
    EXPECT_NE(h.metrics.render_prometheus().find("ariadne_messages_expired_total 2"),
              std::string::npos);
}

}  // namespace
}  // namespace ariadne::gateway::test
