// The admin HTTP API's handlers for the organisation: its policy, check-in plans, duress
// words, consent records and the audit chain. Each parses its body or query, calls the use
// case (operations.h, services) and renders the answer.
#include <algorithm>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "ariadne/admin/operations.h"
#include "ariadne/policies/decision.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/services/org_settings.h"
#include "http_api.h"
#include "policy_text.h"

namespace ariadne::gateway {

using nlohmann::json;

/// "by": the caseworker in whose name a plan is changed. A caseworker's own token may
/// omit it (herself) and may name only herself; an admin must name one.
std::variant<policies::Actor, HttpResponse> AdminApi::plan_actor(const json& body,
                                                                 const policies::Actor& who) {
    auto it = body.find("by");
    if (it != body.end() && !it->is_string()) {
        return error_response(400, "invalid_field", "by: must be a caseworker account id.", "by");
    }
    std::string by = it != body.end()                         ? it->get<std::string>()
                     : who.role == policies::Role::caseworker ? who.account.str()
                                                              : std::string();
    if (by.empty()) {
        return error_response(400, "invalid_field",
                              "by: name the caseworker responsible for the plan.", "by");
    }
    if (who.role == policies::Role::caseworker && by != who.account.str()) {
        return error_response(403, "forbidden", "by: a caseworker may act only in her own name.",
                              "by");
    }
    auto account = is_account_id(by) ? store_.find_account(by) : std::nullopt;
    if (!account || account->role != Role::caseworker) {
        return error_response(404, "not_found", "by: no caseworker account has this id.", "by");
    }
    return policies::Actor{policies::AccountId(by, "by"), policies::Role::caseworker};
}

/// POST /v1/admin/checkin-plan {"case_code","by","every_days","window","channels",
/// "grace_minutes","alert"}: like `ariadne admin checkin-plan-set`.
HttpResponse AdminApi::checkin_plan(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"case_code", "by", "every_days", "window", "channels",
                                       "grace_minutes", "alert"})) {
        return *bad;
    }
    auto actor = plan_actor(body, who);
    if (auto* bad = std::get_if<HttpResponse>(&actor)) return *bad;
    CheckinPlanArgs args;
    auto field = [&](const char* name, auto& out) -> std::optional<HttpResponse> {
        if (!body.contains(name)) return std::nullopt;
        using T = std::decay_t<decltype(out)>;
        try {
            if constexpr (std::is_same_v<T, std::optional<int>>) {
                out = body[name].template get<int>();
            } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
                out = body[name].template get<std::string>();
            } else {
                out = body[name].template get<T>();
            }
        } catch (const json::exception&) {
            return error_response(400, "invalid_field",
                                  std::string(name) + ": has the wrong type (see the admin guide).",
                                  name);
        }
        return std::nullopt;
    };
    if (!body.contains("case_code")) {
        return error_response(400, "invalid_field", "case_code: is required.", "case_code");
    }
    for (auto bad : {field("case_code", args.case_code), field("every_days", args.every_days),
                     field("window", args.window), field("channels", args.channels),
                     field("grace_minutes", args.grace_minutes), field("alert", args.alert)}) {
        if (bad) return *bad;
    }
    return HttpResponse::json(200, set_checkin_plan(store_, policies_, args,
                                                    std::get<policies::Actor>(actor), "case_code")
                                       .dump());
}

/// POST /v1/admin/checkin-plan/status {"plan_id","status","by"}: pause (paused), resume
/// (active) or stop (stopped); like `ariadne admin checkin-plan-status`.
HttpResponse AdminApi::checkin_plan_status(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"plan_id", "status", "by"})) return *bad;
    auto actor = plan_actor(body, who);
    if (auto* bad = std::get_if<HttpResponse>(&actor)) return *bad;
    auto id = body.find("plan_id");
    if (id == body.end() || !id->is_number_integer() || id->get<std::int64_t>() <= 0) {
        return error_response(400, "invalid_field", "plan_id: must be a positive integer.",
                              "plan_id");
    }
    auto st = body.find("status");
    if (st == body.end() || !st->is_string()) {
        return error_response(400, "invalid_field", "status: must be active, paused or stopped.",
                              "status");
    }
    return HttpResponse::json(
        200, set_checkin_plan_status(policies_, id->get<std::int64_t>(), st->get<std::string>(),
                                     std::get<policies::Actor>(actor))
                 .dump());
}

/// GET /v1/admin/duress-words (admin): how many duress words are set (they cannot be
/// read back: only their digests are stored).
HttpResponse AdminApi::duress_words_count() {
    return HttpResponse::json(200, json({{"duress_words", duress_word_count(policies_)}}).dump());
}

/// PUT /v1/admin/duress-words {"words": ["phrase", ...]} (admin): replaces the
/// organisation's duress words ([] removes them all).
HttpResponse AdminApi::set_duress_words(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"words"})) return *bad;
    auto list = body.find("words");
    if (list == body.end() || !list->is_array()) {
        return error_response(400, "invalid_field", "words: must be a list of texts.", "words");
    }
    std::vector<std::string> phrases;
    for (std::size_t i = 0; i < list->size(); ++i) {
        if (!(*list)[i].is_string()) {
            std::string field = "duress_words[" + std::to_string(i) + "]";
            return error_response(400, "invalid_field", field + ": must be a text.", field);
        }
        phrases.push_back((*list)[i].get<std::string>());
    }
    auto now = clock_.now();
    std::size_t n = gateway::set_duress_words(policies_, key_, phrases, who, now);
    return HttpResponse::json(200, json({{"duress_words", n}}).dump());
}

HttpResponse AdminApi::set_policy(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    // A misspelt field would otherwise answer 200 and change nothing.
    if (auto bad = check_fields(
            body, {"quiet_hours", "retention_days", "ban", "unban", "consent_recorders",
                   "canned_replies", "organisation_names", "templates", "checkin_defaults",
                   "accept_messenger", "drop_messenger"})) {
        return *bad;
    }
    policies::OrgPolicy p = policies_.org_policy();
    PolicyChanges changes;
    if (body.contains("quiet_hours")) changes.quiet_hours = body["quiet_hours"].get<std::string>();
    if (body.contains("retention_days")) changes.retention_days = body["retention_days"].get<int>();
    if (body.contains("ban")) changes.ban = body["ban"].get<std::vector<std::string>>();
    if (body.contains("unban")) changes.unban = body["unban"].get<std::vector<std::string>>();
    if (body.contains("consent_recorders"))
        changes.consent_recorders = body["consent_recorders"].get<std::string>();
    if (body.contains("organisation_names")) {
        const json& names = body["organisation_names"];
        if (!names.is_array() ||
            !std::all_of(names.begin(), names.end(), [](const json& n) { return n.is_string(); })) {
            return error_response(400, "invalid_field",
                                  "organisation_names: must be a list of strings.",
                                  "organisation_names");
        }
        changes.organisation_names = names.get<std::vector<std::string>>();
    }
    std::vector<TemplateChange> templates;
    if (body.contains("templates")) {
        const json& list = body["templates"];
        if (!list.is_array()) {
            return error_response(
                400, "invalid_field",
                "templates: must be a list of {\"template\",\"language\",\"text\"}.", "templates");
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string at = "templates[" + std::to_string(i) + "]";
            const json& t = list[i];
            for (const char* name : {"template", "language", "text"}) {
                if (!t.is_object() || !t.contains(name) || !t[name].is_string()) {
                    return error_response(400, "invalid_field",
                                          at + "." + name + ": must be a string.", at + "." + name);
                }
            }
            if (t.size() != 3) {
                return error_response(400, "invalid_field",
                                      at + ": only template, language and text are allowed.", at);
            }
            templates.push_back(
                {template_id_of(t["template"].get<std::string>()),
                 policies::LanguageTag(t["language"].get<std::string>(), at + ".language"),
                 t["text"].get<std::string>()});
        }
    }
    if (body.contains("checkin_defaults")) {
        const json& d = body["checkin_defaults"];
        if (auto bad = check_fields(d, {"window", "every_days", "grace_minutes"})) {
            return error_response(400, "invalid_field",
                                  "checkin_defaults: an object with window, every_days and/or "
                                  "grace_minutes.",
                                  "checkin_defaults");
        }
        if (d.contains("window")) changes.checkin_window = d["window"].get<std::string>();
        if (d.contains("every_days")) changes.checkin_every_days = d["every_days"].get<int>();
        if (d.contains("grace_minutes"))
            changes.checkin_grace_minutes = d["grace_minutes"].get<int>();
    }
    if (body.contains("accept_messenger")) {
        const json& m = body["accept_messenger"];
        if (auto bad = check_fields(m, {"provider", "evidence"}); bad || !m.contains("provider")) {
            return error_response(400, "invalid_field",
                                  "accept_messenger: an object {\"provider\", \"evidence\"}.",
                                  "accept_messenger");
        }
        changes.accept_messenger = m["provider"].get<std::string>();
        changes.messenger_evidence = m.value("evidence", "");
    }
    if (body.contains("drop_messenger"))
        changes.drop_messenger = body["drop_messenger"].get<std::string>();
    std::optional<std::vector<CannedReply>> replies;
    if (body.contains("canned_replies")) replies = parse_canned_replies(body["canned_replies"]);
    apply_policy_changes(p, changes);
    auto now = policies::Instant(clock_.now());
    policies_.set_org_policy(p, who, now);
    if (replies) set_canned_replies(policies_, *replies, who, now);
    apply_template_changes(policies_, templates, who, now, "templates");
    return HttpResponse::json(200, policy_with_replies().dump());
}

json AdminApi::policy_with_replies() {
    json out = policy_json(policies_.org_policy());
    auto replies = canned_replies(policies_);
    out["canned_replies"] = canned_replies_json(replies);
    out["canned_replies_by_language"] = canned_replies_by_language_json(replies);
    out["templates"] = templates_json(policies_);
    return out;
}

/// GET /v1/admin/consent?case=CODE: her consent records (admin, or a caseworker assigned
/// to her).
HttpResponse AdminApi::consent_list(const HttpRequest& r, const policies::Actor& who) {
    std::string case_text;
    for (std::size_t pos = 0; pos < r.query.size();) {
        auto amp = r.query.find('&', pos);
        std::string kv =
            r.query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        if (kv.rfind("case=", 0) == 0) case_text = kv.substr(5);
        if (amp == std::string::npos) break;
        pos = amp + 1;
    }
    if (case_text.empty()) {
        return error_response(400, "invalid_field", "case: name her case code, e.g. ?case=K7Q-2F9.",
                              "case");
    }
    policies::CaseCode code(case_text, "case");
    if (who.role != policies::Role::admin) {
        auto survivor = policies_.find_survivor(code);
        if (survivor && std::find(survivor->caseworkers.begin(), survivor->caseworkers.end(),
                                  who.account) == survivor->caseworkers.end()) {
            return error_response(403, "forbidden",
                                  "case: only her assigned caseworkers and administrators may read "
                                  "her consent records.",
                                  "case");
        }
    }
    return HttpResponse::json(200, consent_records_json(policies_, code, "case").dump());
}

HttpResponse AdminApi::consent(const HttpRequest& r, const policies::Actor& who) {
    json body = json::parse(r.body);
    if (auto bad = check_fields(body, {"case_code", "channel", "purpose", "action", "evidence",
                                       "language", "address"})) {
        return *bad;
    }
    std::string action = body.value("action", "given");
    policies::ConsentAction a;
    if (action == "given")
        a = policies::ConsentAction::given;
    else if (action == "withdrawn")
        a = policies::ConsentAction::withdrawn;
    else
        return error_response(400, "invalid_field", "action: must be given or withdrawn.",
                              "action");
    if (body.contains("address")) {
        return error_response(
            400, "invalid_field",
            "address: addresses are recorded with the CLI (--address-stdin) only.", "address");
    }
    policies::ConsentRecord rec{
        .case_code = policies::CaseCode(body.at("case_code").get<std::string>(), "case_code"),
        .channel = parse_channel_arg(body.at("channel").get<std::string>(), "channel"),
        .recorded_by = who.account};
    auto p = policies::parse_purpose(body.at("purpose").get<std::string>());
    if (!p)
        return error_response(400, "invalid_field",
                              "purpose: must be replies, check_ins or case_updates.", "purpose");
    rec.purpose = *p;
    rec.action = a;
    rec.evidence_ref = body.value("evidence", "");
    if (body.contains("language"))
        rec.form_language = policies::LanguageTag(body["language"].get<std::string>(), "language");
    rec.recorded_at = clock_.now();
    auto stored = policies_.record_consent(rec, who);
    return HttpResponse::json(200, json({{"case_code", stored.case_code.str()},
                                         {"channel", stored.channel.str()},
                                         {"purpose", policies::to_string(stored.purpose)},
                                         {"action", policies::to_string(stored.action)},
                                         {"version", stored.version}})
                                       .dump());
}

HttpResponse AdminApi::verify() {
    auto v = policies_.verify_audit_chain();
    json out = {{"ok", v.ok},
                {"entries", v.entries},
                {"keyed_entries", v.keyed_entries},
                {"head", policies::to_hex(v.head)}};
    if (!v.ok) {
        out["first_bad_entry"] = v.first_bad_seq ? *v.first_bad_seq : 0;
        out["problem"] = v.problem;
    }
    return HttpResponse::json(200, out.dump());
}

HttpResponse AdminApi::audit(const HttpRequest& r) {
    std::uint64_t from = 1;
    std::size_t limit = 1000;
    std::string q = r.query;
    // Decimal digits only, within [min, max]: "-1" or "1e9" must not be read as a number.
    auto number = [](const std::string& v, std::uint64_t min,
                     std::uint64_t max) -> std::optional<std::uint64_t> {
        if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != v.npos)
            return std::nullopt;
        std::uint64_t n = std::stoull(v);
        if (n < min || n > max) return std::nullopt;
        return n;
    };
    for (std::size_t pos = 0; pos < q.size();) {
        auto amp = q.find('&', pos);
        std::string kv = q.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "from") {
            auto n = number(v, 1, 9223372036854775807ULL);
            if (!n) {
                return error_response(400, "invalid_field",
                                      "from: must be an audit sequence number, 1 or more.", "from");
            }
            from = *n;
        } else if (k == "limit") {
            auto n = number(v, 1, 10000);
            if (!n) {
                return error_response(400, "invalid_field", "limit: must be from 1 to 10000.",
                                      "limit");
            }
            limit = static_cast<std::size_t>(*n);
        } else if (!kv.empty()) {
            return error_response(400, "invalid_field",
                                  k.size() <= 32
                                      ? k + ": unknown query parameter; use from and limit."
                                      : "query: unknown query parameter; use from and limit.",
                                  k.size() <= 32 ? k : "query");
        }
        if (amp == std::string::npos) break;
        pos = amp + 1;
    }
    std::string out;
    for (const auto& e : policies_.audit_entries(from, limit)) {
        out += audit_entry_json(e).dump() + "\n";
    }
    HttpResponse res = HttpResponse::text(200, std::move(out));
    res.content_type = "application/x-ndjson";
    return res;
}

}  // namespace ariadne::gateway
