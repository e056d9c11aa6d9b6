// libFuzzer target for key material a device uploads or a sender fetches: parse_bundle and
// parse_upload_set (crypto/bundle.h) must accept a valid input or throw crypto::Error naming
// a field, never crash; a bundle they accept serialises and parses back to the same bundle.
// The same bytes as the body of a `keys_upload` frame go through the wire decoder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/error.h"
#include "ariadne/protocol/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ariadne;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        crypto::PreKeyBundle b = crypto::parse_bundle(input);
        if (crypto::parse_bundle(crypto::to_json(b)) != b) __builtin_trap();
    } catch (const crypto::Error&) {
    }
    try {
        crypto::UploadSet u = crypto::parse_upload_set(input);
        (void)crypto::parse_upload_set(crypto::to_json(u));  // must not throw
    } catch (const crypto::Error&) {
    }
    const std::string frame = R"({"v":1,"id":7,"type":"keys_upload",)" + std::string(input);
    auto decoded = gateway::decode_request(frame);
    if (auto* error = std::get_if<gateway::ProtocolError>(&decoded)) {
        if (gateway::encode_error(*error).empty()) __builtin_trap();
    }
    return 0;
}
