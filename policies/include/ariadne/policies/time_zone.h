// IANA time zones read from the system tz database (TZif files under /usr/share/zoneinfo,
// Debian package `tzdata`; $TZDIR overrides the directory). libstdc++ 12 lacks
// std::chrono::locate_zone, and setenv("TZ") + localtime_r is process-global, so Ariadne
// reads TZif v2+ itself: the 64-bit transition table, then the POSIX TZ footer rule for
// instants after the last transition (e.g. "CET-1CEST,M3.5.0,M10.5.0/3").
// A loaded TimeZone is immutable and safe to share between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/policies/values.h"

namespace ariadne::policies {

/// A wall-clock reading in some zone.
struct LocalDateTime {
    std::chrono::local_days date;  // local calendar day
    std::chrono::seconds time;     // seconds since local midnight, 0..86399
    std::chrono::weekday weekday;  // of `date`
    std::chrono::seconds utc_offset;
    bool dst = false;
    std::chrono::local_seconds local() const { return date + time; }
};

class TimeZone {
  public:
    /// The zone named `iana_name` ("Europe/Rome", "Asia/Kolkata", "UTC"), loaded once and
    /// cached for the life of the process. Thread-safe. Throws Error{time_zone, field}
    /// naming `field` when the name is malformed or the zone does not exist.
    static std::shared_ptr<const TimeZone> load(std::string_view iana_name,
                                                std::string_view field = "time_zone");
    /// Parses TZif bytes (for tests and custom data). Throws Error{time_zone} when malformed.
    static std::shared_ptr<const TimeZone> from_tzif(std::string name, std::string_view bytes);

    const std::string& name() const noexcept { return name_; }
    /// Offset from UTC in force at `t` (+01:00 → 3600 s).
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    LocalDateTime to_local(Instant t) const;
    /// The UTC instant at which the wall clock shows `local`. In a fall-back overlap (the
    /// reading happens twice) the earlier instant; in a spring-forward gap (the reading never
    /// happens) the instant the gap ends, i.e. the first existing moment after it.
    std::chrono::sys_seconds from_local(std::chrono::local_seconds local) const;

    struct Rule;  // POSIX TZ footer, defined in the .cpp

  private:
    TimeZone() = default;
    struct Type {
        std::int32_t utoff;
        bool dst;
    };
    Type type_at(std::int64_t t) const;

    std::string name_;
    std::vector<std::int64_t> transitions_;
    std::vector<std::uint8_t> transition_types_;
    std::vector<Type> types_;
    std::shared_ptr<const Rule> rule_;  // may be null (no footer)
};

}  // namespace ariadne::policies
