#include "ariadne/gateway/consent_policy.h"

#include <algorithm>
#include <chrono>
#include <future>

#include <spdlog/spdlog.h>

#include "ariadne/gateway/audit_checkpoints.h"
#include "ariadne/gateway/checkin_reach.h"
#include "ariadne/gateway/duress_words.h"
#include "ariadne/gateway/gateway.h"
#include "ariadne/gateway/sms_numbers.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/case_links.h"
#include "ariadne/storage/checkin_history.h"
#include "ariadne/storage/policy_connection.h"
#include "policy_storage.h"

namespace ariadne::gateway {

namespace {

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace

void ensure_survivor_case_table(policies::PolicyStore& store) {
    try {
        storage::CaseLinks(store).ensure_tables();
    } catch (const storage::Error& e) {
        throw policies::Error(
            policies::ErrorCode::storage, "",
            std::string("The survivor case link table cannot be created (") + e.what() + ")");
    }
}

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
        storage::PolicyTransaction tx(store);
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
      links_(policies) {
    ensure_survivor_case_table(policies_);
    ensure_sms_tables(policies_);
}

policies::ChannelKind ConsentPolicy::thread_channel(const Account& survivor,
                                                    const policies::CaseCode& code) const {
    // A reply reaches every device of hers; it is decided as the weakest channel it reaches.
    // Her edge device (device 2, adapters::kEdgeDeviceId) relays to SMS when her case has a
    // linked number, else to the web page; without it only her app receives the reply.
    // Her edge device (device 2, adapters::kEdgeDeviceId) keeps every reply in her page's
    // history, and relays it by SMS only where the SMS adapter runs and her case has a number.
    for (auto device : store_.ready_devices(survivor.key)) {
        if (device != 2) continue;
        return sms_relay_ && sms_thread_verified(policies_, code).has_value()
                   ? policies::ChannelKind::sms
                   : policies::ChannelKind::web;
    }
    return policies::ChannelKind::app;
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
    if (sender.role == Role::survivor && sender_device != 2) {
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
        if (auto state = storage::CheckinHistory(policies_).latest_state(c->case_code)) {
            out["checkin"] = *state;
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

namespace {

/// Waits for a notice's commit; Unknown (timeout) throws so the slot is never re-sent.
bool wait_committed(std::future<CommitStatus>& f) {
    if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
        throw std::runtime_error("the notice's commit did not finish in time");
    }
    return f.get() == CommitStatus::committed;
}

}  // namespace

bool store_notice_sync(Store& store, NewNotice notice) {
    std::promise<CommitStatus> committed;
    auto f = committed.get_future();
    store.store_notice(std::move(notice), [&committed](CommitStatus status, MailboxEntryPtr) {
        committed.set_value(status);
    });
    return wait_committed(f);
}

nlohmann::json handover_notice_json(const NoticeOutcome& outcome) {
    if (outcome.sent) return {{"sent", true}, {"channel", outcome.channel}};
    nlohmann::json out = {
        {"sent", false}, {"reason", outcome.reason}, {"message", outcome.message}};
    if (!outcome.channel.empty()) out["channel"] = outcome.channel;
    return out;
}

std::optional<policies::ChannelKind> notice_channel(const Store& store,
                                                    const policies::PolicyStore& policies,
                                                    AccountKey survivor,
                                                    const policies::CaseCode& code) {
    // The weakest channel that will carry it, as for replies (ConsentPolicy::thread_channel):
    // her edge device relays to SMS when her case has a linked number, else to the page.
    if (store.find_device(survivor, 2)) {
        return sms_thread_verified(policies, code).has_value() ? policies::ChannelKind::sms
                                                               : policies::ChannelKind::web;
    }
    if (store.find_device(survivor, 1)) return policies::ChannelKind::app;
    return std::nullopt;
}

NoticeOutcome queue_survivor_notice(policies::PolicyStore& policies, Store& store,
                                    const Account& survivor, const policies::CaseCode& code,
                                    const Account* sender, const std::string& notice,
                                    const std::string& template_id, const std::string& actor,
                                    const std::function<bool(NewNotice)>& queue,
                                    const SmsNoticeSender& send_sms, policies::Instant now) {
    const std::string action = "notice." + notice;
    NoticeOutcome out;
    auto record = policies.find_survivor(code);
    if (!record) {
        out.reason = policies::to_string(policies::ReasonCode::unknown_survivor);
        out.message = policies::reason_sentence(policies::ReasonCode::unknown_survivor);
        return out;
    }
    auto channel = notice_channel(store, policies, survivor.key, code);
    const bool sms_unavailable = channel == policies::ChannelKind::sms && !send_sms;
    if (!channel || sms_unavailable) {
        // Nothing would carry it: saying "sent" would be a lie to her caseworkers.
        policies.append_audit(actor, action, code.str(), "deny", "no_channel", now);
        out.reason = "no_channel";
        if (sms_unavailable) {
            out.channel = "sms";
            out.message =
                "Not sent: she is reached by SMS, which only the running server sends "
                "(use POST /v1/admin/assign while 'ariadne serve' runs with an SMS gateway).";
        } else {
            out.message =
                "Not sent: she has never signed in to the app or the survivor page, so no "
                "channel can carry a notice to her.";
        }
        return out;
    }
    out.channel = policies::to_string(*channel);
    // Fail closed: the notice is an outbound message like any other.
    auto d = policies.decide_and_record(code, policies::ChannelRef::make(*channel), "",
                                        policies::Purpose::case_updates, now, actor);
    if (!d.allowed) {
        out.reason = policies::to_string(d.reason);
        out.message = d.sentence;
        return out;
    }
    auto make = [&](std::uint32_t device) {
        return NewNotice{.recipient = survivor.key,
                         .recipient_device = device,
                         .sender = sender ? sender->key : 0,
                         .notice = notice,
                         .reference = "",
                         .language = record->language.str(),
                         .template_id = template_id};
    };
    bool sent = false;
    if (*channel == policies::ChannelKind::sms) {
        Delivery text;
        text.is_notice = true;
        text.from = sender ? sender->id : "";
        text.notice = notice;
        text.language = record->language.str();
        text.template_id = template_id;
        sent = send_sms(code, text);
    } else {
        // Every device of hers that exists gets it (the decision was on the weakest).
        for (std::uint32_t device : {1u, 2u}) {
            if (!store.find_device(survivor.key, device)) continue;
            sent = queue(make(device)) || sent;
        }
    }
    policies.append_audit(actor, action, code.str(), sent ? "sent" : "failed", out.channel, now);
    out.sent = sent;
    if (!sent) {
        out.reason = "not_stored";
        out.message = *channel == policies::ChannelKind::sms
                          ? "Not sent: the SMS gateway did not take the notice."
                          : "Not sent: the notice could not be stored; try again.";
    }
    return out;
}

NoticeOutcome queue_handover_notice(policies::PolicyStore& policies, Store& store,
                                    const std::string& survivor_account,
                                    const std::string& caseworker_account, const std::string& actor,
                                    const std::function<bool(NewNotice)>& queue,
                                    const SmsNoticeSender& send_sms, policies::Instant now) {
    using policies::ReasonCode;
    NoticeOutcome out;
    auto c = find_survivor_case(policies, survivor_account);
    auto survivor = store.find_account(survivor_account);
    auto caseworker = store.find_account(caseworker_account);
    if (!c || c->duress_account || !survivor || !caseworker) {
        out.reason = policies::to_string(ReasonCode::unknown_survivor);
        out.message = policies::reason_sentence(ReasonCode::unknown_survivor);
        return out;
    }
    auto record = policies.find_survivor(c->case_code);
    // Nothing that could confirm she was a client when she asked for that: no initials, no
    // "contact" (the discreet text); otherwise the new caseworker is named by initials.
    const bool discreet = record && record->flags.never_confirm_client;
    if (!discreet && !caseworker_initials(policies, caseworker_account)) {
        policies.append_audit(actor, "notice.handover", c->case_code.str(), "deny",
                              "caseworker_initials_missing", now);
        out.reason = policies::to_string(ReasonCode::policy_unavailable);
        out.message =
            "Not sent: the new caseworker has no initials on record (they are given with "
            "'ariadne admin caseworker-add --initials'), so the notice could not name her.";
        return out;
    }
    return queue_survivor_notice(policies, store, *survivor, c->case_code, &*caseworker, "handover",
                                 discreet ? "discreet_handover" : "neutral_handover", actor, queue,
                                 send_sms, now);
}

NoticeRenderer::NoticeRenderer(const std::string& database)
    : store_(policies::PolicyStore::open(database)) {
    ensure_survivor_case_table(*store_);
}

std::string NoticeRenderer::render(const Delivery& notice) const {
    std::string text;
    try {
        text = store_->template_text(notice.template_id, policies::LanguageTag(notice.language));
    } catch (const std::exception&) {
        // An unknown language or a template removed since: the English text of the same
        // template (a discreet notice stays discreet), else the kind's neutral one.
        try {
            text = store_->template_text(notice.template_id, policies::LanguageTag("en"));
        } catch (const std::exception&) {
            text = store_->template_text(notice.notice == "handover"     ? "discreet_handover"
                                         : notice.notice == "new_device" ? "neutral_new_device"
                                                                         : "neutral_checkin",
                                         policies::LanguageTag("en"));
        }
    }
    if (notice.notice == "handover") {
        auto initials = caseworker_initials(*store_, notice.from);
        const std::string placeholder = "{initials}";
        for (auto at = text.find(placeholder); at != std::string::npos;
             at = text.find(placeholder)) {
            text.replace(at, placeholder.size(), initials.value_or(""));
        }
    }
    return text;
}

PolicyService::PolicyService(const Store& store, const ServerKey& key, const std::string& database,
                             std::chrono::milliseconds tick, const policies::Clock* clock)
    : key_(key),
      store_(policies::PolicyStore::open(database)),
      clock_(clock ? *clock : system_clock_),
      renderer_(std::make_shared<NoticeRenderer>(database)),
      tick_(tick),
      data_dir_(std::filesystem::path(database).parent_path()) {
    key_audit_chain(*store_, key, data_dir_);
    policies::CheckinCallbacks callbacks;
    callbacks.send = [this](const policies::CheckinSend& send) { return dispatch(send); };
    // The scheduler alerts only where she chose so (missed check-ins) or on duress; the board
    // keeps the alert until a caseworker clears it and pushes it to her online devices.
    alerts_ = std::make_unique<AlertBoard>(*store_);
    callbacks.alert = [this](const policies::Alert& alert) {
        // That it happened, never for whom: the alert board and the audit trail hold that.
        spdlog::warn("alert {} raised{}", policies::to_string(alert.kind),
                     alert.urgent ? " (urgent)" : "");
        AlertKind kind = alert.kind == policies::AlertKind::duress ? AlertKind::duress
                         : alert.kind == policies::AlertKind::checkin_undeliverable
                             ? AlertKind::checkin_undeliverable
                             : AlertKind::missed_checkin;
        alerts_->raise(alert.case_code, kind, alert.at);
    };
    scheduler_ = std::make_unique<policies::CheckinScheduler>(*store_, clock_, callbacks);
    // This process registers its own senders; those of an earlier server are gone.
    clear_channel_senders(*store_);
    auto on_inbound = [this](const policies::CaseCode& code) {
        auto at = clock_.now();
        {
            std::lock_guard lock(stop_mutex_);
            if (running_ && !stopping_) {
                auto [it, fresh] = noted_inbound_.try_emplace(code.str(), at);
                if (!fresh && it->second < at) it->second = at;
                if (fresh && noted_inbound_.size() == 1) stop_cv_.notify_all();
                return;
            }
        }
        std::lock_guard lock(scheduler_mutex_);  // no scheduler thread: record right here
        scheduler_->record_inbound(code, at);
    };
    auto on_duress = [this](const policies::CaseCode& code) {
        std::lock_guard lock(scheduler_mutex_);
        scheduler_->raise_duress(code, clock_.now());
    };
    auto on_new_device = [this](const Account& survivor, const policies::CaseCode& code) {
        this->on_new_device(survivor, code);
    };
    policy_ =
        std::make_shared<ConsentPolicy>(store, *store_, key, on_inbound, on_duress, on_new_device);
}

void PolicyService::on_new_device(const Account& survivor, const policies::CaseCode& code) {
    try {
        const auto now = clock_.now();
        // Audited every time (the alert itself is raised once while it stays open).
        store_->append_audit("system", "survivor.new_installation", code.str(), "", "", now);
        spdlog::warn("alert new_device raised");  // never for whom (the alert board holds that)
        alerts_->raise(code, AlertKind::new_device, now);
        if (!gateway_ || !new_device_notice(*store_, code)) return;
        auto outcome = queue_survivor_notice(
            *store_, gateway_->store(), survivor, code, nullptr, "new_device", "neutral_new_device",
            "system", [this](NewNotice n) { return queue_and_wait(std::move(n)); },
            sms_notice_sender(), now);
        if (!outcome.sent) {
            spdlog::info("a new-device notice was not sent: {}", outcome.reason);
        }
    } catch (const std::exception& e) {
        spdlog::error("a new device was not fully handled: {}", e.what());
    }
}

PolicyService::~PolicyService() { stop(); }

void PolicyService::raise_duress(const policies::CaseCode& code) {
    try {
        std::lock_guard lock(scheduler_mutex_);
        scheduler_->raise_duress(code, clock_.now());
    } catch (const std::exception& e) {
        spdlog::error("a duress alert could not be raised: {}", e.what());
    }
}

void PolicyService::note_inbound_channel(const std::string& account, policies::ChannelKind kind) {
    policy_->note_inbound_channel(account, kind);
}

void PolicyService::set_sms_relay(bool on) { policy_->set_sms_relay(on); }

bool PolicyService::check_duress_words(const std::string& account, std::string_view channel,
                                       std::string_view text) {
    std::optional<policies::CaseCode> code;
    try {
        if (!holds_duress_word(*store_, key_, text)) return false;
        auto c = find_survivor_case(*store_, account);
        if (!c || c->duress_account) return false;
        code = c->case_code;
        store_->append_audit("system", "duress.word", code->str(), "", std::string(channel),
                             clock_.now());
        spdlog::warn("duress word found ({})", channel);  // never for whom
    } catch (const std::exception& e) {
        spdlog::error("a message could not be checked for duress words: {}", e.what());
        return false;
    }
    raise_duress(*code);
    return true;
}

std::function<std::string(const Delivery&)> PolicyService::notice_renderer() const {
    auto renderer = renderer_;
    return [renderer](const Delivery& d) { return renderer->render(d); };
}

void PolicyService::set_channel_sender(policies::ChannelKind kind, ChannelSender sender) {
    // Recorded so that a plan set from the CLI knows which channels this deployment can send
    // check-ins on (checkin_reach.h). Not under senders_mutex_: dispatch takes that mutex
    // with the store's lock held, so taking them in the other order here could deadlock.
    record_channel_sender(*store_, kind, static_cast<bool>(sender));
    std::lock_guard lock(senders_mutex_);
    if (sender) {
        senders_[kind] = std::move(sender);
    } else {
        senders_.erase(kind);
    }
}

policies::SendOutcome PolicyService::dispatch(const policies::CheckinSend& send) {
    ChannelSender sender;
    {
        std::lock_guard lock(senders_mutex_);
        auto it = senders_.find(send.channel.kind);
        if (it != senders_.end()) sender = it->second;
    }
    if (!sender) return policies::SendOutcome::not_sent;  // the next channel is tried
    return sender(send);
}

void PolicyService::attach(Gateway& gateway) {
    gateway_ = &gateway;
    // Her app is device 1; the gateway's edge device for her (web page, SMS) is device 2.
    auto mailbox_sender = [this](std::uint32_t device) {
        return [this, device](const policies::CheckinSend& send) {
            auto account_id = find_case_account(*store_, send.case_code);
            if (!account_id) return policies::SendOutcome::not_sent;
            auto account = gateway_->store().find_account(*account_id);
            if (!account || !gateway_->store().find_device(account->key, device)) {
                return policies::SendOutcome::not_sent;  // she has no such device (yet)
            }
            NewNotice notice{.recipient = account->key,
                             .recipient_device = device,
                             .sender = 0,
                             .notice = "checkin",
                             .reference = send.idempotency_key,
                             .language = send.language.str(),
                             .template_id = send.template_id};
            std::promise<CommitStatus> committed;
            auto f = committed.get_future();
            gateway_->queue_notice(std::move(notice),
                                   [&committed](CommitStatus status, MailboxEntryPtr) {
                                       committed.set_value(status);
                                   });
            return wait_committed(f) ? policies::SendOutcome::sent
                                     : policies::SendOutcome::not_sent;
        };
    };
    set_channel_sender(policies::ChannelKind::app, mailbox_sender(1));
    set_channel_sender(policies::ChannelKind::web, mailbox_sender(2));
}

NoticeOutcome PolicyService::notify_handover(const std::string& survivor_account,
                                             const std::string& caseworker_account,
                                             const std::string& actor) {
    if (!gateway_) throw std::logic_error("PolicyService::notify_handover before attach()");
    Store& store = gateway_->store();
    return queue_handover_notice(
        *store_, store, survivor_account, caseworker_account, actor,
        [this](NewNotice n) { return queue_and_wait(std::move(n)); }, sms_notice_sender(),
        clock_.now());
}

bool PolicyService::queue_and_wait(NewNotice notice) {
    std::promise<CommitStatus> committed;
    auto f = committed.get_future();
    gateway_->queue_notice(std::move(notice), [&committed](CommitStatus status, MailboxEntryPtr) {
        committed.set_value(status);
    });
    return wait_committed(f);
}

SmsNoticeSender PolicyService::sms_notice_sender() {
    ChannelSender sms;
    {
        std::lock_guard lock(senders_mutex_);
        auto it = senders_.find(policies::ChannelKind::sms);
        if (it != senders_.end()) sms = it->second;
    }
    if (!sms) return {};
    // The SMS channel sender is the check-in one: it takes her case and the rendered text.
    return [sms, renderer = renderer_](const policies::CaseCode& code, const Delivery& notice) {
        policies::CheckinSend send{
            .case_code = code,
            .plan_id = 0,
            .idempotency_key = "",
            .channel = policies::ChannelRef::make(policies::ChannelKind::sms),
            .address_ref = "",
            .language = policies::LanguageTag(notice.language),
            .template_id = notice.template_id,
            .text = renderer->render(notice)};
        return sms(send) == policies::SendOutcome::sent;
    };
}

nlohmann::json PolicyService::assign(const std::string& survivor, const std::string& caseworker,
                                     const std::string& actor) {
    if (!gateway_) throw std::logic_error("PolicyService::assign before attach()");
    gateway_->store().assign(survivor, caseworker);
    nlohmann::json line = {{"survivor", survivor}, {"caseworker", caseworker}};
    auto c = find_survivor_case(*store_, survivor);
    if (!c) return line;
    bool new_caseworker = false;
    if (auto record = store_->find_survivor(c->case_code)) {
        policies::AccountId cw(caseworker, "caseworker");
        if (std::find(record->caseworkers.begin(), record->caseworkers.end(), cw) ==
            record->caseworkers.end()) {
            new_caseworker = !record->caseworkers.empty();
            record->caseworkers.push_back(cw);
            store_->update_survivor(*record,
                                    {policies::AccountId(actor, "actor"), policies::Role::admin},
                                    clock_.now());
        }
    }
    if (new_caseworker) {
        line["handover_notice"] =
            handover_notice_json(notify_handover(survivor, caseworker, actor));
    }
    line["case_code"] = c->case_code.str();
    return line;
}

void PolicyService::run_once() {
    record_noted_inbound();  // "she wrote first" must see every message noted so far
    std::lock_guard scheduler_lock(scheduler_mutex_);
    scheduler_->run_due();
}

PolicyService::Purged PolicyService::apply_retention() {
    Purged purged;
    const policies::Instant now = clock_.now();
    const int days = store_->org_policy().retention_days;
    const policies::Instant cutoff = now - std::chrono::days(days);
    // Open slots (claimed, sent and waiting for her answer) are never purged.
    purged.occurrences = policy_storage("check-in slot table", [&] {
        return storage::CheckinHistory(*store_).purge_closed_before(cutoff);
    });
    if (gateway_) {
        std::promise<std::int64_t> done;
        auto f = done.get_future();
        const auto cutoff_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(cutoff.time_since_epoch())
                .count();
        gateway_->store().purge_expired(cutoff_ms, [&done](CommitStatus status, std::int64_t n) {
            done.set_value(status == CommitStatus::committed ? n : 0);
        });
        if (f.wait_for(std::chrono::seconds(30)) == std::future_status::ready) {
            purged.mailbox = f.get();
        }
    }
    if (purged.occurrences > 0 || purged.mailbox > 0) {
        store_->append_audit("system", "retention.purge", "", "",
                             "occurrences:" + std::to_string(purged.occurrences) +
                                 "/mailbox:" + std::to_string(purged.mailbox),
                             now);
    }
    return purged;
}

void PolicyService::start() {
    std::lock_guard lock(stop_mutex_);
    running_ = true;
    thread_ = std::thread([this] { loop(); });
}

void PolicyService::stop() {
    {
        std::lock_guard lock(stop_mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PolicyService::record_noted_inbound() {
    std::map<std::string, policies::Instant> noted;
    {
        std::lock_guard lock(stop_mutex_);
        noted.swap(noted_inbound_);
    }
    if (noted.empty()) return;
    std::lock_guard scheduler_lock(scheduler_mutex_);
    // One transaction for all of them (record_inbound nests as a savepoint); if it cannot
    // begin, each is still recorded on its own.
    std::optional<storage::PolicyTransaction> tx;
    try {
        tx.emplace(*store_);
    } catch (const storage::Error&) {
    }
    try {
        for (const auto& [code, at] : noted)
            scheduler_->record_inbound(policies::CaseCode(code), at);
        if (tx) tx->commit();
    } catch (const std::exception& e) {
        tx.reset();  // rolled back
        spdlog::error("check-in responses of {} case(s) not recorded: {}", noted.size(), e.what());
    }
}

void PolicyService::loop() {
    // Noted messages are recorded at most every 200 ms: each transaction takes the database
    // write lock from the mailbox writer (the same file), which then waits in SQLite's busy
    // handler. Check-ins are scheduled in minutes; run_due sees every note (recorded first).
    constexpr auto kInboundEvery = std::chrono::milliseconds(200);
    auto next_run = std::chrono::steady_clock::now();
    auto next_inbound = next_run;
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        bool due = now >= next_run;
        if (!due && now < next_inbound) {
            stop_cv_.wait_until(lock, std::min(next_run, next_inbound),
                                [this] { return stopping_; });
            continue;
        }
        lock.unlock();
        record_noted_inbound();  // always before run_due: "she wrote first" must be seen
        next_inbound = std::chrono::steady_clock::now() + kInboundEvery;
        if (due) {
            try {
                run_once();
            } catch (const std::exception& e) {
                spdlog::error("check-in scheduler: {}", e.what());
            }
            if (std::chrono::steady_clock::now() >= next_retention_) {
                next_retention_ = std::chrono::steady_clock::now() + std::chrono::hours(1);
                publish_checkpoint();
                try {
                    auto p = apply_retention();
                    if (p.occurrences > 0 || p.mailbox > 0) {
                        spdlog::info("retention: purged {} check-in slots and {} mailbox entries",
                                     p.occurrences, p.mailbox);
                    }
                } catch (const std::exception& e) {
                    spdlog::error("retention: {}", e.what());
                }
            }
            next_run = std::chrono::steady_clock::now() + tick_;
        }
        lock.lock();
        stop_cv_.wait_until(lock, next_run,
                            [this] { return stopping_ || !noted_inbound_.empty(); });
    }
    lock.unlock();
    record_noted_inbound();
    publish_checkpoint();  // the head at a clean stop
}

void PolicyService::publish_checkpoint() {
    try {
        auto c = publish_audit_checkpoint(*store_, data_dir_);
        // Sequence and head are metadata only; the journal is a copy outside the data dir.
        spdlog::info("audit checkpoint {}", to_json(c).dump());
    } catch (const std::exception& e) {
        spdlog::error("audit checkpoint: {}", e.what());
    }
}

}  // namespace ariadne::gateway
