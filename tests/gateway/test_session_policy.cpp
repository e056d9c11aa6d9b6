// What the Session does with the gateway's injected parts: a send policy that breaks its
// contract by throwing, and the clock when none is injected.
#include <stdexcept>

#include "harness.h"

namespace ariadne::gateway::test {
namespace {

/// Allows by assignment, then throws when asked about one message.
class ThrowingMessagePolicy final : public SendPolicy {
  public:
    explicit ThrowingMessagePolicy(const Store& store) : assignment_(store) {}
    SendDecision decide(const Account& sender, std::uint32_t device,
                        const Account& recipient) const override {
        return assignment_.decide(sender, device, recipient);
    }
    SendDecision decide_message(const Account&, std::uint32_t, const Account&) const override {
        throw std::runtime_error("policy database gone");
    }

  private:
    AssignmentPolicy assignment_;
};

/// Replaces the harness's gateway by one built with `policy` and, unless null, `clock`.
void rebuild_gateway(Harness& h, std::shared_ptr<const SendPolicy> policy,
                     const policies::Clock* clock) {
    h.gateway.reset();
    GatewayOptions options;
    options.recovery_params = h.params;
    options.clock = clock;
    h.gateway = std::make_unique<Gateway>(*h.store, h.key, h.metrics, options, std::move(policy));
}

TEST(SessionPolicy, APolicyThatThrowsOnAMessageSendsNothingAndTheSessionStaysUsable) {
    Harness h;
    rebuild_gateway(h, std::make_shared<ThrowingMessagePolicy>(*h.store), &h.clock);
    auto mara = h.add_caseworker("mara.k");
    auto amina = h.add_survivor({mara.account});
    Client c = h.connect();
    TestIdentity identity;
    ASSERT_EQ(h.auth_survivor(c, amina, identity)["type"], "ok");
    const auto before = h.store->mailbox_size();

    json r = c.call({{"type", "send"},
                     {"to", mara.account.id},
                     {"messages", json::array({{{"device_id", 1},
                                                {"type", 3},
                                                {"body", b64(crypto::to_bytes("hello"))}}})}});
    EXPECT_EQ(r["code"], "storage_unavailable") << r.dump();
    EXPECT_EQ(h.store->mailbox_size(), before);
    EXPECT_EQ(c.call({{"type", "ping"}})["type"], "ok");
}

TEST(GatewayClock, WithoutAnInjectedClockPingAnswersTheSystemTime) {
    Harness h;
    rebuild_gateway(h, nullptr, nullptr);
    Client c = h.connect();
    const auto before = policies::unix_ms(policies::now_utc());
    json r = c.call({{"type", "ping"}});
    const auto after = policies::unix_ms(policies::now_utc());
    ASSERT_EQ(r["type"], "ok");
    EXPECT_GE(r["server_time"].get<std::int64_t>(), before);
    EXPECT_LE(r["server_time"].get<std::int64_t>(), after);
}

TEST(GatewayClock, NowFollowsTheInjectedClock) {
    Harness h;
    EXPECT_EQ(h.gateway->now_ms(), h.now.load());
    h.now += 10 * 60 * 1000;
    EXPECT_EQ(h.gateway->now_ms(), h.now.load());
    EXPECT_EQ(policies::unix_ms(h.gateway->clock().now()), h.now.load());
}

}  // namespace
}  // namespace ariadne::gateway::test
