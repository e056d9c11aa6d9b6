#include "ariadne/adapters/sms_gateway.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_text.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sms_outbox.h"
#include "ariadne/storage/sqlite.h"
#include "kannel_client.h"

namespace ariadne::adapters {

using Code = AdapterError::Code;
using gateway::HttpRequest;
using gateway::HttpResponse;

namespace {

constexpr std::size_t kMaxInboundBytes = 4000;
constexpr std::size_t kMaxReplyParts = 10;
// Delivery reports Kannel sends: 1 delivered to phone, 2 not delivered, 16 refused by SMSC.
constexpr int kDlrMask = 1 | 2 | 16;

[[noreturn]] void invalid(const std::string& key, const std::string& why) {
    throw AdapterError(Code::invalid_input, "sms config: " + key + ": " + why);
}

bool is_token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

bool equal_secret(std::string_view given, std::string_view expected) {
    if (given.size() != expected.size()) {
        (void)crypto::equal_constant_time(crypto::as_bytes(expected), crypto::as_bytes(expected));
        return false;
    }
    return crypto::equal_constant_time(crypto::as_bytes(given), crypto::as_bytes(expected));
}

/// UTF-16BE (Kannel's body for a UCS-2 SMS when it does not convert) → UTF-8; "" if invalid.
std::string utf16be_to_utf8(std::string_view in) {
    if (in.size() % 2 != 0) return {};
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 2) {
        std::uint32_t u =
            (static_cast<unsigned char>(in[i]) << 8) | static_cast<unsigned char>(in[i + 1]);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 >= in.size()) return {};
            std::uint32_t lo = (static_cast<unsigned char>(in[i + 2]) << 8) |
                               static_cast<unsigned char>(in[i + 3]);
            if (lo < 0xDC00 || lo > 0xDFFF) return {};
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return {};
        }
        if (u < 0x80) {
            out.push_back(static_cast<char>(u));
        } else if (u < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (u >> 6)));
            out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
        } else if (u < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (u >> 12)));
            out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (u >> 18)));
            out.push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
        }
    }
    return out;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// Value of `name` in an undecoded query string, or "" (values here are digits only).
std::string query_value(const std::string& query, const std::string& name) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t end = query.find('&', pos);
        if (end == std::string::npos) end = query.size();
        std::string_view pair(query.data() + pos, end - pos);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            return std::string(pair.substr(name.size() + 1));
        }
        pos = end + 1;
    }
    return {};
}

bool all_digits(std::string_view s, std::size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The user-data header of part `sequence` (1-based) of `total`: one information element,
/// IEI 0x00 "concatenated short messages, 8-bit reference" (6 octets in all, so a part holds
/// 153 GSM-7 septets or 67 UCS-2 units: sms_text.h splits accordingly).
std::string concatenation_udh(unsigned char reference, std::size_t total, std::size_t sequence) {
    return std::string{0x05,
                       0x00,
                       0x03,
                       static_cast<char>(reference),
                       static_cast<char>(total),
                       static_cast<char>(sequence)};
}

/// What her team sees instead of a code-shaped SMS (codes are never forwarded or stored).
constexpr const char* kCodeNotForwarded =
    "[Ariadne: she sent a message that looks like a login or recovery code. It is not shown "
    "or stored; ask her to send codes only where the app or page asks for them.]";

/// True if the whole text is a recovery code as people type it (16 digits, or 8 words of
/// the list, with any separators normalize_recovery_code accepts). Cheap: no derivation.
bool looks_like_code(const std::string& text) {
    if (text.size() > 200) return false;
    try {
        std::string normalised = crypto::normalize_recovery_code(text);
        crypto::wipe(normalised.data(), normalised.size());
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

HttpResponse text(int status, std::string body) {
    return HttpResponse::text(status, std::move(body));
}

/// Fixed one-minute windows: a total budget and one per key.
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

}  // namespace

std::string dlr_mac(std::string_view inbound_token, std::string_view ref) {
    // HKDF-Expand is HMAC-SHA256 keyed by the extracted token: a PRF of `ref`.
    return crypto::hex_encode(crypto::hkdf_sha256(crypto::as_bytes(inbound_token),
                                                  crypto::as_bytes("ariadne/v1/sms-dlr-mac"),
                                                  crypto::as_bytes(ref), 16)
                                  .view());
}

void validate(const SmsGatewayOptions& o) {
    if (o.kannel_host != "127.0.0.1" && o.kannel_host.rfind("127.", 0) != 0) {
        invalid("kannel_host",
                "must be a loopback IPv4 address such as 127.0.0.1 (sendsms is plain HTTP)");
    }
    if (o.kannel_port == 0) invalid("kannel_port", "must be a port number (1-65535)");
    if (o.kannel_username.empty() || o.kannel_username.size() > 64 ||
        !printable_ascii(o.kannel_username)) {
        invalid("kannel_username", "must be 1 to 64 printable ASCII characters without spaces");
    }
    if (o.kannel_password.empty() || o.kannel_password.size() > 128 ||
        !printable_ascii(o.kannel_password)) {
        invalid("kannel_password", "must be 1 to 128 printable ASCII characters without spaces");
    }
    if (o.sender.size() > 16 || !std::all_of(o.sender.begin(), o.sender.end(), [](char c) {
            return (c >= '0' && c <= '9') || c == '+' || (c >= 'A' && c <= 'Z') ||
                   (c >= 'a' && c <= 'z');
        })) {
        invalid("sender", "must be a number or a neutral word of at most 16 letters/digits");
    }
    if (o.inbound_token.size() < 32 || o.inbound_token.size() > 128 ||
        !std::all_of(o.inbound_token.begin(), o.inbound_token.end(), is_token_char)) {
        invalid("inbound_token", "must be 32 to 128 characters of A-Z a-z 0-9 _ -");
    }
    if (o.callback_base.rfind("https://", 0) != 0 || o.callback_base.size() < 9 ||
        o.callback_base.back() == '/' || !printable_ascii(o.callback_base) ||
        o.callback_base.find('@') != std::string::npos) {
        invalid("callback_base",
                "must be the https:// URL Kannel uses to reach this gateway, without a "
                "trailing '/' or credentials, e.g. https://127.0.0.1:8443");
    }
    if (o.path.size() < 2 || o.path[0] != '/' || o.path.back() == '/' || !printable_ascii(o.path)) {
        invalid("path", "must start with '/' and not end with one, e.g. /sms");
    }
    if (o.on_duty.empty()) {
        invalid("on_duty",
                "must list at least one caseworker account id (unverified threads "
                "go to them)");
    }
    try {
        policies::LanguageTag(o.default_language, "default_language");
    } catch (const std::exception& e) {
        invalid("default_language", e.what());
    }
    try {
        (void)policies::TimeZone::load(o.default_time_zone, "default_time_zone");
    } catch (const std::exception&) {
        invalid("default_time_zone", "not an IANA time zone name such as Europe/Rome");
    }
    if (o.inbound_per_minute == 0 || o.per_number_per_minute == 0) {
        invalid(o.inbound_per_minute == 0 ? "inbound_per_minute" : "per_number_per_minute",
                "must be at least 1");
    }
}

SmsGatewayOptions load_sms_config(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) invalid(file.string(), "the file cannot be read");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
        invalid(file.string(), "not valid JSON");
    }
    if (!j.is_object()) invalid(file.string(), "must be a JSON object");
    SmsGatewayOptions o;
    static const std::set<std::string> known = {"kannel_host",
                                                "kannel_port",
                                                "kannel_username",
                                                "kannel_password",
                                                "sender",
                                                "inbound_token",
                                                "callback_base",
                                                "path",
                                                "on_duty",
                                                "default_language",
                                                "default_time_zone",
                                                "inbound_per_minute",
                                                "per_number_per_minute"};
    for (const auto& [k, v] : j.items()) {
        if (!known.count(k)) invalid(k, "unknown key");
    }
    auto str = [&](const char* key, std::string& out, bool required) {
        if (!j.contains(key)) {
            if (required) invalid(key, "missing");
            return;
        }
        if (!j[key].is_string()) invalid(key, "must be a string");
        out = j[key].get<std::string>();
    };
    auto num = [&](const char* key, auto& out) {
        if (!j.contains(key)) return;
        if (!j[key].is_number_unsigned() || j[key].get<std::uint64_t>() > 65535) {
            invalid(key, "must be a whole number from 1 to 65535");
        }
        out = static_cast<std::remove_reference_t<decltype(out)>>(j[key].get<std::uint64_t>());
    };
    str("kannel_host", o.kannel_host, false);
    num("kannel_port", o.kannel_port);
    str("kannel_username", o.kannel_username, true);
    str("kannel_password", o.kannel_password, true);
    str("sender", o.sender, false);
    str("inbound_token", o.inbound_token, true);
    str("callback_base", o.callback_base, true);
    str("path", o.path, false);
    str("default_language", o.default_language, false);
    str("default_time_zone", o.default_time_zone, false);
    num("inbound_per_minute", o.inbound_per_minute);
    num("per_number_per_minute", o.per_number_per_minute);
    if (!j.contains("on_duty") || !j["on_duty"].is_array()) {
        invalid("on_duty", "must be a list of caseworker account ids");
    }
    for (const auto& v : j["on_duty"]) {
        if (!v.is_string()) invalid("on_duty", "must be a list of caseworker account ids");
        o.on_duty.push_back(v.get<std::string>());
    }
    validate(o);
    return o;
}

struct SmsGateway::Impl {
    gateway::Store& store;
    policies::PolicyStore& policies;
    const gateway::ServerKey& key;
    EdgeHub& hub;
    SmsGatewayOptions options;
    detail::KannelEndpoint endpoint;
    MinuteLimiter limiter;
    std::mutex unverified_mutex;  // one new thread per unknown number, even when racing
    std::mutex hooks_mutex;
    std::function<void(const policies::CaseCode&)> unverified_hook;
    std::function<void(const policies::CaseCode&)> duress_hook;
    MinuteLimiter code_limiter;
    std::atomic<unsigned> next_concat_reference{static_cast<unsigned>(std::random_device{}())};
    std::mutex settling_mutex;  // never held while calling into the hub
    std::set<std::int64_t> settling;
    std::optional<storage::SmsOutbox> sent_parts;  // set once the options are valid

    Impl(gateway::Store& s, policies::PolicyStore& p, const gateway::ServerKey& k, EdgeHub& h,
         SmsGatewayOptions o)
        : store(s),
          policies(p),
          key(k),
          hub(h),
          options(std::move(o)),
          limiter(options.inbound_per_minute, options.per_number_per_minute),
          code_limiter(options.code_checks_per_minute, options.code_checks_per_number_per_minute) {
        validate(options);
        for (const auto& id : options.on_duty) {
            auto a = store.find_account(id);
            if (!a || a->role != gateway::Role::caseworker) {
                invalid("on_duty", "no caseworker account has the id " + id);
            }
        }
        endpoint.host = options.kannel_host;
        endpoint.port = options.kannel_port;
        endpoint.username = options.kannel_username;
        endpoint.password = options.kannel_password;
        endpoint.timeout = options.kannel_timeout;
        try {
            sent_parts.emplace(policies);
        } catch (const storage::Error& e) {
            throw AdapterError(Code::storage,
                               std::string("the SMS outbox table cannot be created: ") + e.what());
        }
    }

    std::int64_t now_ms() const {
        if (options.clock_ms) return options.clock_ms();
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    bool authorised(const HttpRequest& r) const {
        const std::string h = r.header("authorization");
        std::string given;
        if (h.rfind("Bearer ", 0) == 0) {
            given = h.substr(7);
        } else if (h.rfind("Basic ", 0) == 0) {
            crypto::Bytes decoded;
            try {
                decoded = crypto::base64_decode(h.substr(6));
            } catch (const std::exception&) {
                return false;
            }
            std::string pair(decoded.begin(), decoded.end());
            auto colon = pair.find(':');
            if (colon == std::string::npos) return false;
            given = pair.substr(colon + 1);
        } else {
            return false;
        }
        return equal_secret(given, options.inbound_token);
    }

    // ---- outbox: the parts handed to Kannel, by mailbox entry (storage::SmsOutbox) ----
    template <typename Change>
    auto outbox_call(Change change) -> decltype(change(*sent_parts)) {
        try {
            return change(*sent_parts);
        } catch (const storage::Error&) {
            throw AdapterError(Code::storage, "the SMS outbox cannot be used");
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
    OutboxState outbox(std::int64_t server_id) {
        OutboxState st;
        auto parts = outbox_call([&](storage::SmsOutbox& o) { return o.parts(server_id); });
        for (const auto& p : parts) {
            st.account = p.account;
            ++st.parts;
            if (p.state == "delivered") {
                ++st.delivered;
            } else if (p.state == "sending") {
                ++st.sending;
            } else if (p.state != "sent" && st.failure.empty()) {
                st.failure = p.state;
            }
        }
        return st;
    }

    /// Settles a reply once: acknowledges it at the gateway (`failure` empty: delivered, the
    /// caseworker's normal receipt; else a failed receipt with that reason) and forgets its
    /// parts. Never sends anything again. Safe from the reply handler and from a delivery
    /// report racing it: one of them settles, the other finds nothing to do. If the gateway
    /// cannot take the ack now, the parts stay (with their states) and the next report or
    /// the redelivery after a restart settles it.
    void settle(std::int64_t server_id, const std::string& account, const std::string& failure) {
        {
            std::lock_guard lock(settling_mutex);
            if (!settling.insert(server_id).second) return;
        }
        if (outbox(server_id).parts > 0) {
            if (hub.acknowledge(account, server_id, failure)) {
                outbox_call([&](storage::SmsOutbox& o) { o.forget(server_id, account); });
                if (!failure.empty()) {
                    spdlog::warn(
                        "sms: a reply to account {} was not delivered ({}); the caseworker got a "
                        "failed receipt",
                        account, failure);
                }
            } else {
                spdlog::warn("sms: the reply {} to account {} could not be settled yet", server_id,
                             account);
            }
        }
        std::lock_guard lock(settling_mutex);
        settling.erase(server_id);
    }

    // ---- inbound ----
    std::string create_unverified_thread(const std::string& number) {
        std::string code = crypto::generate_recovery_code();
        auto verifier = crypto::make_recovery_verifier(code, options.recovery_params);
        crypto::wipe(code.data(), code.size());
        gateway::Account account =
            store.create_survivor(verifier.locator, verifier.auth_public_key);
        policies::Survivor record{policies::CaseCode::generate(), policies::Initials("U"),
                                  policies::LanguageTag(options.default_language),
                                  options.default_time_zone};
        // Whoever writes from an unknown number may not be her: until a caseworker verifies
        // the sender, her console shows the instruction never to confirm anyone was a client.
        record.flags.never_confirm_client = true;
        for (const auto& id : options.on_duty) {
            store.assign(account.id, id);
            record.caseworkers.emplace_back(id, "on_duty");
        }
        const policies::Actor actor{policies::AccountId("sms-gateway"), policies::Role::admin};
        auto enrolled = policies.enrol_survivor(record, actor, now_utc());
        gateway::link_survivor_case(policies, account.id, enrolled.case_code, false);
        gateway::link_sms_number(policies, key, number, enrolled.case_code, false);
        spdlog::warn("sms: unverified thread opened for the on-duty team");
        std::function<void(const policies::CaseCode&)> hook;
        {
            std::lock_guard lock(hooks_mutex);
            hook = unverified_hook;
        }
        // `ariadne serve` raises the unverified_channel alert (AlertBoard) here.
        if (hook) hook(enrolled.case_code);
        return account.id;
    }

    HttpResponse inbound(const HttpRequest& r) {
        if (r.method != "POST") return text(405, "Use POST.\n");
        if (!limiter.allow_total(now_ms())) return text(429, "Too many requests: retry later.\n");
        if (!authorised(r)) return text(401, "The SMS gateway token is missing or wrong.\n");
        auto number = gateway::normalize_phone_number(r.header("x-kannel-from"));
        if (!number) {
            return text(400,
                        "X-Kannel-From: missing or not a phone number (an optional '+' "
                        "and 3 to 20 digits).\n");
        }
        const std::string ref = gateway::address_ref_of(key, *number);
        if (!limiter.allow_key(ref, now_ms())) {
            crypto::wipe(number->data(), number->size());
            return text(429, "Too many messages from this sender: retry later.\n");
        }
        std::string body = r.body;
        const std::string content_type = lower(r.header("content-type"));
        if (content_type.find("utf-16be") != std::string::npos ||
            (r.header("x-kannel-coding") == "2" &&
             content_type.find("utf-8") == std::string::npos)) {
            body = utf16be_to_utf8(r.body);
            if (body.empty() && !r.body.empty()) {
                crypto::wipe(number->data(), number->size());
                return text(400, "body: not valid UTF-16BE text.\n");
            }
        }
        auto fail = [&](int status, std::string message) {
            crypto::wipe(number->data(), number->size());
            crypto::wipe(body.data(), body.size());
            return text(status, std::move(message));
        };
        if (body.empty()) return fail(400, "body: the message text is empty.\n");
        if (body.size() > kMaxInboundBytes) {
            return fail(413, "body: the message text is longer than 4000 bytes.\n");
        }
        try {
            (void)sms_encoding(body);  // validates UTF-8
        } catch (const AdapterError&) {
            return fail(400, "body: not valid UTF-8 text.\n");
        }
        // A message that is nothing but a recovery-code-shaped text is never forwarded (a code
        // is a login secret) and, within the check budget, is checked against the duress codes.
        // Every code-shaped SMS gets the same answer (202, empty) and no SMS back, duress or not.
        if (looks_like_code(body)) {
            if (duress_code(body, ref)) return fail(202, "");
            crypto::wipe(body.data(), body.size());
            body = kCodeNotForwarded;
        }
        std::string account;
        try {
            std::lock_guard lock(unverified_mutex);
            auto link = gateway::find_sms_link(policies, ref);
            if (link) {
                auto a = gateway::find_case_account(policies, link->case_code);
                if (!a) return fail(503, "The case of this number has no account.\n");
                account = *a;
            } else {
                account = create_unverified_thread(*number);
            }
        } catch (const std::exception& e) {
            spdlog::error("sms: inbound message not stored: {}", e.what());
            return fail(503, "The message could not be stored: retry later.\n");
        }
        try {
            hub.submit_inbound(account, EdgeChannel::sms, body);
        } catch (const AdapterError& e) {
            spdlog::error("sms: inbound message for account {} not stored: {}", account, e.what());
            return fail(503, "The message could not be stored: retry later.\n");
        }
        // Empty body: Kannel must never turn an answer into an SMS to her (max-messages = 0
        // in the sms-service too).
        return fail(202, "");
    }

    /// The survivor account a code-shaped SMS is the enrolment duress code of (the second
    /// account of `survivor-enrol --with-duress-code`): raises her silent duress alert (an
    /// edge-encrypted alert message to her team + on_duress: duress alert and outbound lock)
    /// and returns true. The code is only derived in memory and wiped.
    bool duress_code(const std::string& body, const std::string& number_ref) {
        if (!code_limiter.allow_total(now_ms()) || !code_limiter.allow_key(number_ref, now_ms())) {
            spdlog::warn("sms: a code-shaped message was not checked (too many code checks)");
            return false;
        }
        std::optional<std::string> her;
        try {
            std::string normalised = crypto::normalize_recovery_code(body);
            crypto::RecoverySecrets secrets =
                crypto::derive_recovery_secrets(normalised, options.recovery_params);
            crypto::wipe(normalised.data(), normalised.size());
            auto creds = store.find_survivor(secrets.locator);
            if (creds &&
                crypto::equal_constant_time(creds->auth_public_key, secrets.auth_public_key)) {
                her = gateway::duress_login_target(policies, creds->account.id);
            }
        } catch (const std::exception&) {
            return false;
        }
        if (!her) return false;
        auto c = gateway::find_survivor_case(policies, *her);
        spdlog::warn("sms: duress code received");  // not for whom (see docs/threat-model.md)
        try {
            hub.notify_team(*her,
                            "ALERT: her duress code was just sent by SMS. Check on her safety by "
                            "the means agreed with her.");
        } catch (const std::exception& e) {
            spdlog::error("sms: a duress alert was not delivered: {}", e.what());
        }
        std::function<void(const policies::CaseCode&)> hook;
        {
            std::lock_guard lock(hooks_mutex);
            hook = duress_hook;
        }
        if (hook && c) hook(c->case_code);
        return true;
    }

    // ---- delivery reports ----
    HttpResponse dlr(const HttpRequest& r) {
        if (r.method != "GET" && r.method != "POST") return text(405, "Use GET.\n");
        if (!limiter.allow_total(now_ms())) return text(429, "Too many requests: retry later.\n");
        const std::string ref = query_value(r.query, "ref");
        // Kannel calls the dlr-url Ariadne gave it, whose `mac` authorises this one ref (the
        // token is not in it: Kannel writes URLs it cannot fetch into its error log). The
        // token in a header is accepted too.
        if (!equal_secret(query_value(r.query, "mac"), dlr_mac(options.inbound_token, ref)) &&
            !authorised(r)) {
            return text(401, "mac: missing or wrong for this ref (or the token is wrong).\n");
        }
        const std::string type = query_value(r.query, "type");
        const auto dash = ref.find('-');
        if (dash == std::string::npos || !all_digits(ref.substr(0, dash), 18) ||
            !all_digits(ref.substr(dash + 1), 2)) {
            return text(400, "ref: must be <server id>-<part>.\n");
        }
        if (!all_digits(type, 3)) return text(400, "type: must be a Kannel DLR type number.\n");
        const std::int64_t server_id = std::stoll(ref.substr(0, dash));
        const std::int64_t part = std::stoll(ref.substr(dash + 1));
        const int t = std::stoi(type);
        std::string state;
        if (t & 1) {
            state = "delivered";
        } else if (t & 2) {
            state = "sms_not_delivered";  // the network could not deliver it to her phone
        } else if (t & 16) {
            state = "sms_rejected";  // the SMS centre refused it
        }
        OutboxState before = outbox(server_id);
        if (before.parts == 0 || part >= before.parts) {
            return text(404, "ref: no SMS is waiting for this report.\n");
        }
        if (state.empty()) return text(200, "");  // buffered / accepted by the SMSC: not final
        // The first final report of a part counts; a repeated or contradicting one is ignored.
        outbox_call([&](storage::SmsOutbox& o) {
            return o.set_final(server_id, part, before.account, state);
        });
        OutboxState after = outbox(server_id);
        if (!after.failure.empty()) {
            // One part lost is the reply lost: the caseworker learns it now, nothing is resent.
            settle(server_id, after.account, after.failure);
        } else if (after.parts > 0 && after.delivered == after.parts) {
            settle(server_id, after.account, "");
        }
        return text(200, "");
    }

    // ---- outbound ----
    std::string dlr_url(std::int64_t server_id, std::size_t part) const {
        const std::string ref = std::to_string(server_id) + "-" + std::to_string(part);
        return options.callback_base + options.path + "/dlr?ref=" + ref +
               "&mac=" + dlr_mac(options.inbound_token, ref) + "&type=%d";
    }

    /// Hands `text` to Kannel part by part. Returns the number of parts accepted.
    std::size_t send_parts(const std::string& number, std::string_view text, std::int64_t server_id,
                           const std::string& account) {
        SmsSegments segments = split_sms(text);
        if (segments.parts.empty() || segments.parts.size() > kMaxReplyParts) return 0;
        if (server_id > 0) {
            for (std::size_t i = 0; i < segments.parts.size(); ++i) {
                outbox_call([&](storage::SmsOutbox& o) {
                    o.add_sending(server_id, static_cast<std::int64_t>(i), account);
                });
            }
        }
        std::size_t accepted = 0;
        const std::size_t total = segments.parts.size();
        // One reference number per concatenated message (3GPP TS 23.040 9.2.3.24.1): her phone
        // joins the parts with the same reference, in sequence order, into one message.
        const auto reference = static_cast<unsigned char>(next_concat_reference++);
        for (std::size_t i = 0; i < total; ++i) {
            detail::SendSms sms;
            sms.to = number;
            sms.from = options.sender;
            sms.text = std::move(segments.parts[i]);
            sms.ucs2 = segments.encoding == SmsEncoding::ucs2;
            if (total > 1) sms.udh = concatenation_udh(reference, total, i + 1);
            if (server_id > 0) {
                sms.dlr_mask = kDlrMask;
                sms.dlr_url = dlr_url(server_id, i);
            }
            auto result = detail::post_sendsms(endpoint, sms);
            crypto::wipe(sms.text.data(), sms.text.size());
            crypto::wipe(sms.to.data(), sms.to.size());
            if (!result.accepted()) {
                spdlog::error(
                    "sms: Kannel did not take part {} of a message to account {}: {} "
                    "(HTTP {})",
                    i + 1, account, result.error, result.status);
                if (server_id > 0) {
                    // 403 is Kannel's "Not routable. Do not try again.": the network side
                    // refused it (as a DLR 16 would say); anything else: Kannel not usable now.
                    outbox_call([&](storage::SmsOutbox& o) {
                        o.fail_from(server_id, static_cast<std::int64_t>(i), account,
                                    result.status == 403 ? "sms_rejected" : "sms_unavailable");
                    });
                }
                break;
            }
            if (server_id > 0) {
                // Kannel has it: from now on only its delivery report settles this part (a
                // report may already have come in, so only 'sending' changes).
                outbox_call([&](storage::SmsOutbox& o) {
                    o.mark_sent(server_id, static_cast<std::int64_t>(i), account);
                });
            }
            ++accepted;
        }
        for (auto& p : segments.parts) crypto::wipe(p.data(), p.size());
        return accepted;
    }

    void on_reply(EdgeReply& reply) {
        auto c = gateway::find_survivor_case(policies, reply.survivor_account);
        if (!c || c->duress_account) return;
        auto verified = gateway::sms_thread_verified(policies, c->case_code);
        if (!verified) return;  // not an SMS thread (the web page reads her history)
        // From here on this handler settles the reply itself (EdgeHub::acknowledge, through
        // settle()) or leaves it for the delivery reports: never a "delivered" receipt for an
        // SMS that did not reach her phone.
        reply.acknowledge_later = true;
        OutboxState already = outbox(reply.server_id);
        if (already.parts > 0) {
            // Handed to Kannel before a restart: never twice. Settle what the reports said,
            // or keep waiting for them.
            if (!already.failure.empty()) {
                settle(reply.server_id, reply.survivor_account, already.failure);
            } else if (already.delivered == already.parts) {
                settle(reply.server_id, reply.survivor_account, "");
            } else if (already.sending > 0) {
                // The gateway stopped while Kannel was being handed a part: whether Kannel
                // took it is unknown, so it is neither resent nor reported delivered.
                settle(reply.server_id, reply.survivor_account, "sms_unconfirmed");
            }
            return;
        }
        auto not_sent = [&](const std::string& reason) {
            // Refused as it was about to leave: the caseworker gets a failed receipt with
            // the reason instead of silence; nothing is retried.
            if (!hub.acknowledge(reply.survivor_account, reply.server_id, reason)) {
                spdlog::warn("sms: the refused reply {} to account {} could not be settled yet",
                             reply.server_id, reply.survivor_account);
            }
        };
        if (!*verified) {
            spdlog::warn("sms: reply for case {} not sent: the number is not verified",
                         c->case_code.str());
            not_sent(policies::to_string(policies::ReasonCode::no_consent));
            return;
        }
        auto number = gateway::verified_sms_number(policies, key, c->case_code);
        if (!number) {
            not_sent(policies::to_string(policies::ReasonCode::no_consent));
            return;
        }
        // Decided again at the moment it leaves for the carrier (consent for sms/replies,
        // withdrawal, quiet hours, duress lock), audited without content.
        auto d = policies.decide_and_record(
            c->case_code, policies::ChannelRef::make(policies::ChannelKind::sms),
            number->address_ref, policies::Purpose::replies, now_utc(), reply.from_account);
        if (!d.allowed) {
            crypto::wipe(number->number.data(), number->number.size());
            spdlog::warn("sms: reply for case {} not sent: {}", c->case_code.str(),
                         policies::to_string(d.reason));
            not_sent(policies::to_string(d.reason));
            return;
        }
        std::size_t sent =
            send_parts(number->number, reply.text, reply.server_id, reply.survivor_account);
        crypto::wipe(number->number.data(), number->number.size());
        if (sent > 0) {
            spdlog::info("sms: reply for case {} handed to Kannel ({} part(s))", c->case_code.str(),
                         sent);
        }
        // Acknowledged when the delivery reports say every part reached her phone; a part
        // Kannel did not take, or a failed report, settles it as not delivered.
        OutboxState now = outbox(reply.server_id);
        if (now.parts == 0 && sent == 0) {
            not_sent("sms_too_long");  // over kMaxReplyParts: nothing was handed to Kannel
        } else if (!now.failure.empty()) {
            settle(reply.server_id, reply.survivor_account, now.failure);
        }
    }
};

SmsGateway::SmsGateway(gateway::Store& store, policies::PolicyStore& policies,
                       const gateway::ServerKey& key, EdgeHub& hub, SmsGatewayOptions options)
    : impl_(std::make_unique<Impl>(store, policies, key, hub, std::move(options))) {
    hub.on_reply([impl = impl_.get()](EdgeReply& reply) { impl->on_reply(reply); });
}

SmsGateway::~SmsGateway() { impl_->hub.on_reply({}); }

void SmsGateway::register_routes(gateway::HttpRoutes& routes) {
    routes.add(
        impl_->options.path + "/", [this](const HttpRequest& r) { return handle(r); },
        gateway::HttpRouteClass::sms);
}

void SmsGateway::register_with(gateway::ExtensionRegistry& registry) {
    register_routes(registry.routes());
    registry.set_channel_sender(
        policies::ChannelKind::sms, [this](const policies::CheckinSend& send) {
            return send_notice(send.case_code, send.text) ? policies::SendOutcome::sent
                                                          : policies::SendOutcome::not_sent;
        });
    // Only the policy store is captured: the decision stays right if this adapter is gone.
    registry.set_device_channel(kEdgeDeviceId,
                                [&cases = impl_->policies](const policies::CaseCode& code) {
                                    return gateway::sms_thread_verified(cases, code).has_value()
                                               ? policies::ChannelKind::sms
                                               : policies::ChannelKind::web;
                                });
}

HttpResponse SmsGateway::handle(const HttpRequest& r) {
    const std::string& base = impl_->options.path;
    if (r.path == base + "/inbound") return impl_->inbound(r);
    if (r.path == base + "/dlr") return impl_->dlr(r);
    return text(404, "Not found.\n");
}

bool SmsGateway::send_notice(const policies::CaseCode& code, std::string_view text) {
    auto number = gateway::verified_sms_number(impl_->policies, impl_->key, code);
    if (!number) return false;
    const std::size_t parts = split_sms(text).parts.size();
    std::size_t sent = impl_->send_parts(number->number, text, 0, code.str());
    crypto::wipe(number->number.data(), number->number.size());
    return parts > 0 && sent == parts;
}

void SmsGateway::on_duress(std::function<void(const policies::CaseCode&)> hook) {
    std::lock_guard lock(impl_->hooks_mutex);
    impl_->duress_hook = std::move(hook);
}

void SmsGateway::on_unverified(std::function<void(const policies::CaseCode&)> hook) {
    std::lock_guard lock(impl_->hooks_mutex);
    impl_->unverified_hook = std::move(hook);
}

}  // namespace ariadne::adapters
