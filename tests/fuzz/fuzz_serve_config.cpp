// libFuzzer target for the `ariadne serve` config file (`--config FILE`, gateway/config.h):
// any file content is either a configuration or GatewayError(config) naming the setting;
// never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ariadne/app/config.h"
#include "ariadne/protocol/error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::atexit([] { ariadne::fuzz::remove_scratch_file("serve-config"); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ariadne::gateway;
    auto path = ariadne::fuzz::scratch_file(
        std::string_view(reinterpret_cast<const char*>(data), size), "serve-config");
    try {
        ServeCommand c = parse_serve_config({"--config", path.string()});
        if (c.config.data_dir.empty() || c.config.io_threads == 0) __builtin_trap();
    } catch (const GatewayError& e) {
        if (e.code() != GatewayErrorCode::config) __builtin_trap();
    }
    return 0;
}
