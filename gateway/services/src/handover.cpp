// Assign-with-handover (handover.h): validate both accounts, assign, update her record, and
// send the handover notice when her team had someone already.
#include "ariadne/services/handover.h"

#include <algorithm>

#include "ariadne/policies/error.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {

namespace {

void require_account_id(const std::string& id, const std::string& field) {
    if (!is_account_id(id)) {
        throw policies::Error(policies::ErrorCode::invalid_field, field,
                              field + ": must be an account id (a_ + 22 characters).");
    }
}

}  // namespace

nlohmann::json assign_caseworker(Store& store, policies::PolicyStore& policies,
                                 const std::string& survivor, const std::string& caseworker,
                                 const policies::Actor& by, const NoticeCarriers& carriers,
                                 policies::Instant now) {
    require_account_id(survivor, "survivor");
    require_account_id(caseworker, "caseworker");
    auto her = store.find_account(survivor);
    auto c =
        her && her->role == Role::survivor ? find_survivor_case(policies, survivor) : std::nullopt;
    // Her duress login stays without caseworkers: that is what makes its view look empty.
    if (!her || her->role != Role::survivor || (c && c->duress_account)) {
        throw policies::Error(policies::ErrorCode::not_found, "survivor",
                              "survivor: no survivor account has this id.");
    }
    auto them = store.find_account(caseworker);
    if (!them || them->role != Role::caseworker) {
        throw policies::Error(policies::ErrorCode::not_found, "caseworker",
                              "caseworker: no caseworker account has this id.");
    }
    store.assign(survivor, caseworker);
    nlohmann::json line = {{"survivor", survivor}, {"caseworker", caseworker}};
    if (!c) return line;
    bool handover = false;
    if (auto record = policies.find_survivor(c->case_code)) {
        policies::AccountId cw(caseworker, "caseworker");
        if (std::find(record->caseworkers.begin(), record->caseworkers.end(), cw) ==
            record->caseworkers.end()) {
            handover = !record->caseworkers.empty();
            record->caseworkers.push_back(cw);
            policies.update_survivor(*record, by, now);
        }
    }
    if (handover) {
        line["handover_notice"] = handover_notice_json(
            queue_handover_notice(policies, store, survivor, caseworker, by.account.str(),
                                  carriers.queue, carriers.send_sms, now));
    }
    line["case_code"] = c->case_code.str();
    return line;
}

}  // namespace ariadne::gateway
