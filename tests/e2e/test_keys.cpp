// The key directory through the real server: one-time pre-keys are handed out once even
// under concurrent fetches, the last-resort key takes over when they run out, uploads are
// verified, and the client library keeps its supply topped up.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "accounts.h"
#include "harness.h"

namespace ariadne::e2e {
namespace {

constexpr std::uint32_t kLastResort = 16777215;

class Keys : public ::testing::Test {
  protected:
    void SetUp() override {
        gateway_ = std::make_unique<Gateway>(tmp_.path() / "data");
        cw_ = gateway_->add_caseworker("mara.k");
        alice_ = gateway_->enrol_survivor(cw_.account);
        bea_ = gateway_->enrol_survivor(cw_.account);
        gateway_->start();
    }
    void TearDown() override {
        if (HasFailure() && gateway_) std::cerr << "server log:\n" << gateway_->log();
    }

    /// A raw caseworker device that uploaded `count` one-time pre-keys.
    std::uint32_t raw_device_with_keys(std::size_t count) {
        device_conn_ = gateway_->connect();
        auto device = make_raw_device(tmp_.path() / "device");
        Json reg = register_raw(*device_conn_, cw_, device, totp_for(cw_));
        EXPECT_EQ(reg["type"], "ok") << reg.dump();
        auto id = reg["device_id"].get<std::uint32_t>();
        Json up = device_conn_->request(keys_upload_frame(tmp_.path() / "device", id, count));
        EXPECT_EQ(up["type"], "ok") << up.dump();
        EXPECT_EQ(up["pre_key_count"], count) << up.dump();
        return id;
    }

    std::unique_ptr<client::Connection> survivor_conn(const Gateway::Survivor& s,
                                                      const std::string& name) {
        auto conn = gateway_->connect();
        auto login = derive_survivor_login(*conn, s.recovery_code, tmp_.path() / name);
        Json ok = auth_survivor_raw(*conn, login);
        EXPECT_EQ(ok["type"], "ok") << ok.dump();
        return conn;
    }

    TempDir tmp_;
    std::unique_ptr<Gateway> gateway_;
    Gateway::Caseworker cw_;
    Gateway::Survivor alice_, bea_;
    std::unique_ptr<client::Connection> device_conn_;
};

TEST_F(Keys, EachOneTimePreKeyIsHandedOutOnceUnderConcurrentFetchesThenTheLastResortKey) {
    const std::size_t uploaded = 40;
    std::uint32_t device = raw_device_with_keys(uploaded);
    auto a = survivor_conn(alice_, "alice");
    auto b = survivor_conn(bea_, "bea");

    // Both survivors pipeline 25 fetches each, interleaved: 50 fetches for 40 keys.
    std::vector<std::pair<client::Connection*, std::uint64_t>> pending;
    for (int i = 0; i < 25; ++i) {
        for (client::Connection* c : {a.get(), b.get()}) {
            Json f = {{"type", "keys_fetch"}, {"account", cw_.account}};
            pending.emplace_back(c, c->send_request(f));
        }
    }
    std::map<std::uint32_t, int> handed_out;
    int last_resort = 0;
    for (auto& [conn, id] : pending) {
        Json r = conn->await_response(id);
        ASSERT_EQ(r["type"], "ok") << r.dump();
        ASSERT_EQ(r["bundles"].size(), 1u) << r.dump();
        const Json& bundle = r["bundles"][0];
        EXPECT_EQ(bundle["device_id"], device);
        auto key_id = bundle["pre_key"]["id"].get<std::uint32_t>();
        if (key_id == kLastResort) {
            ++last_resort;
        } else {
            ++handed_out[key_id];
        }
    }
    EXPECT_EQ(handed_out.size(), uploaded);
    for (auto& [key_id, times] : handed_out) EXPECT_EQ(times, 1) << "pre-key " << key_id;
    EXPECT_EQ(last_resort, 10);
    EXPECT_EQ(device_conn_->call({{"type", "keys_count"}})["pre_key_count"], 0);
}

TEST_F(Keys, AnUploadWithABadSignedPreKeySignatureIsRefused) {
    device_conn_ = gateway_->connect();
    auto device = make_raw_device(tmp_.path() / "device");
    Json reg = register_raw(*device_conn_, cw_, device, totp_for(cw_));
    ASSERT_EQ(reg["type"], "ok");
    Json up = keys_upload_frame(tmp_.path() / "device", reg["device_id"], 5);
    std::string sig = up["signed_pre_key"]["signature"];
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    up["signed_pre_key"]["signature"] = sig;
    Json r = device_conn_->request(up);
    EXPECT_EQ(r["code"], "invalid_keys") << r.dump();
    EXPECT_EQ(device_conn_->call({{"type", "keys_count"}})["pre_key_count"], 0);

    Json bad_id = keys_upload_frame(tmp_.path() / "device", reg["device_id"], 1);
    bad_id["pre_keys"][0]["id"] = 0;
    EXPECT_EQ(device_conn_->request(bad_id)["type"], "error");
}

TEST_F(Keys, ADeviceWithoutKeysCannotBeFetchedButTheOthersCan) {
    std::uint32_t with_keys = raw_device_with_keys(3);
    auto bare_conn = gateway_->connect();
    auto bare = make_raw_device(tmp_.path() / "bare");
    ASSERT_EQ(register_raw(*bare_conn, cw_, bare, totp_for(cw_, 1))["type"], "ok");
    auto a = survivor_conn(alice_, "alice");
    Json r = a->call({{"type", "keys_fetch"}, {"account", cw_.account}});
    ASSERT_EQ(r["bundles"].size(), 1u) << r.dump();
    EXPECT_EQ(r["bundles"][0]["device_id"], with_keys);
}

TEST_F(Keys, TheClientLibraryRefillsItsPreKeysWhenTheyRunLow) {
    auto console = register_console(*gateway_, cw_, tmp_.path() / "console");
    auto& conn = console->connection();
    EXPECT_EQ(conn.call({{"type", "keys_count"}})["pre_key_count"], 100);
    auto a = survivor_conn(alice_, "alice");
    for (int i = 0; i < 85; ++i) a->call({{"type", "keys_fetch"}, {"account", cw_.account}});
    EXPECT_EQ(conn.call({{"type", "keys_count"}})["pre_key_count"], 15);
    console->top_up_pre_keys();
    EXPECT_EQ(conn.call({{"type", "keys_count"}})["pre_key_count"], 115);
}

TEST_F(Keys, ContactsListTheTeamWithCurrentDevices) {
    auto console = register_console(*gateway_, cw_, tmp_.path() / "console");
    auto a = survivor_conn(alice_, "alice");
    Json r = a->call({{"type", "contacts"}});
    ASSERT_EQ(r["contacts"].size(), 1u) << r.dump();
    EXPECT_EQ(r["contacts"][0]["account"], cw_.account);
    EXPECT_EQ(r["contacts"][0]["role"], "caseworker");
    EXPECT_EQ(r["contacts"][0]["devices"], Json::array({console->device_id()}));
}

}  // namespace
}  // namespace ariadne::e2e
