// libFuzzer target for the wire-protocol frame decoder: any byte string must decode to a
// request or a protocol error without crashing, leaking or hanging, and every error must
// encode to a valid JSON frame (what the server would send back). Whatever the hot-path
// decoder (decode_request_fast) accepts, the full decoder must decode to the same request.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ariadne/protocol/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ariadne::gateway;
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    auto result = decode_request(frame);
    if (auto fast = decode_request_fast(frame)) {
        auto full = decode_request_full(frame);
        auto* r = std::get_if<Request>(&full);
        if (r == nullptr || r->id != fast->id || r->body.index() != fast->body.index()) {
            __builtin_trap();
        }
        if (auto* a = std::get_if<AckRequest>(&fast->body)) {
            if (a->server_id != std::get<AckRequest>(r->body).server_id) __builtin_trap();
        } else {
            const auto& x = std::get<SendRequest>(fast->body);
            const auto& y = std::get<SendRequest>(r->body);
            if (x.to != y.to || x.receipt != y.receipt || x.messages.size() != y.messages.size())
                __builtin_trap();
            for (std::size_t i = 0; i < x.messages.size(); ++i) {
                if (x.messages[i].device_id != y.messages[i].device_id ||
                    x.messages[i].type != y.messages[i].type ||
                    x.messages[i].body != y.messages[i].body)
                    __builtin_trap();
            }
        }
    }
    if (auto* error = std::get_if<ProtocolError>(&result)) {
        std::string encoded = encode_error(*error);
        auto parsed = nlohmann::json::parse(encoded, nullptr, false);
        if (parsed.is_discarded() || parsed["type"] != "error") __builtin_trap();
    } else {
        const auto& request = std::get<Request>(result);
        if (request.id < 0 || request.id > kMaxRequestId) __builtin_trap();
        std::string ok = encode_ok(request.id);
        if (ok.empty()) __builtin_trap();
    }
    return 0;
}
