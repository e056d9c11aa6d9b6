// The console's web UI (console/web/*), compiled into the binary at build time by
// cmake/embed_assets.cmake (console/CMakeLists.txt): no file is read from disk and nothing
// is fetched from elsewhere. Never throws; the data is static and immutable, so it is
// thread-safe and the views stay valid for the whole program.
#pragma once

#include <string_view>

namespace ariadne::console {

struct Asset {
    std::string_view path;          // "/app.js"
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view body;
};

/// The asset served at `path` ("/index.html", "/app.js", ...), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace ariadne::console
