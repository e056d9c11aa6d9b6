// CaseLinks on a real policy database: survivor accounts <-> cases, her last inbound channel,
// caseworkers' initials, new-device notice preferences and sealed handover notes.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ariadne/policies/error.h"
#include "ariadne/storage/case_links.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_db.h"

namespace ariadne::storage {
namespace {

using policies::CaseCode;

class CaseLinksTest : public PolicyDbTest {};

TEST_F(CaseLinksTest, AnAccountFindsItsCaseAndACaseFindsOnlyHerOwnAccount) {
    const CaseCode k7q("K7Q-2F9"), m3x("M3X-8HT");
    {
        CaseLinks links(store());  // a repository never outlives its store
        links.link("acct-her", k7q, false);
        links.link("acct-duress", k7q, true);
        links.link("acct-other", m3x, false);
    }
    reopen();
    CaseLinks again(store());
    auto her = again.find("acct-her");
    ASSERT_TRUE(her);
    EXPECT_EQ(her->case_code, k7q);
    EXPECT_FALSE(her->duress_account);
    auto duress = again.find("acct-duress");
    ASSERT_TRUE(duress);
    EXPECT_EQ(duress->case_code, k7q);
    EXPECT_TRUE(duress->duress_account);
    EXPECT_FALSE(again.find("acct-nobody"));
    // Her duress login is never the account a case's messages go to.
    EXPECT_EQ(again.account_of(k7q), "acct-her");
    EXPECT_EQ(again.account_of(m3x), "acct-other");
    EXPECT_FALSE(again.account_of(CaseCode("ZZZ-222")));
}

TEST_F(CaseLinksTest, ACaseWithOnlyADuressLoginHasNoAccount) {
    CaseLinks links(store());
    links.link("acct-duress", CaseCode("K7Q-2F9"), true);
    EXPECT_FALSE(links.account_of(CaseCode("K7Q-2F9")));
}

TEST_F(CaseLinksTest, LinkingAnAccountTwiceIsAConstraintErrorAndKeepsTheFirstLink) {
    CaseLinks links(store());
    links.link("acct-her", CaseCode("K7Q-2F9"), false);
    try {
        links.link("acct-her", CaseCode("M3X-8HT"), false);
        FAIL() << "a second link must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::constraint);
    }
    EXPECT_EQ(links.find("acct-her")->case_code, CaseCode("K7Q-2F9"));
}

TEST_F(CaseLinksTest, ADatabaseThatLostItsTableGivesAStorageErrorNotAnAnswer) {
    outside().exec("DROP TABLE gateway_survivor_cases");
    CaseLinks links(store());
    EXPECT_THROW(links.find("acct-her"), Error);
    EXPECT_THROW(links.link("acct-her", CaseCode("K7Q-2F9"), false), Error);
}

TEST_F(CaseLinksTest, TheLastInboundChannelIsReplacedAndAnUnknownKindReadsAsNone) {
    {
        CaseLinks links(store());
        EXPECT_FALSE(links.last_inbound_channel("acct-her"));
        links.set_last_inbound_channel("acct-her", policies::ChannelKind::web);
        links.set_last_inbound_channel("acct-her", policies::ChannelKind::sms);
        links.set_last_inbound_channel("acct-two", policies::ChannelKind::app);
    }
    reopen();
    CaseLinks again(store());
    EXPECT_EQ(again.last_inbound_channel("acct-her"), policies::ChannelKind::sms);
    EXPECT_EQ(again.last_inbound_channel("acct-two"), policies::ChannelKind::app);
    EXPECT_EQ(count("SELECT count(*) FROM gateway_last_inbound_channel"), 2);
    outside().exec(
        "UPDATE gateway_last_inbound_channel SET kind = 'pigeon' WHERE account = 'acct-two'");
    EXPECT_FALSE(again.last_inbound_channel("acct-two"));
}

TEST_F(CaseLinksTest, CaseworkerInitialsAreReplacedPerAccount) {
    CaseLinks links(store());
    EXPECT_FALSE(links.caseworker_initials("cw-1"));
    links.set_caseworker_initials("cw-1", policies::Initials("AB"));
    links.set_caseworker_initials("cw-2", policies::Initials("CD"));
    links.set_caseworker_initials("cw-1", policies::Initials("EF"));
    EXPECT_EQ(links.caseworker_initials("cw-1"), "EF");
    EXPECT_EQ(links.caseworker_initials("cw-2"), "CD");
}

TEST_F(CaseLinksTest, TheNewDeviceNoticeIsOffUntilSetAndPerCase) {
    CaseLinks links(store());
    const CaseCode k7q("K7Q-2F9"), m3x("M3X-8HT");
    EXPECT_FALSE(links.new_device_notice(k7q));
    links.set_new_device_notice(k7q, true);
    EXPECT_TRUE(links.new_device_notice(k7q));
    EXPECT_FALSE(links.new_device_notice(m3x));
    links.set_new_device_notice(k7q, false);
    EXPECT_FALSE(links.new_device_notice(k7q));
    EXPECT_EQ(count("SELECT count(*) FROM gateway_new_device_notices"), 1);
}

TEST_F(CaseLinksTest, TheHandoverNoteIsStoredAsGivenWithItsTimeAndReplaced) {
    const CaseCode k7q("K7Q-2F9");
    const crypto::Bytes first = {1, 2, 3}, second = {9, 0, 8, 7};
    {
        CaseLinks links(store());
        EXPECT_FALSE(links.handover_note(k7q));
        links.set_handover_note(k7q, first, at_us(1000));
        EXPECT_EQ(links.handover_note(k7q), first);
        links.set_handover_note(k7q, second, at_us(2000));
    }
    reopen();
    EXPECT_EQ(CaseLinks(store()).handover_note(k7q), second);
    EXPECT_FALSE(CaseLinks(store()).handover_note(CaseCode("M3X-8HT")));
    EXPECT_EQ(count("SELECT set_at_us FROM gateway_handover_notes"), 2000);
}

TEST_F(CaseLinksTest, AnUncommittedSharedTransactionTakesTheLinkAndTheAuditEntryBack) {
    CaseLinks links(store());
    const auto audited = count("SELECT count(*) FROM policies_audit");
    {
        SharedTransaction tx(store());
        links.set_new_device_notice(CaseCode("K7Q-2F9"), true);
        store().append_audit("admin-1", "survivor.new_device_notice", "K7Q-2F9", "on", "",
                             at_us(5));
    }
    EXPECT_FALSE(links.new_device_notice(CaseCode("K7Q-2F9")));
    EXPECT_EQ(count("SELECT count(*) FROM policies_audit"), audited);
    {
        SharedTransaction tx(store());
        links.set_new_device_notice(CaseCode("K7Q-2F9"), true);
        store().append_audit("admin-1", "survivor.new_device_notice", "K7Q-2F9", "on", "",
                             at_us(5));
        tx.commit();
    }
    EXPECT_TRUE(links.new_device_notice(CaseCode("K7Q-2F9")));
    EXPECT_EQ(count("SELECT count(*) FROM policies_audit"), audited + 1);
}

TEST_F(CaseLinksTest, OneLongLivedInstanceServesManyThreads) {
    CaseLinks links(store());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&links, t] {
            for (int i = 0; i < 50; ++i) {
                const std::string account = "acct-" + std::to_string(t) + "-" + std::to_string(i);
                links.link(account, CaseCode("K7Q-2F9"), true);
                auto found = links.find(account);
                ASSERT_TRUE(found);
                EXPECT_TRUE(found->duress_account);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(count("SELECT count(*) FROM gateway_survivor_cases"), 200);
}

}  // namespace
}  // namespace ariadne::storage
