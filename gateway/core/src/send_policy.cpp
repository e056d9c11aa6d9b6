// AssignmentPolicy: the default SendPolicy, decided by case assignments alone.
#include "ariadne/core/send_policy.h"

namespace ariadne::gateway {

SendDecision AssignmentPolicy::decide(const Account& sender, std::uint32_t /*sender_device*/,
                                      const Account& recipient) const {
    try {
        if (store_.shares_assignment(sender, recipient)) return SendDecision::allow();
        return SendDecision::deny("not_assigned");
    } catch (const std::exception&) {
        return SendDecision::deny("policy_unavailable");
    }
}

}  // namespace ariadne::gateway
