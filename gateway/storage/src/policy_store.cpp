#include "ariadne/storage/policy_store.h"

#include "ariadne/storage/migrations.h"

#include "ariadne/policies/checkin.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/storage/sqlite.h"
#include "policy_store_detail.h"

namespace ariadne::storage {

using namespace policies;

namespace {}  // namespace

std::unique_ptr<PolicyStore> PolicyStore::open(const std::string& path) {
    std::unique_ptr<Connection> db;
    try {
        db = std::make_unique<Connection>(path, ConnectionOptions{});
    } catch (const storage::Error& e) {
        throw policies::Error(
            ErrorCode::storage, "",
            std::string("storage: opening the policies database failed: ") + e.what());
    }
    return std::unique_ptr<PolicyStore>(new PolicyStore(std::move(db)));
}

std::unique_ptr<PolicyStore> PolicyStore::attach(sqlite3* db) {
    if (db == nullptr) {
        throw policies::Error(ErrorCode::storage, "",
                              "storage: attaching to a database failed: no database");
    }
    return std::unique_ptr<PolicyStore>(new PolicyStore(std::make_unique<Connection>(db)));
}

PolicyStore::PolicyStore(std::unique_ptr<Connection> db) : db_(std::move(db)) { create_schema(); }

PolicyStore::~PolicyStore() = default;

Connection::Borrowed PolicyStore::connection() const noexcept { return db_->borrow(); }

void PolicyStore::create_schema() {
    // The tables come from the numbered migrations (migrations/main/), run on every open.
    try {
        migrate(*db_, main_migrations());
    } catch (const storage::Error& e) {
        throw policies::Error(ErrorCode::storage, "", e.what());
    }
}

// ---------------------------------------------------------------- survivors

std::optional<Survivor> PolicyStore::load_survivor_locked(const CaseCode& code) const {
    Statement q = db_->cached(
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
        s.flags = SurvivorFlags{q.integer(5) != 0, q.integer(6) != 0, q.integer(7) != 0};
        if (!q.is_null(8)) {
            s.quiet_hours =
                LocalWindow{static_cast<int>(q.integer(8)), static_cast<int>(q.integer(9)),
                            static_cast<std::uint8_t>(q.integer(10))};
        }
        if (!q.is_null(11)) s.paused_until = from_micros(q.integer(11));
        Statement cw = db_->cached(
            "SELECT account_id FROM policies_survivor_caseworkers WHERE case_code = ? "
            "ORDER BY account_id");
        cw.bind(1, code.str());
        while (cw.step()) s.caseworkers.emplace_back(cw.text(0));
        return s;
    } catch (const std::exception&) {
        throw policies::Error(ErrorCode::storage, "survivor",
                              "survivor: the stored record for " + code.str() + " cannot be read");
    }
}

void PolicyStore::write_survivor_locked(const Survivor& s, bool insert, Instant at) {
    Statement w = db_->prepare(
        insert ? "INSERT INTO policies_survivors(initials, language, time_zone, team, "
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
    if (db_->changes() != 1) {
        throw policies::Error(ErrorCode::not_found, "case_code",
                              "case_code: there is no survivor " + s.case_code.str());
    }
    Statement del = db_->prepare("DELETE FROM policies_survivor_caseworkers WHERE case_code = ?");
    del.bind(1, s.case_code.str()).run();
    Statement add = db_->prepare(
        "INSERT INTO policies_survivor_caseworkers(case_code, account_id) "
        "VALUES (?, ?) ON CONFLICT DO NOTHING");
    for (const AccountId& a : s.caseworkers) {
        add.bind(1, s.case_code.str()).bind(2, a.str()).run();
        add.reset();
    }
}

Survivor PolicyStore::enrol_survivor(Survivor s, const Actor& actor, Instant now) {
    return locked([&] {
        s.validate();
        for (int attempt = 0; attempt < 20; ++attempt) {
            s.case_code = CaseCode::generate();
            if (load_survivor_locked(s.case_code)) continue;
            Transaction tx(*db_);
            lock_audit_chain_locked();
            write_survivor_locked(s, true, now);
            append_audit_locked(actor.account.str(), "survivor.enrol", s.case_code.str(), "", "",
                                now);
            tx.commit();
            return s;
        }
        throw policies::Error(ErrorCode::conflict, "case_code",
                              "case_code: no free case code was found");
    });
}

void PolicyStore::create_survivor(const Survivor& s, const Actor& actor, Instant now) {
    locked([&] {
        s.validate();
        Transaction tx(*db_);
        lock_audit_chain_locked();
        if (load_survivor_locked(s.case_code)) {
            throw policies::Error(
                ErrorCode::conflict, "case_code",
                "case_code: a survivor with case code " + s.case_code.str() + " exists");
        }
        write_survivor_locked(s, true, now);
        append_audit_locked(actor.account.str(), "survivor.create", s.case_code.str(), "", "", now);
        tx.commit();
    });
}

void PolicyStore::update_survivor(const Survivor& s, const Actor& actor, Instant now) {
    locked([&] {
        s.validate();
        Transaction tx(*db_);
        lock_audit_chain_locked();
        auto old = load_survivor_locked(s.case_code);
        if (!old) {
            throw policies::Error(ErrorCode::not_found, "case_code",
                                  "case_code: there is no survivor " + s.case_code.str());
        }
        if (old->flags.duress_lock && !s.flags.duress_lock && actor.role != Role::caseworker) {
            detail::refused("survivor.flags.duress_lock",
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
        note(old->flags.never_confirm_client != s.flags.never_confirm_client,
             "never_confirm_client");
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
            append_audit_locked(actor.account.str(), "survivor.never_confirm_client",
                                s.case_code.str(), s.flags.never_confirm_client ? "set" : "cleared",
                                "", now);
        }
        // Her check-in windows are local times: a corrected zone moves every active plan's next
        // slot to the new clock.
        if (old->time_zone != s.time_zone) {
            reschedule_case_locked(s.case_code, now, old->time_zone);
        }
        tx.commit();
    });
}

std::optional<Survivor> PolicyStore::find_survivor(const CaseCode& code) const {
    return locked([&] { return load_survivor_locked(code); });
}

void PolicyStore::raise_duress(const CaseCode& code, const std::string& actor, Instant now) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement w = db_->prepare(
            "UPDATE policies_survivors SET duress_lock = 1, updated_at = ? WHERE case_code = ?");
        w.bind(1, to_micros(now)).bind(2, code.str()).run();
        if (db_->changes() != 1) {
            throw policies::Error(ErrorCode::not_found, "case_code",
                                  "case_code: there is no survivor " + code.str());
        }
        append_audit_locked(actor, "duress.raised", code.str(), "", "", now);
        tx.commit();
    });
}

void PolicyStore::clear_duress(const CaseCode& code, const Actor& actor, Instant now) {
    locked([&] {
        if (actor.role != Role::caseworker) {
            detail::refused("survivor.flags.duress_lock",
                            "only a caseworker who has checked her safety may clear a duress lock");
        }
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement w = db_->prepare(
            "UPDATE policies_survivors SET duress_lock = 0, updated_at = ? WHERE case_code = ?");
        w.bind(1, to_micros(now)).bind(2, code.str()).run();
        if (db_->changes() != 1) {
            throw policies::Error(ErrorCode::not_found, "case_code",
                                  "case_code: there is no survivor " + code.str());
        }
        append_audit_locked(actor.account.str(), "duress.cleared", code.str(), "", "", now);
        tx.commit();
    });
}

void PolicyStore::set_paused(const CaseCode& code, bool paused, const Actor& actor, Instant now) {
    locked([&] {
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement w = db_->prepare(
            "UPDATE policies_survivors SET paused = ?, paused_until = NULL, updated_at = ? "
            "WHERE case_code = ?");
        w.bind(1, std::int64_t{paused}).bind(2, to_micros(now)).bind(3, code.str()).run();
        if (db_->changes() != 1) {
            throw policies::Error(ErrorCode::not_found, "case_code",
                                  "case_code: there is no survivor " + code.str());
        }
        append_audit_locked(actor.account.str(), paused ? "survivor.pause" : "survivor.resume",
                            code.str(), "", "", now);
        tx.commit();
    });
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
    return locked([&] {
        Decision d = decide_locked(code, channel, address_ref, purpose, now, window);
        Transaction tx(*db_);
        append_audit_locked(actor, std::string("decision.") + to_string(purpose), code.str(),
                            d.allowed ? "allow" : "deny",
                            std::string(to_string(d.reason)) + ":" + channel.str(), now);
        tx.commit();
        return d;
    });
}

}  // namespace ariadne::storage
