#include "ariadne/services/callbacks.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/address_book.h"
#include "ariadne/storage/checkin_history.h"
#include "ariadne/storage/shared_transaction.h"
#include "ariadne/storage/staff_roles.h"
#include "policy_storage.h"

namespace ariadne::gateway {

namespace {

using policies::Instant;
using storage::CallbackTaskRow;

// The same sentence for every reason: whoever holds her phone learns nothing from it.
const char* kNeutral = "We cannot arrange a call at the moment. You can still write to us here.";
const char* kNoTask = "No open call-back task has that task_id.";
const char* kNotAssigned =
    "Only a caseworker assigned to her case may reveal her number or settle "
    "her call-back task.";
const char* kNoNumber =
    "No number of hers is on file for calls: record her voice_callback consent for replies "
    "with her number (ariadne admin consent-give --address-stdin), or verify her SMS number.";
constexpr const char* kWhat = "call-back task tables";

std::int64_t to_ms(Instant t) { return policies::unix_ms(t); }
Instant from_ms(std::int64_t ms) { return Instant(std::chrono::milliseconds(ms)); }

policies::ChannelRef voice() {
    return policies::ChannelRef{policies::ChannelKind::voice_callback, {}};
}

/// Reasons she may be told: what she can change herself. Every other refusal (a duress lock
/// above all) is `unavailable` to her.
bool consent_reason(const std::string& reason) {
    return reason == "no_consent" || reason == "consent_withdrawn" ||
           reason == "address_mismatch" || reason == "no_number";
}

std::vector<storage::CallbackWindow> stored_windows(const std::vector<CallbackWindow>& windows) {
    std::vector<storage::CallbackWindow> out;
    for (const auto& w : windows) out.push_back({w.from_ms, w.to_ms});
    return out;
}

bool assigned(const policies::Survivor& survivor, const std::string& caseworker) {
    return std::any_of(survivor.caseworkers.begin(), survivor.caseworkers.end(),
                       [&](const policies::AccountId& id) { return id.str() == caseworker; });
}

std::vector<std::string> caseworkers_of(const policies::Survivor& survivor) {
    std::vector<std::string> out;
    for (const auto& id : survivor.caseworkers) out.push_back(id.str());
    return out;
}

/// The local day of a check-in slot from its key "<plan>:<YYYY-MM-DD>".
std::optional<std::chrono::local_days> slot_day(const std::string& key) {
    auto colon = key.find(':');
    if (colon == std::string::npos || key.size() - colon - 1 != 10) return std::nullopt;
    const char* p = key.data() + colon + 1;
    int y = 0, m = 0, d = 0;
    if (std::from_chars(p, p + 4, y).ec != std::errc() ||
        std::from_chars(p + 5, p + 7, m).ec != std::errc() ||
        std::from_chars(p + 8, p + 10, d).ec != std::errc()) {
        return std::nullopt;
    }
    std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(m)),
                                    std::chrono::day(unsigned(d))};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::local_days(ymd);
}

}  // namespace

CallbackBoard::CallbackBoard(policies::PolicyStore& store, const ServerKey& key, AlertBoard& alerts)
    : store_(store), key_(key), alerts_(alerts), tasks_(store) {}

void CallbackBoard::set_listener(Listener listener) { listener_ = std::move(listener); }

std::optional<std::string> CallbackBoard::number_of(const policies::CaseCode& code) const {
    auto history = store_.consent_history(code);
    for (auto purpose : {policies::Purpose::replies, policies::Purpose::check_ins}) {
        const auto* consent =
            policies::latest_consent(history, code, voice(), purpose, policies::now_utc());
        if (!consent || consent->action != policies::ConsentAction::given ||
            consent->address_ref.empty()) {
            continue;
        }
        auto sealed = policy_storage(kWhat, [&] {
            return storage::AddressBook(store_).sealed_address(consent->address_ref);
        });
        if (!sealed) continue;
        auto plain = key_.open("address:" + sealed->address_ref, sealed->sealed);
        auto v = plain.view();
        std::string text(reinterpret_cast<const char*>(v.data()), v.size());
        auto normal = normalize_phone_number(text);
        crypto::wipe(text.data(), text.size());
        if (normal) return normal;
    }
    if (auto sms = verified_sms_number(store_, key_, code)) return std::move(sms->number);
    return std::nullopt;
}

bool CallbackBoard::has_number(const policies::CaseCode& code) const {
    auto number = number_of(code);
    if (!number) return false;
    crypto::wipe(number->data(), number->size());
    return true;
}

std::optional<Instant> CallbackBoard::quiet_until(const policies::Survivor& survivor,
                                                  Instant at) const {
    const auto policy = store_.org_policy();
    const policies::LocalWindow quiet =
        survivor.quiet_hours ? *survivor.quiet_hours : policy.quiet_hours;
    auto zone = policies::TimeZone::load(survivor.time_zone);
    auto inside = [&](Instant t) {
        auto local = zone->to_local(t);
        return quiet.contains(static_cast<int>(local.time.count() / 60),
                              local.weekday.c_encoding());
    };
    if (!inside(at)) return std::nullopt;
    Instant t = std::chrono::floor<std::chrono::minutes>(at);
    for (int minute = 0; minute < 8 * 24 * 60; ++minute) {
        t += std::chrono::minutes(1);
        if (!inside(t)) return t;
    }
    return std::nullopt;  // quiet all week: no time to point to
}

nlohmann::json CallbackBoard::describe(const CallbackTaskRow& task) const {
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : task.windows) windows.push_back({{"from", w.from_ms}, {"to", w.to_ms}});
    nlohmann::json attempts = nlohmann::json::array();
    for (const auto& a : task.attempts) {
        attempts.push_back({{"at", a.at_ms}, {"by", a.by}, {"outcome", a.outcome}});
    }
    nlohmann::json out = {{"task_id", task.id},
                          {"case_code", task.case_code},
                          {"requested_at", task.requested_at_ms},
                          {"channel", task.channel},
                          {"source", task.source},
                          {"windows", std::move(windows)},
                          {"state", task.state},
                          {"attempts", std::move(attempts)}};
    if (task.next_allowed_from_ms) out["next_allowed_from"] = *task.next_allowed_from_ms;
    if (!task.reason.empty()) out["reason"] = task.reason;
    policies::CaseCode code(task.case_code);
    if (auto s = store_.find_survivor(code)) {
        out["initials"] = s->initials.str();
        out["time_zone"] = s->time_zone;
    }
    if (auto account = find_case_account(store_, code)) out["account"] = *account;
    return out;
}

void CallbackBoard::tell(const CallbackTaskRow& task) const {
    if (!listener_) return;
    try {
        auto survivor = store_.find_survivor(policies::CaseCode(task.case_code));
        if (!survivor) return;
        listener_(describe(task), caseworkers_of(*survivor));
    } catch (const std::exception& e) {
        // Stored: the consoles' `callbacks` still lists it.
        spdlog::warn("a call-back task could not be pushed: {}", e.what());
    }
}

CallbackAnswer CallbackBoard::request(const Account& survivor, const std::string& channel,
                                      const std::vector<CallbackWindow>& windows, Instant now) {
    auto link = find_survivor_case(store_, survivor.id);
    // Her duress login asks nothing of anyone: whoever holds the phone sees the same answer.
    if (!link || link->duress_account) return CallbackAnswer::refused("unavailable", kNeutral);
    const policies::CaseCode& code = link->case_code;
    auto decision =
        store_.decide_and_record(code, voice(), "", policies::Purpose::replies, now, survivor.id);
    std::string reason;
    if (!decision.allowed && decision.reason != policies::ReasonCode::quiet_hours) {
        reason = policies::to_string(decision.reason);
    }
    auto record = store_.find_survivor(code);
    if (reason.empty() && !record) reason = "unknown_survivor";
    if (reason.empty() && !has_number(code)) reason = "no_number";

    CallbackTaskRow task;
    task.case_code = code.str();
    task.source = "request";
    task.channel = channel;
    task.requested_at_ms = to_ms(now);
    task.windows = stored_windows(windows);
    task.updated_at_ms = to_ms(now);
    bool replaced = false;
    if (reason.empty()) {
        auto start = std::max(now, from_ms(windows.front().from_ms));
        if (auto next = quiet_until(*record, start)) task.next_allowed_from_ms = to_ms(*next);
    }
    policy_storage(kWhat, [&] {
        storage::SharedTransaction tx(store_);
        store_.lock_audit_chain();
        if (!reason.empty()) {
            task.state = "refused";
            task.reason = reason;
            task.id = tasks_.insert(task);
        } else if (auto open = tasks_.find_open(task.case_code)) {
            // One open task per case: her new request replaces when she can talk.
            replaced = true;
            task.id = open->id;
            task.attempts = open->attempts;
            task.state = "open";
            tasks_.update(task);
        } else {
            task.state = "open";
            task.id = tasks_.insert(task);
        }
        store_.append_audit(survivor.id, "callback.requested", code.str(),
                            reason.empty() ? (replaced ? "replaced" : "open") : "refused:" + reason,
                            channel, now);
        tx.commit();
    });
    tell(task);
    if (!reason.empty()) {
        return CallbackAnswer::refused(consent_reason(reason) ? reason : "unavailable", kNeutral);
    }
    nlohmann::json answer = {
        {"task_id", task.id},
        {"state", task.state},
        {"window", {{"from", task.windows.front().from_ms}, {"to", task.windows.front().to_ms}}},
        {"replaced", replaced}};
    if (task.next_allowed_from_ms) answer["next_allowed_from"] = *task.next_allowed_from_ms;
    return CallbackAnswer::ok({{"callback", std::move(answer)}});
}

std::vector<nlohmann::json> CallbackBoard::open_tasks_for(const std::string& caseworker) const {
    auto guard = store_.lock();
    auto rows = policy_storage(kWhat, [&] { return tasks_.open_tasks(); });
    std::vector<std::pair<std::int64_t, nlohmann::json>> mine;
    for (const auto& row : rows) {
        auto survivor = store_.find_survivor(policies::CaseCode(row.case_code));
        if (!survivor || !assigned(*survivor, caseworker)) continue;
        const std::int64_t first = row.windows.empty() ? 0 : row.windows.front().from_ms;
        mine.emplace_back(first, describe(row));
    }
    std::stable_sort(mine.begin(), mine.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<nlohmann::json> out;
    for (auto& [first, task] : mine) out.push_back(std::move(task));
    return out;
}

namespace {

/// Who may act on a task: answers forbidden / not_found, or nothing when `caseworker` is a
/// caseworker (not an administrator) assigned to the case of an open task.
std::optional<CallbackAnswer> refuse_actor(const policies::PolicyStore& store,
                                           const std::optional<CallbackTaskRow>& task,
                                           const std::string& caseworker) {
    auto role = policy_storage(kWhat, [&] { return storage::StaffRoles(store).role(caseworker); });
    if (role == "admin") {
        return CallbackAnswer::error(CallbackAnswer::Status::forbidden,
                                     "An administrator's account cannot act on call-back tasks; "
                                     "only a caseworker assigned to her case can.");
    }
    if (!task) return CallbackAnswer::error(CallbackAnswer::Status::not_found, kNoTask);
    auto survivor = store.find_survivor(policies::CaseCode(task->case_code));
    if (!survivor || !assigned(*survivor, caseworker)) {
        return CallbackAnswer::error(CallbackAnswer::Status::forbidden, kNotAssigned);
    }
    if (!storage::CallbackTasks::is_open_state(task->state)) {
        return CallbackAnswer::error(CallbackAnswer::Status::not_found, kNoTask);
    }
    return std::nullopt;
}

}  // namespace

CallbackAnswer CallbackBoard::reveal(const std::string& caseworker, std::int64_t task_id,
                                     const std::string& reason, Instant now) {
    auto task = policy_storage(kWhat, [&] { return tasks_.find(task_id); });
    if (auto refused = refuse_actor(store_, task, caseworker)) return *refused;
    const policies::CaseCode code(task->case_code);
    // A check-in by call-back was consented to as a check-in; her own request as replies.
    const auto purpose =
        task->source == "checkin" ? policies::Purpose::check_ins : policies::Purpose::replies;
    auto decision = store_.decide_and_record(code, voice(), "", purpose, now, caseworker);
    std::string denied;
    std::string sentence;
    std::optional<std::string> number;
    if (!decision.allowed) {
        denied = policies::to_string(decision.reason);
        sentence = decision.sentence;
    } else if (!(number = number_of(code))) {
        denied = "no_number";
        sentence = kNoNumber;
    }
    if (!denied.empty()) {
        // Her consent or number is gone: nobody is to call her on this task any more.
        if (consent_reason(denied)) {
            policy_storage(kWhat, [&] {
                storage::SharedTransaction tx(store_);
                store_.lock_audit_chain();
                task->state = "cancelled";
                task->reason = denied;
                task->updated_at_ms = to_ms(now);
                tasks_.update(*task);
                store_.append_audit(caseworker, "callback.cancelled", code.str(),
                                    "task_" + std::to_string(task_id), denied, now);
                tx.commit();
            });
            tell(*task);
        }
        return CallbackAnswer::refused(denied, sentence);
    }
    try {
        policy_storage(kWhat, [&] {
            storage::SharedTransaction tx(store_);
            store_.lock_audit_chain();
            store_.append_audit(caseworker, "callback.revealed", code.str(),
                                "task_" + std::to_string(task_id), reason, now);
            tx.commit();
        });
    } catch (...) {
        crypto::wipe(number->data(), number->size());
        throw;  // not audited: not revealed
    }
    nlohmann::json fields = {{"task_id", task_id}, {"number", *number}};
    crypto::wipe(number->data(), number->size());
    return CallbackAnswer::ok(std::move(fields));
}

CallbackAnswer CallbackBoard::outcome(const std::string& caseworker, std::int64_t task_id,
                                      const std::string& outcome,
                                      const std::vector<CallbackWindow>& windows, Instant now) {
    std::optional<CallbackTaskRow> task;
    std::optional<CallbackAnswer> refused;
    policy_storage(kWhat, [&] {
        storage::SharedTransaction tx(store_);
        store_.lock_audit_chain();
        // Read under the chain's lock: two consoles settling one task at once count both.
        task = tasks_.find(task_id);
        refused = refuse_actor(store_, task, caseworker);
        if (refused) return;
        storage::CallbackAttempt attempt{to_ms(now), caseworker, outcome};
        tasks_.add_attempt(task_id, attempt);
        task->attempts.push_back(attempt);
        task->state = outcome;
        task->updated_at_ms = to_ms(now);
        if (outcome == "rescheduled") {
            task->windows = stored_windows(windows);
            task->next_allowed_from_ms.reset();
            if (auto survivor = store_.find_survivor(policies::CaseCode(task->case_code))) {
                auto start = std::max(now, from_ms(windows.front().from_ms));
                if (auto next = quiet_until(*survivor, start)) {
                    task->next_allowed_from_ms = to_ms(*next);
                }
            }
        }
        tasks_.update(*task);
        store_.append_audit(caseworker, "callback.outcome", task->case_code, outcome,
                            "task_" + std::to_string(task_id), now);
        tx.commit();
    });
    if (refused) return *refused;
    const policies::CaseCode code(task->case_code);
    const auto missed = std::count_if(task->attempts.begin(), task->attempts.end(),
                                      [](const auto& a) { return a.outcome == "not_reached"; });
    if (outcome == "not_reached" && missed >= 2 && policy_storage(kWhat, [&] {
            return storage::CheckinHistory(store_).alerts_caseworkers(code);
        })) {
        // She chose to be looked after when a check-in goes unanswered: two calls that did
        // not reach her are the same kind of silence.
        alerts_.raise(code, AlertKind::callback_not_reached, now);
    }
    tell(*task);
    return CallbackAnswer::ok({{"callback", describe(*task)}});
}

bool CallbackBoard::open_for_checkin(const policies::CheckinSend& send, Instant now) {
    const std::string code = send.case_code.str();
    if (policy_storage(kWhat, [&] { return tasks_.find_open(code); })) return true;
    auto survivor = store_.find_survivor(send.case_code);
    auto plan = store_.find_checkin_plan(send.plan_id);
    auto day = slot_day(send.idempotency_key);
    if (!survivor || !plan || !day || !has_number(send.case_code)) return false;
    auto zone = policies::TimeZone::load(survivor->time_zone);
    auto at = [&](int minute) {
        return to_ms(zone->from_local(*day + std::chrono::minutes(minute)));
    };
    CallbackTaskRow task;
    task.case_code = code;
    task.source = "checkin";
    task.channel = "checkin";
    task.requested_at_ms = to_ms(now);
    task.windows = {{at(plan->window.start_minute), at(plan->window.end_minute)}};
    task.state = "open";
    task.updated_at_ms = to_ms(now);
    auto start = std::max(now, from_ms(task.windows.front().from_ms));
    if (auto next = quiet_until(*survivor, start)) task.next_allowed_from_ms = to_ms(*next);
    policy_storage(kWhat, [&] {
        storage::SharedTransaction tx(store_);
        store_.lock_audit_chain();
        task.id = tasks_.insert(task);
        store_.append_audit("system", "callback.requested", code, "open", "checkin", now);
        tx.commit();
    });
    tell(task);
    return true;
}

}  // namespace ariadne::gateway
