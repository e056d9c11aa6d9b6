// Consent records, the organisation policy and its texts: what the decision reads.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "ariadne/policies/error.h"
#include "ariadne/policies/templates.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sqlite.h"
#include "policy_store_detail.h"

namespace ariadne::storage {

using namespace policies;

namespace {

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
        throw policies::Error(
            ErrorCode::storage, "org_policy",
            "org_policy: the stored organisation policy cannot be read; set it again");
    }
}

}  // namespace

// ---------------------------------------------------------------- consent

ConsentRecord PolicyStore::record_consent(ConsentRecord r, const Actor& actor) {
    return locked([&] {
        r.recorded_by = actor.account;
        r.channel = ChannelRef::make(r.channel.kind, r.channel.provider, "consent.channel");
        r.validate();
        Transaction tx(*db_);
        lock_audit_chain_locked();
        auto survivor = load_survivor_locked(r.case_code);
        if (!survivor) {
            throw policies::Error(ErrorCode::not_found, "consent.case_code",
                                  "consent.case_code: there is no survivor " + r.case_code.str());
        }
        OrgPolicy policy = org_policy_locked();
        if (r.channel.kind == ChannelKind::messenger &&
            !policy.accepts_messenger(r.channel.provider)) {
            detail::refused(
                "consent.channel",
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
            detail::refused("consent.recorded_by",
                            std::string("the organisation policy lets only ") +
                                recorders_name(policy.consent_recorders) + " record consent");
        }
        Statement w = db_->prepare(
            "INSERT INTO policies_consent(case_code, channel_kind, provider, address_ref, purpose, "
            "action, evidence_ref, form_language, recorded_by, recorded_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING version");
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
        w.bind(9, r.recorded_by.str()).bind(10, to_micros(r.recorded_at));
        r.version = w.step() ? w.integer(0) : 0;
        w.run();
        append_audit_locked(actor.account.str(),
                            r.action == ConsentAction::given ? "consent.give" : "consent.withdraw",
                            r.case_code.str(), "",
                            std::string(to_string(r.purpose)) + ":" + r.channel.str(),
                            r.recorded_at);
        tx.commit();
        return r;
    });
}

std::vector<ConsentRecord> PolicyStore::consent_history_locked(const CaseCode& code) const {
    Statement q = db_->cached(
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
            throw policies::Error(
                ErrorCode::storage, "consent",
                "consent: a stored consent record for " + code.str() + " cannot be read");
        }
        try {
            ConsentRecord r{.version = q.integer(0),
                            .case_code = code,
                            .channel = ChannelRef{*kind, q.text(2)},
                            .address_ref = q.text(3),
                            .purpose = *purpose,
                            .action = *action,
                            .evidence_ref = q.text(6),
                            .recorded_by = AccountId(q.text(8)),
                            .recorded_at = from_micros(q.integer(9))};
            if (!q.is_null(7)) r.form_language = LanguageTag(q.text(7));
            out.push_back(std::move(r));
        } catch (const policies::Error&) {
            throw policies::Error(
                ErrorCode::storage, "consent",
                "consent: a stored consent record for " + code.str() + " cannot be read");
        }
    }
    return out;
}

std::vector<ConsentRecord> PolicyStore::consent_history(const CaseCode& code) const {
    return locked([&] { return consent_history_locked(code); });
}

// ---------------------------------------------------------------- organisation policy

OrgPolicy PolicyStore::org_policy_locked() const {
    Statement q = db_->cached("SELECT policy_json FROM policies_org WHERE id = 1");
    if (!q.step()) return OrgPolicy{};
    return policy_from_json(q.text(0));
}

OrgPolicy PolicyStore::org_policy() const {
    return locked([&] { return org_policy_locked(); });
}

void PolicyStore::set_org_policy(const OrgPolicy& p, const Actor& actor, Instant now) {
    locked([&] {
        if (actor.role != Role::admin)
            detail::refused("org_policy", "only an administrator may change it");
        p.validate();
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement w = db_->prepare(
            "INSERT INTO policies_org(id, policy_json, updated_at) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET policy_json = excluded.policy_json, "
            "updated_at = excluded.updated_at");
        OrgPolicy old;
        try {
            old = org_policy_locked();
        } catch (const policies::Error&) {
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
                append_audit_locked(actor.account.str(), "policy.messenger_dropped", "", "",
                                    m.provider, now);
            }
        }
        tx.commit();
    });
}

// ---------------------------------------------------------------- templates

void PolicyStore::set_template(const std::string& template_id, const LanguageTag& language,
                               const std::string& text, const Actor& actor, Instant now) {
    locked([&] {
        if (actor.role != Role::admin)
            detail::refused("template", "only an administrator may change templates");
        validate_template(template_id, text, org_policy_locked().organisation_names);
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement w = db_->prepare(
            "INSERT INTO policies_templates(template_id, language, text) VALUES (?,?,?) "
            "ON CONFLICT(template_id, language) DO UPDATE SET text = excluded.text");
        w.bind(1, template_id).bind(2, language.primary()).bind(3, text).run();
        append_audit_locked(actor.account.str(), "template.set", "", "",
                            template_id + ":" + language.primary(), now);
        tx.commit();
    });
}

bool PolicyStore::clear_template(const std::string& template_id, const LanguageTag& language,
                                 const Actor& actor, Instant now) {
    return locked([&] {
        if (actor.role != Role::admin)
            detail::refused("template", "only an administrator may change templates");
        Transaction tx(*db_);
        lock_audit_chain_locked();
        Statement d =
            db_->prepare("DELETE FROM policies_templates WHERE template_id = ? AND language = ?");
        d.bind(1, template_id).bind(2, language.primary()).run();
        const bool removed = db_->changes() > 0;
        if (removed) {
            append_audit_locked(actor.account.str(), "template.clear", "", "",
                                template_id + ":" + language.primary(), now);
        }
        tx.commit();
        return removed;
    });
}

std::string PolicyStore::template_text(const std::string& template_id,
                                       const LanguageTag& language) const {
    return locked([&] {
        // An unreadable policy: only the built-in texts, which name no one, are used.
        std::optional<std::vector<std::string>> names;
        try {
            names = org_policy_locked().organisation_names;
        } catch (const policies::Error&) {
        }
        for (const std::string& lang : {language.primary(), std::string("en")}) {
            Statement q = db_->prepare(
                "SELECT text FROM policies_templates WHERE template_id = ? AND language = ?");
            q.bind(1, template_id).bind(2, lang);
            if (q.step() && names && !organisation_name_in(q.text(0), *names)) return q.text(0);
            if (auto builtin = builtin_template(template_id, lang)) return *builtin;
        }
        throw policies::Error(ErrorCode::not_found, "template_id",
                              "template_id: no template '" + template_id + "' exists in '" +
                                  language.str() + "' or in English");
    });
}

std::vector<PolicyStore::TemplateText> PolicyStore::org_templates() const {
    return locked([&] {
        Statement q = db_->prepare(
            "SELECT template_id, language, text FROM policies_templates "
            "ORDER BY template_id, language");
        std::vector<TemplateText> out;
        while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2)});
        return out;
    });
}

}  // namespace ariadne::storage
