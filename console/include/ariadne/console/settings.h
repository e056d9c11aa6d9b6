// ConsoleSettings: the organisation's settings a console reads from its own settings file
// (`ariadne-console --settings FILE`, docs/caseworker-guide.md), and the built-in canned
// replies. The gateway's `settings` answer, when it gives them, takes precedence (see each
// field); ConsoleService applies that rule.
//
// Thread-safety: plain values; load() and default_canned_replies() are reentrant.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace ariadne::console {

using Json = nlohmann::json;

/// Organisation settings of a console (console settings file, see the caseworker guide).
struct ConsoleSettings {
    /// Decrypted history older than this is deleted. 0 = not set here: the organisation's
    /// retention_days from the gateway (`settings`), else 365. When both are set, the
    /// shorter applies (deleting sooner is always allowed).
    int retention_days = 0;
    /// Canned replies: [{"label": "...", "text": "..."}], used only when the gateway does not
    /// give the organisation's (`settings`); empty: the built-in defaults.
    Json canned = Json::array();

    /// Reads a settings file (JSON object with optional "retention_days" and
    /// "canned_replies"). Throws std::runtime_error with a sentence naming the file when it
    /// cannot be read or is not a JSON object, and naming the field for a bad, unknown or
    /// retired one (the old "duress_keywords": the organisation's duress words now come
    /// from the gateway).
    static ConsoleSettings load(const std::filesystem::path& path);
};

/// The built-in canned replies (neutral, non-judgmental, never mention the past), compiled
/// into the binary from console/web/canned.json. Never throws.
Json default_canned_replies();

}  // namespace ariadne::console
