// Assigning a caseworker to a survivor, with the handover notice: the one code path for
// `ariadne admin assign`, POST /v1/admin/assign (through PolicyService::assign) and anything
// else that changes her team by adding someone.
//
// Thread-safety: as its Store and PolicyStore (both are safe to share between threads); the
// carriers are called on the calling thread.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/core/store.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// How this process can carry a notice to her: `queue` stores one notice for one of her
/// devices (true once committed; pushed when the process is the server); `send_sms` hands one
/// to the SMS sender (empty: this process cannot send SMS, reported as no_channel).
struct NoticeCarriers {
    std::function<bool(NewNotice)> queue;
    SmsNoticeSender send_sms;
};

/// Adds caseworker account `caseworker` to survivor account `survivor`'s team: the gateway's
/// assignment (she may write to them) and her record's caseworker list, in `by`'s name at
/// `now`. When she already had a caseworker, a handover notice naming the new one by initials
/// is decided and queued (queue_handover_notice through `carriers`). Assigning someone
/// already on her team changes nothing and sends nothing.
///
/// Returns {"survivor","caseworker"[,"handover_notice"],"case_code"} (handover_notice as
/// handover_notice_json). Throws policies::Error{invalid_field, "survivor"|"caseworker"} for an
/// id that is not an account id, {not_found, "survivor"} when `survivor` is not a survivor's
/// own account (her duress login never gets caseworkers), {not_found, "caseworker"} when
/// `caseworker` is not a caseworker account, {storage} from the policy tables;
/// storage::Error from the accounts table. Nothing changes when it throws before the
/// assignment.
nlohmann::json assign_caseworker(Store& store, policies::PolicyStore& policies,
                                 const std::string& survivor, const std::string& caseworker,
                                 const policies::Actor& by, const NoticeCarriers& carriers,
                                 policies::Instant now);

}  // namespace ariadne::gateway
