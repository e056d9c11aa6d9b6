// Failed logins shared through the database (stored_login_ledger.h).
#include "ariadne/services/stored_login_ledger.h"

#include <spdlog/spdlog.h>

namespace ariadne::gateway {

namespace {
// Old rows deleted per write: a failure adds at most two, so the table shrinks to its window
// even after a flood, without one write ever deleting much.
constexpr std::size_t kPurgePerWrite = 64;
}  // namespace

std::vector<std::int64_t> StoredLoginLedger::failures(std::string_view key, std::int64_t since_ms,
                                                      std::size_t limit) const {
    return failures_.newest(key, since_ms, limit);
}

void StoredLoginLedger::record_failure(std::vector<std::string> keys, std::int64_t at_ms) noexcept {
    try {
        failures_.record(std::move(keys), at_ms, at_ms - SharedLoginLimits::kNameWindowMs,
                         kPurgePerWrite, [this](storage::CommitStatus s) { note(s); });
    } catch (const std::exception&) {
        note(storage::CommitStatus::failed);
    }
}

void StoredLoginLedger::clear(std::string key) noexcept {
    try {
        failures_.clear(std::move(key), [this](storage::CommitStatus s) { note(s); });
    } catch (const std::exception&) {
        note(storage::CommitStatus::failed);
    }
}

void StoredLoginLedger::note(storage::CommitStatus status) noexcept {
    const bool failed = status != storage::CommitStatus::committed;
    if (failing_.exchange(failed) == failed) return;
    // Other nodes then count fewer of this node's failures than there were; this node's own
    // limits still hold, and the reads before each attempt fail closed.
    if (failed)
        spdlog::warn("login failures could not be recorded for the other nodes");
    else
        spdlog::info("login failures are recorded for the other nodes again");
}

}  // namespace ariadne::gateway
