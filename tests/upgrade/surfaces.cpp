#include "surfaces.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ariadne/crypto/bytes.h"

namespace ariadne::upgrade {

namespace fs = std::filesystem;

namespace {

std::string form_value(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            out += c;
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            out += hex;
        }
    }
    return out;
}

std::string html_unescape(std::string s) {
    static const std::pair<const char*, const char*> entities[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
    for (const auto& [from, to] : entities) {
        for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
            s.replace(at, std::string_view(from).size(), to);
        }
    }
    return s;
}

/// curl with -k (the gateway's certificate is self-signed) and the status on the last line.
e2e::ProcessResult curl(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sk", "--max-time", "30", "-w",
                                     "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = e2e::run_process(argv, input);
    if (r.exit_code != 0) {
        throw std::runtime_error("curl failed (exit " + std::to_string(r.exit_code) + ")");
    }
    auto nl = r.out.rfind('\n');
    r.exit_code = std::atoi(r.out.c_str() + nl + 1);  // the HTTP status
    r.out.resize(nl);
    return r;
}

}  // namespace

NotesPage::NotesPage(std::uint16_t port, fs::path jar)
    : base_("https://127.0.0.1:" + std::to_string(port)), jar_(std::move(jar)) {}

e2e::ProcessResult NotesPage::post(const std::string& form) {
    auto page = curl({"-b", jar_.string(), "-c", jar_.string(), base_ + "/notes"});
    auto at = page.out.find("name=\"t\" value=\"");
    if (at == std::string::npos) {
        throw std::runtime_error("no form token on the survivor page (HTTP " +
                                 std::to_string(page.exit_code) + ")");
    }
    std::string token = page.out.substr(at + 16, page.out.find('"', at + 16) - at - 16);
    return curl({"-L", "-b", jar_.string(), "-c", jar_.string(), "-H",
                 "Content-Type: application/x-www-form-urlencoded", "--data-binary", "@-",
                 base_ + "/notes"},
                "t=" + token + "&" + form);
}

e2e::ProcessResult NotesPage::login(const std::string& recovery_code) {
    return post("a=login&code=" + form_value(recovery_code));
}

e2e::ProcessResult NotesPage::send(const std::string& text) {
    return post("a=send&text=" + form_value(text));
}

std::vector<PageEntry> NotesPage::thread() {
    auto page = curl({"-b", jar_.string(), "-c", jar_.string(), base_ + "/notes"});
    if (page.out.find("name=\"text\"") == std::string::npos) {
        throw std::runtime_error("the survivor page is not signed in (HTTP " +
                                 std::to_string(page.exit_code) + ")");
    }
    return parse_thread(page.out);
}

std::vector<PageEntry> parse_thread(const std::string& html) {
    std::vector<PageEntry> out;
    auto at = html.find("id=\"thread\">");
    if (at == std::string::npos) return out;
    const auto end = html.find("</ol>", at);
    static const std::string item = "<li class=\"", text = "<span dir=\"auto\">";
    while ((at = html.find(item, at)) != std::string::npos && at < end) {
        at += item.size();
        PageEntry e;
        e.from_her = html.compare(at, 3, "me\"") == 0;
        auto from = html.find(text, at) + text.size();
        auto to = html.find("</span></li>", from);
        e.text = html_unescape(html.substr(from, to - from));
        out.push_back(std::move(e));
        at = to;
    }
    return out;
}

HttpAnswer admin_api(std::uint16_t port, const std::string& method, const std::string& path,
                     const std::string& body, const std::string& token) {
    std::vector<std::string> args = {"-X", method};
    if (!token.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + token});
    if (!body.empty()) {
        args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
    }
    args.push_back("https://127.0.0.1:" + std::to_string(port) + path);
    auto r = curl(args, body);
    return {r.exit_code, Json::parse(r.out, nullptr, false)};
}

std::string read_binary(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_binary(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

std::string base64(const std::string& bytes) {
    return crypto::base64_encode(crypto::as_bytes(bytes));
}

std::string unbase64(const std::string& text) {
    return crypto::to_string(crypto::base64_decode(text));
}

}  // namespace ariadne::upgrade
