// What the ConsoleService translation units share and nobody else uses: the edge device's
// conventions, the safe-word mark, the console's clock and the sentence helpers of views.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ariadne::console::detail {

using Json = nlohmann::json;

// A survivor's edge device (the gateway's web page and SMS adapter, docs/protocol.md).
inline constexpr std::uint32_t kEdgeDevice = 2;
// How the edge begins the alert it sends her team after a duress sign-in or duress SMS.
inline constexpr const char* kEdgeDuressAlert = "ALERT: her duress code was just ";
// The verified mark of a conversation checked by the agreed safe word (web page and SMS
// threads have no safety number); kept in the console's history like a verified number.
inline constexpr const char* kSafeWordMark = "safe-word";

/// Unix ms now. The console is a client program that does not link the server's policies
/// library (and its policies::Clock); this is its one wall-clock read (outbound message
/// times, retention cutoff, last sync). Intervals use steady_clock.
inline std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Field `key` of a gateway answer when it is a text, else "": contact and alert fields are
/// read defensively, so an unexpected type shows as "unknown" instead of breaking the inbox.
std::string text_field(const Json& c, const char* key);

/// What the caseworker sees on a reply the gateway reported as not delivered (a failed
/// receipt with reason code `reason`, docs/protocol.md 4.6): why, in plain words, and
/// neutral advice. Never the number.
std::string explain_not_delivered(const std::string& reason);

/// What the caseworker should do about a gateway alert of `kind` (docs/caseworker-guide.md).
std::string gateway_alert_sentence(const std::string& kind);

}  // namespace ariadne::console::detail
