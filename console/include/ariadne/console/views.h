// What the caseworker reads: pure functions that turn the gateway's answers (contact
// entries, error frames, check-in states) into the fields and plain sentences the console's
// UI shows. The console never derives a security label or a reason itself: it shows the
// gateway's, and says "unknown" when the gateway gave none.
//
// Thread-safety: pure functions, reentrant. None throws on odd input from the gateway.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ariadne::console {

using Json = nlohmann::json;

/// What the UI shows about the conversation with `account`, from the gateway's `contacts`
/// entry for it (docs/protocol.md 4.5; null or {} when the gateway does not list her):
/// {"account", "role", "case_code", "initials", "status", "unverified", "channel",
/// "reply_channel", "checkin", "checkin_note", "checkin_next", "handover_note", "language",
/// "never_confirm_client"}. `checkin_note` is checkin_sentence() of the gateway's `checkin`
/// and `checkin_reason` ("" for a slot that went out); `checkin_next` the gateway's Unix ms
/// of a scheduled first check-in, or null. Each text is the gateway's own,
/// unchanged ("" when absent or not a text); `channel` and `reply_channel` are the gateway's
/// {"kind", "security", "label"} (only those of them that are texts), or null when the
/// gateway gave none: the UI then shows it as unknown. `unverified` is true when the gateway
/// gives the flag with any value but false; `never_confirm_client` only when it is true.
Json conversation_view(const std::string& account, const Json& gateway_contact);

/// One plain sentence saying why a check-in slot was not sent (states denied, skipped,
/// interrupted, send_failed), or why a plan's first check-in waits (waiting) or when it goes
/// out (scheduled), from its state and reason code; "" for any other state. The waiting one
/// continues the state ("waiting until she can be reached: …").
/// Never a bare code: an unknown reason still gets a sentence.
std::string checkin_sentence(const std::string& state, const std::string& reason);

/// What a refused or failed reply shows in the reply box: a sentence saying why and what
/// would allow it. `code` is the gateway's error code (or "unreachable").
struct Refusal {
    std::string code;
    std::string reason;    // the policy reason code when the gateway gives one
    std::string sentence;  // why, and what would allow it
};
/// Turns a gateway error (code, message, whole error frame) into a Refusal.
Refusal explain_refusal(const std::string& code, const std::string& message, const Json& frame);

}  // namespace ariadne::console
