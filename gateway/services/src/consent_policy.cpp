#include "ariadne/services/consent_policy.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "ariadne/policies/error.h"
#include "ariadne/services/checkin_reach.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/case_links.h"
#include "ariadne/storage/checkin_history.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_storage.h"

namespace ariadne::gateway {

namespace {

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace

void link_survivor_case(policies::PolicyStore& store, const std::string& account_id,
                        const policies::CaseCode& code, bool duress_account) {
    try {
        storage::CaseLinks(store).link(account_id, code, duress_account);
    } catch (const storage::Error& e) {
        if (e.kind() != storage::ErrorKind::constraint) {
            throw policies::Error(
                policies::ErrorCode::storage, "",
                std::string("The survivor case link table cannot be used (") + e.what() + ")");
        }
        throw policies::Error(policies::ErrorCode::conflict, "account",
                              "account: this account is already linked "
                              "to a case.");
    }
}

std::optional<SurvivorCase> find_survivor_case(const policies::PolicyStore& store,
                                               const std::string& account_id) {
    return policy_storage("survivor case link table",
                          [&] { return storage::CaseLinks(store).find(account_id); });
}

std::optional<std::string> find_case_account(const policies::PolicyStore& store,
                                             const policies::CaseCode& code) {
    return policy_storage("survivor case link table",
                          [&] { return storage::CaseLinks(store).account_of(code); });
}

std::optional<policies::Survivor> find_survivor_record(const policies::PolicyStore& store,
                                                       const std::string& account_id) {
    auto c = find_survivor_case(store, account_id);
    if (!c) return std::nullopt;
    return store.find_survivor(c->case_code);
}

std::optional<std::string> duress_login_target(const policies::PolicyStore& store,
                                               const std::string& account) {
    try {
        auto c = find_survivor_case(store, account);
        if (c && c->duress_account) return find_case_account(store, c->case_code);
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

void set_handover_note(policies::PolicyStore& store, const ServerKey& key,
                       const policies::CaseCode& code, const std::string& note) {
    if (note.empty() || note.size() > 500) {
        throw policies::Error(policies::ErrorCode::invalid_field, "handover_note",
                              "handover_note: must be 1 to 500 bytes of text.");
    }
    for (unsigned char c : note) {
        if (c < 0x20 || c == 0x7F) {
            throw policies::Error(
                policies::ErrorCode::invalid_field, "handover_note",
                "handover_note: control characters (newlines, tabs, escapes) are not "
                "allowed.");
        }
    }
    crypto::Bytes plain(note.begin(), note.end());
    auto sealed = key.seal("handover:" + code.str(), plain);
    policy_storage("handover note table",
                   [&] { storage::CaseLinks(store).set_handover_note(code, sealed, now_utc()); });
}

std::optional<std::string> handover_note(const policies::PolicyStore& store, const ServerKey& key,
                                         const policies::CaseCode& code) {
    auto sealed = policy_storage("handover note table",
                                 [&] { return storage::CaseLinks(store).handover_note(code); });
    if (!sealed) return std::nullopt;
    auto plain = key.open("handover:" + code.str(), *sealed);
    auto view = plain.view();
    return std::string(reinterpret_cast<const char*>(view.data()), view.size());
}

void set_new_device_notice(policies::PolicyStore& store, const policies::CaseCode& code,
                           bool notify, const std::string& actor, policies::Instant at) {
    auto policy_guard = store.lock();
    if (!store.find_survivor(code)) {
        throw policies::Error(policies::ErrorCode::not_found, "case",
                              "case: no survivor has this case code.");
    }
    try {
        // The preference and its audit entry together, or neither.
        storage::SharedTransaction tx(store);
        storage::CaseLinks(store).set_new_device_notice(code, notify);
        store.append_audit(actor, "survivor.new_device_notice", code.str(), notify ? "on" : "off",
                           "", at);
        tx.commit();
    } catch (const storage::Error& e) {
        throw policies::Error(policies::ErrorCode::storage, "",
                              std::string("The preference cannot be stored (") + e.what() + ")");
    }
}

bool new_device_notice(const policies::PolicyStore& store, const policies::CaseCode& code) {
    return policy_storage("new-device notice table",
                          [&] { return storage::CaseLinks(store).new_device_notice(code); });
}

void set_caseworker_initials(policies::PolicyStore& store, const std::string& account_id,
                             const std::string& initials) {
    policies::Initials valid(initials, "initials");
    policy_storage("caseworker initials table",
                   [&] { storage::CaseLinks(store).set_caseworker_initials(account_id, valid); });
}

std::optional<std::string> caseworker_initials(const policies::PolicyStore& store,
                                               const std::string& account_id) {
    return policy_storage("caseworker initials table", [&] {
        return storage::CaseLinks(store).caseworker_initials(account_id);
    });
}

ConsentPolicy::ConsentPolicy(
    const Store& store, policies::PolicyStore& policies, const ServerKey& key,
    std::function<void(const policies::CaseCode&)> on_inbound,
    std::function<void(const policies::CaseCode&)> on_duress,
    std::function<void(const Account&, const policies::CaseCode&)> on_new_device)
    : assignment_(store),
      store_(store),
      policies_(policies),
      key_(key),
      on_inbound_(std::move(on_inbound)),
      on_duress_(std::move(on_duress)),
      on_new_device_(std::move(on_new_device)),
      links_(policies) {}

policies::ChannelKind ConsentPolicy::thread_channel(const Account& survivor,
                                                    const policies::CaseCode& code) const {
    // A reply reaches every device of hers; it is decided as the weakest channel it reaches.
    // A device an adapter runs for her (her edge device: the page's history, and SMS where
    // that adapter runs and her case has a number) stands for the channel it declared;
    // without one only her app receives the reply.
    for (auto device : store_.ready_devices(survivor.key)) {
        ExtensionRegistry::DeviceChannel channel;
        {
            std::lock_guard lock(device_channels_mu_);
            auto it = device_channels_.find(device);
            if (it == device_channels_.end()) continue;
            channel = it->second;
        }
        return channel(code);
    }
    return policies::ChannelKind::app;
}

void ConsentPolicy::set_device_channel(std::uint32_t device_id,
                                       ExtensionRegistry::DeviceChannel channel) {
    std::lock_guard lock(device_channels_mu_);
    if (channel) {
        device_channels_[device_id] = std::move(channel);
    } else {
        device_channels_.erase(device_id);
    }
}

std::optional<policies::ChannelKind> ConsentPolicy::last_inbound_channel(
    const std::string& account) const {
    {
        std::lock_guard lock(last_channel_mu_);
        auto it = last_channel_.find(account);
        if (it != last_channel_.end()) return it->second;
    }
    auto kind = policy_storage("last inbound channel table",
                               [&] { return links_.last_inbound_channel(account); });
    if (kind) {
        std::lock_guard lock(last_channel_mu_);
        last_channel_.emplace(account, *kind);
    }
    return kind;
}

void ConsentPolicy::note_inbound_channel(const std::string& account,
                                         policies::ChannelKind kind) const {
    try {
        if (last_inbound_channel(account) == kind) return;  // the common case: no write
        links_.set_last_inbound_channel(account, kind);
        std::lock_guard lock(last_channel_mu_);
        last_channel_[account] = kind;
    } catch (const std::exception& e) {
        spdlog::warn("the channel of a survivor's message could not be recorded: {}", e.what());
    }
}

ConsentPolicy::~ConsentPolicy() = default;

std::optional<SurvivorCase> ConsentPolicy::survivor_case(const std::string& account_id) const {
    try {
        return links_.find(account_id);
    } catch (const storage::Error&) {
        throw policies::Error(policies::ErrorCode::storage, "gateway_survivor_cases",
                              "Cannot read the survivor case links.");
    }
}

SendDecision ConsentPolicy::decide(const Account& sender, std::uint32_t sender_device,
                                   const Account& recipient) const {
    return assignment_.decide(sender, sender_device, recipient);
}

SendDecision ConsentPolicy::decide_message(const Account& sender, std::uint32_t sender_device,
                                           const Account& recipient) const {
    using policies::ReasonCode;
    if (recipient.role == Role::survivor && sender.role != Role::survivor) {
        try {
            auto c = survivor_case(recipient.id);
            if (!c) {
                return SendDecision::deny_policy(
                    "unknown_survivor", policies::reason_sentence(ReasonCode::unknown_survivor));
            }
            auto d = policies_.decide_and_record(
                c->case_code, policies::ChannelRef::make(thread_channel(recipient, c->case_code)),
                "", policies::Purpose::replies, now_utc(), sender.id);
            if (d.allowed) return SendDecision::allow();
            return SendDecision::deny_policy(policies::to_string(d.reason), d.sentence);
        } catch (const std::exception&) {
            return SendDecision::deny_policy(
                "policy_unavailable", policies::reason_sentence(ReasonCode::policy_unavailable));
        }
    }
    // Her app (any device but the edge, which records the page or SMS itself).
    if (sender.role == Role::survivor && sender_device != kEdgeDevice) {
        note_inbound_channel(sender.id, policies::ChannelKind::app);
    }
    if (sender.role == Role::survivor && on_inbound_) {
        // Any message from her counts as a check-in response; never blocks her.
        try {
            // The store's read pool, not the policy connection: under load the policy
            // thread's transaction may wait for the write lock while holding that
            // connection, and her send must not wait behind it.
            auto link = store_.survivor_case_link(sender.id);
            if (link && !link->second) on_inbound_(policies::CaseCode(link->first));
        } catch (const std::exception&) {
        }
    }
    return SendDecision::allow();
}

nlohmann::json ConsentPolicy::contact_details(const Account& viewer, const Account& other) const {
    nlohmann::json out = nlohmann::json::object();
    if (viewer.role != Role::caseworker || other.role != Role::survivor) return out;
    try {
        auto c = find_survivor_case(policies_, other.id);
        if (!c) return out;
        out["case_code"] = c->case_code.str();
        auto s = policies_.find_survivor(c->case_code);
        if (s) {
            out["initials"] = s->initials.str();
            // Her language, so the console can offer replies written in it.
            out["language"] = s->language.str();
            if (s->flags.duress_lock) out["duress"] = true;
            if (s->flags.never_confirm_client) out["never_confirm_client"] = true;
            out["status"] = policies::to_string(s->status);
        }
        // `channel`: where her last message came from (what the thread shows);
        // `reply_channel`: what a reply is decided and audited as now.
        auto describe = [](policies::ChannelKind k) {
            const auto security = policies::label_of(k);
            return nlohmann::json{{"kind", policies::to_string(k)},
                                  {"security", policies::to_string(security)},
                                  {"label", policies::describe(security)}};
        };
        const auto reply_kind = thread_channel(other, c->case_code);
        const auto kind = last_inbound_channel(other.id).value_or(reply_kind);
        out["channel"] = describe(kind);
        out["reply_channel"] = describe(reply_kind);
        if (kind == policies::ChannelKind::sms &&
            sms_thread_verified(policies_, c->case_code) == false) {
            out["unverified"] = true;
        }
        const storage::CheckinHistory checkins(policies_);
        if (auto first = checkins.first_checkin_pending(c->case_code)) {
            // A plan whose first check-in is still to come: held until one of its channels
            // can reach her (checkin_reach.h), else due at its next window.
            auto plan = policies_.find_checkin_plan(first->plan_id);
            if (!plan || !she_can_be_reached(store_, policies_, c->case_code, plan->channels)) {
                out["checkin"] = "waiting";
                out["checkin_reason"] = "unreachable";
            } else {
                out["checkin"] = "scheduled";
                if (first->next_due)
                    out["checkin_next"] = policies::to_micros(*first->next_due) / 1000;
            }
        } else if (auto state = checkins.latest_state(c->case_code)) {
            out["checkin"] = *state;
            // Why that slot went as it did, so her caseworker is told in a sentence.
            auto reason = checkins.latest_reason(c->case_code);
            if (reason && !reason->empty()) out["checkin_reason"] = *reason;
        }
        if (auto note = handover_note(policies_, key_, c->case_code)) out["handover_note"] = *note;
    } catch (const std::exception&) {
        // Details are a convenience: the contact itself is still listed.
    }
    return out;
}

void ConsentPolicy::on_login(const Account& account, bool new_installation) const {
    if (account.role != Role::survivor) return;
    try {
        auto c = find_survivor_case(policies_, account.id);
        if (!c) return;
        if (!c->duress_account) {
            if (new_installation && on_new_device_) on_new_device_(account, c->case_code);
            return;
        }
        // Her duress login raises only the duress alert, whatever phone it comes from: a
        // new-device alert or notice here would be one more trace of it.
        // Silent: nothing in the session differs; her caseworkers get the urgent alert.
        if (on_duress_) {
            on_duress_(c->case_code);
        } else {
            policies_.raise_duress(c->case_code, "system", now_utc());
        }
    } catch (const std::exception&) {
    }
}

SendPolicy::DuressReport ConsentPolicy::report_duress(const Account& reporter,
                                                      const Account& survivor) const {
    if (reporter.role != Role::caseworker || survivor.role != Role::survivor) {
        return DuressReport::forbidden;
    }
    auto c = survivor_case(survivor.id);
    if (!c || c->duress_account) return DuressReport::forbidden;
    auto record = policies_.find_survivor(c->case_code);
    if (!record ||
        std::none_of(record->caseworkers.begin(), record->caseworkers.end(),
                     [&](const policies::AccountId& a) { return a.str() == reporter.id; })) {
        return DuressReport::forbidden;
    }
    policies_.append_audit(reporter.id, "duress.reported", c->case_code.str(), "", "console",
                           now_utc());
    if (on_duress_) {
        on_duress_(c->case_code);
    } else {
        policies_.raise_duress(c->case_code, reporter.id, now_utc());
    }
    return DuressReport::raised;
}

}  // namespace ariadne::gateway
