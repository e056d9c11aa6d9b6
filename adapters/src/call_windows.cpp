#include "call_windows.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

#include "ariadne/policies/time_zone.h"

namespace ariadne::adapters::detail {

namespace {

struct Part {
    const char* name;
    int from_hour, to_hour;
};
constexpr Part kParts[] = {{"morning", 9, 12}, {"afternoon", 12, 17}, {"evening", 17, 21}};
// A window with less left than this is not offered: there would be no time to call.
constexpr std::int64_t kMinLeftMs = 30 * 60'000;

std::shared_ptr<const policies::TimeZone> zone_or_utc(const std::string& zone) {
    try {
        if (!zone.empty()) return policies::TimeZone::load(zone);
    } catch (const std::exception&) {
    }
    return policies::TimeZone::load("UTC");
}

}  // namespace

std::vector<CallWindow> call_windows(std::int64_t now_ms, const std::string& zone) {
    using namespace std::chrono;
    const auto tz = zone_or_utc(zone);
    const policies::Instant now{duration_cast<microseconds>(milliseconds(now_ms))};
    const local_days today = tz->to_local(now).date;
    std::vector<CallWindow> out;
    for (int d = 0; d < 2; ++d) {
        const local_days day = today + days(d);
        const year_month_day ymd{day};
        char date[16];
        std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        for (const Part& p : kParts) {
            CallWindow w;
            w.key = std::string(date) + "/" + p.name;
            w.tomorrow = d == 1;
            w.part = p.name;
            w.from_ms =
                duration_cast<milliseconds>(
                    tz->from_local(local_seconds(day + hours(p.from_hour))).time_since_epoch())
                    .count();
            w.to_ms = duration_cast<milliseconds>(
                          tz->from_local(local_seconds(day + hours(p.to_hour))).time_since_epoch())
                          .count();
            if (w.to_ms - now_ms < kMinLeftMs) continue;
            char h[32];
            std::snprintf(h, sizeof h, "%02d:00\u2013%02d:00", p.from_hour, p.to_hour);
            w.hours = h;
            out.push_back(std::move(w));
        }
    }
    return out;
}

std::string local_clock(std::int64_t at_ms, const std::string& zone) {
    using namespace std::chrono;
    const policies::Instant t{duration_cast<microseconds>(milliseconds(at_ms))};
    const local_seconds local = zone_or_utc(zone)->to_local(t).local();
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss hms{local - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    return buf;
}

}  // namespace ariadne::adapters::detail
