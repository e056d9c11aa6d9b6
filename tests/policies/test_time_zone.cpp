// Local time from the system tz database, checked against glibc and against known DST nights.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <random>

#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"

using namespace ariadne::policies;
using namespace std::chrono;

namespace {

sys_seconds utc(int y, unsigned m, unsigned d, int h, int min) {
    return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min};
}
local_seconds local(int y, unsigned m, unsigned d, int h, int min) {
    return local_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min};
}

// glibc's answer for the offset at t in zone `name` (test-only: setenv is process-global).
long glibc_offset(const std::string& name, std::int64_t t) {
    setenv("TZ", (":" + name).c_str(), 1);
    tzset();
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

}  // namespace

TEST(TimeZone, AgreesWithGlibcAcrossZonesOnBothSidesOfUtcFrom1970To2100) {
    const char* old_tz = std::getenv("TZ");
    std::string saved = old_tz ? old_tz : "";
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> dist(0, 4102444800LL);  // 1970..2100
    for (const char* name :
         {"Europe/Rome", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland",
          "Australia/Adelaide", "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Chatham", "UTC",
          "America/Godthab", "Africa/Casablanca", "Europe/Bucharest", "Asia/Tehran"}) {
        auto zone = TimeZone::load(name);
        for (int i = 0; i < 3000; ++i) {
            std::int64_t t = dist(rng);
            ASSERT_EQ(zone->offset_at(sys_seconds{seconds{t}}).count(), glibc_offset(name, t))
                << name << " at " << t;
        }
    }
    if (old_tz)
        setenv("TZ", saved.c_str(), 1);
    else
        unsetenv("TZ");
    tzset();
}

TEST(TimeZone, RomeSpringForwardNightHasNoHalfPastTwo) {
    auto rome = TimeZone::load("Europe/Rome");
    // 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    EXPECT_EQ(rome->offset_at(utc(2025, 3, 30, 0, 59)), hours{1});
    EXPECT_EQ(rome->offset_at(utc(2025, 3, 30, 1, 0)), hours{2});
    EXPECT_EQ(rome->from_local(local(2025, 3, 30, 2, 30)), utc(2025, 3, 30, 1, 0));
    EXPECT_EQ(rome->from_local(local(2025, 3, 30, 3, 0)), utc(2025, 3, 30, 1, 0));
    EXPECT_EQ(rome->from_local(local(2025, 3, 30, 1, 59)), utc(2025, 3, 30, 0, 59));
}

TEST(TimeZone, LondonFallBackNightShowsHalfPastOneTwiceAndPicksTheEarlier) {
    auto london = TimeZone::load("Europe/London");
    // 2025-10-26: 02:00 BST becomes 01:00 GMT at 01:00 UTC.
    EXPECT_EQ(london->from_local(local(2025, 10, 26, 1, 30)), utc(2025, 10, 26, 0, 30));
    auto first = london->to_local(Instant{utc(2025, 10, 26, 0, 30)});
    auto second = london->to_local(Instant{utc(2025, 10, 26, 1, 30)});
    EXPECT_EQ(first.local(), second.local());
    EXPECT_TRUE(first.dst);
    EXPECT_FALSE(second.dst);
}

TEST(TimeZone, NewYorkKolkataAucklandOffsets) {
    auto ny = TimeZone::load("America/New_York");
    EXPECT_EQ(ny->offset_at(utc(2025, 1, 15, 12, 0)), hours{-5});
    EXPECT_EQ(ny->offset_at(utc(2025, 7, 15, 12, 0)), hours{-4});
    EXPECT_EQ(ny->from_local(local(2025, 3, 9, 2, 30)), utc(2025, 3, 9, 7, 0));     // gap
    EXPECT_EQ(ny->from_local(local(2025, 11, 2, 1, 30)), utc(2025, 11, 2, 5, 30));  // overlap
    auto kolkata = TimeZone::load("Asia/Kolkata");
    EXPECT_EQ(kolkata->offset_at(utc(2025, 6, 1, 0, 0)), hours{5} + minutes{30});
    auto akl = TimeZone::load("Pacific/Auckland");
    EXPECT_EQ(akl->offset_at(utc(2025, 1, 15, 0, 0)), hours{13});  // southern summer
    EXPECT_EQ(akl->offset_at(utc(2025, 7, 15, 0, 0)), hours{12});
    // 2025-09-28 02:00 NZST → 03:00 NZDT (14:00 UTC the day before).
    EXPECT_EQ(akl->from_local(local(2025, 9, 28, 2, 30)), utc(2025, 9, 27, 14, 0));
    auto l = akl->to_local(Instant{utc(2025, 1, 14, 23, 0)});
    EXPECT_EQ(l.date, local_days{year{2025} / January / day{15}});
    EXPECT_EQ(l.time, hours{12});
    EXPECT_EQ(l.weekday, Wednesday);
}

TEST(TimeZone, FarFutureUsesTheFooterRule) {
    auto rome = TimeZone::load("Europe/Rome");
    EXPECT_EQ(rome->offset_at(utc(2090, 7, 1, 0, 0)), hours{2});
    EXPECT_EQ(rome->offset_at(utc(2090, 12, 1, 0, 0)), hours{1});
}

TEST(TimeZone, UnknownOrMalformedNamesAreRefusedNamingTheField) {
    for (const char* bad :
         {"Mars/Olympus", "../etc/passwd", "/etc/localtime", "", "Europe//Rome", "zone.tab"}) {
        try {
            TimeZone::load(bad, "survivor.time_zone");
            ADD_FAILURE() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::time_zone);
            EXPECT_EQ(e.field(), "survivor.time_zone");
        }
    }
}
