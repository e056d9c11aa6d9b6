// AddressBook on a real policy database: sealed SMS numbers under their references and the
// links of references to cases.
#include <gtest/gtest.h>

#include "ariadne/storage/address_book.h"
#include "policy_db.h"

namespace ariadne::storage {
namespace {

using policies::CaseCode;

class AddressBookTest : public PolicyDbTest {};

TEST_F(AddressBookTest, ALinkedNumberIsFoundByItsReferenceWithItsCase) {
    AddressBook(store()).link_number({"k:one", {1, 1, 1}}, CaseCode("K7Q-2F9"), false);
    reopen();
    auto link = AddressBook(store()).find_link("k:one");
    ASSERT_TRUE(link);
    EXPECT_EQ(link->case_code, CaseCode("K7Q-2F9"));
    EXPECT_FALSE(link->verified);
    EXPECT_FALSE(AddressBook(store()).find_link("k:two"));
}

TEST_F(AddressBookTest, OnlyAVerifiedNumberIsHandedOutAndOnlyForItsOwnCase) {
    AddressBook book(store());
    const CaseCode k7q("K7Q-2F9"), m3x("M3X-8HT");
    book.link_number({"k:unverified", {1}}, k7q, false);
    EXPECT_FALSE(book.verified_number(k7q));
    book.link_number({"k:verified", {2, 2}}, k7q, true);
    book.link_number({"k:hers", {3}}, m3x, true);
    auto number = book.verified_number(k7q);
    ASSERT_TRUE(number);
    EXPECT_EQ(number->address_ref, "k:verified");
    EXPECT_EQ(number->sealed, (crypto::Bytes{2, 2}));
    EXPECT_EQ(book.verified_number(m3x)->address_ref, "k:hers");
}

TEST_F(AddressBookTest, AThreadIsVerifiedWhenAnyOfItsNumbersIsAndIsNoneWithoutNumbers) {
    AddressBook book(store());
    const CaseCode k7q("K7Q-2F9");
    EXPECT_EQ(book.thread_verified(k7q), std::nullopt);
    book.link_number({"k:a", {1}}, k7q, false);
    EXPECT_EQ(book.thread_verified(k7q), false);
    book.link_number({"k:b", {2}}, k7q, true);
    EXPECT_EQ(book.thread_verified(k7q), true);
    EXPECT_EQ(book.thread_verified(CaseCode("M3X-8HT")), std::nullopt);
}

TEST_F(AddressBookTest, RelinkingANumberMovesItToTheNewCaseAndReplacesItsSealedCopy) {
    AddressBook book(store());
    const CaseCode unverified("K7Q-2F9"), hers("M3X-8HT");
    book.link_number({"k:one", {1}}, unverified, false);
    book.link_number({"k:one", {7, 7}}, hers, true);
    EXPECT_EQ(book.thread_verified(unverified), std::nullopt);
    EXPECT_EQ(book.find_link("k:one")->case_code, hers);
    EXPECT_EQ(book.verified_number(hers)->sealed, (crypto::Bytes{7, 7}));
    EXPECT_EQ(count("SELECT count(*) FROM gateway_sealed_addresses"), 1);
}

TEST_F(AddressBookTest, AKeptAddressIsNotLinkedAndNeverReplacesAStoredOne) {
    AddressBook book(store());
    book.keep_address({"k:consent", {4}});
    book.keep_address({"k:consent", {5}});
    EXPECT_FALSE(book.find_link("k:consent"));
    EXPECT_EQ(count("SELECT count(*) FROM gateway_sealed_addresses"), 1);
    EXPECT_EQ(count("SELECT hex(sealed) = '04' FROM gateway_sealed_addresses"), 1);
    // Linking it later seals it anew.
    book.link_number({"k:consent", {6}}, CaseCode("K7Q-2F9"), true);
    EXPECT_EQ(book.verified_number(CaseCode("K7Q-2F9"))->sealed, (crypto::Bytes{6}));
}

TEST_F(AddressBookTest, ALinkThatCannotBeWrittenLeavesNoSealedCopyBehind) {
    // A trigger makes the second statement of link_number fail, as a full disk would.
    outside().exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON gateway_sms_links "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END");
    AddressBook book(store());
    EXPECT_THROW(book.link_number({"k:one", {1}}, CaseCode("K7Q-2F9"), true), Error);
    EXPECT_EQ(count("SELECT count(*) FROM gateway_sealed_addresses"), 0);
}

}  // namespace
}  // namespace ariadne::storage
