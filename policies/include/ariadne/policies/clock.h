// The one clock of the server side: wall-clock time as policies::Instant (UTC, microseconds).
//
// Code that decides by time (check-ins, quiet hours, alerts, audit, retention, admin
// operations) takes a `const Clock&` so a test can move time by hand (ManualClock);
// `now_utc()` is the system clock for the few places that have none injected. Durations
// that must not jump with the wall clock (timeouts, rate windows) use std::chrono::
// steady_clock instead and are not a Clock.
//
// Thread-safety: every Clock here is safe to read from any thread; ManualClock's set and
// advance are atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "ariadne/policies/values.h"

namespace ariadne::policies {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
  public:
    Instant now() const override {
        return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    }
};

/// A clock the test moves by hand. Thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(Instant start) : us_(to_micros(start)) {}
    Instant now() const override { return from_micros(us_.load()); }
    void set(Instant t) { us_.store(to_micros(t)); }
    void advance(std::chrono::microseconds d) { us_.fetch_add(d.count()); }

  private:
    std::atomic<std::int64_t> us_;
};

/// The system clock, now (what SystemClock::now() returns).
inline Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

/// Milliseconds since the Unix epoch of `t` (the unit of *_ms columns and wire fields).
inline std::int64_t unix_ms(Instant t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace ariadne::policies
