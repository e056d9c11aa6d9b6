// The times the survivor page and the SMS keyword offer her for a call back: today's and
// tomorrow's morning (09–12), afternoon (12–17) and evening (17–21) in her time zone, only
// those with at least 30 minutes left. Shared by survivor_page*.cpp and sms_inbound.cpp.
// Private to the adapters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ariadne::adapters::detail {

struct CallWindow {
    std::string key;  // "2026-12-08/afternoon": her local date and the part of the day
    bool tomorrow = false;
    const char* part = "";  // "morning", "afternoon" or "evening" (the catalogue's call_<part>)
    std::int64_t from_ms = 0, to_ms = 0;  // Unix ms
    std::string hours;                    // "12:00–17:00", her local time
};

/// The windows still open at `now_ms` in `zone` (IANA; UTC when empty or unknown), earliest
/// first: at most six, at least the three of tomorrow.
std::vector<CallWindow> call_windows(std::int64_t now_ms, const std::string& zone);

/// "2026-12-08 14:00" in `zone` (UTC when empty or unknown): digits read the same in every
/// language.
std::string local_clock(std::int64_t at_ms, const std::string& zone);

}  // namespace ariadne::adapters::detail
