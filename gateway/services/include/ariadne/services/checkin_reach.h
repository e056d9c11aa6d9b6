// Whether a check-in plan's channels can reach her in this deployment, checked when a plan
// is set (by `ariadne admin checkin-plan-set` and POST /v1/admin/checkin-plan, which may run
// while no server does).
//
// The facts come from the database, so the CLI sees what the server does:
//   * which channel kinds have a sender: `ariadne serve` records each sender it registers
//     (PolicyService::set_channel_sender) in `gateway_channel_senders`, and forgets them all
//     when it starts. `app` and `web` are registered by every server, `sms` only with
//     `--sms-config`; `voice_callback` by every server (a check-in on it opens a call-back
//     task for her caseworkers, callbacks.h); no version of Ariadne has a sender for email or
//     a messenger. The table says what the last server to start on this data directory had.
//   * whether she can be reached on a kind that has a sender: `app` needs her device 1 (she
//     logged in with the app), `web` her edge device 2 (she opened the survivor page), `sms`
//     a verified number linked to her case (gateway_sms_links), `voice_callback` a number
//     to call (her voice_callback consent's address, or a verified SMS number).
//
// Thread-safe (every function uses the PolicyStore's connection under its lock); each throws
// policies::Error{storage} when SQLite fails.
#pragma once

#include <string>
#include <vector>

#include "ariadne/core/store.h"
#include "ariadne/policies/channel.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// Forgets every recorded sender (a server starting: it registers its own next).
void clear_channel_senders(policies::PolicyStore& store);
/// Records that `kind` has a sender in this deployment (`registered`), or no longer has one.
void record_channel_sender(policies::PolicyStore& store, policies::ChannelKind kind,
                           bool registered);
/// Whether the last server recorded a sender for `kind`.
bool channel_sender_recorded(policies::PolicyStore& store, policies::ChannelKind kind);

/// One channel of a plan, and whether a check-in on it can reach her now.
struct ChannelReach {
    policies::ChannelRef channel;
    bool has_sender = false;   // this deployment can send check-ins on the channel's kind
    bool reaches_her = false;  // ... and she has the device or number it needs
    std::string why;           // when !reaches_her: a sentence saying what is missing
};

/// Reach of each of `channels` for survivor account `account` (her case `code`).
std::vector<ChannelReach> checkin_reach(const Store& store, policies::PolicyStore& policies,
                                        const std::string& account, const policies::CaseCode& code,
                                        const std::vector<policies::ChannelRef>& channels);

/// Whether any of `channels` finds what it needs on her side (her app device, her edge
/// device, a verified number), senders aside: the scheduler holds a plan's first check-in
/// until this is true (CheckinCallbacks::reachable).
bool she_can_be_reached(const Store& store, policies::PolicyStore& policies,
                        const policies::CaseCode& code,
                        const std::vector<policies::ChannelRef>& channels);

/// Refuses a plan that would pretend to look after her: Error{refused, "plan.channels[i]"}
/// for a channel whose kind has no sender in this deployment (every slot on it would be lost).
/// A plan none of whose channels reaches her yet is accepted: its first check-in waits for the
/// first window after she can be reached.
void require_reachable(const std::vector<ChannelReach>& reach);

}  // namespace ariadne::gateway
