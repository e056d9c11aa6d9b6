#include "ariadne/gateway/consent_policy.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <future>

#include <spdlog/spdlog.h>

#include "ariadne/gateway/audit_checkpoints.h"
#include "ariadne/gateway/duress_words.h"
#include "ariadne/gateway/gateway.h"
#include "ariadne/gateway/sms_numbers.h"
#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

/// A prepared statement on the policy store's connection (SQLite serialises the calls).
class Statement {
  public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    void bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    void bind_blob(int i, const crypto::Bytes& v) {
        sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        if (rc == SQLITE_CONSTRAINT) {
            throw policies::Error(policies::ErrorCode::conflict, "account",
                                  "account: this account is already linked "
                                  "to a case.");
        }
        fail("step");
    }
    std::string text(int i) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
                 : std::string();
    }
    std::int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }
    crypto::Bytes blob(int i) const {
        auto p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, i));
        return crypto::Bytes(p, p + sqlite3_column_bytes(stmt_, i));
    }

  private:
    [[noreturn]] void fail(const char* what) {
        throw policies::Error(policies::ErrorCode::storage, "",
                              std::string("The survivor case link table cannot be used (") + what +
                                  ": " + sqlite3_errmsg(db_) + ").");
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS gateway_survivor_cases(
  account TEXT PRIMARY KEY, case_code TEXT NOT NULL, duress INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_survivor_cases_by_case ON gateway_survivor_cases(case_code);
CREATE TABLE IF NOT EXISTS gateway_caseworker_initials(
  account TEXT PRIMARY KEY, initials TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_handover_notes(
  case_code TEXT PRIMARY KEY, sealed BLOB NOT NULL, set_at_us INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

void ensure_survivor_case_table(policies::PolicyStore& store) {
    auto sqlite_guard = store.lock();
    char* err = nullptr;
    if (sqlite3_exec(store.connection(), kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw policies::Error(policies::ErrorCode::storage, "",
                              "The survivor case link table cannot be created (" + msg + ").");
    }
}

void link_survivor_case(policies::PolicyStore& store, const std::string& account_id,
                        const policies::CaseCode& code, bool duress_account) {
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "INSERT INTO gateway_survivor_cases(account, case_code, duress) VALUES(?,?,?)");
    s.bind(1, account_id);
    s.bind(2, code.str());
    s.bind(3, std::int64_t{duress_account ? 1 : 0});
    s.step();
}

std::optional<SurvivorCase> find_survivor_case(const policies::PolicyStore& store,
                                               const std::string& account_id) {
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "SELECT case_code, duress FROM gateway_survivor_cases WHERE account = ?");
    s.bind(1, account_id);
    if (!s.step()) return std::nullopt;
    return SurvivorCase{policies::CaseCode(s.text(0)), s.integer(1) != 0};
}

std::optional<std::string> find_case_account(const policies::PolicyStore& store,
                                             const policies::CaseCode& code) {
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "SELECT account FROM gateway_survivor_cases WHERE case_code = ? AND duress = 0");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    return s.text(0);
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
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "INSERT INTO gateway_handover_notes(case_code, sealed, set_at_us) VALUES(?,?,?) "
                "ON CONFLICT(case_code) DO UPDATE SET sealed = excluded.sealed, "
                "set_at_us = excluded.set_at_us");
    s.bind(1, code.str());
    s.bind_blob(2, key.seal("handover:" + code.str(), plain));
    s.bind(3, policies::to_micros(now_utc()));
    s.step();
}

std::optional<std::string> handover_note(const policies::PolicyStore& store, const ServerKey& key,
                                         const policies::CaseCode& code) {
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "SELECT sealed FROM gateway_handover_notes WHERE case_code = ?");
    s.bind(1, code.str());
    if (!s.step()) return std::nullopt;
    auto plain = key.open("handover:" + code.str(), s.blob(0));
    auto view = plain.view();
    return std::string(reinterpret_cast<const char*>(view.data()), view.size());
}

void set_caseworker_initials(policies::PolicyStore& store, const std::string& account_id,
                             const std::string& initials) {
    policies::Initials valid(initials, "initials");
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "INSERT INTO gateway_caseworker_initials(account, initials) VALUES(?,?) "
                "ON CONFLICT(account) DO UPDATE SET initials = excluded.initials");
    s.bind(1, account_id);
    s.bind(2, valid.str());
    s.step();
}

std::optional<std::string> caseworker_initials(const policies::PolicyStore& store,
                                               const std::string& account_id) {
    auto sqlite_guard = store.lock();
    Statement s(store.connection(),
                "SELECT initials FROM gateway_caseworker_initials WHERE account = ?");
    s.bind(1, account_id);
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

ConsentPolicy::ConsentPolicy(const Store& store, policies::PolicyStore& policies,
                             const ServerKey& key,
                             std::function<void(const policies::CaseCode&)> on_inbound,
                             std::function<void(const policies::CaseCode&)> on_duress)
    : assignment_(store),
      store_(store),
      policies_(policies),
      key_(key),
      on_inbound_(std::move(on_inbound)),
      on_duress_(std::move(on_duress)) {
    ensure_survivor_case_table(policies_);
    ensure_sms_tables(policies_);
}

policies::ChannelKind ConsentPolicy::thread_channel(const Account& survivor,
                                                    const policies::CaseCode& code) const {
    // A reply reaches every device of hers; it is decided as the weakest channel it reaches.
    // Her edge device (device 2, adapters::kEdgeDeviceId) relays to SMS when her case has a
    // linked number, else to the web page; without it only her app receives the reply.
    for (auto device : store_.ready_devices(survivor.key)) {
        if (device != 2) continue;
        return sms_thread_verified(policies_, code).has_value() ? policies::ChannelKind::sms
                                                                : policies::ChannelKind::web;
    }
    return policies::ChannelKind::app;
}

ConsentPolicy::~ConsentPolicy() {
    auto sqlite_guard = policies_.lock();
    sqlite3_finalize(case_statement_);
}

std::optional<SurvivorCase> ConsentPolicy::survivor_case(const std::string& account_id) const {
    auto sqlite_guard = policies_.lock();
    if (case_statement_ == nullptr &&
        sqlite3_prepare_v3(policies_.connection(),
                           "SELECT case_code, duress FROM gateway_survivor_cases WHERE account = ?",
                           -1, SQLITE_PREPARE_PERSISTENT, &case_statement_, nullptr) != SQLITE_OK) {
        case_statement_ = nullptr;
        throw policies::Error(policies::ErrorCode::storage, "gateway_survivor_cases",
                              "Cannot read the survivor case links.");
    }
    struct Reset {
        sqlite3_stmt* s;
        ~Reset() {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
    } reset{case_statement_};
    sqlite3_bind_text(case_statement_, 1, account_id.data(), static_cast<int>(account_id.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(case_statement_);
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) {
        throw policies::Error(policies::ErrorCode::storage, "gateway_survivor_cases",
                              "Cannot read the survivor case links.");
    }
    auto text = reinterpret_cast<const char*>(sqlite3_column_text(case_statement_, 0));
    return SurvivorCase{policies::CaseCode(text ? text : ""),
                        sqlite3_column_int64(case_statement_, 1) != 0};
}

SendDecision ConsentPolicy::decide(const Account& sender, std::uint32_t sender_device,
                                   const Account& recipient) const {
    return assignment_.decide(sender, sender_device, recipient);
}

SendDecision ConsentPolicy::decide_message(const Account& sender, std::uint32_t,
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
        const auto kind = thread_channel(other, c->case_code);
        const auto security = policies::label_of(kind);
        out["channel"] = {{"kind", policies::to_string(kind)},
                          {"security", policies::to_string(security)},
                          {"label", policies::describe(security)}};
        if (kind == policies::ChannelKind::sms &&
            sms_thread_verified(policies_, c->case_code) == false) {
            out["unverified"] = true;
        }
        auto sqlite_guard = policies_.lock();
        Statement st(policies_.connection(),
                     "SELECT state FROM policies_checkin_occurrences WHERE case_code = ? "
                     "ORDER BY window_start_at DESC LIMIT 1");
        st.bind(1, c->case_code.str());
        if (st.step()) out["checkin"] = st.text(0);
        if (auto note = handover_note(policies_, key_, c->case_code)) out["handover_note"] = *note;
    } catch (const std::exception&) {
        // Details are a convenience: the contact itself is still listed.
    }
    return out;
}

void ConsentPolicy::on_login(const Account& account) const {
    if (account.role != Role::survivor) return;
    try {
        auto c = find_survivor_case(policies_, account.id);
        if (!c || !c->duress_account) return;
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

nlohmann::json handover_notice_json(const policies::Decision& d) {
    if (d.allowed) return {{"sent", true}};
    return {{"sent", false}, {"reason", policies::to_string(d.reason)}, {"message", d.sentence}};
}

policies::Decision queue_handover_notice(policies::PolicyStore& policies, Store& store,
                                         const std::string& survivor_account,
                                         const std::string& caseworker_account,
                                         const std::string& actor,
                                         const std::function<bool(NewNotice)>& queue,
                                         policies::Instant now) {
    using policies::ReasonCode;
    policies::Decision denied;
    auto c = find_survivor_case(policies, survivor_account);
    auto survivor = store.find_account(survivor_account);
    auto caseworker = store.find_account(caseworker_account);
    if (!c || c->duress_account || !survivor || !caseworker) {
        denied.reason = ReasonCode::unknown_survivor;
        denied.sentence = policies::reason_sentence(ReasonCode::unknown_survivor);
        return denied;
    }
    auto record = policies.find_survivor(c->case_code);
    auto initials = caseworker_initials(policies, caseworker_account);
    // Fail closed: the notice is an outbound message like any other.
    auto d = policies.decide_and_record(c->case_code,
                                        policies::ChannelRef::make(policies::ChannelKind::app), "",
                                        policies::Purpose::case_updates, now, actor);
    if (!d.allowed) return d;
    // Nothing that could confirm she was a client when she asked for that: no initials, no
    // "contact" (the discreet text); otherwise the new caseworker is named by initials.
    const bool discreet = record && record->flags.never_confirm_client;
    if (!record || (!initials && !discreet)) {
        policies.append_audit(actor, "notice.handover", c->case_code.str(), "deny",
                              "caseworker_initials_missing", now);
        denied.reason = ReasonCode::policy_unavailable;
        denied.sentence =
            "Not sent: the new caseworker has no initials on record (they are given with "
            "'ariadne admin caseworker-add --initials'), so the notice could not name her.";
        return denied;
    }
    bool queued = false;
    for (std::uint32_t device : {1u, 2u}) {
        if (device == 2 && !store.find_device(survivor->key, 2)) continue;
        NewNotice n{.recipient = survivor->key,
                    .recipient_device = device,
                    .sender = caseworker->key,
                    .notice = "handover",
                    .reference = "",
                    .language = record->language.str(),
                    .template_id = discreet ? "discreet_handover" : "neutral_handover"};
        queued = queue(std::move(n)) || queued;
    }
    policies.append_audit(actor, "notice.handover", c->case_code.str(), queued ? "sent" : "failed",
                          "app", now);
    if (!queued) {
        denied.reason = ReasonCode::policy_unavailable;
        denied.sentence = "Not sent: the notice could not be stored; try the assignment again.";
        return denied;
    }
    return d;
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
            text = store_->template_text(
                notice.notice == "handover" ? "discreet_handover" : "neutral_checkin",
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
        spdlog::warn("alert {} for case {}{}", policies::to_string(alert.kind),
                     alert.case_code.str(), alert.urgent ? " (urgent)" : "");
        alerts_->raise(alert.case_code,
                       alert.kind == policies::AlertKind::duress ? AlertKind::duress
                                                                 : AlertKind::missed_checkin,
                       alert.at);
    };
    scheduler_ = std::make_unique<policies::CheckinScheduler>(*store_, clock_, callbacks);
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
    policy_ = std::make_shared<ConsentPolicy>(store, *store_, key, on_inbound, on_duress);
}

PolicyService::~PolicyService() { stop(); }

void PolicyService::raise_duress(const policies::CaseCode& code) {
    try {
        std::lock_guard lock(scheduler_mutex_);
        scheduler_->raise_duress(code, clock_.now());
    } catch (const std::exception& e) {
        spdlog::error("duress for case {} could not be raised: {}", code.str(), e.what());
    }
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
        spdlog::warn("duress word from account {} ({})", account, channel);
    } catch (const std::exception& e) {
        spdlog::error("duress words of account {} could not be checked: {}", account, e.what());
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

policies::Decision PolicyService::notify_handover(const std::string& survivor_account,
                                                  const std::string& caseworker_account,
                                                  const std::string& actor) {
    if (!gateway_) throw std::logic_error("PolicyService::notify_handover before attach()");
    Store& store = gateway_->store();
    return queue_handover_notice(
        *store_, store, survivor_account, caseworker_account, actor,
        [this](NewNotice n) {
            std::promise<CommitStatus> committed;
            auto f = committed.get_future();
            gateway_->queue_notice(std::move(n),
                                   [&committed](CommitStatus status, MailboxEntryPtr) {
                                       committed.set_value(status);
                                   });
            return wait_committed(f);
        },
        clock_.now());
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
    {
        auto sqlite_guard = store_->lock();
        // Open slots (claimed, sent and waiting for her answer) are never purged.
        Statement s(store_->connection(),
                    "DELETE FROM policies_checkin_occurrences WHERE window_end_at < ? AND "
                    "state NOT IN ('claimed', 'sent')");
        s.bind(1, policies::to_micros(cutoff));
        s.step();
        purged.occurrences = sqlite3_changes(store_->connection());
    }
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
    // One transaction for all of them (record_inbound nests as a savepoint).
    auto sqlite_guard = store_->lock();
    sqlite3* db = store_->connection();
    bool open = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    try {
        for (const auto& [code, at] : noted)
            scheduler_->record_inbound(policies::CaseCode(code), at);
        if (open && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db));
        }
    } catch (const std::exception& e) {
        if (open) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
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
