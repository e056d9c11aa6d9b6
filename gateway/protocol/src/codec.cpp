#include "ariadne/protocol/codec.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "ariadne/crypto/error.h"

namespace ariadne::gateway {

namespace {

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

// Thrown inside the decoder only; turned into a ProtocolError by decode_request.
struct FieldError {
    ErrorCode code;
    std::string message;
};

[[noreturn]] void fail(const std::string& message) {
    throw FieldError{ErrorCode::invalid_frame, message};
}

// Field names are echoed only when they are short and plain, so an error never carries
// arbitrary client bytes.
std::string printable_name(const std::string& name, const std::string& qualified) {
    bool plain =
        !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
        });
    return plain ? "'" + qualified + "'" : "with an unprintable or very long name";
}

// Reads the fields of one JSON object, remembering which were read, so the caller can
// refuse every field it did not expect. `path` prefixes field names in messages
// ("messages[2].body").
class Fields {
  public:
    Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

    const json* find(const char* name) {
        seen_.insert(name);
        auto it = object_.find(name);
        return it == object_.end() ? nullptr : &*it;
    }

    const json& require(const char* name) {
        const json* value = find(name);
        if (value == nullptr) fail("field " + quoted(name) + " is missing");
        return *value;
    }

    std::int64_t integer(const char* name, std::int64_t min, std::int64_t max) {
        return integer_value(require(name), name, min, max);
    }

    std::int64_t integer_value(const json& value, const std::string& name, std::int64_t min,
                               std::int64_t max) {
        if (!value.is_number_integer()) {
            fail("field " + quoted(name) + " must be an integer between " + std::to_string(min) +
                 " and " + std::to_string(max));
        }
        bool in_range;
        std::int64_t result = 0;
        if (value.is_number_unsigned()) {
            auto u = value.get<std::uint64_t>();
            in_range = u <= static_cast<std::uint64_t>(max) &&
                       (min <= 0 || u >= static_cast<std::uint64_t>(min));
            result = static_cast<std::int64_t>(u);
        } else {
            result = value.get<std::int64_t>();
            in_range = result >= min && result <= max;
        }
        if (!in_range) {
            fail("field " + quoted(name) + " must be an integer between " + std::to_string(min) +
                 " and " + std::to_string(max));
        }
        return result;
    }

    std::string text(const char* name, std::size_t max_bytes, bool allow_empty = false) {
        const json& value = require(name);
        if (!value.is_string()) fail("field " + quoted(name) + " must be a string");
        const auto& s = value.get_ref<const std::string&>();
        if (s.size() > max_bytes) {
            fail("field " + quoted(name) + " must be at most " + std::to_string(max_bytes) +
                 " bytes long");
        }
        if (s.empty() && !allow_empty) fail("field " + quoted(name) + " must not be empty");
        return s;
    }

    bool boolean(const char* name, bool fallback) {
        const json* value = find(name);
        if (value == nullptr) return fallback;
        if (!value->is_boolean()) fail("field " + quoted(name) + " must be true or false");
        return value->get<bool>();
    }

    // Base64 field whose decoded length must be exactly `exact` (if non-zero) or at most
    // `max_decoded` bytes.
    Bytes binary(const char* name, std::size_t exact, std::size_t max_decoded = 0) {
        return binary_value(require(name), name, exact, max_decoded);
    }

    Bytes binary_value(const json& value, const std::string& name, std::size_t exact,
                       std::size_t max_decoded) {
        if (!value.is_string()) fail("field " + quoted(name) + " must be a base64 string");
        const auto& s = value.get_ref<const std::string&>();
        std::size_t limit = exact != 0 ? exact : max_decoded;
        // Refuse oversized text before decoding anything.
        if (s.size() > (limit + 2) / 3 * 4) {
            fail("field " + quoted(name) + " must decode to " +
                 (exact != 0 ? "exactly " : "at most ") + std::to_string(limit) + " bytes");
        }
        Bytes decoded;
        try {
            decoded = crypto::base64_decode(s);
        } catch (const crypto::Error&) {
            fail("field " + quoted(name) +
                 " is not valid base64 (standard alphabet, with padding)");
        }
        if ((exact != 0 && decoded.size() != exact) || decoded.size() > limit) {
            fail("field " + quoted(name) + " must decode to " +
                 (exact != 0 ? "exactly " : "at most ") + std::to_string(limit) + " bytes");
        }
        return decoded;
    }

    Fields object(const char* name) {
        const json& value = require(name);
        if (!value.is_object()) fail("field " + quoted(name) + " must be an object");
        return Fields(value, qualified(name));
    }

    void refuse_unknown() const {
        for (auto it = object_.begin(); it != object_.end(); ++it) {
            if (seen_.count(it.key()) == 0) {
                fail("unknown field " + printable_name(it.key(), qualified(it.key())));
            }
        }
    }

    std::string qualified(const std::string& name) const {
        return path_.empty() ? name : path_ + "." + name;
    }
    std::string quoted(const std::string& name) const { return "'" + qualified(name) + "'"; }

  private:
    const json& object_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
};

const json& require_array(Fields& f, const char* name, std::size_t max_items) {
    const json& value = f.require(name);
    if (!value.is_array()) fail("field " + f.quoted(name) + " must be an array");
    if (value.size() > max_items) {
        fail("field " + f.quoted(name) + " must have at most " + std::to_string(max_items) +
             " entries");
    }
    return value;
}

Fields element_object(const json& element, const std::string& path) {
    if (!element.is_object()) fail("field '" + path + "' must be an object");
    return Fields(element, path);
}

// Key fields are bounded here and checked exactly by the key directory (invalid_keys).
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxKeySignatureBytes = 128;

PreKeyUpload decode_pre_key(Fields f) {
    PreKeyUpload key;
    key.id = static_cast<std::uint32_t>(f.integer("id", 0, 4294967295));
    key.public_key = f.binary("public_key", 0, kMaxKeyBytes);
    f.refuse_unknown();
    return key;
}

RequestBody decode_body(const std::string& type, Fields& f) {
    if (type == "ping") return PingRequest{};
    if (type == "recovery_params") return RecoveryParamsRequest{};
    if (type == "challenge") return ChallengeRequest{};
    if (type == "register_device") {
        RegisterDeviceRequest r;
        r.username = f.text("username", kMaxUsernameBytes);
        r.password = f.text("password", kMaxPasswordBytes);
        r.totp = f.text("totp", 8);
        r.identity_key = f.binary("identity_key", 33);
        r.registration_id =
            static_cast<std::uint32_t>(f.integer("registration_id", 1, kMaxDeviceId));
        r.signature = f.binary("signature", 64);
        return r;
    }
    if (type == "auth_device") {
        AuthDeviceRequest r;
        r.account = f.text("account", 64);
        if (!is_account_id(r.account)) {
            fail(
                "field 'account' must be an account id ('a_' followed by 22 base64url characters)");
        }
        r.device_id = static_cast<std::uint32_t>(f.integer("device_id", 1, kMaxDeviceId));
        r.signature = f.binary("signature", 64);
        return r;
    }
    if (type == "auth_survivor") {
        AuthSurvivorRequest r;
        r.locator = f.binary("locator", 32);
        r.signature = f.binary("signature", 64);
        r.identity_key = f.binary("identity_key", 33);
        r.registration_id =
            static_cast<std::uint32_t>(f.integer("registration_id", 1, kMaxDeviceId));
        // Optional, but both or neither.
        if (f.find("installation_key") != nullptr || f.find("installation_signature") != nullptr) {
            r.installation_key = f.binary("installation_key", 33);
            r.installation_signature = f.binary("installation_signature", 64);
        }
        return r;
    }
    if (type == "keys_upload") {
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
            const json& list = require_array(f, "pre_keys", kMaxPreKeysPerUpload);
            for (std::size_t i = 0; i < list.size(); ++i) {
                std::string path = "pre_keys[" + std::to_string(i) + "]";
                r.pre_keys.push_back(decode_pre_key(element_object(list[i], path)));
            }
        }
        if (f.find("last_resort") != nullptr) {
            r.last_resort = decode_pre_key(f.object("last_resort"));
        }
        return r;
    }
    if (type == "keys_count") return KeysCountRequest{};
    if (type == "keys_fetch") {
        KeysFetchRequest r;
        r.account = f.text("account", 64);
        if (!is_account_id(r.account)) {
            fail(
                "field 'account' must be an account id ('a_' followed by 22 base64url characters)");
        }
        return r;
    }
    if (type == "contacts") return ContactsRequest{};
    if (type == "send") {
        SendRequest r;
        r.to = f.text("to", 64);
        if (!is_account_id(r.to)) {
            fail("field 'to' must be an account id ('a_' followed by 22 base64url characters)");
        }
        r.receipt = f.boolean("receipt", false);
        const json& list = require_array(f, "messages", kMaxMessagesPerSend);
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
    if (type == "ack") {
        AckRequest r;
        r.server_id = f.integer("server_id", 1, kMaxRequestId);
        if (f.find("status") != nullptr) {
            const std::string status = f.text("status", 16);
            if (status == "failed") {
                r.failure = f.text("reason", kMaxFailureReason);
                if (!std::all_of(r.failure.begin(), r.failure.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                    })) {
                    fail("field 'reason' must be a reason code of a-z, 0-9 and '_'");
                }
            } else if (status != "delivered") {
                fail("field 'status' must be \"delivered\" or \"failed\"");
            }
        }
        return r;
    }
    if (type == "alerts") return AlertsRequest{};
    if (type == "settings") return SettingsRequest{};
    if (type == "alert_clear") {
        AlertClearRequest r;
        r.alert_id = f.integer("alert_id", 1, kMaxRequestId);
        return r;
    }
    if (type == "duress_report") {
        DuressReportRequest r;
        r.survivor = f.text("survivor", 64);
        if (!is_account_id(r.survivor)) {
            fail(
                "field 'survivor' must be an account id ('a_' followed by 22 base64url "
                "characters)");
        }
        return r;
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

std::string encode_ok(std::int64_t id, nlohmann::json fields) {
    json frame = {{"v", 1}, {"id", id}, {"type", "ok"}};
    if (fields.is_object()) {
        for (auto& [key, value] : fields.items()) frame[key] = std::move(value);
    }
    return frame.dump();
}

std::string encode_error(const ProtocolError& error, nlohmann::json extra) {
    json frame = {{"v", 1}};
    frame["id"] = error.id ? json(*error.id) : json(nullptr);
    frame["type"] = "error";
    frame["code"] = to_string(error.code);
    frame["message"] = error.message;
    if (extra.is_object()) {
        for (auto& [key, value] : extra.items()) frame[key] = std::move(value);
    }
    return frame.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_deliver_json(const Delivery& d) {
    json message = {{"server_id", d.server_id}};
    if (d.is_notice) {
        message["kind"] = "notice";
        message["notice"] = d.notice;
        if (!d.from.empty()) message["from"] = d.from;
        message["reference"] = d.reference;
        message["language"] = d.language;
        message["text"] = d.text;
    } else {
        message["kind"] = d.is_receipt ? "receipt" : "message";
        message["from"] = d.from;
        message["from_device"] = d.from_device;
        if (d.is_receipt) {
            message["ref"] = d.ref;
            if (!d.failure.empty()) {
                message["status"] = "failed";
                message["reason"] = d.failure;
            }
        } else {
            message["type"] = d.type;
            message["body"] = crypto::base64_encode(d.body);
        }
    }
    message["server_time"] = d.server_time;
    json frame = {{"v", 1}, {"type", "deliver"}, {"message", std::move(message)}};
    return frame.dump();
}

// ---- hot path: hand-written codec for the frames every message crosses ----
//
// Profiled at saturation, building and walking nlohmann DOMs for `send`, `ack`, `ok` and
// `deliver` frames was ~5 % of the server's CPU (docs/benchmarks.md). The fast decoder
// accepts only a strict subset of JSON in the exact shape of a valid `send` or `ack` and
// answers "not mine" (nullopt) for anything else, which the full decoder above then handles
// (and names the problem). So it can only ever accept what the full decoder accepts, with
// the same result; tests/gateway/test_codec.cpp and the fuzz target check that. The fast
// encoders write byte for byte what nlohmann's dump writes (keys in sorted order).

namespace {

class FastScanner {
  public:
    explicit FastScanner(std::string_view text) : s_(text) {}

    void ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
            ++i_;
        }
    }
    bool eat(char c) {
        ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    bool at_end() {
        ws();
        return i_ == s_.size();
    }
    // A string without escapes, control characters or non-ASCII bytes.
    std::optional<std::string_view> string() {
        if (!eat('"')) return std::nullopt;
        std::size_t start = i_;
        while (i_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                std::string_view out = s_.substr(start, i_ - start);
                ++i_;
                return out;
            }
            if (c == '\\' || c < 0x20 || c >= 0x80) return std::nullopt;
            ++i_;
        }
        return std::nullopt;
    }
    // A non-negative integer without fraction, exponent or leading zeros, at most `max`.
    std::optional<std::int64_t> integer(std::int64_t min, std::int64_t max) {
        ws();
        std::size_t start = i_;
        std::int64_t v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            if (i_ - start >= 16) return std::nullopt;  // > 2^53: let the full decoder say so
            v = v * 10 + (s_[i_] - '0');
            ++i_;
        }
        std::size_t digits = i_ - start;
        if (digits == 0 || (digits > 1 && s_[start] == '0')) return std::nullopt;
        if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
            return std::nullopt;
        }
        if (v < min || v > max) return std::nullopt;
        return v;
    }
    std::optional<bool> boolean() {
        ws();
        if (s_.substr(i_, 4) == "true") {
            i_ += 4;
            return true;
        }
        if (s_.substr(i_, 5) == "false") {
            i_ += 5;
            return false;
        }
        return std::nullopt;
    }

  private:
    std::string_view s_;
    std::size_t i_ = 0;
};

// Each key at most once; returns false on a repeat.
bool first_time(unsigned& seen, unsigned bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
}

std::optional<Bytes> fast_body(std::string_view text) {
    if (text.empty() || text.size() > (kMaxBodyBytes + 2) / 3 * 4) return std::nullopt;
    try {
        Bytes decoded = crypto::base64_decode(text);
        if (decoded.empty() || decoded.size() > kMaxBodyBytes) return std::nullopt;
        return decoded;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<OutgoingMessage> fast_message(FastScanner& in) {
    if (!in.eat('{')) return std::nullopt;
    OutgoingMessage m;
    unsigned seen = 0;
    do {
        auto key = in.string();
        if (!key || !in.eat(':')) return std::nullopt;
        if (*key == "device_id" && first_time(seen, 1)) {
            auto v = in.integer(1, kMaxDeviceId);
            if (!v) return std::nullopt;
            m.device_id = static_cast<std::uint32_t>(*v);
        } else if (*key == "type" && first_time(seen, 2)) {
            auto v = in.integer(2, 3);
            if (!v) return std::nullopt;
            m.type = static_cast<int>(*v);
        } else if (*key == "body" && first_time(seen, 4)) {
            auto text = in.string();
            if (!text) return std::nullopt;
            auto body = fast_body(*text);
            if (!body) return std::nullopt;
            m.body = std::move(*body);
        } else {
            return std::nullopt;
        }
    } while (in.eat(','));
    if (!in.eat('}') || seen != 7) return std::nullopt;
    return m;
}

}  // namespace

std::optional<Request> decode_request_fast(std::string_view frame) {
    if (frame.size() > kMaxFrameBytes) return std::nullopt;
    FastScanner in(frame);
    if (!in.eat('{')) return std::nullopt;
    enum : unsigned {
        kV = 1,
        kId = 2,
        kType = 4,
        kTo = 8,
        kReceipt = 16,
        kMessages = 32,
        kServerId = 64
    };
    unsigned seen = 0;
    Request request;
    std::string_view type;
    SendRequest send;
    AckRequest ack;
    do {
        auto key = in.string();
        if (!key || !in.eat(':')) return std::nullopt;
        if (*key == "v" && first_time(seen, kV)) {
            if (!in.integer(1, 1)) return std::nullopt;
        } else if (*key == "id" && first_time(seen, kId)) {
            auto v = in.integer(0, kMaxRequestId);
            if (!v) return std::nullopt;
            request.id = *v;
        } else if (*key == "type" && first_time(seen, kType)) {
            auto v = in.string();
            if (!v || (*v != "send" && *v != "ack")) return std::nullopt;
            type = *v;
        } else if (*key == "to" && first_time(seen, kTo)) {
            auto v = in.string();
            if (!v || !is_account_id(*v)) return std::nullopt;
            send.to = std::string(*v);
        } else if (*key == "receipt" && first_time(seen, kReceipt)) {
            auto v = in.boolean();
            if (!v) return std::nullopt;
            send.receipt = *v;
        } else if (*key == "messages" && first_time(seen, kMessages)) {
            if (!in.eat('[')) return std::nullopt;
            do {
                auto m = fast_message(in);
                if (!m || send.messages.size() == kMaxMessagesPerSend) return std::nullopt;
                for (const auto& other : send.messages) {
                    if (other.device_id == m->device_id) return std::nullopt;
                }
                send.messages.push_back(std::move(*m));
            } while (in.eat(','));
            if (!in.eat(']')) return std::nullopt;
        } else if (*key == "server_id" && first_time(seen, kServerId)) {
            auto v = in.integer(1, kMaxRequestId);
            if (!v) return std::nullopt;
            ack.server_id = *v;
        } else {
            return std::nullopt;
        }
    } while (in.eat(','));
    if (!in.eat('}') || !in.at_end()) return std::nullopt;
    if (type == "send" && seen == (kV | kId | kType | kTo | kMessages)) {
        request.body = std::move(send);
        return request;
    }
    if (type == "send" && seen == (kV | kId | kType | kTo | kReceipt | kMessages)) {
        request.body = std::move(send);
        return request;
    }
    if (type == "ack" && seen == (kV | kId | kType | kServerId)) {
        request.body = ack;
        return request;
    }
    return std::nullopt;
}

namespace {

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

// Text nlohmann would write unchanged between quotes.
bool plain_text(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
    });
}

}  // namespace

std::string encode_ok_plain(std::int64_t id) {
    std::string out = "{\"id\":";
    append_int(out, id);
    out += ",\"type\":\"ok\",\"v\":1}";
    return out;
}

std::string encode_send_ok(std::int64_t id,
                           const std::vector<std::pair<std::uint32_t, std::int64_t>>& ids) {
    std::string out = "{\"id\":";
    append_int(out, id);
    out += ",\"server_ids\":[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) out += ',';
        out += "{\"device_id\":";
        append_int(out, ids[i].first);
        out += ",\"server_id\":";
        append_int(out, ids[i].second);
        out += '}';
    }
    out += "],\"type\":\"ok\",\"v\":1}";
    return out;
}

std::string encode_deliver(const Delivery& d) {
    // Rare kinds: notices, failed receipts, odd account ids.
    if (d.is_notice || !d.failure.empty() || !plain_text(d.from)) return encode_deliver_json(d);
    std::string out;
    out.reserve(160 + (d.is_receipt ? 0 : (d.body.size() + 2) / 3 * 4));
    out = "{\"message\":{";
    if (!d.is_receipt) {
        out += "\"body\":\"";
        out += crypto::base64_encode(d.body);
        out += "\",";
    }
    out += "\"from\":\"";
    out += d.from;
    out += "\",\"from_device\":";
    append_int(out, d.from_device);
    out += d.is_receipt ? ",\"kind\":\"receipt\"" : ",\"kind\":\"message\"";
    if (d.is_receipt) {
        out += ",\"ref\":";
        append_int(out, d.ref);
    }
    out += ",\"server_id\":";
    append_int(out, d.server_id);
    out += ",\"server_time\":";
    append_int(out, d.server_time);
    if (!d.is_receipt) {
        out += ",\"type\":";
        append_int(out, d.type);
    }
    out += "},\"type\":\"deliver\",\"v\":1}";
    return out;
}

}  // namespace ariadne::gateway
