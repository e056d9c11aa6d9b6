// libFuzzer target for the wire-protocol frame decoder: any byte string must decode to a
// request or a protocol error without crashing, leaking or hanging, and every error must
// encode to a valid JSON frame (what the server would send back).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ariadne/gateway/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ariadne::gateway;
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    auto result = decode_request(frame);
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
