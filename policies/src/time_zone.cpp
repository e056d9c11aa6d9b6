#include "ariadne/policies/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "ariadne/policies/error.h"

namespace ariadne::policies {

using namespace std::chrono;

// The POSIX TZ string of a TZif footer: std offset [dst [offset] [,start[/time],end[/time]]].
struct TimeZone::Rule {
    struct When {
        enum Kind { julian_no_leap, julian_zero, month_week_day } kind = month_week_day;
        int month = 0, week = 0, day = 0;  // Mm.w.d
        int n = 0;                         // Jn or n
        std::int32_t time = 2 * 3600;      // local time of the change, may be <0 or >24h
    };
    std::int32_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    When start, end;

    // Local seconds since the epoch at which `w` happens in year `y`.
    static std::int64_t local_moment(const When& w, int y) {
        year_month_day jan1{year{y}, January, day{1}};
        sys_days day_start;
        if (w.kind == When::julian_no_leap) {
            int offset = w.n - 1 + ((year{y}.is_leap() && w.n >= 60) ? 1 : 0);
            day_start = sys_days{jan1} + days{offset};
        } else if (w.kind == When::julian_zero) {
            day_start = sys_days{jan1} + days{w.n};
        } else {
            year_month_day first{year{y}, month{static_cast<unsigned>(w.month)}, day{1}};
            unsigned wd1 = weekday{sys_days{first}}.c_encoding();
            int d = 1 + static_cast<int>((static_cast<unsigned>(w.day) + 7 - wd1) % 7) +
                    7 * (w.week - 1);
            unsigned last = static_cast<unsigned>(year_month_day_last{
                year{y}, month_day_last{month{static_cast<unsigned>(
                             w.month)}}}.day());
            while (d > static_cast<int>(last)) d -= 7;
            day_start = sys_days{first} + days{d - 1};
        }
        return duration_cast<seconds>(day_start.time_since_epoch()).count() + w.time;
    }

    bool is_dst(std::int64_t t) const {
        if (!has_dst) return false;
        auto local_std = sys_seconds{seconds{t + std_offset}};
        int y = static_cast<int>(year_month_day{floor<days>(local_std)}.year());
        std::int64_t s = local_moment(start, y) - std_offset;
        std::int64_t e = local_moment(end, y) - dst_offset;
        return s < e ? (s <= t && t < e) : !(e <= t && t < s);
    }
};

namespace {

[[noreturn]] void bad(const std::string& name, const std::string& what) {
    throw Error(ErrorCode::time_zone, "time_zone",
                "time_zone: the zone data for '" + name + "' cannot be read: " + what);
}

class Reader {
  public:
    explicit Reader(std::string_view b) : b_(b) {}
    bool has(std::size_t n) const { return pos_ + n <= b_.size(); }
    std::uint64_t be(int bytes) {
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
        return v;
    }
    void skip(std::size_t n) { pos_ += n; }
    std::size_t pos() const { return pos_; }
    std::string_view rest() const { return b_.substr(pos_); }

  private:
    std::string_view b_;
    std::size_t pos_ = 0;
};

// Parses [+-]hh[:mm[:ss]]; returns seconds.
bool parse_hms(std::string_view& s, std::int32_t& out) {
    int sign = 1;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        sign = s[0] == '-' ? -1 : 1;
        s.remove_prefix(1);
    }
    std::int32_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        if (i > 0) {
            if (s.empty() || s[0] != ':') break;
            s.remove_prefix(1);
        }
        if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
        std::int32_t v = 0;
        int digits = 0;
        while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])) && digits < 3) {
            v = v * 10 + (s[0] - '0');
            s.remove_prefix(1);
            ++digits;
        }
        parts[i] = v;
    }
    out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
}

bool parse_abbr(std::string_view& s) {
    if (!s.empty() && s[0] == '<') {
        auto close = s.find('>');
        if (close == std::string_view::npos) return false;
        s.remove_prefix(close + 1);
        return true;
    }
    std::size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
    if (n < 3) return false;
    s.remove_prefix(n);
    return true;
}

bool parse_int(std::string_view& s, int& out) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    out = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
        out = out * 10 + (s[0] - '0');
        s.remove_prefix(1);
    }
    return true;
}

bool parse_when(std::string_view& s, TimeZone::Rule::When& w) {
    using When = TimeZone::Rule::When;
    if (!s.empty() && s[0] == 'M') {
        s.remove_prefix(1);
        w.kind = When::month_week_day;
        if (!parse_int(s, w.month) || s.empty() || s[0] != '.') return false;
        s.remove_prefix(1);
        if (!parse_int(s, w.week) || s.empty() || s[0] != '.') return false;
        s.remove_prefix(1);
        if (!parse_int(s, w.day)) return false;
        if (w.month < 1 || w.month > 12 || w.week < 1 || w.week > 5 || w.day > 6) return false;
    } else if (!s.empty() && s[0] == 'J') {
        s.remove_prefix(1);
        w.kind = When::julian_no_leap;
        if (!parse_int(s, w.n) || w.n < 1 || w.n > 365) return false;
    } else {
        w.kind = When::julian_zero;
        if (!parse_int(s, w.n) || w.n > 365) return false;
    }
    w.time = 2 * 3600;
    if (!s.empty() && s[0] == '/') {
        s.remove_prefix(1);
        if (!parse_hms(s, w.time)) return false;
    }
    return true;
}

std::shared_ptr<TimeZone::Rule> parse_posix_tz(std::string_view s) {
    auto rule = std::make_shared<TimeZone::Rule>();
    std::int32_t off = 0;
    if (!parse_abbr(s) || !parse_hms(s, off)) return nullptr;
    rule->std_offset = -off;  // POSIX counts west of UTC as positive
    if (s.empty()) return rule;
    if (!parse_abbr(s)) return nullptr;
    rule->has_dst = true;
    rule->dst_offset = rule->std_offset + 3600;
    if (!s.empty() && s[0] != ',') {
        if (!parse_hms(s, off)) return nullptr;
        rule->dst_offset = -off;
    }
    if (s.empty()) {  // POSIX leaves the default implementation-defined; glibc uses US rules
        s = ",M3.2.0,M11.1.0";
    }
    if (s[0] != ',') return nullptr;
    s.remove_prefix(1);
    if (!parse_when(s, rule->start) || s.empty() || s[0] != ',') return nullptr;
    s.remove_prefix(1);
    if (!parse_when(s, rule->end) || !s.empty()) return nullptr;
    return rule;
}

bool valid_zone_name(std::string_view n) {
    if (n.empty() || n.size() > 64 || n[0] == '/' || n.back() == '/') return false;
    if (n.find("..") != std::string_view::npos || n.find("//") != std::string_view::npos)
        return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' ||
               c == '/';
    });
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
    Reader r(bytes);
    auto header = [&](std::uint64_t(&counts)[6], char& version) {
        if (!r.has(44) || bytes.substr(r.pos(), 4) != "TZif") bad(name, "not a TZif file");
        r.skip(4);
        version = static_cast<char>(r.be(1));
        r.skip(15);
        for (auto& c : counts) c = r.be(4);
    };
    std::uint64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    char version = 0;
    header(c, version);
    int time_size = 4;
    if (version >= '2') {
        std::size_t v1 = c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
        if (!r.has(v1)) bad(name, "truncated");
        r.skip(v1);
        header(c, version);
        time_size = 8;
    }
    std::uint64_t timecnt = c[3], typecnt = c[4];
    std::size_t need =
        timecnt * time_size + timecnt + typecnt * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0];
    if (typecnt == 0 || !r.has(need)) bad(name, "truncated or empty");
    auto zone = std::shared_ptr<TimeZone>(new TimeZone());
    zone->name_ = std::move(name);
    zone->transitions_.reserve(timecnt);
    for (std::uint64_t i = 0; i < timecnt; ++i) {
        std::uint64_t v = r.be(time_size);
        zone->transitions_.push_back(time_size == 8 ? static_cast<std::int64_t>(v)
                                                    : static_cast<std::int32_t>(v));
    }
    for (std::uint64_t i = 0; i < timecnt; ++i) {
        auto idx = static_cast<std::uint8_t>(r.be(1));
        if (idx >= typecnt) bad(zone->name_, "transition names a missing type");
        zone->transition_types_.push_back(idx);
    }
    for (std::uint64_t i = 0; i < typecnt; ++i) {
        auto off = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.be(4)));
        bool dst = r.be(1) != 0;
        r.skip(1);
        zone->types_.push_back(Type{off, dst});
    }
    r.skip(c[5] + c[2] * (time_size + 4) + c[1] + c[0]);
    if (time_size == 8) {
        std::string_view rest = r.rest();
        if (rest.size() >= 2 && rest[0] == '\n') {
            auto end = rest.find('\n', 1);
            if (end == std::string_view::npos) bad(zone->name_, "unterminated footer");
            std::string_view footer = rest.substr(1, end - 1);
            if (!footer.empty()) {
                zone->rule_ = parse_posix_tz(footer);
                if (!zone->rule_) bad(zone->name_, "unsupported POSIX TZ footer");
            }
        }
    }
    return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(std::string_view iana_name, std::string_view field) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> cache;
    std::string name(iana_name);
    if (!valid_zone_name(name)) {
        throw Error(ErrorCode::time_zone, std::string(field),
                    std::string(field) +
                        ": not an IANA time zone name; use a name like 'Europe/Rome' or "
                        "'Asia/Kolkata'");
    }
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
    const char* dir = std::getenv("TZDIR");
    std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::stringstream data;
    if (in) data << in.rdbuf();
    std::string bytes = data.str();
    if (!in || bytes.size() < 4 || bytes.compare(0, 4, "TZif") != 0) {
        throw Error(
            ErrorCode::time_zone, std::string(field),
            std::string(field) + ": unknown time zone '" + name +
                "'; use an IANA name like 'Europe/Rome' (is the tzdata package installed?)");
    }
    auto zone = from_tzif(name, bytes);
    cache.emplace(name, zone);
    return zone;
}

TimeZone::Type TimeZone::type_at(std::int64_t t) const {
    if (transitions_.empty() || t >= transitions_.back()) {
        if (rule_) {
            bool dst = rule_->is_dst(t);
            return Type{dst ? rule_->dst_offset : rule_->std_offset, dst};
        }
        if (transitions_.empty()) return types_[0];
        return types_[transition_types_.back()];
    }
    if (t < transitions_.front()) return types_[0];
    auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
    return types_[transition_types_[static_cast<std::size_t>(it - transitions_.begin()) - 1]];
}

seconds TimeZone::offset_at(sys_seconds t) const {
    return seconds{type_at(t.time_since_epoch().count()).utoff};
}

LocalDateTime TimeZone::to_local(Instant t) const {
    auto s = floor<seconds>(t);
    Type type = type_at(s.time_since_epoch().count());
    local_seconds local{s.time_since_epoch() + seconds{type.utoff}};
    auto date = floor<days>(local);
    return LocalDateTime{date, local - date, weekday{date}, seconds{type.utoff}, type.dst};
}

sys_seconds TimeZone::from_local(local_seconds local) const {
    std::int64_t l = local.time_since_epoch().count();
    // Offsets in force a day either side bracket any instant that can show this reading
    // (|offset| < 15 h); zones never change offset twice within two days.
    std::int32_t before = type_at(l - 86400).utoff;
    std::int32_t after = type_at(l + 86400).utoff;
    std::optional<std::int64_t> best;
    for (std::int32_t off : {before, after}) {
        std::int64_t t = l - off;
        if (type_at(t).utoff == off && (!best || t < *best)) best = t;
    }
    if (best) return sys_seconds{seconds{*best}};
    // A gap: return the transition instant, the first moment after the gap.
    std::int64_t lo = l - 86400, hi = l + 86400;  // offset(lo) == before, offset(hi) != before
    while (hi - lo > 1) {
        std::int64_t mid = lo + (hi - lo) / 2;
        (type_at(mid).utoff == before ? lo : hi) = mid;
    }
    return sys_seconds{seconds{hi}};
}

}  // namespace ariadne::policies
