// libFuzzer target for the SMS routes Kannel calls (/sms/inbound and /sms/dlr,
// adapters/sms_gateway.h): the real SmsGateway over a real gateway core
// (tests/adapters/stack.h). The first input byte chooses the route (bit 0: dlr), whether
// the valid token is sent (bit 1) and the method (bit 2: GET); the rest is split by
// fuzz_support.h split_request (query line, header lines, body). The clock moves a minute
// per request so the rate limits do not hide the parsers. Every request must get an
// answer — never a crash, a hang, an escaped exception or a 5xx other than 503 (storage).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/crypto/bytes.h"
#include "fuzz_support.h"
#include "stack.h"

namespace {

using namespace ariadne;

const std::string kToken = "fuzz_token_0123456789abcdefghijklmnop";
adapters::test::Stack* stack = nullptr;
adapters::SmsGateway* sms = nullptr;
std::int64_t clock_ms = 1'800'000'000'000;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    stack = new adapters::test::Stack();
    adapters::SmsGatewayOptions o;
    o.kannel_port = 9;  // nobody listens: a reply would fail at once (none is sent here)
    o.kannel_username = "ariadne";
    o.kannel_password = "pw_unused_123";
    o.sender = "7000";
    o.inbound_token = kToken;
    o.callback_base = "https://127.0.0.1:8443";
    o.on_duty = {stack->caseworker};
    o.recovery_params = stack->params;
    o.clock_ms = [] { return clock_ms += 61'000; };
    o.kannel_timeout = std::chrono::milliseconds(200);
    sms = new adapters::SmsGateway(*stack->store, *stack->links, *stack->server_key, *stack->hub,
                                   std::move(o));
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(stack->data.parent_path(), ec);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const unsigned mode = data[0];
    gateway::HttpRequest r;
    fuzz::split_request(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), r);
    r.path = (mode & 1) ? "/sms/dlr" : "/sms/inbound";
    r.method = (mode & 4) ? "GET" : "POST";
    r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
    r.peer_address = "127.0.0.1";
    r.peer_is_loopback = true;
    if (mode & 2) {
        r.headers["authorization"] =
            "Basic " + crypto::base64_encode(crypto::as_bytes("kannel:" + kToken));
    }
    gateway::HttpResponse res = sms->handle(r);
    if (res.status < 200 || (res.status >= 500 && res.status != 503)) __builtin_trap();
    // Kannel turns a non-empty answer to an inbound SMS into an SMS to her: never.
    if (!(mode & 1) && res.status == 202 && !res.body.empty()) __builtin_trap();
    return 0;
}
