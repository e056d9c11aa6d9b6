// What this binary is: the release (CMake's project version) and the git commit it was built
// from. Defined in a translation unit generated at configure time (build_info.cpp.in), so a
// new commit recompiles that one file only. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ariadne::gateway {

/// The release, "0.1.0".
std::string_view build_version() noexcept;

/// The commit, abbreviated ("abc1234"): git's HEAD when CMake configured the tree,
/// -DARIADNE_COMMIT=... when given, "unknown" for a tree without .git (a source package).
std::string_view build_commit() noexcept;

/// "ariadne 0.1.0 (commit abc1234)": what `--version` prints and the start is logged with.
std::string build_description(std::string_view program = "ariadne");

}  // namespace ariadne::gateway
