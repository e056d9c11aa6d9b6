// The survivor page's static files (adapters/web/*), compiled into the binary by
// adapters/cmake/embed_assets.cmake so the gateway serves them with no external files.
#pragma once

#include <string_view>

namespace ariadne::adapters::detail {

struct Asset {
    std::string_view path;          // "/notes.js"
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view body;
};

/// The asset at `path` ("/notes.css"), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace ariadne::adapters::detail
