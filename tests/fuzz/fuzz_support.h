// Helpers shared by the libFuzzer targets: scratch files for parsers that read a file, and
// the split of one input into an HTTP request for the route-level targets.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ariadne/core/http_routes.h"

namespace ariadne::fuzz {

/// Writes `data` to this process's scratch file (one per target, removed at exit) and
/// returns its path.
inline std::filesystem::path scratch_file(std::string_view data, const char* name) {
    static const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("ariadne-fuzz-" + std::string(name) + "-" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(data.data(), data.size());
    return path;
}

inline void remove_scratch_file(const char* name) {
    std::error_code ec;
    std::filesystem::remove(
        std::filesystem::temp_directory_path() /
            ("ariadne-fuzz-" + std::string(name) + "-" + std::to_string(::getpid())),
        ec);
}

/// Fills `r.query` from the first line of `text`, then headers from the following
/// "name: value" lines up to an empty line (names lower-cased as the server does), and the
/// body from the rest.
inline void split_request(std::string_view text, gateway::HttpRequest& r) {
    auto nl = text.find('\n');
    r.query = std::string(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!text.empty()) {
        nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers[name] = std::string(value);
    }
    r.body = std::string(text.substr(0, 64 * 1024));  // the server's body limit
}

}  // namespace ariadne::fuzz
