// Authentication through a Session: password + TOTP device registration, device and
// survivor logins, uniform failures, replay refusal and the growing delay.
#include "harness.h"

namespace ariadne::gateway::test {
namespace {

TEST(SessionAuth, PingAndRecoveryParamsNeedNoLogin) {
    Harness h;
    Client c = h.connect();
    json r = c.call({{"type", "ping"}});
    EXPECT_EQ(r["type"], "ok");
    EXPECT_EQ(r["server_time"], h.now.load());
    r = c.call({{"type", "recovery_params"}});
    EXPECT_EQ(r["params"]["alg"], "argon2id");
    EXPECT_EQ(r["params"]["version"], 19);
    EXPECT_EQ(r["params"]["m_kib"], 8192);
    EXPECT_EQ(unb64(r["params"]["salt"]), h.params.salt);
}

TEST(SessionAuth, UnauthenticatedFramesAreRefused) {
    Harness h;
    Client c = h.connect();
    for (json frame : {json{{"type", "keys_count"}}, json{{"type", "contacts"}},
                       json{{"type", "ack"}, {"server_id", 1}},
                       json{{"type", "keys_fetch"}, {"account", "a_AAAAAAAAAAAAAAAAAAAAAA"}}}) {
        json r = c.call(frame);
        EXPECT_EQ(r["code"], "not_authenticated") << frame.dump();
    }
    EXPECT_EQ(c.call({{"type", "ping"}})["type"], "ok");  // still usable
}

TEST(SessionAuth, CaseworkerRegistersADeviceWithPasswordAndTotp) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    TestIdentity id;
    Client c = h.connect();
    json r = h.register_device(c, cw, id);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(r["account"], cw.account.id);
    EXPECT_EQ(r["device_id"], 1);
    EXPECT_EQ(r["role"], "caseworker");
    EXPECT_EQ(c.call({{"type", "keys_count"}})["pre_key_count"], 0);
    // A second auth on the same connection is refused.
    EXPECT_EQ(h.register_device(c, cw, id)["code"], "already_authenticated");

    // Later logins use the device key only.
    Client d = h.connect();
    r = h.auth_device(d, cw.account.id, 1, id);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(r["device_id"], 1);
}

TEST(SessionAuth, EveryCredentialFailureLooksTheSame) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    TestIdentity id;
    std::vector<json> failures;

    auto attempt = [&](const std::string& username, const std::string& password, std::string totp) {
        Client c = h.connect();
        Bytes ch = h.challenge(c);
        json r = c.call({{"type", "register_device"},
                         {"username", username},
                         {"password", password},
                         {"totp", totp},
                         {"identity_key", b64(id.public_key())},
                         {"registration_id", 7},
                         {"signature", b64(id.sign_login(ch))}});
        h.now += 120000;  // let every delay pass before the next case
        return r;
    };
    failures.push_back(attempt("mara.k", "wrong password", h.totp_now(cw)));
    failures.push_back(attempt("mara.k", cw.password, h.totp_now(cw, 5)));  // wrong TOTP
    failures.push_back(attempt("nobody", cw.password, h.totp_now(cw)));     // unknown user
    failures.push_back(attempt("mara.k", cw.password, "12345a"));           // malformed TOTP
    for (const auto& r : failures) {
        EXPECT_EQ(r["type"], "error") << r.dump();
        EXPECT_EQ(r["code"], "auth_failed");
        EXPECT_EQ(r["message"], "The credentials are not valid.");
        EXPECT_GE(r["retry_after_ms"].get<std::int64_t>(), 500) << r.dump();
        EXPECT_EQ(r.size(), 6u) << r.dump();  // v, id, type, code, message, retry_after_ms
    }
    // Unknown device and bad signature for auth_device: same answer.
    Client c = h.connect();
    json r = h.auth_device(c, "a_AAAAAAAAAAAAAAAAAAAAAA", 1, id);
    EXPECT_EQ(r["code"], "auth_failed");
    EXPECT_EQ(r["message"], "The credentials are not valid.");
}

TEST(SessionAuth, ReplayedTotpStepIsRefused) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    TestIdentity first, second;
    Client a = h.connect();
    ASSERT_EQ(h.register_device(a, cw, first)["type"], "ok");
    std::string code = h.totp_now(cw);
    Client b = h.connect();
    json r = h.register_device(b, cw, second, code);
    EXPECT_EQ(r["code"], "auth_failed") << r.dump();
    // The next time step works.
    h.now += 30000 + 120000;
    Client c = h.connect();
    r = h.register_device(c, cw, second);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(r["device_id"], 2);
}

TEST(SessionAuth, DelayGrowsPerAccountAndEarlyAttemptsAreRateLimited) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    TestIdentity id;
    std::vector<std::int64_t> delays;
    for (int i = 0; i < 4; ++i) {
        Client c = h.connect();  // a fresh connection each time: the account key alone counts
        Bytes ch = h.challenge(c);
        json r = c.call({{"type", "register_device"},
                         {"username", "mara.k"},
                         {"password", "guess"},
                         {"totp", "000000"},
                         {"identity_key", b64(id.public_key())},
                         {"registration_id", 7},
                         {"signature", b64(id.sign_login(ch))}});
        ASSERT_EQ(r["code"], "auth_failed") << r.dump();
        delays.push_back(r["retry_after_ms"].get<std::int64_t>());
        // An attempt before the delay passed is refused without counting.
        Client early = h.connect();
        Bytes ch2 = h.challenge(early);
        json limited = early.call({{"type", "register_device"},
                                   {"username", "mara.k"},
                                   {"password", "guess"},
                                   {"totp", "000000"},
                                   {"identity_key", b64(id.public_key())},
                                   {"registration_id", 7},
                                   {"signature", b64(id.sign_login(ch2))}});
        EXPECT_EQ(limited["code"], "rate_limited") << limited.dump();
        EXPECT_GT(limited["retry_after_ms"].get<std::int64_t>(), 0);
        h.now += delays.back();
    }
    EXPECT_EQ(delays, (std::vector<std::int64_t>{500, 1000, 2000, 4000}));
    // A success resets the account's counter.
    Client ok = h.connect();
    ASSERT_EQ(h.register_device(ok, cw, id)["type"], "ok");
    Client again = h.connect();
    Bytes ch = h.challenge(again);
    json r = again.call({{"type", "register_device"},
                         {"username", "mara.k"},
                         {"password", "guess"},
                         {"totp", "000000"},
                         {"identity_key", b64(id.public_key())},
                         {"registration_id", 7},
                         {"signature", b64(id.sign_login(ch))}});
    EXPECT_EQ(r["retry_after_ms"], 500) << r.dump();
}

TEST(SessionAuth, DelayGrowsPerConnectionAcrossAccounts) {
    Harness h;
    TestIdentity id;
    Client c = h.connect();
    std::vector<std::int64_t> delays;
    for (int i = 0; i < 3; ++i) {
        json r = h.auth_device(c, new_account_id(), 1, id);  // a different account each time
        ASSERT_EQ(r["code"], "auth_failed");
        delays.push_back(r["retry_after_ms"].get<std::int64_t>());
        h.now += delays.back();
    }
    EXPECT_EQ(delays, (std::vector<std::int64_t>{500, 1000, 2000}));
}

TEST(SessionAuth, ChallengeIsSingleUseAndExpires) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    TestIdentity id;
    Client setup = h.connect();
    ASSERT_EQ(h.register_device(setup, cw, id)["type"], "ok");

    Client c = h.connect();
    Bytes ch = h.challenge(c);
    json frame = {{"type", "auth_device"},
                  {"account", cw.account.id},
                  {"device_id", 1},
                  {"signature", b64(id.sign_login(ch))}};
    // Without asking for a challenge, the signature of an old one does not log in (replay).
    Client other = h.connect();
    EXPECT_EQ(other.call(frame)["code"], "auth_failed");
    // On the connection that asked for it, a consumed challenge cannot be reused.
    Bytes ch2 = h.challenge(c);
    (void)ch2;
    h.now += 500;
    EXPECT_EQ(c.call(frame)["code"], "auth_failed");  // signature over ch, not ch2
    h.now += 1000;
    EXPECT_EQ(c.call(frame)["code"], "auth_failed");  // no challenge outstanding
    // An expired challenge fails even with a correct signature.
    h.now += 5000;
    Client late = h.connect();
    Bytes ch3 = h.challenge(late);
    h.now += 61000;
    json r = late.call({{"type", "auth_device"},
                        {"account", cw.account.id},
                        {"device_id", 1},
                        {"signature", b64(id.sign_login(ch3))}});
    EXPECT_EQ(r["code"], "auth_failed");
}

TEST(SessionAuth, SurvivorLogsInWithRecoveryDerivedKeys) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    auto s = h.add_survivor({cw.account});
    TestIdentity identity;
    Client c = h.connect();
    json r = h.auth_survivor(c, s, identity);
    ASSERT_EQ(r["type"], "ok") << r.dump();
    EXPECT_EQ(r["account"], s.account.id);
    EXPECT_EQ(r["device_id"], 1);
    EXPECT_EQ(r["role"], "survivor");
    // A new phone with the same code (same identity) logs in again.
    Client again = h.connect();
    EXPECT_EQ(h.auth_survivor(again, s, identity)["type"], "ok");
    // A different identity with her locator is refused.
    TestIdentity other;
    Client wrong = h.connect();
    EXPECT_EQ(h.auth_survivor(wrong, s, other)["code"], "auth_failed");
}

TEST(SessionAuth, UnknownLocatorFailsLikeABadSignature) {
    Harness h;
    auto cw = h.add_caseworker("mara.k");
    auto s = h.add_survivor({cw.account});
    TestIdentity identity;
    Client c = h.connect();
    Bytes ch = h.challenge(c);
    json r = c.call({{"type", "auth_survivor"},
                     {"locator", b64(crypto::random_bytes(32))},
                     {"signature", b64(crypto::sign_login_challenge(s.secrets.auth_key, ch))},
                     {"identity_key", b64(identity.public_key())},
                     {"registration_id", 1}});
    EXPECT_EQ(r["code"], "auth_failed");
    Client d = h.connect();
    Bytes ch2 = h.challenge(d);
    r = d.call({{"type", "auth_survivor"},
                {"locator", b64(s.secrets.locator)},
                {"signature", b64(identity.sign_login(ch2))},  // not her auth key
                {"identity_key", b64(identity.public_key())},
                {"registration_id", 1}});
    EXPECT_EQ(r["code"], "auth_failed");
    EXPECT_EQ(r["message"], "The credentials are not valid.");
}

}  // namespace
}  // namespace ariadne::gateway::test
