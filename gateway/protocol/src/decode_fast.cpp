// The hot-path request decoder: takes only well-formed `send` and `ack` frames, in a strict
// subset of JSON, without building a DOM.
//
// Profiled at saturation, building and walking nlohmann DOMs for `send`, `ack`, `ok` and
// `deliver` frames was ~5 % of the server's CPU (docs/benchmarks.md). This decoder accepts
// only a strict subset of JSON in the exact shape of a valid `send` or `ack` and answers
// "not mine" (nullopt) for anything else, which the full decoder (decode_request.cpp) then
// handles (and names the problem). So it can only ever accept what the full decoder
// accepts, with the same result; tests/gateway/test_codec.cpp and the fuzz target
// fuzz_frame_decoder check that.
#include <optional>
#include <string_view>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {

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

}  // namespace ariadne::gateway
