// Inbound SMS (`{path}/inbound`): Kannel's request checked and decoded, code-shaped texts
// kept back (and checked against her duress code), the number's case found or an
// unverified thread opened for it, and the text handed to her edge for her team.
#include <algorithm>
#include <cctype>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/adapters/sms_text.h"
#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/policies/clock.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/enrolment.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/policy_store.h"
#include "call_windows.h"
#include "sms_gateway_impl.h"
#include "web_assets.h"

namespace ariadne::adapters {

using Code = AdapterError::Code;
using gateway::HttpRequest;
using gateway::HttpResponse;

using detail::text;

namespace {

constexpr std::size_t kMaxInboundBytes = 4000;

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

/// The survivor page's catalogue (adapters/web/catalogue.json): the call keywords and the
/// SMS answers to them live there with her page's texts, one object per language.
const nlohmann::json& catalogue() {
    static const nlohmann::json c = [] {
        nlohmann::json j = nlohmann::json::parse(detail::find_asset("/catalogue.json")->body);
        j.erase("_comment");
        return j;
    }();
    return c;
}

/// Upper case for ASCII letters only (the Greek keywords are listed in their usual forms).
std::string upper_ascii(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

}  // namespace

std::optional<std::string> call_keyword_language(std::string_view text) {
    if (text.size() > 60) return std::nullopt;
    // Spaces and the punctuation people add ("Call!", "¿LLAMAR?", "اتصل؟") around it.
    static constexpr std::string_view kTrim[] = {" ", "\t", "\r",     "\n",     ".",
                                                 "!", "?",  "\u00bf", "\u00a1", "\u061f"};
    bool trimmed = true;
    while (trimmed && !text.empty()) {
        trimmed = false;
        for (std::string_view t : kTrim) {
            if (text.size() >= t.size() && text.substr(0, t.size()) == t) {
                text.remove_prefix(t.size());
                trimmed = true;
            }
            if (text.size() >= t.size() && text.substr(text.size() - t.size()) == t) {
                text.remove_suffix(t.size());
                trimmed = true;
            }
        }
    }
    const std::string wanted = upper_ascii(std::string(text));
    for (auto it = catalogue().begin(); it != catalogue().end(); ++it) {
        for (const auto& k : it->value("call_keywords", nlohmann::json::array())) {
            if (k.is_string() && upper_ascii(k.get<std::string>()) == wanted) return it.key();
        }
    }
    return std::nullopt;
}

std::string call_text(const std::string& language, const std::string& key) {
    auto l = catalogue().find(language);
    if (l != catalogue().end() && l->contains(key)) return l->at(key).get<std::string>();
    return catalogue().at("en").at(key).get<std::string>();
}

std::string SmsGateway::Impl::create_unverified_thread(const std::string& number) {
    // The one enrolment use case (as `survivor-enrol`). Whoever writes from an unknown
    // number may not be her: until a caseworker verifies the sender, her console shows the
    // instruction never to confirm anyone was a client. The throwaway recovery code is
    // wiped with `enrolled`.
    gateway::SurvivorEnrolment args{.caseworkers = options.on_duty,
                                    .caseworker_field = "on_duty",
                                    .initials = "U",
                                    .language = options.default_language,
                                    .time_zone = options.default_time_zone,
                                    .never_confirm_client = true,
                                    .sms_number = number};
    struct WipeNumber {  // her number leaves memory with this call, as the caller's copy does
        std::string& n;
        ~WipeNumber() { crypto::wipe(n.data(), n.size()); }
    } wipe_number{args.sms_number};
    auto enrolled = gateway::enrol_survivor(
        store, policies, key, args, [this] { return options.recovery_params; },
        {policies::AccountId("sms-gateway"), policies::Role::admin}, policies::now_utc());
    spdlog::warn("sms: unverified thread opened for the on-duty team");
    std::function<void(const policies::CaseCode&)> hook;
    {
        std::lock_guard lock(hooks_mutex);
        hook = unverified_hook;
    }
    // `ariadne serve` raises the unverified_channel alert (AlertBoard) here.
    if (hook) hook(enrolled.case_code);
    return enrolled.account.id;
}

HttpResponse SmsGateway::Impl::inbound(const HttpRequest& r) {
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
        (r.header("x-kannel-coding") == "2" && content_type.find("utf-8") == std::string::npos)) {
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
    bool verified_sender = false;
    try {
        std::lock_guard lock(unverified_mutex);
        auto link = gateway::find_sms_link(policies, ref);
        if (link) {
            auto a = gateway::find_case_account(policies, link->case_code);
            if (!a) return fail(503, "The case of this number has no account.\n");
            account = *a;
            verified_sender = link->verified;
        } else {
            account = create_unverified_thread(*number);
        }
    } catch (const std::exception& e) {
        spdlog::error("sms: inbound message not stored: {}", e.what());
        return fail(503, "The message could not be stored: retry later.\n");
    }
    // Her call keyword, alone, from her verified number: a call-back request instead of a
    // message (an unknown or unverified sender's keyword is an ordinary message).
    if (auto language = call_keyword_language(body); language && verified_sender) {
        return fail(ask_for_call(account, *language), "");
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

int SmsGateway::Impl::ask_for_call(const std::string& account, const std::string& language) {
    auto c = gateway::find_survivor_case(policies, account);
    auto record = gateway::find_survivor_record(policies, account);
    if (!c || !record) return 503;
    // The next windows still open today or tomorrow in her time zone; the gateway moves the
    // call out of her quiet hours itself.
    std::vector<CallbackWindow> windows;
    for (const auto& w : detail::call_windows(now_ms(), record->time_zone)) {
        if (windows.size() == 3) break;
        windows.push_back({w.from_ms, w.to_ms});
    }
    std::string answer;
    try {
        CallbackAccepted a = hub.request_callback(account, EdgeChannel::sms, windows);
        const std::int64_t from = a.next_allowed_from.value_or(a.window.from_ms);
        answer = call_text(language, "call_sms_asked") + " " +
                 detail::local_clock(from, record->time_zone);
        spdlog::info("sms: call-back requested for case {}", c->case_code.str());
    } catch (const AdapterError& e) {
        if (e.code() == AdapterError::Code::invalid_input) {
            spdlog::error("sms: call-back request for case {} not valid: {}", c->case_code.str(),
                          e.what());
            return 202;  // asking again would not change it
        }
        if (e.code() != AdapterError::Code::refused) {
            spdlog::error("sms: call-back request for case {} not taken: {}", c->case_code.str(),
                          e.what());
            return 503;  // Kannel posts it again
        }
        spdlog::warn("sms: call-back request for case {} refused ({})", c->case_code.str(),
                     e.reason());
        answer = call_text(language, "call_sms_refused");
    }
    // The answer is a message to her phone like a reply: decided (and audited) for sms,
    // purpose replies, so a duress lock, her quiet hours or a withdrawal send nothing.
    auto number = gateway::verified_sms_number(policies, key, c->case_code);
    if (!number) return 202;
    auto d = policies.decide_and_record(
        c->case_code, policies::ChannelRef::make(policies::ChannelKind::sms), number->address_ref,
        policies::Purpose::replies, policies::now_utc(), std::string("sms-gateway"));
    if (d.allowed) {
        if (send_parts(number->number, answer, 0, account) == 0) {
            spdlog::warn("sms: the answer to a call-back request for case {} was not sent",
                         c->case_code.str());
        }
    } else {
        spdlog::warn("sms: no answer to a call-back request for case {}: {}", c->case_code.str(),
                     policies::to_string(d.reason));
    }
    crypto::wipe(number->number.data(), number->number.size());
    return 202;
}

bool SmsGateway::Impl::duress_code(const std::string& body, const std::string& number_ref) {
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
        if (creds && crypto::equal_constant_time(creds->auth_public_key, secrets.auth_public_key)) {
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

}  // namespace ariadne::adapters
