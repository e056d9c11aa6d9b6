// The policy service (PolicyService: the check-in scheduler's thread, alerts, retention,
// notices to survivors) and the notices the organisation addresses to her; ConsentPolicy,
// the per-message decision, is in consent_policy.cpp. Both are declared in consent_policy.h.
#include <algorithm>
#include <chrono>
#include <future>

#include <spdlog/spdlog.h>

#include "ariadne/core/gateway.h"
#include "ariadne/policies/error.h"
#include "ariadne/services/audit_checkpoints.h"
#include "ariadne/services/checkin_reach.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/duress_words.h"
#include "ariadne/services/handover.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/callback_tasks.h"
#include "ariadne/storage/checkin_history.h"
#include "ariadne/storage/shared_transaction.h"
#include "policy_storage.h"

namespace ariadne::gateway {

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
    if (store.find_device(survivor, kEdgeDevice)) {
        return sms_thread_verified(policies, code).has_value() ? policies::ChannelKind::sms
                                                               : policies::ChannelKind::web;
    }
    if (store.find_device(survivor, kAppDevice)) return policies::ChannelKind::app;
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
    : store_(policies::PolicyStore::open(database)) {}

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
                             const std::filesystem::path& data_dir, std::chrono::milliseconds tick,
                             const policies::Clock* clock)
    : key_(key),
      store_(policies::PolicyStore::open(database)),
      clock_(clock ? *clock : system_clock_),
      renderer_(std::make_shared<NoticeRenderer>(database)),
      tick_(tick),
      data_dir_(data_dir) {
    key_audit_chain(*store_, key, data_dir_);
    policies::CheckinCallbacks callbacks;
    callbacks.send = [this](const policies::CheckinSend& send) { return dispatch(send); };
    // The scheduler alerts only where she chose so (missed check-ins) or on duress; the board
    // keeps the alert until a caseworker clears it and pushes it to her online devices.
    alerts_ = std::make_unique<AlertBoard>(*store_);
    callbacks_ = std::make_unique<CallbackBoard>(*store_, key_, *alerts_);
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
    // Her first check-in waits until a channel of the plan can reach her (checkin_reach.h).
    // The gateway's Store outlives this service (both belong to `ariadne serve`).
    callbacks.reachable = [this, gateway_store = &store](const policies::CheckinPlan& plan) {
        return she_can_be_reached(*gateway_store, *store_, plan.case_code, plan.channels);
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

void PolicyService::set_device_channel(std::uint32_t device_id,
                                       ExtensionRegistry::DeviceChannel channel) {
    policy_->set_device_channel(device_id, std::move(channel));
}

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
    // Her app, and the gateway's edge device for her (web page, SMS): devices.h.
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
    set_channel_sender(policies::ChannelKind::app, mailbox_sender(kAppDevice));
    set_channel_sender(policies::ChannelKind::web, mailbox_sender(kEdgeDevice));
    // A check-in by call-back is a task for her caseworkers, not a message.
    set_channel_sender(policies::ChannelKind::voice_callback,
                       [this](const policies::CheckinSend& send) {
                           return callbacks_->open_for_checkin(send, clock_.now())
                                      ? policies::SendOutcome::sent
                                      : policies::SendOutcome::not_sent;
                       });
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
    return assign_caseworker(
        gateway_->store(), *store_, survivor, caseworker,
        {policies::AccountId(actor, "actor"), policies::Role::admin},
        {[this](NewNotice n) { return queue_and_wait(std::move(n)); }, sms_notice_sender()},
        clock_.now());
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
    purged.callbacks = policy_storage("call-back task table", [&] {
        return storage::CallbackTasks(*store_).purge_closed_before(
            std::chrono::duration_cast<std::chrono::milliseconds>(cutoff.time_since_epoch())
                .count());
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
    if (purged.occurrences > 0 || purged.mailbox > 0 || purged.callbacks > 0) {
        store_->append_audit("system", "retention.purge", "", "",
                             "occurrences:" + std::to_string(purged.occurrences) +
                                 "/mailbox:" + std::to_string(purged.mailbox) +
                                 "/callbacks:" + std::to_string(purged.callbacks),
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
    std::optional<storage::SharedTransaction> tx;
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
