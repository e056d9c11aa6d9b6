// libFuzzer target for the survivor page (/notes, adapters/survivor_page.h): the real page
// over a real gateway core (tests/adapters/stack.h: SQLite in a temp directory, her edge
// device). The first input byte chooses how the rest is sent: 0 a POSTed form without a
// session, 1 a POSTed form in her signed-in session (with its CSRF token), 2 a GET whose
// first line is appended to the path; the rest is the form (or query) as Kannel-free bytes.
// Every request must get an answer — never a crash, a hang, an escaped exception or a 500 —
// and a GET must never show her history to a request without her session.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "stack.h"

namespace {

using namespace ariadne;

adapters::test::Stack* stack = nullptr;
std::string cookie;  // "name=value" of her signed-in session
std::string csrf;

gateway::HttpResponse call(const std::string& method, const std::string& target,
                           const std::string& body, const std::string& with_cookie) {
    gateway::HttpRequest r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = body;
    r.peer_address = "127.0.0.1";
    r.peer_is_loopback = true;
    r.headers["host"] = "127.0.0.1:8443";
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    if (!with_cookie.empty()) r.headers["cookie"] = with_cookie;
    const gateway::HttpRoute* route = stack->routes->find(r.path);
    if (route == nullptr) return gateway::HttpResponse::text(404, "");
    return route->handler(r);
}

std::string set_cookie(const gateway::HttpResponse& res) {
    for (const auto& [name, value] : res.headers) {
        if (name == "Set-Cookie") return value.substr(0, value.find(';'));
    }
    return {};
}

std::string csrf_of(const std::string& html) {
    const std::string marker = "name=\"t\" value=\"";
    auto p = html.find(marker);
    if (p == std::string::npos) return {};
    p += marker.size();
    return html.substr(p, html.find('"', p) - p);
}

std::string form_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c)) {
            out += static_cast<char>(c);
        } else {
            char b[4];
            std::snprintf(b, sizeof b, "%%%02X", c);
            out += b;
        }
    }
    return out;
}

/// Signs her in as the page does: a GET for a session and its token, then the code.
void sign_in() {
    auto first = call("GET", "/notes", "", "");
    std::string pre = set_cookie(first);
    auto login =
        call("POST", "/notes",
             "a=login&t=" + csrf_of(first.body) + "&code=" + form_encode(stack->code), pre);
    cookie = set_cookie(login);
    if (cookie.empty()) cookie = pre;
    csrf = csrf_of(call("GET", "/notes", "", cookie).body);
    if (csrf.empty()) std::abort();  // set-up failed: nothing below would be meaningful
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    stack = new adapters::test::Stack();
    sign_in();
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(stack->data.parent_path(), ec);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 3;
    std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    gateway::HttpResponse res;
    if (mode == 0) {
        res = call("POST", "/notes", rest, "");
    } else if (mode == 1) {
        // The page's form parser keeps the last value of a name: her token wins.
        res = call("POST", "/notes", rest + "&t=" + csrf, cookie);
    } else {
        std::string line = rest.substr(0, rest.find('\n'));
        res = call("GET", "/notes" + line, "", "");
        if (res.status == 200 && res.body.find("name=\"text\"") != std::string::npos) {
            __builtin_trap();  // the signed-in view without her session
        }
    }
    if (res.status >= 500 || res.status < 200) __builtin_trap();
    if (mode == 1 && csrf_of(call("GET", "/notes", "", cookie).body) != csrf) {
        sign_in();  // the input signed her out (or changed her session): sign in again
    }
    return 0;
}
