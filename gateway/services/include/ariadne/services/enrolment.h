// Survivor enrolment: the one code path that opens a survivor's account and case, called by
// `ariadne admin survivor-enrol`, POST /v1/admin/survivor and the SMS adapter (a thread from
// an unknown number). Nothing else creates a survivor account together with her record.
//
// What it does, in order: validates her record and her caseworkers (nothing is stored when
// one is wrong), asks for the deployment's recovery parameters, creates her account under a
// fresh recovery code, assigns her caseworkers, stores her record under a fresh case code in
// `by`'s name, links the account to the case, optionally links her SMS number (unverified) and
// creates her duress login (a second account without caseworkers, linked with duress = 1).
//
// Errors: policies::Error{invalid_field | time_zone} naming the field for a bad record,
// {not_found, caseworker_field} for an id that is not a caseworker account, {storage} from
// the policy tables; storage::Error from the accounts table; whatever `params` throws (the
// admin CLI's GatewayError(config) for refused recovery parameters). A failure after the
// account exists leaves an account without a case, which can never log in to anything.
// Thread-safety: as its Store and PolicyStore (both are safe to share between threads).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ariadne/core/server_key.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/storage/policy_store.h"

namespace ariadne::gateway {

/// Who she is, as far as the organisation records it (initials only, never a name).
struct SurvivorEnrolment {
    std::vector<std::string> caseworkers{};       // caseworker account ids, at least one
    std::string caseworker_field = "caseworker";  // the field errors about them name
    std::string initials{};
    std::string language{};   // BCP 47 tag
    std::string time_zone{};  // IANA name
    /// Her console tells staff never to confirm she was a client (a thread from an unknown
    /// number may not be her).
    bool never_confirm_client = false;
    bool with_duress_code = false;
    /// A normalised phone number to link to her case as unverified (sms_numbers.h), or "".
    std::string sms_number{};
};

/// The result of enrol_survivor. The codes exist only here (never stored, never logged) and
/// are wiped when it is destroyed; move-only for that reason.
struct EnrolledSurvivor {
    Account account;
    policies::CaseCode case_code;
    std::string recovery_code;
    std::string duress_code;  // "" unless with_duress_code

    EnrolledSurvivor(Account a, policies::CaseCode c) : account(std::move(a)), case_code(c) {}
    EnrolledSurvivor(EnrolledSurvivor&&) = default;
    EnrolledSurvivor(const EnrolledSurvivor&) = delete;
    EnrolledSurvivor& operator=(const EnrolledSurvivor&) = delete;
    ~EnrolledSurvivor();
};

/// Enrols her as the file comment describes, at `now`, in `by`'s name. `params` is called
/// once, only after the input is valid (it may create the deployment's parameters). `key`
/// seals her SMS number; it and the stores are used only during the call.
EnrolledSurvivor enrol_survivor(Store& store, policies::PolicyStore& policies, const ServerKey& key,
                                const SurvivorEnrolment& args,
                                const std::function<crypto::RecoveryParams()>& params,
                                const policies::Actor& by, policies::Instant now);

}  // namespace ariadne::gateway
