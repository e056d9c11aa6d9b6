// The adapters' wall-clock reading in Unix ms: the test clock an adapter's options inject
// (`clock_ms`), else the server's one clock (policies/clock.h). Intervals that must not jump
// with the wall clock use steady_clock instead.
#pragma once

#include <cstdint>
#include <functional>

#include "ariadne/policies/clock.h"

namespace ariadne::adapters::detail {

/// `clock_ms()` when set, else policies::unix_ms(policies::now_utc()).
inline std::int64_t unix_now_ms(const std::function<std::int64_t()>& clock_ms) {
    return clock_ms ? clock_ms() : policies::unix_ms(policies::now_utc());
}

}  // namespace ariadne::adapters::detail
