// Wall-clock milliseconds for created_ms / since_ms columns (shared by the repositories).
#pragma once

#include <chrono>
#include <cstdint>

namespace ariadne::storage::detail {

inline std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace ariadne::storage::detail
