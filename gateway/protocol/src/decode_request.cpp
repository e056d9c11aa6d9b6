// The full request decoder: checks a client frame's envelope (size, nesting, JSON, id, v,
// type), then decodes its body with the decoder of its operation type, naming the first
// field that is wrong. decode_request tries the hot-path decoder (decode_fast.cpp) first.
#include <algorithm>
#include <set>
#include <string_view>

#include "ariadne/protocol/codec.h"
#include "frame_fields.h"

namespace ariadne::gateway {

namespace {

using detail::element_object;
using detail::fail;
using detail::FieldError;
using detail::Fields;
using nlohmann::json;

// Our frames nest at most 4 levels (object > array > object > value); anything much deeper
// is refused before the DOM is built so hostile nesting cannot exhaust the stack.
constexpr int kMaxNesting = 8;

bool nesting_within_limit(std::string_view text) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxNesting) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

// ---- one decoder per operation type, in the order of docs/protocol.md ----

// Key fields are bounded here and checked exactly by the key directory (invalid_keys).
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxKeySignatureBytes = 128;

RequestBody register_device(Fields& f) {
    RegisterDeviceRequest r;
    r.username = f.text("username", kMaxUsernameBytes);
    r.password = f.text("password", kMaxPasswordBytes);
    r.totp = f.text("totp", 8);
    r.identity_key = f.binary("identity_key", 33);
    r.registration_id = static_cast<std::uint32_t>(f.integer("registration_id", 1, kMaxDeviceId));
    r.signature = f.binary("signature", 64);
    return r;
}

RequestBody auth_device(Fields& f) {
    AuthDeviceRequest r;
    r.account = f.account_id("account");
    r.device_id = static_cast<std::uint32_t>(f.integer("device_id", 1, kMaxDeviceId));
    r.signature = f.binary("signature", 64);
    return r;
}

RequestBody auth_survivor(Fields& f) {
    AuthSurvivorRequest r;
    r.locator = f.binary("locator", 32);
    r.signature = f.binary("signature", 64);
    r.identity_key = f.binary("identity_key", 33);
    r.registration_id = static_cast<std::uint32_t>(f.integer("registration_id", 1, kMaxDeviceId));
    // Optional, but both or neither.
    if (f.find("installation_key") != nullptr || f.find("installation_signature") != nullptr) {
        r.installation_key = f.binary("installation_key", 33);
        r.installation_signature = f.binary("installation_signature", 64);
    }
    return r;
}

PreKeyUpload pre_key(Fields f) {
    PreKeyUpload key;
    key.id = static_cast<std::uint32_t>(f.integer("id", 0, 4294967295));
    key.public_key = f.binary("public_key", 0, kMaxKeyBytes);
    f.refuse_unknown();
    return key;
}

RequestBody keys_upload(Fields& f) {
    KeysUploadRequest r;
    if (f.find("signed_pre_key") != nullptr) {
        Fields k = f.object("signed_pre_key");
        SignedPreKeyUpload spk;
        spk.id = static_cast<std::uint32_t>(k.integer("id", 0, 4294967295));
        spk.public_key = k.binary("public_key", 0, kMaxKeyBytes);
        spk.signature = k.binary("signature", 0, kMaxKeySignatureBytes);
        k.refuse_unknown();
        r.signed_pre_key = std::move(spk);
    }
    if (f.find("pre_keys") != nullptr) {
        const json& list = f.array("pre_keys", kMaxPreKeysPerUpload);
        for (std::size_t i = 0; i < list.size(); ++i) {
            std::string path = "pre_keys[" + std::to_string(i) + "]";
            r.pre_keys.push_back(pre_key(element_object(list[i], path)));
        }
    }
    if (f.find("last_resort") != nullptr) r.last_resort = pre_key(f.object("last_resort"));
    return r;
}

RequestBody keys_fetch(Fields& f) {
    KeysFetchRequest r;
    r.account = f.account_id("account");
    return r;
}

RequestBody send(Fields& f) {
    SendRequest r;
    r.to = f.account_id("to");
    r.receipt = f.boolean("receipt", false);
    const json& list = f.array("messages", kMaxMessagesPerSend);
    if (list.empty()) fail("field 'messages' must have at least one entry");
    std::set<std::uint32_t> devices;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string path = "messages[" + std::to_string(i) + "]";
        Fields m = element_object(list[i], path);
        OutgoingMessage msg;
        msg.device_id = static_cast<std::uint32_t>(m.integer("device_id", 1, kMaxDeviceId));
        const json& t = m.require("type");
        msg.type = static_cast<int>(m.integer_value(t, "type", 2, 3));
        msg.body = m.binary("body", 0, kMaxBodyBytes);
        if (msg.body.empty()) fail("field '" + path + ".body' must not be empty");
        m.refuse_unknown();
        if (!devices.insert(msg.device_id).second) {
            fail("field '" + path + ".device_id' repeats a device already listed");
        }
        r.messages.push_back(std::move(msg));
    }
    return r;
}

RequestBody ack(Fields& f) {
    AckRequest r;
    r.server_id = f.integer("server_id", 1, kMaxRequestId);
    if (f.find("status") != nullptr) {
        const std::string status = f.text("status", 16);
        if (status == "failed") {
            r.status = AckStatus::failed;
            r.failure = f.text("reason", kMaxFailureReason);
            if (!std::all_of(r.failure.begin(), r.failure.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                })) {
                fail("field 'reason' must be a reason code of a-z, 0-9 and '_'");
            }
        } else if (status == "kept") {
            r.status = AckStatus::kept;
        } else if (status == "read") {
            r.status = AckStatus::read;
        } else if (status != "delivered") {
            fail("field 'status' must be \"delivered\", \"failed\", \"kept\" or \"read\"");
        }
    }
    return r;
}

RequestBody alert_clear(Fields& f) {
    AlertClearRequest r;
    r.alert_id = f.integer("alert_id", 1, kMaxRequestId);
    return r;
}

RequestBody duress_report(Fields& f) {
    DuressReportRequest r;
    r.survivor = f.account_id("survivor");
    return r;
}

std::vector<CallbackWindow> callback_windows(Fields& f) {
    const json& list = f.array("windows", kMaxCallbackWindows);
    if (list.empty()) fail("field 'windows' must have at least one entry");
    std::vector<CallbackWindow> windows;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string path = "windows[" + std::to_string(i) + "]";
        Fields w = element_object(list[i], path);
        CallbackWindow window;
        window.from_ms = w.integer("from", 0, kMaxRequestId);
        window.to_ms = w.integer("to", 0, kMaxRequestId);
        w.refuse_unknown();
        const std::int64_t length = window.to_ms - window.from_ms;
        if (length < kMinCallbackWindowMs || length > kMaxCallbackWindowMs) {
            fail("field '" + path +
                 ".to' must be 30 minutes to 12 hours after its 'from' (a window to talk in)");
        }
        windows.push_back(window);
    }
    std::sort(windows.begin(), windows.end(), [](const CallbackWindow& a, const CallbackWindow& b) {
        return a.from_ms < b.from_ms;
    });
    return windows;
}

RequestBody callback_request(Fields& f) {
    CallbackRequest r;
    r.windows = callback_windows(f);
    if (f.find("channel") != nullptr) {
        r.channel = f.text("channel", 8);
        if (r.channel != "app" && r.channel != "web" && r.channel != "sms") {
            fail("field 'channel' must be \"app\", \"web\" or \"sms\"");
        }
    }
    return r;
}

RequestBody callback_reveal(Fields& f) {
    CallbackRevealRequest r;
    r.task_id = f.integer("task_id", 1, kMaxRequestId);
    r.reason = f.text("reason", 20);
    if (r.reason != "her_request" && r.reason != "checkin" && r.reason != "welfare_concern") {
        fail("field 'reason' must be \"her_request\", \"checkin\" or \"welfare_concern\"");
    }
    return r;
}

RequestBody callback_outcome(Fields& f) {
    CallbackOutcomeRequest r;
    r.task_id = f.integer("task_id", 1, kMaxRequestId);
    r.outcome = f.text("outcome", 16);
    if (r.outcome != "done" && r.outcome != "not_reached" && r.outcome != "rescheduled") {
        fail("field 'outcome' must be \"done\", \"not_reached\" or \"rescheduled\"");
    }
    if (r.outcome == "rescheduled") {
        r.windows = callback_windows(f);
    } else if (f.find("windows") != nullptr) {
        fail("field 'windows' is given only with the outcome \"rescheduled\"");
    }
    return r;
}

template <typename Body>
RequestBody empty(Fields&) {
    return Body{};
}

struct BodyDecoder {
    std::string_view type;
    RequestBody (*decode)(Fields&);
};

constexpr BodyDecoder kBodyDecoders[] = {
    {"ping", empty<PingRequest>},
    {"recovery_params", empty<RecoveryParamsRequest>},
    {"challenge", empty<ChallengeRequest>},
    {"register_device", register_device},
    {"auth_device", auth_device},
    {"auth_survivor", auth_survivor},
    {"keys_upload", keys_upload},
    {"keys_count", empty<KeysCountRequest>},
    {"keys_fetch", keys_fetch},
    {"contacts", empty<ContactsRequest>},
    {"send", send},
    {"ack", ack},
    {"alerts", empty<AlertsRequest>},
    {"settings", empty<SettingsRequest>},
    {"alert_clear", alert_clear},
    {"duress_report", duress_report},
    {"callback_request", callback_request},
    {"callbacks", empty<CallbacksRequest>},
    {"callback_reveal", callback_reveal},
    {"callback_outcome", callback_outcome},
};

RequestBody decode_body(std::string_view type, Fields& f) {
    for (const BodyDecoder& d : kBodyDecoders) {
        if (d.type == type) return d.decode(f);
    }
    throw FieldError{ErrorCode::unknown_type, "unknown operation type"};
}

}  // namespace

bool is_account_id(std::string_view s) noexcept {
    if (s.size() != 24 || s[0] != 'a' || s[1] != '_') return false;
    return std::all_of(s.begin() + 2, s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

std::variant<Request, ProtocolError> decode_request(std::string_view frame) {
    if (auto fast = decode_request_fast(frame)) return std::move(*fast);
    return decode_request_full(frame);
}

std::variant<Request, ProtocolError> decode_request_full(std::string_view frame) {
    ProtocolError error;
    if (frame.size() > kMaxFrameBytes) {
        error.code = ErrorCode::invalid_frame;
        error.message = "the frame is larger than 65536 bytes";
        return error;
    }
    if (!nesting_within_limit(frame)) {
        error.code = ErrorCode::malformed_json;
        error.message = "the frame nests JSON deeper than 8 levels";
        return error;
    }
    json root = json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) {
        error.code = ErrorCode::malformed_json;
        error.message = "the frame is not a JSON object";
        return error;
    }
    try {
        Fields fields(root, "");
        Request request;
        const json* id = fields.find("id");
        if (id == nullptr) fail("field 'id' is missing");
        request.id = fields.integer_value(*id, "id", 0, kMaxRequestId);
        error.id = request.id;

        const json* v = fields.find("v");
        if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() != 1) {
            throw FieldError{ErrorCode::unsupported_version,
                             "field 'v' must be 1 (the only protocol version this server speaks)"};
        }
        const json* type = fields.find("type");
        if (type == nullptr || !type->is_string()) {
            throw FieldError{ErrorCode::unknown_type, "field 'type' must name an operation"};
        }
        request.body = decode_body(type->get_ref<const std::string&>(), fields);
        fields.refuse_unknown();
        return request;
    } catch (const FieldError& e) {
        error.code = e.code;
        error.message = e.message;
        return error;
    } catch (const std::exception&) {
        // nlohmann type errors cannot happen after the checks above; stay total anyway.
        error.code = ErrorCode::invalid_frame;
        error.message = "the frame could not be decoded";
        return error;
    }
}

}  // namespace ariadne::gateway
