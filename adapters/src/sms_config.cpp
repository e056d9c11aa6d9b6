// The SMS adapter's options: the config file (`--sms-config FILE`) and the checks every
// SmsGatewayOptions passes, each error naming its key.
#include <algorithm>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/policies/time_zone.h"
#include "sms_gateway_impl.h"

namespace ariadne::adapters {

using Code = AdapterError::Code;

namespace detail {

[[noreturn]] void invalid(const std::string& key, const std::string& why) {
    throw AdapterError(Code::invalid_input, "sms config: " + key + ": " + why);
}

}  // namespace detail

using detail::invalid;

namespace {

bool is_token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

}  // namespace

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

}  // namespace ariadne::adapters
