// libFuzzer target for the SMS config file (`--sms-config FILE`, adapters/sms_gateway.h
// load_sms_config): any file content is either options that pass validate() or
// AdapterError(invalid_input) naming the key; never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::atexit([] { ariadne::fuzz::remove_scratch_file("sms-config"); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ariadne::adapters;
    auto path = ariadne::fuzz::scratch_file(
        std::string_view(reinterpret_cast<const char*>(data), size), "sms-config");
    try {
        SmsGatewayOptions o = load_sms_config(path);
        validate(o);  // what load_sms_config returns is valid
    } catch (const AdapterError& e) {
        if (e.code() != AdapterError::Code::invalid_input) __builtin_trap();
    }
    return 0;
}
