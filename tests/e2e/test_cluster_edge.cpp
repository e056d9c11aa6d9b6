// Her edge device (the survivor page /notes, SMS) shared by two gateway nodes on one
// PostgreSQL database (run only in the suite's PostgreSQL run, as pg.ClusterEdge.*): she
// writes on either node's page and by SMS to either node, and every text decrypts once at the
// console (one Signal ratchet, never forked); her page on either node shows one conversation;
// when the node holding her edge device is killed, the other takes her replies; her texts
// are never in clear in the database's files, the nodes' data directories or their logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "accounts.h"
#include "harness.h"
#include "notes_page.h"

namespace ariadne::e2e {
namespace {

using client::Messenger;
using client::ReceivedMessage;
namespace fs = std::filesystem;

const std::string kToken = "cluster_edge_tok_0123456789abcdefghijk";
const std::string kNumber = "+393331234568";

std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string form_text(std::string text) {
    for (char& c : text) {
        if (c == ' ') c = '+';
    }
    return "a=send&text=" + text;
}

class ClusterEdge : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!postgresql_backend()) GTEST_SKIP() << "needs the PostgreSQL run (pg.ClusterEdge.*)";
        sms_config_ = tmp_.path() / "sms.json";
        // A short poll, so a lapsed receivership is noticed within a second.
        const std::vector<std::string> args = {"--cluster-poll-ms", "200", "--sms-config",
                                               sms_config_.string()};
        a_ = std::make_unique<Gateway>(tmp_.path() / "node-a", args);
        cw_ = a_->add_caseworker("mara.k");
        // SMS from her number come in on either node (nothing is sent to Kannel here).
        std::ofstream(sms_config_) << Json({{"kannel_port", 9},
                                            {"kannel_username", "ariadne"},
                                            {"kannel_password", "sendsms_pw_123"},
                                            {"sender", "7000"},
                                            {"inbound_token", kToken},
                                            {"callback_base", "https://127.0.0.1:9"},
                                            {"on_duty", {cw_.account}}})
                                          .dump();
        her_ = a_->enrol_survivor(cw_.account, false);
        a_->admin({"consent-record", "--case", her_.case_code, "--channel", "web", "--purpose",
                   "replies", "--by", cw_.account});
        a_->start();
        const fs::path b = tmp_.path() / "node-b";
        fs::create_directories(b);
        fs::permissions(b, fs::perms::owner_all);
        fs::copy_file(a_->data_dir() / "server.key", b / "server.key");
        fs::copy_file(a_->data_dir() / "database", b / "database");
        b_ = std::make_unique<Gateway>(b, args);
        b_->start();
    }
    void TearDown() override {
        if (!HasFailure()) return;
        if (a_) std::cerr << "node A log:\n" << a_->log();
        if (b_) std::cerr << "node B log:\n" << b_->log();
    }

    fs::path dir(const std::string& name) { return tmp_.path() / name; }

    /// Her page on `node`, signed in.
    static std::unique_ptr<PageVisit> page_on(const Gateway& node, const Gateway::Survivor& her) {
        auto page = std::make_unique<PageVisit>(node.port(), "127.0.0.1");
        page->post(login_form(her.recovery_code));
        EXPECT_TRUE(page->signed_in()) << page->last_body;
        return page;
    }

    /// Receives texts (not receipts or notices) until `n` arrived or `wait` passed.
    static std::vector<ReceivedMessage> texts(Messenger& m, std::size_t n,
                                              std::chrono::seconds wait = 30s) {
        std::vector<ReceivedMessage> out;
        auto deadline = std::chrono::steady_clock::now() + wait;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto msg = m.receive(300ms);
            if (msg && !msg->is_receipt && !msg->is_notice) out.push_back(*msg);
        }
        return out;
    }

    /// Her reply to the edge device: its mailbox entry.
    std::int64_t reply(Messenger& console, const std::string& text) {
        auto sent = console.send_text(her_.account, text, true);
        for (auto [device, id] : sent.server_ids) {
            if (device == 2) return id;
        }
        ADD_FAILURE() << "her edge device was not among the recipients";
        return 0;
    }

    /// Her SMS, posted to `node`'s /sms/inbound as Kannel's smsbox does.
    void sms_to(const Gateway& node, const std::string& text) {
        auto r = run_process(
            {"/usr/bin/curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
             "-u", "kannel:" + kToken, "-H", "X-Kannel-From: " + kNumber, "-H",
             "Content-Type: text/plain; charset=UTF-8", "--data-binary", "@-",
             "https://127.0.0.1:" + std::to_string(node.port()) + "/sms/inbound"},
            text);
        ASSERT_EQ(r.out, "202") << r.err;
    }

    TempDir tmp_;
    fs::path sms_config_;
    std::unique_ptr<Gateway> a_, b_;
    Gateway::Caseworker cw_;
    Gateway::Survivor her_;
};

TEST_F(ClusterEdge, HerPageOnEitherNodeShowsOneConversationAndEveryTextDecryptsAtTheConsole) {
    auto console = register_console(*b_, cw_, dir("console"));
    auto on_a = page_on(*a_, her_);
    on_a->post(form_text("canary page7f3a first from A"));
    auto first = texts(*console, 1);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_FALSE(first[0].decrypt_error) << *first[0].decrypt_error;
    EXPECT_EQ(first[0].plaintext, "canary page7f3a first from A");

    const std::int64_t ref = reply(*console, "canary reply2b9c we read you");
    auto kept = receipt_for(*console, ref, 15s);
    ASSERT_TRUE(kept) << "the reply was not kept for her page";
    EXPECT_EQ(kept->receipt_status, "kept");

    // On node B's page: the same conversation, then her next text from there.
    auto on_b = page_on(*b_, her_);
    EXPECT_NE(on_b->last_body.find("canary page7f3a first from A"), std::string::npos)
        << on_b->last_body;
    EXPECT_NE(on_b->last_body.find("canary reply2b9c we read you"), std::string::npos)
        << on_b->last_body;
    on_b->post(form_text("canary page7f3a second from B"));
    auto second = texts(*console, 1);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_FALSE(second[0].decrypt_error) << *second[0].decrypt_error;
    EXPECT_EQ(second[0].plaintext, "canary page7f3a second from B");

    // And by SMS to node B (after the page on A): the same ratchet again.
    a_->admin({"consent-record", "--case", her_.case_code, "--channel", "sms", "--purpose",
               "replies", "--by", cw_.account, "--address-stdin"},
              kNumber + "\n");
    sms_to(*b_, "canary sms5d1e by text to B");
    sms_to(*a_, "canary sms5d1e by text to A");
    auto sms = texts(*console, 2);
    ASSERT_EQ(sms.size(), 2u);
    std::multiset<std::string> got;
    for (const auto& m : sms) {
        EXPECT_FALSE(m.decrypt_error) << *m.decrypt_error;
        got.insert(m.plaintext);
    }
    EXPECT_EQ(got, (std::multiset<std::string>{"canary sms5d1e by text to A",
                                               "canary sms5d1e by text to B"}));
    console.reset();

    // Never in clear: the PostgreSQL cluster's files (tables, WAL), the nodes' data
    // directories and their logs.
    ASSERT_EQ(a_->stop(), 0);
    ASSERT_EQ(b_->stop(), 0);
    std::vector<std::pair<std::string, std::string>> places = {{"node A log", a_->log()},
                                                               {"node B log", b_->log()}};
    std::vector<fs::path> roots = {a_->data_dir(), b_->data_dir(),
                                   fs::path(std::getenv("ARIADNE_TEST_PG_DIR"))};
    for (const auto& root : roots) {
        std::string all;
        for (const auto& entry : fs::recursive_directory_iterator(root)) {
            if (entry.is_regular_file()) all += file_bytes(entry.path());
        }
        places.emplace_back(root.string(), std::move(all));
    }
    ASSERT_GT(places.back().second.size(), 1000000u) << "the cluster's files were not read";
    for (const auto& [where, bytes] : places) {
        for (const std::string canary : {"page7f3a", "reply2b9c", "sms5d1e"}) {
            EXPECT_EQ(bytes.find(canary), std::string::npos) << canary << " found in " << where;
        }
    }
}

TEST_F(ClusterEdge, TextsAlternatingAndConcurrentOnBothNodesEachDecryptOnce) {
    auto console = register_console(*a_, cw_, dir("console"));
    auto on_a = page_on(*a_, her_);
    auto on_b = page_on(*b_, her_);
    std::multiset<std::string> sent;
    for (int i = 0; i < 6; ++i) {
        const std::string text = "alternating " + std::to_string(i);
        (i % 2 == 0 ? on_a : on_b)->post(form_text(text));
        sent.insert(text);
    }
    // Both nodes at once.
    auto writer = [](PageVisit* page, const std::string& from) {
        for (int i = 0; i < 4; ++i) page->post(form_text("at once " + from + std::to_string(i)));
    };
    auto from_a = std::async(std::launch::async, writer, on_a.get(), "A");
    auto from_b = std::async(std::launch::async, writer, on_b.get(), "B");
    from_a.get();
    from_b.get();
    for (int i = 0; i < 4; ++i) {
        sent.insert("at once A" + std::to_string(i));
        sent.insert("at once B" + std::to_string(i));
    }

    auto got = texts(*console, sent.size());
    std::multiset<std::string> plain;
    for (const auto& m : got) {
        EXPECT_FALSE(m.decrypt_error) << *m.decrypt_error;
        plain.insert(m.plaintext);
    }
    EXPECT_EQ(plain, sent);
    // Nothing more comes (no text twice).
    EXPECT_TRUE(texts(*console, 1, 2s).empty());
    // Both pages show all fourteen.
    on_a->get();
    for (const auto& text : sent) {
        EXPECT_NE(on_a->last_body.find(text), std::string::npos) << text;
    }
}

TEST_F(ClusterEdge, WhenTheNodeHoldingHerEdgeDeviceIsKilledHerRepliesReachHerPageOnTheOther) {
    auto console = register_console(*b_, cw_, dir("console"));
    auto on_a = page_on(*a_, her_);
    on_a->post(form_text("are you there"));
    ASSERT_EQ(texts(*console, 1).size(), 1u);
    const std::int64_t before = reply(*console, "yes, here");
    auto kept = receipt_for(*console, before, 15s);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->receipt_status, "kept");

    // Node A holds her edge device; it dies. Node B takes over its replies by itself.
    ASSERT_EQ(a_->stop(SIGKILL), 128 + SIGKILL);
    const std::int64_t after = reply(*console, "reply after the crash");
    auto taken = receipt_for(*console, after, 20s);
    ASSERT_TRUE(taken) << "no node took her reply after node A died";
    EXPECT_EQ(taken->receipt_status, "kept");
    EXPECT_TRUE(taken->failure.empty()) << taken->failure;

    auto on_b = page_on(*b_, her_);
    EXPECT_NE(on_b->last_body.find("reply after the crash"), std::string::npos) << on_b->last_body;
    auto read = receipt_for(*console, after, 15s);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->receipt_status, "read");
    // Her next text from node B still decrypts (the ratchet went on from the stored state).
    on_b->post(form_text("thank you"));
    auto next = texts(*console, 1);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_FALSE(next[0].decrypt_error) << *next[0].decrypt_error;
    EXPECT_EQ(next[0].plaintext, "thank you");
}

}  // namespace
}  // namespace ariadne::e2e
