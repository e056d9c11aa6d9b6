// Survivor enrolment (enrolment.h): validate, then create her account, record and links.
#include "ariadne/services/enrolment.h"

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/error.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/protocol/codec.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/sms_numbers.h"

namespace ariadne::gateway {

EnrolledSurvivor::~EnrolledSurvivor() {
    crypto::wipe(recovery_code.data(), recovery_code.size());
    crypto::wipe(duress_code.data(), duress_code.size());
}

EnrolledSurvivor enrol_survivor(Store& store, policies::PolicyStore& policies, const ServerKey& key,
                                const SurvivorEnrolment& args,
                                const std::function<crypto::RecoveryParams()>& params,
                                const policies::Actor& by, policies::Instant now) {
    const std::string& field = args.caseworker_field;
    if (args.caseworkers.empty()) {
        throw policies::Error(policies::ErrorCode::invalid_field, field,
                              field + ": at least one caseworker account id is required.");
    }
    policies::Survivor record{policies::CaseCode::generate(),
                              policies::Initials(args.initials, "initials"),
                              policies::LanguageTag(args.language, "language"), args.time_zone};
    for (const auto& id : args.caseworkers) record.caseworkers.emplace_back(id, field);
    record.flags.never_confirm_client = args.never_confirm_client;
    policies::TimeZone::load(args.time_zone, "time_zone");  // names the field as given
    record.validate();
    for (const auto& id : args.caseworkers) {
        auto account = is_account_id(id) ? store.find_account(id) : std::nullopt;
        if (!account || account->role != Role::caseworker) {
            throw policies::Error(policies::ErrorCode::not_found, field,
                                  field + ": no caseworker account has the id " + id + ".");
        }
    }
    if (!args.sms_number.empty() && !normalize_phone_number(args.sms_number)) {
        throw policies::Error(policies::ErrorCode::invalid_field, "address",
                              "address: not a phone number (an optional '+' and 3 to 20 "
                              "digits; spaces and dashes are ignored).");
    }
    const auto recovery = params();
    std::string code = crypto::generate_recovery_code();
    auto verifier = crypto::make_recovery_verifier(code, recovery);
    Account account = store.create_survivor(verifier.locator, verifier.auth_public_key);
    for (const auto& id : args.caseworkers) store.assign(account.id, id);
    auto stored = policies.enrol_survivor(record, by, now);
    link_survivor_case(policies, account.id, stored.case_code, false);
    EnrolledSurvivor out(std::move(account), stored.case_code);
    out.recovery_code = code;
    crypto::wipe(code.data(), code.size());
    if (!args.sms_number.empty()) {
        link_sms_number(policies, key, args.sms_number, stored.case_code, false);
    }
    if (args.with_duress_code) {
        // Her duress login: a second account without caseworkers (an empty-looking view)
        // whose login raises the duress alert on her case.
        out.duress_code = crypto::generate_recovery_code();
        auto dv = crypto::make_recovery_verifier(out.duress_code, recovery);
        Account decoy = store.create_survivor(dv.locator, dv.auth_public_key);
        link_survivor_case(policies, decoy.id, stored.case_code, true);
    }
    return out;
}

}  // namespace ariadne::gateway
