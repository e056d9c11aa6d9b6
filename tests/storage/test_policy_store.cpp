// Survivors, consent, organisation policy and the audit chain in a real SQLite file.
#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "ariadne/policies/error.h"
#include "ariadne/storage/policy_store.h"
#include "policy_test_support.h"

using namespace ariadne::policies;
using namespace ariadne::policies::testing;
using namespace std::chrono;

namespace {

const Instant kNoon = instant(sys_days{2025y / July / 15d} + hours{10});  // 12:00 in Rome

class Store : public ::testing::Test {
  protected:
    TempDir dir;
    std::string path = dir.file("gateway.db");
    std::unique_ptr<PolicyStore> store = PolicyStore::open(path);
    CaseCode code =
        store->enrol_survivor(survivor_in("Europe/Rome"), kCaseworker, kNoon - days{60}).case_code;

    Decision decide(ChannelRef c, Purpose p = Purpose::replies) {
        return store->decide_and_record(code, c, "", p, kNoon, "cw:1");
    }
};

}  // namespace

TEST_F(Store, EnrolledSurvivorRoundTripsAndNoTableHasANameColumn) {
    auto s = store->find_survivor(code);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->initials.str(), "M.K.");
    EXPECT_EQ(s->time_zone, "Europe/Rome");
    ASSERT_EQ(s->caseworkers.size(), 1U);
    EXPECT_EQ(s->caseworkers[0].str(), "cw:1");
    sqlite3* db = store->connection().sqlite;
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  db,
                  "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                  "WHERE m.type = 'table' AND m.name LIKE 'policies_%'",
                  -1, &q, nullptr),
              SQLITE_OK);
    int columns = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        std::string column = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
        EXPECT_EQ(column.find("name"), std::string::npos) << "column " << column;
        EXPECT_EQ(column.find("phone"), std::string::npos) << "column " << column;
        ++columns;
    }
    sqlite3_finalize(q);
    EXPECT_GT(columns, 40);
}

TEST_F(Store, SurvivorWithABadTimeZoneIsRefusedNamingTheField) {
    auto s = survivor_in("Europe/Atlantis");
    try {
        store->enrol_survivor(s, kCaseworker, kNoon);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.field(), "survivor.time_zone");
    }
}

TEST_F(Store, ConsentIsAppendOnlyAndAWithdrawalTakesEffectAtOnce) {
    ChannelRef sms{ChannelKind::sms, ""};
    EXPECT_EQ(decide(sms).reason, ReasonCode::no_consent);
    auto given = store->record_consent(
        consent(code, sms, Purpose::replies, ConsentAction::given, kNoon - hours{1}), kCaseworker);
    EXPECT_GT(given.version, 0);
    EXPECT_TRUE(decide(sms).allowed);
    store->record_consent(consent(code, sms, Purpose::replies, ConsentAction::withdrawn, kNoon),
                          kCaseworker);
    EXPECT_EQ(decide(sms).reason, ReasonCode::consent_withdrawn);
    EXPECT_EQ(store->consent_history(code).size(), 2U);
    // The store refuses to rewrite history even through SQL on its own connection.
    EXPECT_NE(sqlite3_exec(store->connection().sqlite, "UPDATE policies_consent SET action = 'given'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_NE(sqlite3_exec(store->connection().sqlite, "DELETE FROM policies_consent", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    // Survives reopening the file.
    store.reset();
    store = PolicyStore::open(path);
    EXPECT_EQ(decide(sms).reason, ReasonCode::consent_withdrawn);
}

TEST_F(Store, SocialMediaIsRefusedAtConfigurationAndAtDecisionEvenIfForcedIntoSqlite) {
    for (auto channel : {ChannelRef{ChannelKind::social_media, "facebook"},
                         ChannelRef{ChannelKind::messenger, "telegram"}}) {
        try {
            store->record_consent(
                consent(code, channel, Purpose::replies, ConsentAction::given, kNoon - hours{1}),
                kCaseworker);
            FAIL() << channel.str();
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::refused);
            EXPECT_EQ(e.field(), "consent.channel");
        }
    }
    EXPECT_TRUE(store->consent_history(code).empty());
    // Defence in depth: rows forced in behind the store's back still cannot open the channel.
    std::int64_t at = to_micros(kNoon - hours{1});
    raw_sql(path,
            "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, "
            "purpose, action, evidence_ref, recorded_by, recorded_at) VALUES "
            "('" +
                code.str() +
                "', 'social_media', 'facebook', 'a', 'replies', 'given', 'f', 'cw:1', " +
                std::to_string(at) + "), ('" + code.str() +
                "', 'messenger', 'tiktok', 'a', 'replies', 'given', 'f', 'cw:1', " +
                std::to_string(at) + ")");
    EXPECT_EQ(decide(ChannelRef{ChannelKind::social_media, "facebook"}).reason,
              ReasonCode::banned_channel_class);
    EXPECT_EQ(decide(ChannelRef{ChannelKind::messenger, "tiktok"}).reason,
              ReasonCode::banned_channel_class);
}

TEST_F(Store, MessengerWithoutSignedFormIsRefusedAndAForcedRowIsDenied) {
    ChannelRef wa{ChannelKind::messenger, "whatsapp"};
    auto r = consent(code, wa, Purpose::replies, ConsentAction::given, kNoon - hours{1});
    r.evidence_ref.clear();
    EXPECT_THROW(store->record_consent(r, kCaseworker), Error);
    raw_sql(path,
            "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, "
            "purpose, action, evidence_ref, recorded_by, recorded_at) VALUES ('" +
                code.str() + "', 'messenger', 'whatsapp', 'a', 'replies', 'given', '', 'cw:1', " +
                std::to_string(to_micros(kNoon - hours{1})) + ")");
    EXPECT_EQ(decide(wa).reason, ReasonCode::missing_evidence);
}

TEST_F(Store, AnUnreadableConsentRowFailsClosed) {
    ChannelRef sms{ChannelKind::sms, ""};
    store->record_consent(
        consent(code, sms, Purpose::replies, ConsentAction::given, kNoon - hours{2}), kCaseworker);
    EXPECT_TRUE(decide(sms).allowed);
    // A garbled later row might have been a withdrawal: nothing goes out.
    raw_sql(path,
            "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, "
            "purpose, action, evidence_ref, recorded_by, recorded_at) VALUES ('" +
                code.str() + "', 'sms', '', 'a', 'replies', 'withdr4wn', '', 'cw:1', " +
                std::to_string(to_micros(kNoon - hours{1})) + ")");
    EXPECT_EQ(decide(sms).reason, ReasonCode::policy_unavailable);
}

TEST_F(Store, OrgPolicyIsSetByAdminsOnlyAndTheSocialMediaBanCannotBeRemoved) {
    OrgPolicy p;
    p.retention_days = 730;
    p.banned_classes.insert(ChannelClass::email);
    EXPECT_THROW(store->set_org_policy(p, kCaseworker, kNoon), Error);
    store->set_org_policy(p, kAdmin, kNoon);
    EXPECT_EQ(store->org_policy(), p);
    p.banned_classes.erase(ChannelClass::social_media);
    try {
        store->set_org_policy(p, kAdmin, kNoon);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::refused);
        EXPECT_EQ(e.field(), "banned_classes");
    }
    EXPECT_TRUE(store->org_policy().banned_classes.count(ChannelClass::social_media));
}

TEST_F(Store, ACorruptedPolicyDeniesEverything) {
    ChannelRef sms{ChannelKind::sms, ""};
    store->record_consent(
        consent(code, sms, Purpose::replies, ConsentAction::given, kNoon - hours{1}), kCaseworker);
    raw_sql(path,
            "INSERT OR REPLACE INTO policies_org(id, policy_json, updated_at) VALUES (1, "
            "'{\"banned_classes\":[]}', 0)");
    EXPECT_THROW(store->org_policy(), Error);
    EXPECT_EQ(decide(sms).reason, ReasonCode::policy_unavailable);
}

TEST_F(Store, OnlyAssignedCaseworkersRecordConsentWhenThePolicySaysSo) {
    OrgPolicy p;
    p.consent_recorders = ConsentRecorders::assigned_caseworkers;
    store->set_org_policy(p, kAdmin, kNoon);
    auto r = consent(code, ChannelRef{ChannelKind::app, ""}, Purpose::replies, ConsentAction::given,
                     kNoon);
    EXPECT_THROW(store->record_consent(r, Actor{AccountId("cw:2"), Role::caseworker}), Error);
    EXPECT_THROW(store->record_consent(r, kAdmin), Error);
    EXPECT_NO_THROW(store->record_consent(r, kCaseworker));
}

TEST_F(Store, DuressLockIsClearedOnlyByACaseworker) {
    store->raise_duress(code, "system", kNoon);
    EXPECT_TRUE(store->find_survivor(code)->flags.duress_lock);
    EXPECT_THROW(store->clear_duress(code, kAdmin, kNoon), Error);
    store->clear_duress(code, kCaseworker, kNoon);
    EXPECT_FALSE(store->find_survivor(code)->flags.duress_lock);
}

TEST_F(Store, TemplatesFallBackToBuiltInNeutralTextsAndRefuseLinks) {
    EXPECT_EQ(store->template_text("neutral_checkin", LanguageTag("en")),
              "Hi, just checking in. Reply any time.");
    for (const char* lang : {"es", "it", "ro", "el", "fr", "ar"}) {
        EXPECT_NE(store->template_text("neutral_checkin", LanguageTag(lang)),
                  store->template_text("neutral_checkin", LanguageTag("en")))
            << lang;
    }
    EXPECT_EQ(store->template_text("neutral_checkin", LanguageTag("sq")),
              "Hi, just checking in. Reply any time.");
    store->set_template("neutral_checkin", LanguageTag("ro"), "Salut! Scrie-mi când vrei.", kAdmin,
                        kNoon);
    EXPECT_EQ(store->template_text("neutral_checkin", LanguageTag("ro-RO")),
              "Salut! Scrie-mi când vrei.");
    EXPECT_THROW(store->set_template("neutral_checkin", LanguageTag("en"),
                                     "see https://ngo.example", kAdmin, kNoon),
                 Error);
    EXPECT_THROW(store->template_text("nope", LanguageTag("en")), Error);
}

TEST_F(Store, TemplatesAreOnlyTheTextsAriadneSendsAndNeverRevealWhoSentThem) {
    OrgPolicy p = store->org_policy();
    p.organisation_names = {"Casa Ariadna", "CAS"};
    store->set_org_policy(p, kAdmin, kNoon);
    auto field_of = [&](const std::string& id, const std::string& text) {
        try {
            store->set_template(id, LanguageTag("sw"), text, kAdmin, kNoon);
        } catch (const Error& e) {
            return e.field() + "/" + to_string(e.code());
        }
        return std::string("stored");
    };
    EXPECT_EQ(field_of("neutral_checkin", "Greetings from CASA ARIADNA"), "template.text/refused");
    EXPECT_EQ(field_of("neutral_checkin", "CAS says hi"), "template.text/refused");
    EXPECT_EQ(field_of("neutral_checkin", "Just in case: reply any time."), "stored");
    EXPECT_EQ(field_of("neutral_checkin", "Hi {initials}"), "template.text/invalid_field");
    EXPECT_EQ(field_of("neutral_handover", "{initials} and {case_code}"),
              "template.text/invalid_field");
    EXPECT_EQ(field_of("neutral_handover", "Habari, {initials} atakujibu."), "stored");
    EXPECT_EQ(field_of("discreet_handover", "Habari {initials}"), "template.text/invalid_field");
    EXPECT_EQ(field_of("neutral_checkin", "tab\there"), "template.text/invalid_field");
    EXPECT_EQ(field_of("neutral_checkin", "bad \xC3 utf-8"), "template.text/invalid_field");
    EXPECT_EQ(field_of("neutral_checkin", "c1 \xC2\x85 control"), "template.text/invalid_field");
    EXPECT_EQ(field_of("org_special", "Hi"), "template_id/invalid_field");
    EXPECT_EQ(store->org_templates().size(), 2U);
    EXPECT_THROW(
        store->set_template("neutral_checkin", LanguageTag("sw"), "Hi", kCaseworker, kNoon), Error);
    // A name added after a text was set: the text is no longer sent, the built-in one is.
    p.organisation_names.push_back("atakujibu");
    store->set_org_policy(p, kAdmin, kNoon);
    EXPECT_EQ(store->template_text("neutral_handover", LanguageTag("sw")),
              "Hi, from now on {initials} will be your contact. Reply any time.");
    EXPECT_TRUE(store->clear_template("neutral_checkin", LanguageTag("sw"), kAdmin, kNoon));
    EXPECT_FALSE(store->clear_template("neutral_checkin", LanguageTag("sw"), kAdmin, kNoon));
}

TEST_F(Store, EveryTextSentToASurvivorWhoMustNeverBeConfirmedNamesNoOneInEveryLanguage) {
    // What is sent when never_confirm_client is set: check-ins and the discreet handover.
    // None may hold a placeholder (no initials can enter), nor a word that points at a person
    // looking after her or an organisation, in any language of the catalogue.
    const std::vector<std::pair<std::string, std::vector<std::string>>> revealing = {
        {"en", {"contact", "case", "organi", "shelter", "support", "service", "program"}},
        {"es", {"contacto", "caso", "organiza", "refugio", "apoyo", "servicio"}},
        {"it", {"contatto", "caso", "organizza", "sostegno", "servizio"}},
        {"ro", {"contact", "caz", "organiza", "sprijin", "serviciu"}},
        {"el", {"επαφή", "υπόθεση", "οργάνωση", "υποστήριξη"}},
        {"fr", {"contact", "dossier", "organisation", "soutien", "service"}},
        {"ar", {"جهة الاتصال", "قضية", "منظمة", "دعم"}},
    };
    std::set<std::string> distinct;
    for (const char* id : {"neutral_checkin", "discreet_handover"}) {
        for (const auto& [lang, words] : revealing) {
            std::string text = store->template_text(id, LanguageTag(lang));
            distinct.insert(text);
            EXPECT_EQ(text.find('{'), std::string::npos) << id << " " << lang << ": " << text;
            std::string lower;
            for (char c : text)
                lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
            for (const auto& w : words) {
                EXPECT_EQ(lower.find(w), std::string::npos) << id << " " << lang << ": " << text;
            }
        }
    }
    EXPECT_EQ(distinct.size(), 14U) << "a language of the catalogue falls back to English";
}

TEST_F(Store, AnUpdateAuditsTheChangedFieldsOnlyAndAPauseEndKeepsItsInstant) {
    auto s = *store->find_survivor(code);
    s.initials = Initials("A.Z.");
    s.flags.paused = true;
    s.paused_until = kNoon + days{3};
    s.flags.never_confirm_client = true;
    store->update_survivor(s, kCaseworker, kNoon);
    auto back = store->find_survivor(code);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->paused_until, kNoon + days{3});
    EXPECT_TRUE(back->is_paused(kNoon));
    EXPECT_FALSE(back->is_paused(kNoon + days{3}));
    auto entries = store->audit_entries(1, 1000);
    std::string log;
    for (const auto& e : entries) log += e.action + "|" + e.decision + "|" + e.reason + "\n";
    EXPECT_NE(log.find("survivor.update||initials/pause/never_confirm_client"), std::string::npos)
        << log;
    EXPECT_NE(log.find("survivor.pause||"), std::string::npos) << log;
    EXPECT_NE(log.find("survivor.never_confirm_client|set|"), std::string::npos) << log;
    EXPECT_EQ(log.find("A.Z."), std::string::npos);
    // set_paused lifts or sets a pause without an end.
    store->set_paused(code, false, kCaseworker, kNoon);
    EXPECT_FALSE(store->find_survivor(code)->paused_until);
}

TEST_F(Store, ADatabaseFromBeforePauseEndsGainsTheColumnAndKeepsItsSurvivors) {
    TempDir old_dir;
    std::string old_path = old_dir.file("old.db");
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(old_path.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db,
                               "CREATE TABLE policies_survivors(case_code TEXT PRIMARY KEY, "
                               "initials TEXT NOT NULL, language TEXT NOT NULL, time_zone TEXT "
                               "NOT NULL, team TEXT, status TEXT NOT NULL, never_confirm_client "
                               "INTEGER NOT NULL, paused INTEGER NOT NULL, duress_lock INTEGER "
                               "NOT NULL, quiet_start INTEGER, quiet_end INTEGER, quiet_weekdays "
                               "INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT "
                               "NULL) WITHOUT ROWID; INSERT INTO policies_survivors VALUES("
                               "'K7Q-2F9','M.K.','ro','Europe/Rome',NULL,'active',0,1,0,NULL,NULL,"
                               "NULL,1,1)",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(db);
    }
    auto old = PolicyStore::open(old_path);
    auto s = old->find_survivor(CaseCode("K7Q-2F9"));
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->flags.paused);
    EXPECT_FALSE(s->paused_until);
}

// ---------------------------------------------------------------- audit chain

class AuditChain : public Store {
  protected:
    void SetUp() override {
        ChannelRef sms{ChannelKind::sms, ""};
        store->record_consent(
            consent(code, sms, Purpose::replies, ConsentAction::given, kNoon - hours{1}),
            kCaseworker);
        for (int i = 0; i < 4; ++i) decide(sms);
        decide(ChannelRef{ChannelKind::email, ""});
        store.reset();  // release the file: tampering happens from outside
    }
    AuditVerification verify() {
        store = PolicyStore::open(path);
        return store->verify_audit_chain();
    }
    // An attacker with file access removes the append-only guard first.
    void tamper(const std::string& sql) {
        raw_sql(
            path,
            "DROP TRIGGER policies_audit_no_update; DROP TRIGGER policies_audit_no_delete; " + sql);
    }
};

TEST_F(AuditChain, EveryDecisionIsRecordedAndAnIntactChainVerifies) {
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.entries, 7U);  // enrol, consent, 5 decisions
    auto entries = store->audit_entries(1, 100);
    ASSERT_EQ(entries.size(), 7U);
    EXPECT_EQ(entries[6].action, "decision.replies");
    EXPECT_EQ(entries[6].decision, "deny");
    EXPECT_EQ(entries[6].reason, "no_consent:email");
    EXPECT_EQ(entries[5].decision, "allow");
    EXPECT_EQ(entries[6].prev_hash, entries[5].hash);
    EXPECT_EQ(v.head, entries[6].hash);
}

TEST_F(AuditChain, AnEditedRowIsNamed) {
    tamper("UPDATE policies_audit SET decision = 'allow' WHERE seq = 7");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 7U);
    EXPECT_NE(v.problem.find("edited"), std::string::npos) << v.problem;
}

TEST_F(AuditChain, AnEditedTimestampIsNamed) {
    tamper("UPDATE policies_audit SET at_us = at_us + 1 WHERE seq = 3");
    EXPECT_EQ(verify().first_bad_seq, 3U);
}

TEST_F(AuditChain, ARemovedRowIsNamed) {
    tamper("DELETE FROM policies_audit WHERE seq = 4");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 4U);
    EXPECT_NE(v.problem.find("missing"), std::string::npos) << v.problem;
}

TEST_F(AuditChain, ARemovedAndRenumberedRowIsNamed) {
    tamper(
        "DELETE FROM policies_audit WHERE seq = 4; UPDATE policies_audit SET seq = seq - 1 WHERE "
        "seq > 4");
    EXPECT_EQ(verify().first_bad_seq, 4U);
}

TEST_F(AuditChain, SwappedRowsAreNamed) {
    tamper(
        "UPDATE policies_audit SET seq = 100 WHERE seq = 3; "
        "UPDATE policies_audit SET seq = 3 WHERE seq = 4; "
        "UPDATE policies_audit SET seq = 4 WHERE seq = 100");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 3U);
}

TEST_F(AuditChain, FreeTextCannotEnterTheLog) {
    store = PolicyStore::open(path);
    EXPECT_THROW(store->append_audit("cw:1", "note", "", "", "Maria Rossi called", kNoon), Error);
    EXPECT_THROW(store->append_audit("maria@example.org", "note", "", "", "", kNoon), Error);
    EXPECT_TRUE(store->verify_audit_chain().ok);
}
