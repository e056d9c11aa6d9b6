// Login attempt budgets per client address and for the whole server, and the address key.
#include "ariadne/core/login_budget.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ariadne::gateway {

std::string client_address_key(const std::string& text) {
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return text;
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char out[INET6_ADDRSTRLEN] = {};
    if (std::memcmp(v6.s6_addr, mapped, sizeof mapped) == 0) {
        std::memcpy(&v4, v6.s6_addr + 12, 4);
        inet_ntop(AF_INET, &v4, out, sizeof out);
        return out;
    }
    std::memset(v6.s6_addr + 8, 0, 8);
    inet_ntop(AF_INET6, &v6, out, sizeof out);
    return std::string(out) + "/64";
}

void LoginBudget::Bucket::refill(std::int64_t now_ms, double per_minute, double burst) {
    if (tokens < 0) {  // first use: full
        tokens = burst;
        last_ms = now_ms;
        return;
    }
    if (now_ms > last_ms) {
        tokens =
            std::min(burst, tokens + static_cast<double>(now_ms - last_ms) * per_minute / 60000.0);
        last_ms = now_ms;
    }
}

std::int64_t LoginBudget::Bucket::wait_ms(double per_minute) const {
    if (tokens >= 1.0) return 0;
    return static_cast<std::int64_t>(std::ceil((1.0 - tokens) * 60000.0 / per_minute));
}

bool LoginBudget::dirty(const Address& a, std::int64_t now_ms) const {
    return a.failed_once && now_ms - a.last_failure_ms < options_.dirty_for_ms;
}

LoginBudget::Address& LoginBudget::entry_locked(std::string_view address, std::int64_t now_ms) {
    auto it = addresses_.find(address);
    if (it != addresses_.end()) return it->second;
    if (addresses_.size() >= options_.max_addresses) {
        // Forget what carries no information: a full bucket and no recent failure.
        for (auto e = addresses_.begin(); e != addresses_.end();) {
            e->second.bucket.refill(now_ms, options_.address_per_minute, options_.address_burst);
            bool idle =
                e->second.bucket.tokens >= options_.address_burst && !dirty(e->second, now_ms);
            e = idle ? addresses_.erase(e) : std::next(e);
        }
        if (addresses_.size() >= options_.max_addresses) {
            // Every remembered address is active: the newcomers share one bucket rather than
            // getting a fresh one each.
            if (!overflow_init_) {
                overflow_ = Address{Bucket{-1, 0}};
                overflow_init_ = true;
            }
            return overflow_;
        }
    }
    return addresses_.emplace(std::string(address), Address{Bucket{-1, 0}}).first->second;
}

LoginBudget::Ticket LoginBudget::admit(std::string_view address, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    Ticket t;
    t.address = std::string(address);
    Address& a = entry_locked(address, now_ms);
    a.bucket.refill(now_ms, options_.address_per_minute, options_.address_burst);
    if (a.bucket.tokens < 1.0) {
        t.retry_after_ms = a.bucket.wait_ms(options_.address_per_minute);
        return t;
    }
    global_.refill(now_ms, options_.global_per_minute, options_.global_burst);
    if (global_.tokens >= 1.0) {
        global_.tokens -= 1.0;
        t.lane = Ticket::Lane::global;
    } else {
        fresh_.refill(now_ms, options_.fresh_per_minute, options_.fresh_burst);
        if (!dirty(a, now_ms) && fresh_.tokens >= 1.0) {
            fresh_.tokens -= 1.0;
            t.lane = Ticket::Lane::fresh;
        } else {
            t.retry_after_ms = global_.wait_ms(options_.global_per_minute);
            return t;
        }
    }
    a.bucket.tokens -= 1.0;
    t.admitted = true;
    return t;
}

void LoginBudget::succeeded(const Ticket& t, std::int64_t now_ms) {
    if (!t.admitted) return;
    std::lock_guard lock(mutex_);
    Address& a = entry_locked(t.address, now_ms);
    a.bucket.refill(now_ms, options_.address_per_minute, options_.address_burst);
    a.bucket.tokens = std::min(options_.address_burst, a.bucket.tokens + 1.0);
    if (t.lane == Ticket::Lane::global) {
        global_.refill(now_ms, options_.global_per_minute, options_.global_burst);
        global_.tokens = std::min(options_.global_burst, global_.tokens + 1.0);
    } else if (t.lane == Ticket::Lane::fresh) {
        fresh_.refill(now_ms, options_.fresh_per_minute, options_.fresh_burst);
        fresh_.tokens = std::min(options_.fresh_burst, fresh_.tokens + 1.0);
    }
}

std::int64_t LoginBudget::failed(const Ticket& t, std::int64_t now_ms) {
    if (!t.admitted) return 0;
    std::lock_guard lock(mutex_);
    Address& a = entry_locked(t.address, now_ms);
    a.failed_once = true;
    a.last_failure_ms = now_ms;
    a.bucket.refill(now_ms, options_.address_per_minute, options_.address_burst);
    return a.bucket.wait_ms(options_.address_per_minute);
}

std::size_t LoginBudget::addresses() const {
    std::lock_guard lock(mutex_);
    return addresses_.size();
}

}  // namespace ariadne::gateway
