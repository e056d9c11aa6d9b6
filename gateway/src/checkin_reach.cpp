#include "ariadne/gateway/checkin_reach.h"

#include <sqlite3.h>

#include <chrono>

#include "ariadne/gateway/sms_numbers.h"
#include "ariadne/policies/error.h"

namespace ariadne::gateway {

namespace {

[[noreturn]] void storage(sqlite3* db) {
    throw policies::Error(
        policies::ErrorCode::storage, "",
        std::string("The channel senders cannot be read (") + sqlite3_errmsg(db) + ").");
}

void exec(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) storage(db);
}

std::string no_sender_reason(policies::ChannelKind kind) {
    using policies::ChannelKind;
    switch (kind) {
        case ChannelKind::sms:
            return "no SMS gateway is configured (start 'ariadne serve' with --sms-config)";
        case ChannelKind::app:
        case ChannelKind::web:
            return "no 'ariadne serve' has started on this data directory yet";
        case ChannelKind::email:
            return "Ariadne cannot send e-mail";
        case ChannelKind::voice_callback:
            return "Ariadne cannot place calls (a call-back is a request to a caseworker)";
        case ChannelKind::messenger:
            return "Ariadne cannot send through a messenger";
        case ChannelKind::social_media:
            return "social media is never used";
    }
    return "no sender exists for it";
}

}  // namespace

void clear_channel_senders(policies::PolicyStore& store) {
    auto guard = store.lock();
    exec(store.connection(), "DELETE FROM gateway_channel_senders");
}

void record_channel_sender(policies::PolicyStore& store, policies::ChannelKind kind,
                           bool registered) {
    auto guard = store.lock();
    sqlite3* db = store.connection();
    sqlite3_stmt* st = nullptr;
    const char* sql = registered ? "INSERT INTO gateway_channel_senders(kind, registered_at_ms) "
                                   "VALUES(?1, ?2) ON CONFLICT(kind) DO UPDATE SET "
                                   "registered_at_ms = excluded.registered_at_ms"
                                 : "DELETE FROM gateway_channel_senders WHERE kind = ?1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) storage(db);
    sqlite3_bind_text(st, 1, policies::to_string(kind), -1, SQLITE_STATIC);
    if (registered) {
        sqlite3_bind_int64(st, 2,
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) storage(db);
}

bool channel_sender_recorded(policies::PolicyStore& store, policies::ChannelKind kind) {
    auto guard = store.lock();
    sqlite3* db = store.connection();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM gateway_channel_senders WHERE kind = ?1", -1, &st,
                           nullptr) != SQLITE_OK) {
        storage(db);
    }
    sqlite3_bind_text(st, 1, policies::to_string(kind), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) storage(db);
    return rc == SQLITE_ROW;
}

std::vector<ChannelReach> checkin_reach(const Store& store, policies::PolicyStore& policies,
                                        const std::string& account, const policies::CaseCode& code,
                                        const std::vector<policies::ChannelRef>& channels) {
    using policies::ChannelKind;
    std::vector<ChannelReach> out;
    auto record = store.find_account(account);
    for (const auto& channel : channels) {
        ChannelReach r;
        r.channel = channel;
        r.has_sender = channel.kind != ChannelKind::social_media &&
                       channel_sender_recorded(policies, channel.kind);
        if (!r.has_sender) {
            r.why = no_sender_reason(channel.kind);
        } else if (channel.kind == ChannelKind::app) {
            r.reaches_her = record && store.find_device(record->key, 1).has_value();
            if (!r.reaches_her) r.why = "she has not logged in with the app yet (no device)";
        } else if (channel.kind == ChannelKind::web) {
            r.reaches_her = record && store.find_device(record->key, 2).has_value();
            if (!r.reaches_her) r.why = "she has not opened the survivor page (/notes) yet";
        } else if (channel.kind == ChannelKind::sms) {
            r.reaches_her = sms_thread_verified(policies, code).value_or(false);
            if (!r.reaches_her) {
                r.why =
                    "no verified number of hers is on file (record her sms consent with "
                    "--address-stdin)";
            }
        } else {
            r.reaches_her = true;  // a sender some adapter registered, with no known condition
        }
        out.push_back(std::move(r));
    }
    return out;
}

void require_reachable(const std::vector<ChannelReach>& reach) {
    for (std::size_t i = 0; i < reach.size(); ++i) {
        if (!reach[i].has_sender) {
            const std::string field = "plan.channels[" + std::to_string(i) + "]";
            throw policies::Error(policies::ErrorCode::refused, field,
                                  field + ": check-ins cannot be sent on " +
                                      reach[i].channel.str() + ": " + reach[i].why +
                                      "; choose app, web or sms");
        }
    }
    std::string missing;
    for (const auto& r : reach) {
        if (r.reaches_her) return;
        missing += (missing.empty() ? "" : "; ") + r.channel.str() + ": " + r.why;
    }
    throw policies::Error(policies::ErrorCode::refused, "plan.channels",
                          "plan.channels: no channel of this plan can reach her now, so every "
                          "check-in would be lost (" +
                              missing + ")");
}

}  // namespace ariadne::gateway
