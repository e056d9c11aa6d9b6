#include "ariadne/services/checkin_reach.h"

#include "ariadne/core/devices.h"

#include <chrono>

#include "ariadne/policies/error.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/channel_senders.h"
#include "policy_storage.h"

namespace ariadne::gateway {

namespace {

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
            return "no 'ariadne serve' has started on this data directory yet (a check-in by "
                   "call-back is a task for her caseworkers)";
        case ChannelKind::messenger:
            return "Ariadne cannot send through a messenger";
        case ChannelKind::social_media:
            return "social media is never used";
    }
    return "no sender exists for it";
}

}  // namespace

void clear_channel_senders(policies::PolicyStore& store) {
    policy_storage("channel senders", [&] { storage::ChannelSenders(store).clear(); });
}

void record_channel_sender(policies::PolicyStore& store, policies::ChannelKind kind,
                           bool registered) {
    policy_storage("channel senders", [&] {
        storage::ChannelSenders senders(store);
        if (!registered) return senders.forget(kind);
        senders.record(kind, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
    });
}

bool channel_sender_recorded(policies::PolicyStore& store, policies::ChannelKind kind) {
    return policy_storage("channel senders",
                          [&] { return storage::ChannelSenders(store).recorded(kind); });
}

namespace {

// A number to call: the address of her latest voice_callback consent, or a verified SMS
// number (the same look-up as CallbackBoard's, without unsealing anything).
bool her_number_on_file(policies::PolicyStore& policies, const policies::CaseCode& code) {
    if (sms_thread_verified(policies, code).value_or(false)) return true;
    auto history = policies.consent_history(code);
    for (auto purpose : {policies::Purpose::check_ins, policies::Purpose::replies}) {
        const auto* consent = policies::latest_consent(
            history, code, policies::ChannelRef{policies::ChannelKind::voice_callback, {}}, purpose,
            policies::now_utc());
        if (consent && consent->action == policies::ConsentAction::given &&
            !consent->address_ref.empty()) {
            return true;
        }
    }
    return false;
}

// Whether she has what `kind` needs to reach her (a device, a verified number); when not,
// `why` says what is missing. A kind with no condition of hers counts as reaching her.
bool her_side_reached(const Store& store, policies::PolicyStore& policies,
                      const std::optional<Account>& record, const policies::CaseCode& code,
                      policies::ChannelKind kind, std::string& why) {
    using policies::ChannelKind;
    if (kind == ChannelKind::app) {
        if (record && store.find_device(record->key, kAppDevice).has_value()) return true;
        why = "she has not logged in with the app yet (no device)";
        return false;
    }
    if (kind == ChannelKind::web) {
        if (record && store.find_device(record->key, kEdgeDevice).has_value()) return true;
        why = "she has not opened the survivor page (/notes) yet";
        return false;
    }
    if (kind == ChannelKind::sms) {
        if (sms_thread_verified(policies, code).value_or(false)) return true;
        why =
            "no verified number of hers is on file (record her sms consent with "
            "--address-stdin)";
        return false;
    }
    if (kind == ChannelKind::voice_callback) {
        if (her_number_on_file(policies, code)) return true;
        why =
            "no number of hers is on file for calls (record her voice_callback consent with "
            "--address-stdin, or verify her SMS number)";
        return false;
    }
    return true;  // a sender some adapter registered, with no known condition
}

}  // namespace

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
        } else {
            r.reaches_her = her_side_reached(store, policies, record, code, channel.kind, r.why);
        }
        out.push_back(std::move(r));
    }
    return out;
}

bool she_can_be_reached(const Store& store, policies::PolicyStore& policies,
                        const policies::CaseCode& code,
                        const std::vector<policies::ChannelRef>& channels) {
    auto account = find_case_account(policies, code);
    auto record = store.find_account(account.value_or(""));
    std::string why;
    for (const auto& channel : channels) {
        if (her_side_reached(store, policies, record, code, channel.kind, why)) return true;
    }
    return false;
}

void require_reachable(const std::vector<ChannelReach>& reach) {
    for (std::size_t i = 0; i < reach.size(); ++i) {
        if (!reach[i].has_sender) {
            const std::string field = "plan.channels[" + std::to_string(i) + "]";
            throw policies::Error(policies::ErrorCode::refused, field,
                                  field + ": check-ins cannot be sent on " +
                                      reach[i].channel.str() + ": " + reach[i].why +
                                      "; choose app, web, sms or voice_callback");
        }
    }
    // Every channel has a sender: a plan none of whose channels reaches her yet (she has not
    // signed in, no verified number) is accepted, and its first check-in waits for her.
}

}  // namespace ariadne::gateway
