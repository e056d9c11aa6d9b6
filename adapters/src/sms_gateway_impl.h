// SmsGateway's state and what its translation units share: sms_gateway.cpp (life, routing,
// token check), sms_config.cpp (options), sms_inbound.cpp (inbound route and the unverified
// thread it may open), sms_delivery_reports.cpp (dlr route) and sms_outbound.cpp (replies,
// notices and the outbox). Private to the adapter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/storage/sms_outbox.h"
#include "ariadne/storage/sqlite.h"
#include "kannel_client.h"

namespace ariadne::adapters {

namespace detail {

/// Throws AdapterError(invalid_input) "sms config: KEY: WHY".
[[noreturn]] void invalid(const std::string& key, const std::string& why);

/// Compares a presented secret with the expected one in constant time (also when the
/// lengths differ).
bool equal_secret(std::string_view given, std::string_view expected);

/// A plain-text answer to Kannel.
inline gateway::HttpResponse text(int status, std::string body) {
    return gateway::HttpResponse::text(status, std::move(body));
}

/// Fixed one-minute windows: a total budget and one per key. Thread-safe.
class MinuteLimiter {
  public:
    MinuteLimiter(std::uint32_t total, std::uint32_t per_key) : total_(total), per_key_(per_key) {}
    bool allow_total(std::int64_t now_ms) {
        std::lock_guard lock(mutex_);
        roll(now_ms);
        return ++count_ <= total_;
    }
    bool allow_key(const std::string& key, std::int64_t now_ms) {
        std::lock_guard lock(mutex_);
        roll(now_ms);
        return ++keys_[key] <= per_key_;
    }

  private:
    void roll(std::int64_t now_ms) {
        const std::int64_t window = now_ms / 60000;
        if (window != window_) {
            window_ = window;
            count_ = 0;
            keys_.clear();
        }
    }
    std::mutex mutex_;
    std::uint32_t total_, per_key_;
    std::int64_t window_ = -1;
    std::uint32_t count_ = 0;
    std::map<std::string, std::uint32_t> keys_;
};

}  // namespace detail

/// The catalogue language whose call keyword (catalogue.json `call_keywords`) `text` is,
/// ignoring ASCII case and surrounding spaces and punctuation; nullopt for any other text.
std::optional<std::string> call_keyword_language(std::string_view text);
/// The catalogue's text `key` in `language` (English when missing).
std::string call_text(const std::string& language, const std::string& key);

struct SmsGateway::Impl {
    gateway::Store& store;
    policies::PolicyStore& policies;
    const gateway::ServerKey& key;
    EdgeHub& hub;
    SmsGatewayOptions options;
    detail::KannelEndpoint endpoint;
    detail::MinuteLimiter limiter;
    std::mutex unverified_mutex;  // one new thread per unknown number, even when racing
    std::mutex hooks_mutex;
    std::function<void(const policies::CaseCode&)> unverified_hook;
    std::function<void(const policies::CaseCode&)> duress_hook;
    detail::MinuteLimiter code_limiter;
    std::atomic<unsigned> next_concat_reference{static_cast<unsigned>(std::random_device{}())};
    std::mutex settling_mutex;  // never held while calling into the hub
    std::set<std::int64_t> settling;
    std::optional<storage::SmsOutbox> sent_parts;  // set once the options are valid

    /// Validates the options and the on-duty accounts; creates the outbox table. Throws
    /// AdapterError(invalid_input / storage).
    Impl(gateway::Store& s, policies::PolicyStore& p, const gateway::ServerKey& k, EdgeHub& h,
         SmsGatewayOptions o);

    // ---- sms_gateway.cpp ----
    std::int64_t now_ms() const;
    /// True when the request carries the inbound token (Bearer, or Basic's password).
    bool authorised(const gateway::HttpRequest& r) const;

    // ---- sms_inbound.cpp ----
    gateway::HttpResponse inbound(const gateway::HttpRequest& r);
    /// Opens an unverified thread for a number not on file: a new survivor account and case
    /// assigned to the on-duty caseworkers, the number linked unverified. Returns the
    /// account id. Throws on storage failures (the message is then not stored).
    std::string create_unverified_thread(const std::string& number);
    /// The survivor account a code-shaped SMS is the enrolment duress code of (the second
    /// account of `survivor-enrol --with-duress-code`): raises her silent duress alert (an
    /// edge-encrypted alert message to her team + on_duress: duress alert and outbound lock)
    /// and returns true. The code is only derived in memory and wiped.
    bool duress_code(const std::string& body, const std::string& number_ref);
    /// Her call keyword from her verified number: a call-back request through her edge
    /// (channel sms) for the next windows today or tomorrow in her time zone, answered by
    /// one neutral SMS in the keyword's language when sms replies to her are allowed now.
    /// Returns the HTTP status for Kannel: 202, or 503 when it could not be asked now.
    int ask_for_call(const std::string& account, const std::string& language);

    // ---- sms_delivery_reports.cpp ----
    gateway::HttpResponse dlr(const gateway::HttpRequest& r);

    // ---- sms_outbound.cpp: the parts handed to Kannel, by mailbox entry ----
    /// Runs `change` on the outbox; a storage::Error becomes AdapterError(storage).
    template <typename Change>
    auto outbox_call(Change change) -> decltype(change(*sent_parts)) {
        try {
            return change(*sent_parts);
        } catch (const storage::Error&) {
            throw AdapterError(AdapterError::Code::storage, "the SMS outbox cannot be used");
        }
    }
    /// A part's state is "sending" (being handed to Kannel), "sent" (Kannel took it),
    /// "delivered", or the reason code of its failure (docs/protocol.md 4.6).
    struct OutboxState {
        std::string account;
        int parts = 0, delivered = 0;
        int sending = 0;      // parts whose hand-over to Kannel has no answer recorded
        std::string failure;  // the first failed part's reason, or ""
    };
    OutboxState outbox(std::int64_t server_id);
    /// Settles a reply once: acknowledges it at the gateway (`failure` empty: delivered, the
    /// caseworker's normal receipt; else a failed receipt with that reason) and forgets its
    /// parts. Never sends anything again. Safe from the reply handler and from a delivery
    /// report racing it: one of them settles, the other finds nothing to do. If the gateway
    /// cannot take the ack now, the parts stay (with their states) and the next report or
    /// the redelivery after a restart settles it.
    void settle(std::int64_t server_id, const std::string& account, const std::string& failure);
    /// The dlr-url of part `part` of reply `server_id`, with its mac.
    std::string dlr_url(std::int64_t server_id, std::size_t part) const;
    /// Hands `text` to Kannel part by part (tracked in the outbox when `server_id` > 0).
    /// Returns the number of parts accepted.
    std::size_t send_parts(const std::string& number, std::string_view text, std::int64_t server_id,
                           const std::string& account);
    /// The hub's reply handler: a reply to an SMS thread, decided again and sent.
    void on_reply(EdgeReply& reply);
};

}  // namespace ariadne::adapters
