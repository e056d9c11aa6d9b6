// Check-in plan use cases shared by `ariadne admin` and the admin HTTP API: set a plan for
// her case, pause/resume/stop it (operations.h).
#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "admin_errors.h"
#include "ariadne/admin/operations.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/policies/clock.h"
#include "ariadne/policies/time_zone.h"
#include "ariadne/services/checkin_reach.h"
#include "ariadne/services/consent_policy.h"
#include "policy_text.h"

namespace ariadne::gateway {

using nlohmann::json;

nlohmann::json set_checkin_plan(const Store& store, policies::PolicyStore& policies,
                                const CheckinPlanArgs& args, const policies::Actor& by,
                                const std::string& case_field) {
    return translating_errors([&]() -> json {
        policies::CaseCode code(args.case_code, case_field);
        auto survivor = policies.find_survivor(code);
        if (!survivor) {
            throw AdminError(AdminErrorCode::not_found, case_field,
                             case_field + ": no survivor has this case code.");
        }
        const policies::CheckinDefaults defaults = policies.org_policy().checkin_defaults;
        std::vector<std::string> channels = args.channels;
        if (channels.empty()) channels.push_back("app");
        policies::CheckinPlan plan{.case_code = code};
        plan.every_days = args.every_days.value_or(defaults.every_days);
        plan.window =
            args.window ? parse_window(*args.window, "plan.window", false) : defaults.window;
        for (std::size_t i = 0; i < channels.size(); ++i) {
            plan.channels.push_back(
                parse_channel_arg(channels[i], "plan.channels[" + std::to_string(i) + "]"));
        }
        plan.grace_minutes = args.grace_minutes.value_or(defaults.grace_minutes);
        if (args.alert == "nobody") {
            plan.alert = policies::AlertTarget::nobody;
        } else if (args.alert == "caseworker") {
            plan.alert = policies::AlertTarget::caseworker;
        } else if (args.alert == "partner") {
            throw AdminError(AdminErrorCode::invalid_field, "plan.alert",
                             "plan.alert: Ariadne cannot alert a partner organisation (it has "
                             "no way to reach one); use caseworker, and her caseworkers "
                             "contact the partner she chose.");
        } else {
            throw AdminError(AdminErrorCode::invalid_field, "plan.alert",
                             "plan.alert: must be nobody or caseworker.");
        }
        plan.validate();
        // A channel with no sender would end every slot unsent: refuse it, naming why.
        auto account = find_case_account(policies, code);
        std::vector<policies::ChannelRef> canonical;
        for (const auto& c : plan.channels)
            canonical.push_back(policies::ChannelRef::make(c.kind, c.provider));
        auto reach = checkin_reach(store, policies, account.value_or(""), code, canonical);
        require_reachable(reach);
        // The first cadence day is her local today.
        auto now = policies::now_utc();
        plan.first_day = policies::TimeZone::load(survivor->time_zone)->to_local(now).date;
        policies::SystemClock clock;
        policies::CheckinScheduler scheduler(policies, clock, {});
        auto id = scheduler.set_plan(plan, by);
        json out_channels = json::array();
        for (const auto& r : reach) {
            json c = {{"channel", r.channel.str()}, {"reaches_her", r.reaches_her}};
            if (!r.reaches_her) c["why"] = r.why;
            out_channels.push_back(std::move(c));
        }
        json answer = {{"plan_id", id}, {"case_code", code.str()}, {"channels", out_channels}};
        // No channel reaches her yet: the first check-in waits for the first window after one does.
        if (std::none_of(reach.begin(), reach.end(), [](const auto& r) { return r.reaches_her; }))
            answer["waiting_for_her"] = true;
        return answer;
    });
}

nlohmann::json set_checkin_plan_status(policies::PolicyStore& policies, std::int64_t plan_id,
                                       const std::string& status, const policies::Actor& by) {
    return translating_errors([&]() -> json {
        policies::PlanStatus s;
        if (status == "active") {
            s = policies::PlanStatus::active;
        } else if (status == "paused") {
            s = policies::PlanStatus::paused;
        } else if (status == "stopped") {
            s = policies::PlanStatus::stopped;
        } else {
            throw AdminError(AdminErrorCode::invalid_field, "status",
                             "status: must be active, paused or stopped.");
        }
        policies::SystemClock clock;
        policies::CheckinScheduler scheduler(policies, clock, {});
        scheduler.set_plan_status(plan_id, s, by);
        return json({{"plan_id", plan_id}, {"status", status}});
    });
}

}  // namespace ariadne::gateway
