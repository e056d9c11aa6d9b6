#include "ariadne/policies/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ariadne/policies/checkin.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/storage/migrations.h"
#include "sqlite.h"
#include "templates.h"

namespace ariadne::policies {

using detail::exec;
using detail::Stmt;
using detail::WriteTx;

namespace {

[[noreturn]] void refused(const std::string& field, const std::string& what) {
    throw Error(ErrorCode::refused, field, field + ": " + what);
}

nlohmann::json window_json(const LocalWindow& w) {
    return {
        {"start_minute", w.start_minute}, {"end_minute", w.end_minute}, {"weekdays", w.weekdays}};
}
LocalWindow window_from(const nlohmann::json& j) {
    return LocalWindow{j.at("start_minute").get<int>(), j.at("end_minute").get<int>(),
                       j.at("weekdays").get<std::uint8_t>()};
}

const char* recorders_name(ConsentRecorders r) {
    switch (r) {
        case ConsentRecorders::assigned_caseworkers:
            return "assigned_caseworkers";
        case ConsentRecorders::caseworkers:
            return "caseworkers";
        case ConsentRecorders::caseworkers_and_admins:
            return "caseworkers_and_admins";
    }
    return "caseworkers";
}

std::string policy_to_json(const OrgPolicy& p) {
    nlohmann::json banned = nlohmann::json::array();
    for (ChannelClass c : p.banned_classes) banned.push_back(to_string(c));
    nlohmann::json j{{"banned_classes", banned},
                     {"quiet_hours", window_json(p.quiet_hours)},
                     {"retention_days", p.retention_days},
                     {"checkin_defaults",
                      {{"window", window_json(p.checkin_defaults.window)},
                       {"every_days", p.checkin_defaults.every_days},
                       {"grace_minutes", p.checkin_defaults.grace_minutes}}},
                     {"consent_recorders", recorders_name(p.consent_recorders)}};
    if (!p.organisation_names.empty()) j["organisation_names"] = p.organisation_names;
    nlohmann::json messengers = nlohmann::json::array();
    for (const auto& m : p.accepted_messengers) {
        messengers.push_back({{"provider", m.provider}, {"evidence_ref", m.evidence_ref}});
    }
    j["accepted_messengers"] = messengers;
    return j.dump();
}

OrgPolicy policy_from_json(const std::string& text) {
    try {
        auto j = nlohmann::json::parse(text);
        OrgPolicy p;
        p.banned_classes.clear();
        for (const auto& c : j.at("banned_classes")) {
            auto cls = parse_channel_class(c.get<std::string>());
            if (!cls) throw std::runtime_error("unknown class");
            p.banned_classes.insert(*cls);
        }
        p.quiet_hours = window_from(j.at("quiet_hours"));
        p.retention_days = j.at("retention_days").get<int>();
        const auto& d = j.at("checkin_defaults");
        p.checkin_defaults.window = window_from(d.at("window"));
        p.checkin_defaults.every_days = d.at("every_days").get<int>();
        p.checkin_defaults.grace_minutes = d.at("grace_minutes").get<int>();
        std::string r = j.at("consent_recorders").get<std::string>();
        if (r == "assigned_caseworkers") {
            p.consent_recorders = ConsentRecorders::assigned_caseworkers;
        } else if (r == "caseworkers") {
            p.consent_recorders = ConsentRecorders::caseworkers;
        } else if (r == "caseworkers_and_admins") {
            p.consent_recorders = ConsentRecorders::caseworkers_and_admins;
        } else {
            throw std::runtime_error("unknown consent_recorders");
        }
        // Absent in policies stored before organisation names existed.
        if (j.contains("organisation_names")) {
            p.organisation_names = j.at("organisation_names").get<std::vector<std::string>>();
        }
        // Absent in policies stored before organisations could accept more messengers.
        if (auto m = j.find("accepted_messengers"); m != j.end()) {
            for (const auto& e : *m) {
                p.accepted_messengers.push_back(
                    {e.at("provider").get<std::string>(), e.at("evidence_ref").get<std::string>()});
            }
        }
        p.validate();
        return p;
    } catch (const std::exception&) {
        throw Error(ErrorCode::storage, "org_policy",
                    "org_policy: the stored organisation policy cannot be read; set it again");
    }
}

}  // namespace

std::unique_ptr<PolicyStore> PolicyStore::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw Error(ErrorCode::storage, "",
                    "storage: opening the policies database failed: " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
    try {
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
             "configuring the database");
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    return std::unique_ptr<PolicyStore>(new PolicyStore(db, true));
}

std::unique_ptr<PolicyStore> PolicyStore::attach(sqlite3* db) {
    if (db == nullptr) detail::fail(nullptr, "attaching to a database");
    return std::unique_ptr<PolicyStore>(new PolicyStore(db, false));
}

PolicyStore::PolicyStore(sqlite3* db, bool owned) : db_(db), owned_(owned) {
    try {
        storage::Connection connection(db_);
        storage::migrate(connection, storage::main_migrations());
    } catch (const storage::Error& e) {
        if (owned_) sqlite3_close(db_);
        throw Error(ErrorCode::storage, "", e.what());
    }
}

PolicyStore::~PolicyStore() {
    if (owned_) sqlite3_close(db_);
}

// ---------------------------------------------------------------- survivors

std::optional<Survivor> PolicyStore::load_survivor_locked(const CaseCode& code) const {
    Stmt q(db_,
           "SELECT initials, language, time_zone, team, status, never_confirm_client, paused, "
           "duress_lock, quiet_start, quiet_end, quiet_weekdays, paused_until "
           "FROM policies_survivors WHERE case_code = ?");
    q.bind(1, code.str());
    if (!q.step()) return std::nullopt;
    try {
        auto status = parse_survivor_status(q.text(4));
        if (!status) throw std::runtime_error("status");
        Survivor s{.case_code = code,
                   .initials = Initials(q.text(0)),
                   .language = LanguageTag(q.text(1)),
                   .time_zone = q.text(2)};
        if (!q.is_null(3)) s.team = AccountId(q.text(3));
        s.status = *status;
        s.flags = SurvivorFlags{q.i64(5) != 0, q.i64(6) != 0, q.i64(7) != 0};
        if (!q.is_null(8)) {
            s.quiet_hours = LocalWindow{static_cast<int>(q.i64(8)), static_cast<int>(q.i64(9)),
                                        static_cast<std::uint8_t>(q.i64(10))};
        }
        if (!q.is_null(11)) s.paused_until = from_micros(q.i64(11));
        Stmt cw(db_,
                "SELECT account_id FROM policies_survivor_caseworkers WHERE case_code = ? "
                "ORDER BY account_id");
        cw.bind(1, code.str());
        while (cw.step()) s.caseworkers.emplace_back(cw.text(0));
        return s;
    } catch (const std::exception&) {
        throw Error(ErrorCode::storage, "survivor",
                    "survivor: the stored record for " + code.str() + " cannot be read");
    }
}

void PolicyStore::write_survivor_locked(const Survivor& s, bool insert, Instant at) {
    Stmt w(db_, insert ? "INSERT INTO policies_survivors(initials, language, time_zone, team, "
                         "status, never_confirm_client, paused, duress_lock, quiet_start, "
                         "quiet_end, quiet_weekdays, created_at, updated_at, paused_until, "
                         "case_code) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                       : "UPDATE policies_survivors SET initials=?, language=?, time_zone=?, "
                         "team=?, status=?, never_confirm_client=?, paused=?, duress_lock=?, "
                         "quiet_start=?, quiet_end=?, quiet_weekdays=?, created_at=created_at+0*?, "
                         "updated_at=?, paused_until=? WHERE case_code=?");
    w.bind(1, s.initials.str()).bind(2, s.language.str()).bind(3, s.time_zone);
    if (s.team) {
        w.bind(4, s.team->str());
    } else {
        w.bind_null(4);
    }
    w.bind(5, to_string(s.status))
        .bind(6, std::int64_t{s.flags.never_confirm_client})
        .bind(7, std::int64_t{s.flags.paused})
        .bind(8, std::int64_t{s.flags.duress_lock});
    if (s.quiet_hours) {
        w.bind(9, std::int64_t{s.quiet_hours->start_minute})
            .bind(10, std::int64_t{s.quiet_hours->end_minute})
            .bind(11, std::int64_t{s.quiet_hours->weekdays});
    } else {
        w.bind_null(9).bind_null(10).bind_null(11);
    }
    std::int64_t now = to_micros(at);
    w.bind(12, now).bind(13, now);
    if (s.flags.paused && s.paused_until) {
        w.bind(14, to_micros(*s.paused_until));
    } else {
        w.bind_null(14);
    }
    w.bind(15, s.case_code.str());
    w.run();
    if (sqlite3_changes(db_) != 1) {
        throw Error(ErrorCode::not_found, "case_code",
                    "case_code: there is no survivor " + s.case_code.str());
    }
    Stmt del(db_, "DELETE FROM policies_survivor_caseworkers WHERE case_code = ?");
    del.bind(1, s.case_code.str()).run();
    Stmt add(db_,
             "INSERT OR IGNORE INTO policies_survivor_caseworkers(case_code, account_id) "
             "VALUES (?, ?)");
    for (const AccountId& a : s.caseworkers) {
        add.bind(1, s.case_code.str()).bind(2, a.str()).run();
        add.reset();
    }
}

Survivor PolicyStore::enrol_survivor(Survivor s, const Actor& actor, Instant now) {
    s.validate();
    std::lock_guard lock(mutex_);
    for (int attempt = 0; attempt < 20; ++attempt) {
        s.case_code = CaseCode::generate();
        if (load_survivor_locked(s.case_code)) continue;
        WriteTx tx(db_);
        write_survivor_locked(s, true, now);
        append_audit_locked(actor.account.str(), "survivor.enrol", s.case_code.str(), "", "", now);
        tx.commit();
        return s;
    }
    throw Error(ErrorCode::conflict, "case_code", "case_code: no free case code was found");
}

void PolicyStore::create_survivor(const Survivor& s, const Actor& actor, Instant now) {
    s.validate();
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    if (load_survivor_locked(s.case_code)) {
        throw Error(ErrorCode::conflict, "case_code",
                    "case_code: a survivor with case code " + s.case_code.str() + " exists");
    }
    write_survivor_locked(s, true, now);
    append_audit_locked(actor.account.str(), "survivor.create", s.case_code.str(), "", "", now);
    tx.commit();
}

void PolicyStore::update_survivor(const Survivor& s, const Actor& actor, Instant now) {
    s.validate();
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    auto old = load_survivor_locked(s.case_code);
    if (!old) {
        throw Error(ErrorCode::not_found, "case_code",
                    "case_code: there is no survivor " + s.case_code.str());
    }
    if (old->flags.duress_lock && !s.flags.duress_lock && actor.role != Role::caseworker) {
        refused("survivor.flags.duress_lock",
                "only a caseworker who has checked her safety may clear a duress lock");
    }
    write_survivor_locked(s, false, now);
    // The audit names which fields changed (never their values: initials are hers).
    std::string changed;
    auto note = [&changed](bool differs, const char* field) {
        if (!differs) return;
        if (!changed.empty()) changed += "/";
        changed += field;
    };
    note(old->initials != s.initials, "initials");
    note(old->language != s.language, "language");
    note(old->time_zone != s.time_zone, "time_zone");
    note(old->caseworkers != s.caseworkers, "caseworkers");
    note(old->team != s.team, "team");
    note(old->status != s.status, "status");
    note(old->quiet_hours != s.quiet_hours, "quiet_hours");
    note(old->flags.paused != s.flags.paused ||
             (s.flags.paused && old->paused_until != s.paused_until),
         "pause");
    note(old->flags.never_confirm_client != s.flags.never_confirm_client, "never_confirm_client");
    append_audit_locked(actor.account.str(), "survivor.update", s.case_code.str(), "", changed,
                        now);
    if (old->flags.duress_lock != s.flags.duress_lock) {
        append_audit_locked(actor.account.str(),
                            s.flags.duress_lock ? "duress.raised" : "duress.cleared",
                            s.case_code.str(), "", "", now);
    }
    if (old->flags.paused != s.flags.paused) {
        append_audit_locked(actor.account.str(),
                            s.flags.paused ? "survivor.pause" : "survivor.resume",
                            s.case_code.str(), "", "", now);
    }
    if (old->status != s.status) {
        append_audit_locked(actor.account.str(), "survivor.status", s.case_code.str(),
                            to_string(s.status), "", now);
    }
    if (old->flags.never_confirm_client != s.flags.never_confirm_client) {
        append_audit_locked(actor.account.str(), "survivor.never_confirm_client", s.case_code.str(),
                            s.flags.never_confirm_client ? "set" : "cleared", "", now);
    }
    // Her check-in windows are local times: a corrected zone moves every active plan's next
    // slot to the new clock.
    if (old->time_zone != s.time_zone) {
        CheckinScheduler::reschedule_case_locked(*this, s.case_code, now);
    }
    tx.commit();
}

std::optional<Survivor> PolicyStore::find_survivor(const CaseCode& code) const {
    std::lock_guard lock(mutex_);
    return load_survivor_locked(code);
}

void PolicyStore::raise_duress(const CaseCode& code, const std::string& actor, Instant now) {
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    Stmt w(db_,
           "UPDATE policies_survivors SET duress_lock = 1, updated_at = ? WHERE case_code = ?");
    w.bind(1, to_micros(now)).bind(2, code.str()).run();
    if (sqlite3_changes(db_) != 1) {
        throw Error(ErrorCode::not_found, "case_code",
                    "case_code: there is no survivor " + code.str());
    }
    append_audit_locked(actor, "duress.raised", code.str(), "", "", now);
    tx.commit();
}

void PolicyStore::clear_duress(const CaseCode& code, const Actor& actor, Instant now) {
    if (actor.role != Role::caseworker) {
        refused("survivor.flags.duress_lock",
                "only a caseworker who has checked her safety may clear a duress lock");
    }
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    Stmt w(db_,
           "UPDATE policies_survivors SET duress_lock = 0, updated_at = ? WHERE case_code = ?");
    w.bind(1, to_micros(now)).bind(2, code.str()).run();
    if (sqlite3_changes(db_) != 1) {
        throw Error(ErrorCode::not_found, "case_code",
                    "case_code: there is no survivor " + code.str());
    }
    append_audit_locked(actor.account.str(), "duress.cleared", code.str(), "", "", now);
    tx.commit();
}

void PolicyStore::set_paused(const CaseCode& code, bool paused, const Actor& actor, Instant now) {
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    Stmt w(db_,
           "UPDATE policies_survivors SET paused = ?, paused_until = NULL, updated_at = ? "
           "WHERE case_code = ?");
    w.bind(1, std::int64_t{paused}).bind(2, to_micros(now)).bind(3, code.str()).run();
    if (sqlite3_changes(db_) != 1) {
        throw Error(ErrorCode::not_found, "case_code",
                    "case_code: there is no survivor " + code.str());
    }
    append_audit_locked(actor.account.str(), paused ? "survivor.pause" : "survivor.resume",
                        code.str(), "", "", now);
    tx.commit();
}

// ---------------------------------------------------------------- consent

ConsentRecord PolicyStore::record_consent(ConsentRecord r, const Actor& actor) {
    r.recorded_by = actor.account;
    r.channel = ChannelRef::make(r.channel.kind, r.channel.provider, "consent.channel");
    r.validate();
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    auto survivor = load_survivor_locked(r.case_code);
    if (!survivor) {
        throw Error(ErrorCode::not_found, "consent.case_code",
                    "consent.case_code: there is no survivor " + r.case_code.str());
    }
    OrgPolicy policy = org_policy_locked();
    if (r.channel.kind == ChannelKind::messenger && !policy.accepts_messenger(r.channel.provider)) {
        refused("consent.channel",
                "'" + r.channel.provider +
                    "' is not an accepted messenger (accepted: " + policy.messenger_list() +
                    "); an administrator may accept another one with the "
                    "reference of its assessment (policy-set "
                    "--accept-messenger NAME --messenger-evidence REF)");
    }
    bool allowed = false;
    switch (policy.consent_recorders) {
        case ConsentRecorders::caseworkers_and_admins:
            allowed = true;
            break;
        case ConsentRecorders::caseworkers:
            allowed = actor.role == Role::caseworker;
            break;
        case ConsentRecorders::assigned_caseworkers:
            allowed = actor.role == Role::caseworker &&
                      std::find(survivor->caseworkers.begin(), survivor->caseworkers.end(),
                                actor.account) != survivor->caseworkers.end();
            break;
    }
    if (!allowed) {
        refused("consent.recorded_by", std::string("the organisation policy lets only ") +
                                           recorders_name(policy.consent_recorders) +
                                           " record consent");
    }
    Stmt w(db_,
           "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, purpose, "
           "action, evidence_ref, form_language, recorded_by, recorded_at) "
           "VALUES (?,?,?,?,?,?,?,?,?,?)");
    w.bind(1, r.case_code.str())
        .bind(2, to_string(r.channel.kind))
        .bind(3, r.channel.provider)
        .bind(4, r.address_ref)
        .bind(5, to_string(r.purpose))
        .bind(6, to_string(r.action))
        .bind(7, r.evidence_ref);
    if (r.form_language) {
        w.bind(8, r.form_language->str());
    } else {
        w.bind_null(8);
    }
    w.bind(9, r.recorded_by.str()).bind(10, to_micros(r.recorded_at)).run();
    r.version = sqlite3_last_insert_rowid(db_);
    append_audit_locked(actor.account.str(),
                        r.action == ConsentAction::given ? "consent.give" : "consent.withdraw",
                        r.case_code.str(), "",
                        std::string(to_string(r.purpose)) + ":" + r.channel.str(), r.recorded_at);
    tx.commit();
    return r;
}

std::vector<ConsentRecord> PolicyStore::consent_history_locked(const CaseCode& code) const {
    Stmt q(db_,
           "SELECT version, channel_kind, provider, address_ref, purpose, action, evidence_ref, "
           "form_language, recorded_by, recorded_at FROM policies_consent WHERE case_code = ? "
           "ORDER BY version");
    q.bind(1, code.str());
    std::vector<ConsentRecord> out;
    while (q.step()) {
        // A row that cannot be read (e.g. an unknown action) could hide a withdrawal, so the
        // whole history is refused and the decision fails closed.
        auto kind = parse_channel_kind(q.text(1));
        auto purpose = parse_purpose(q.text(4));
        auto action = parse_consent_action(q.text(5));
        if (!kind || !purpose || !action) {
            throw Error(ErrorCode::storage, "consent",
                        "consent: a stored consent record for " + code.str() + " cannot be read");
        }
        try {
            ConsentRecord r{.version = q.i64(0),
                            .case_code = code,
                            .channel = ChannelRef{*kind, q.text(2)},
                            .address_ref = q.text(3),
                            .purpose = *purpose,
                            .action = *action,
                            .evidence_ref = q.text(6),
                            .recorded_by = AccountId(q.text(8)),
                            .recorded_at = from_micros(q.i64(9))};
            if (!q.is_null(7)) r.form_language = LanguageTag(q.text(7));
            out.push_back(std::move(r));
        } catch (const Error&) {
            throw Error(ErrorCode::storage, "consent",
                        "consent: a stored consent record for " + code.str() + " cannot be read");
        }
    }
    return out;
}

std::vector<ConsentRecord> PolicyStore::consent_history(const CaseCode& code) const {
    std::lock_guard lock(mutex_);
    return consent_history_locked(code);
}

// ---------------------------------------------------------------- organisation policy

OrgPolicy PolicyStore::org_policy_locked() const {
    Stmt q(db_, "SELECT policy_json FROM policies_org WHERE id = 1");
    if (!q.step()) return OrgPolicy{};
    return policy_from_json(q.text(0));
}

OrgPolicy PolicyStore::org_policy() const {
    std::lock_guard lock(mutex_);
    return org_policy_locked();
}

void PolicyStore::set_org_policy(const OrgPolicy& p, const Actor& actor, Instant now) {
    if (actor.role != Role::admin) refused("org_policy", "only an administrator may change it");
    p.validate();
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    Stmt w(db_,
           "INSERT INTO policies_org(id, policy_json, updated_at) VALUES (1, ?, ?) "
           "ON CONFLICT(id) DO UPDATE SET policy_json = excluded.policy_json, "
           "updated_at = excluded.updated_at");
    OrgPolicy old;
    try {
        old = org_policy_locked();
    } catch (const Error&) {
        // An unreadable stored policy is being replaced: nothing to compare with.
    }
    w.bind(1, policy_to_json(p)).bind(2, to_micros(now)).run();
    append_audit_locked(actor.account.str(), "policy.set", "", "", "", now);
    // Which messengers were accepted or dropped, by name (the evidence stays in the policy).
    auto listed = [](const OrgPolicy& in, const std::string& provider) {
        return std::any_of(in.accepted_messengers.begin(), in.accepted_messengers.end(),
                           [&](const AcceptedMessenger& m) { return m.provider == provider; });
    };
    for (const auto& m : p.accepted_messengers) {
        if (!listed(old, m.provider)) {
            append_audit_locked(actor.account.str(), "policy.messenger_accepted", "", "",
                                m.provider, now);
        }
    }
    for (const auto& m : old.accepted_messengers) {
        if (!listed(p, m.provider)) {
            append_audit_locked(actor.account.str(), "policy.messenger_dropped", "", "", m.provider,
                                now);
        }
    }
    tx.commit();
}

// ---------------------------------------------------------------- templates

void PolicyStore::set_template(const std::string& template_id, const LanguageTag& language,
                               const std::string& text, const Actor& actor, Instant now) {
    if (actor.role != Role::admin)
        refused("template", "only an administrator may change templates");
    std::lock_guard lock(mutex_);
    detail::validate_template(template_id, text, org_policy_locked().organisation_names);
    WriteTx tx(db_);
    Stmt w(db_,
           "INSERT INTO policies_templates(template_id, language, text) VALUES (?,?,?) "
           "ON CONFLICT(template_id, language) DO UPDATE SET text = excluded.text");
    w.bind(1, template_id).bind(2, language.primary()).bind(3, text).run();
    append_audit_locked(actor.account.str(), "template.set", "", "",
                        template_id + ":" + language.primary(), now);
    tx.commit();
}

bool PolicyStore::clear_template(const std::string& template_id, const LanguageTag& language,
                                 const Actor& actor, Instant now) {
    if (actor.role != Role::admin)
        refused("template", "only an administrator may change templates");
    std::lock_guard lock(mutex_);
    WriteTx tx(db_);
    Stmt d(db_, "DELETE FROM policies_templates WHERE template_id = ? AND language = ?");
    d.bind(1, template_id).bind(2, language.primary()).run();
    const bool removed = sqlite3_changes(db_) > 0;
    if (removed) {
        append_audit_locked(actor.account.str(), "template.clear", "", "",
                            template_id + ":" + language.primary(), now);
    }
    tx.commit();
    return removed;
}

std::string PolicyStore::template_text(const std::string& template_id,
                                       const LanguageTag& language) const {
    std::lock_guard lock(mutex_);
    // An unreadable policy: only the built-in texts, which name no one, are used.
    std::optional<std::vector<std::string>> names;
    try {
        names = org_policy_locked().organisation_names;
    } catch (const Error&) {
    }
    for (const std::string& lang : {language.primary(), std::string("en")}) {
        Stmt q(db_, "SELECT text FROM policies_templates WHERE template_id = ? AND language = ?");
        q.bind(1, template_id).bind(2, lang);
        if (q.step() && names && !detail::name_in(q.text(0), *names)) return q.text(0);
        if (auto builtin = detail::builtin_template(template_id, lang)) return *builtin;
    }
    throw Error(ErrorCode::not_found, "template_id",
                "template_id: no template '" + template_id + "' exists in '" + language.str() +
                    "' or in English");
}

std::vector<PolicyStore::TemplateText> PolicyStore::org_templates() const {
    std::lock_guard lock(mutex_);
    Stmt q(db_,
           "SELECT template_id, language, text FROM policies_templates "
           "ORDER BY template_id, language");
    std::vector<TemplateText> out;
    while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2)});
    return out;
}

// ---------------------------------------------------------------- decisions

Decision PolicyStore::decide_locked(const CaseCode& code, const ChannelRef& channel,
                                    const std::string& address_ref, Purpose purpose, Instant now,
                                    const std::optional<LocalWindow>& window) const {
    std::optional<Survivor> survivor;
    std::vector<ConsentRecord> history;
    std::optional<OrgPolicy> policy;
    std::shared_ptr<const TimeZone> tz;
    try {
        policy = org_policy_locked();
        survivor = load_survivor_locked(code);
        if (survivor) history = consent_history_locked(code);
    } catch (const std::exception&) {
        return decide_outbound(DecisionInput{});  // policy_unavailable
    }
    if (survivor) {
        try {
            tz = TimeZone::load(survivor->time_zone);
        } catch (const std::exception&) {
            tz = nullptr;
        }
    }
    return decide_outbound(DecisionInput{.survivor = survivor ? &*survivor : nullptr,
                                         .channel = channel,
                                         .address_ref = address_ref,
                                         .purpose = purpose,
                                         .now = now,
                                         .time_zone = tz,
                                         .consent_history = history,
                                         .org_policy = policy ? &*policy : nullptr,
                                         .window = window});
}

Decision PolicyStore::decide_and_record(const CaseCode& code, const ChannelRef& channel,
                                        const std::string& address_ref, Purpose purpose,
                                        Instant now, const std::string& actor,
                                        std::optional<LocalWindow> window) {
    std::lock_guard lock(mutex_);
    Decision d = decide_locked(code, channel, address_ref, purpose, now, window);
    WriteTx tx(db_);
    append_audit_locked(actor, std::string("decision.") + to_string(purpose), code.str(),
                        d.allowed ? "allow" : "deny",
                        std::string(to_string(d.reason)) + ":" + channel.str(), now);
    tx.commit();
    return d;
}

}  // namespace ariadne::policies
