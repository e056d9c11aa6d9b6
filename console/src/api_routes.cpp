// The console's HTTP surface: its assets and the JSON API's routes, each request's input
// checked before it reaches ConsoleService.
#include "ariadne/console/service.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>

#include "ariadne/console/assets.h"

namespace ariadne::console {

namespace {

HttpResponse json_response(const Json& j, int status = 200) {
    return HttpResponse{status, "application/json", {}, j.dump()};
}

HttpResponse error_response(int status, const std::string& sentence) {
    return json_response({{"error", sentence}}, status);
}

// Account ids are "a_" + base64url (docs/protocol.md); anything else never reaches the
// gateway or the history.
bool valid_account(const std::string& a) {
    if (a.size() < 3 || a.size() > 64 || a.rfind("a_", 0) != 0) return false;
    return std::all_of(a.begin() + 2, a.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

/// A task id from the path: 1 to 15 digits, at least 1.
std::optional<std::int64_t> task_id(const std::string& text) {
    if (text.empty() || text.size() > 15 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    std::int64_t id = std::stoll(text);
    if (id < 1) return std::nullopt;
    return id;
}

/// 1 to 3 windows {"from","to"} of Unix ms, each ending after it starts (the gateway
/// checks the rest: lengths, how far ahead).
bool valid_windows(const Json& windows) {
    if (!windows.is_array() || windows.empty() || windows.size() > 3) return false;
    return std::all_of(windows.begin(), windows.end(), [](const Json& w) {
        return w.is_object() && w.size() == 2 && w.contains("from") && w.contains("to") &&
               w["from"].is_number_integer() && w["to"].is_number_integer() &&
               w["from"].get<std::int64_t>() > 0 &&
               w["to"].get<std::int64_t>() > w["from"].get<std::int64_t>();
    });
}

}  // namespace

HttpResponse ConsoleService::handle(const HttpRequest& request) {
    const std::string path = request.path();
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && (path == "/" || path == "/index.html")) {
        const Asset* a = find_asset("/index.html");
        return HttpResponse{200, std::string(a->content_type), {}, std::string(a->body)};
    }
    if (path.rfind("/api/", 0) != 0) {
        const Asset* a = get ? find_asset(path) : nullptr;
        if (!a) return HttpResponse{404, "text/plain; charset=utf-8", {}, "Not found.\n"};
        return HttpResponse{200, std::string(a->content_type), {}, std::string(a->body)};
    }
    // /api/<what>[/<account>[/<action>]]
    std::vector<std::string> parts;
    for (std::size_t pos = 5; pos <= path.size();) {
        auto slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        parts.push_back(path.substr(pos, slash - pos));
        pos = slash + 1;
    }
    try {
        const std::string& what = parts[0];
        if (get && parts.size() == 1) {
            if (what == "inbox") return json_response(inbox());
            if (what == "alerts") return json_response(alerts());
            if (what == "canned") return json_response(canned());
            if (what == "status") return json_response(status());
            if (what == "callbacks") return json_response(callbacks());
        }
        if (what == "callbacks" && request.method == "POST" && parts.size() == 3) {
            auto id = task_id(parts[1]);
            if (!id) return error_response(400, "That is not a call-back task id.");
            Json body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
            if (!body.is_object()) return error_response(400, "The request is not valid JSON.");
            if (parts[2] == "reveal") {
                const std::string reason = body.value("reason", Json()).is_string()
                                               ? body["reason"].get<std::string>()
                                               : std::string();
                if (reason != "her_request" && reason != "checkin" && reason != "welfare_concern") {
                    return error_response(400,
                                          "Showing her number needs a 'reason': 'her_request', "
                                          "'checkin' or 'welfare_concern'.");
                }
                return json_response(reveal_callback_number(*id, reason));
            }
            if (parts[2] == "outcome") {
                const std::string outcome = body.value("outcome", Json()).is_string()
                                                ? body["outcome"].get<std::string>()
                                                : std::string();
                if (outcome != "done" && outcome != "not_reached" && outcome != "rescheduled") {
                    return error_response(400,
                                          "'outcome' is 'done', 'not_reached' or 'rescheduled'.");
                }
                Json windows = body.value("windows", Json());
                if (outcome == "rescheduled" && !valid_windows(windows)) {
                    return error_response(400,
                                          "Rescheduling needs 'windows': 1 to 3 of {\"from\", "
                                          "\"to\"} in Unix ms, each ending after it starts.");
                }
                if (outcome != "rescheduled" && body.contains("windows")) {
                    return error_response(400, "'windows' go only with 'rescheduled'.");
                }
                return json_response(record_callback_outcome(*id, outcome, windows));
            }
        }
        if (what == "alerts" && request.method == "POST" && parts.size() == 3 &&
            parts[2] == "clear") {
            const std::string& id_text = parts[1];
            if (id_text.empty() || id_text.size() > 15 ||
                id_text.find_first_not_of("0123456789") != std::string::npos) {
                return error_response(400, "That is not an alert id.");
            }
            Json body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
            if (!body.is_object() || !body.contains("confirm") || !body["confirm"].is_boolean() ||
                !body["confirm"].get<bool>()) {
                return error_response(
                    400, "Clearing an alert needs your explicit confirmation ('confirm': true).");
            }
            std::int64_t id = std::stoll(id_text);
            if (id < 1) return error_response(400, "That is not an alert id.");
            return json_response(clear_alert(id));
        }
        if (what == "identity" && parts.size() >= 2) {
            const std::string& account = parts[1];
            if (!valid_account(account)) return error_response(400, "That is not an account id.");
            if (get && parts.size() == 2) return json_response(new_identity(account));
            if (request.method == "POST" && parts.size() == 3 && parts[2] == "accept") {
                Json body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
                if (!body.is_object() || !body.contains("safety_number") ||
                    !body["safety_number"].is_string() ||
                    body["safety_number"].get<std::string>().size() > 200) {
                    return error_response(
                        400, "Accepting needs the 'safety_number' you compared with her.");
                }
                bool verified = body.contains("verified") && body["verified"].is_boolean() &&
                                body["verified"].get<bool>();
                return json_response(
                    accept_identity(account, body["safety_number"].get<std::string>(), verified));
            }
        }
        if (parts.size() >= 2 && (what == "thread" || what == "verify")) {
            const std::string& account = parts[1];
            if (!valid_account(account)) return error_response(400, "That is not an account id.");
            if (what == "thread" && get && parts.size() == 2) return json_response(thread(account));
            Json body;
            if (!get) {
                body = Json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
                if (!body.is_object()) return error_response(400, "The request is not valid JSON.");
            }
            if (what == "thread" && request.method == "POST" && parts.size() == 3 &&
                parts[2] == "reply") {
                if (!body.contains("text") || !body["text"].is_string()) {
                    return error_response(400, "A reply needs a 'text'.");
                }
                std::string text = body["text"].get<std::string>();
                if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
                    return error_response(400, "The reply is empty.");
                }
                if (text.size() > 16000) {
                    return error_response(400, "The reply is too long (at most 16,000 bytes).");
                }
                return json_response(reply(account, text));
            }
            if (what == "verify" && request.method == "POST" && parts.size() == 2) {
                if (!body.contains("verified") || !body["verified"].is_boolean()) {
                    return error_response(400, "Say 'verified': true or false.");
                }
                std::string by = body.value("by", "safety_number");
                if (by != "safety_number" && by != "safe_word") {
                    return error_response(400, "'by' is 'safety_number' or 'safe_word'.");
                }
                return json_response(set_verified(account, body["verified"].get<bool>(), by));
            }
        }
    } catch (const std::invalid_argument& e) {
        return error_response(409, e.what());
    }
    return error_response(404, "No such console operation.");
}

}  // namespace ariadne::console
