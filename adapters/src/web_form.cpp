// Parsing and escaping for the survivor page's forms and cookies (web_form.h).
#include "web_form.h"

namespace ariadne::adapters::detail {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos) {
            out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return out;
}

std::string cookie_value(const gateway::HttpRequest& r, std::string_view name) {
    std::string header = r.header("cookie");
    std::string_view h = header;
    while (!h.empty()) {
        while (!h.empty() && (h.front() == ' ' || h.front() == ';')) h.remove_prefix(1);
        auto semi = h.find(';');
        std::string_view part = h.substr(0, semi);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) {
            return std::string(part.substr(eq + 1));
        }
        if (semi == std::string_view::npos) break;
        h.remove_prefix(semi + 1);
    }
    return {};
}

std::string base64url(crypto::ByteView bytes) {
    std::string t = crypto::base64_encode(bytes);
    while (!t.empty() && t.back() == '=') t.pop_back();
    for (char& c : t) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return t;
}

std::string random_token() { return base64url(crypto::random_bytes(24)); }

}  // namespace ariadne::adapters::detail
