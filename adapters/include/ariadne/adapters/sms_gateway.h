// The SMS channel through a Kannel gateway (deploy/kannel/, docs/admin-guide.md "SMS").
//
//   her phone → carrier → Kannel bearerbox → smsbox ── POST {path}/inbound (HTTPS, token) ──┐
//   ┌────────────────────────────────────────────────────────────────────────────────────────┘
//   └→ number → keyed hash → her case (services/sms_numbers.h) → EdgeHub::submit_inbound(sms):
//      encrypted at once for each caseworker device of her team, stored like any message.
//   caseworker reply → decided at send time as channel `sms` (ConsentPolicy) → her edge
//   device → decrypted in memory → decided again (consent sms/replies, quiet hours,
//   withdrawal, duress) → split (sms_text.h) → Kannel sendsms (one POST per part) → carrier.
//   Kannel dlr-url → GET {path}/dlr → when every part is delivered the reply is acknowledged,
//   which gives the caseworker the normal delivery receipt.
//
// A number not on file opens an UNVERIFIED thread: a new survivor account and case (initials
// "U", the configured language and time zone) assigned to the on-duty caseworkers, with the
// number linked unverified; the message is edge-encrypted to them like any other. Nothing is
// ever sent to an unverified number. It becomes verified when a caseworker, after checking
// who she is (safe word or recovery code), records her SMS consent with the number
// (`ariadne admin consent-record --channel sms --address-stdin`): that links the number,
// verified, to the case named (the new case, or her existing one).
//
// The gateway originates no text of its own over SMS (no auto-reply, no confirmation),
// except one short answer to her call word (catalogue.json `call_keywords`, alone, from her
// verified number), which asks her edge for a call back instead of forwarding a message
// (docs/protocol.md section 7); check-in notices are the organisation's neutral templates in
// her language (send_notice).
// Numbers and texts are never logged: logs name case codes only.
//
// Errors: configuration errors are AdapterError(invalid_input) naming the key, at load or
// construction. A request Kannel sends is answered, never thrown at: bad input gets a 4xx
// with a sentence, a storage failure 503 ("retry later"); only a failing SMS outbox table on
// a delivery report escapes handle() as AdapterError(storage) (the server answers 500).
//
// Ownership: the gateway borrows the store, policy store, server key and hub it is given;
// they must outlive it. It owns its options and the outbox handle.
//
// Thread-safety: handle() runs concurrently on the server's workers; all public methods are
// thread-safe. Replies are sent on the EdgeHub's thread, one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/core/extension.h"
#include "ariadne/core/http_routes.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/policies/values.h"

namespace ariadne::storage {
class Store;
}
namespace ariadne::gateway {
using storage::Store;
class ServerKey;
}  // namespace ariadne::gateway
namespace ariadne::storage {
class PolicyStore;
}
namespace ariadne::policies {
using PolicyStore = storage::PolicyStore;
}

namespace ariadne::adapters {

class EdgeHub;

struct SmsGatewayOptions {
    /// Kannel's sendsms interface: a loopback IPv4 address (plain HTTP), its port, and the
    /// sendsms-user credentials.
    std::string kannel_host = "127.0.0.1";
    std::uint16_t kannel_port = 13013;
    std::string kannel_username;
    std::string kannel_password;
    /// Sender id of outgoing SMS (a number or a neutral word, never the organisation's name);
    /// empty = Kannel's default.
    std::string sender;
    /// Shared secret Kannel presents on inbound and delivery-report calls (HTTP Basic
    /// password or `Authorization: Bearer`): 32 to 128 characters of [A-Za-z0-9_-].
    std::string inbound_token;
    /// How Kannel reaches this gateway, e.g. "https://127.0.0.1:8443" (for dlr-url).
    std::string callback_base;
    /// Route prefix: {path}/inbound and {path}/dlr.
    std::string path = "/sms";
    /// Caseworker account ids that receive unverified threads (at least one).
    std::vector<std::string> on_duty;
    /// Language and time zone of an unverified thread's case until a caseworker sets hers.
    std::string default_language = "en";
    std::string default_time_zone = "UTC";
    /// Inbound requests accepted per minute: in total, and per sending number.
    std::uint32_t inbound_per_minute = 120;
    std::uint32_t per_number_per_minute = 10;
    /// Code-shaped SMS (a recovery / duress code) checked per minute (each check costs one
    /// Argon2id run): in total, and per sending number. Over the budget a code is not
    /// checked (and, like every code-shaped SMS, not forwarded). Not in the config file.
    std::uint32_t code_checks_per_minute = 20;
    std::uint32_t code_checks_per_number_per_minute = 3;
    std::chrono::milliseconds kannel_timeout{5000};
    /// Recovery parameters (an unverified thread's account gets a verifier nobody knows).
    crypto::RecoveryParams recovery_params;
    /// Unix ms clock of the rate windows (tests); empty = the system clock
    /// (policies::now_utc). Consent decisions and enrolment always read the system clock.
    std::function<std::int64_t()> clock_ms;
};

/// Reads a JSON file of SmsGatewayOptions (keys: kannel_host, kannel_port, kannel_username,
/// kannel_password, sender, inbound_token, callback_base, path, on_duty, default_language,
/// default_time_zone, inbound_per_minute, per_number_per_minute). Throws
/// AdapterError(invalid_input) naming the key for a missing, unknown or invalid one.
SmsGatewayOptions load_sms_config(const std::filesystem::path& file);
/// Checks options as load_sms_config does (same errors).
void validate(const SmsGatewayOptions& options);

/// The `mac` of a delivery-report URL for `ref` ("<server id>-<part>"): 32 hex characters of
/// HMAC-SHA256 under a key derived from the inbound token. It authorises reports for that
/// one part, so the URL Kannel may log holds no reusable secret.
std::string dlr_mac(std::string_view inbound_token, std::string_view ref);

class SmsGateway final : public gateway::Extension {
  public:
    /// Everything must outlive the gateway. Installs the reply handler on `hub` (the hub's
    /// one reply handler: replies to web-only survivors are left alone). Throws
    /// AdapterError(invalid_input) for invalid options or an on_duty id that is not a
    /// caseworker account, AdapterError(storage) if the SMS outbox table cannot be created.
    SmsGateway(gateway::Store& store, policies::PolicyStore& policies,
               const gateway::ServerKey& key, EdgeHub& hub, SmsGatewayOptions options);
    /// Removes the reply handler from the hub.
    ~SmsGateway() override;
    SmsGateway(const SmsGateway&) = delete;
    SmsGateway& operator=(const SmsGateway&) = delete;

    /// Registers {path}/inbound and {path}/dlr (one prefix route, class `sms`). The routes
    /// hold a pointer to this gateway: it must outlive `routes`' use.
    void register_routes(gateway::HttpRoutes& routes);
    /// What `ariadne serve` registers for SMS: the routes; the `sms` channel sender
    /// (check-ins and notices decided for sms go to her verified number: send_notice); and
    /// her edge device as `sms` for a case with a linked number (replies leave by SMS and
    /// are decided and audited as sms), `web` otherwise. The sender must not outlive this
    /// object: unregister (or stop the scheduler) before destroying it.
    void register_with(gateway::ExtensionRegistry& registry) override;

    /// Answers one request (what the registered routes call): {path}/inbound (POST) and
    /// {path}/dlr (GET or POST), 404 for anything else. See Errors above.
    gateway::HttpResponse handle(const gateway::HttpRequest& request);

    /// Sends a check-in notice (already decided by the scheduler) to her verified number.
    /// Returns true when Kannel accepted every part; false when she has no verified number,
    /// the text is empty or longer than 10 parts, or Kannel refused (nothing is retried).
    /// Blocks for up to kannel_timeout per part.
    bool send_notice(const policies::CaseCode& code, std::string_view text);

    /// Called when an unverified thread is opened, with its new case (`ariadne serve` raises
    /// the `unverified_channel` alert on gateway::AlertBoard). Must not throw.
    void on_unverified(std::function<void(const policies::CaseCode&)> hook);

    /// Called when an SMS holds her enrolment duress code, with her case (`ariadne serve`
    /// raises the duress alert and lock: PolicyService::raise_duress). Must not throw.
    void on_duress(std::function<void(const policies::CaseCode&)> hook);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::adapters
