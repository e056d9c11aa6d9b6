// The server's frames: ok, error and deliver. encode_ok, encode_error and
// encode_deliver_json build them through nlohmann::json; the hot-path encoders
// (encode_ok_plain, encode_send_ok, encode_deliver) write the frames every message crosses
// by hand, byte for byte what nlohmann's dump writes (keys in sorted order), because
// building those DOMs was a measurable share of the server's CPU (docs/benchmarks.md).
#include <algorithm>
#include <charconv>

#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {

namespace {

using nlohmann::json;

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
            } else if (d.receipt_status == AckStatus::kept) {
                message["status"] = "kept";
            } else if (d.receipt_status == AckStatus::read) {
                message["status"] = "read";
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
    if (d.is_notice || !d.failure.empty() || d.receipt_status != AckStatus::delivered ||
        !plain_text(d.from))
        return encode_deliver_json(d);
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
