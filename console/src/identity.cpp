// Who she is: safety numbers, verification (by safety number or safe word), and accepting
// her new identity after it changed.
#include "ariadne/console/service.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "ariadne/crypto/error.h"
#include "ariadne/crypto/safety_number.h"
#include "service_internal.h"

namespace ariadne::console {

using detail::kSafeWordMark;
using detail::text_field;

std::string ConsoleService::safety_number_of(const std::string& account) {
    if (!identities_) return {};
    std::lock_guard lock(identities_mu_);
    auto remote = identities_->remote_identity(crypto::Address{account, 1});
    if (!remote) return {};
    auto local = messenger_->identity_key();
    try {
        return crypto::safety_number(messenger_->account(), local, account, *remote);
    } catch (const crypto::Error&) {
        return {};
    }
}

bool ConsoleService::identity_pending(const std::string& account) {
    std::lock_guard lock(mu_);
    if (std::find(untrusted_.begin(), untrusted_.end(), account) != untrusted_.end()) return true;
    for (const Json& g : gateway_alerts_) {
        if (text_field(g, "kind") == "identity_changed" && text_field(g, "account") == account &&
            !was_cleared_locked(g)) {
            return true;
        }
    }
    return false;
}

Json ConsoleService::new_identity(const std::string& account) {
    if (!identity_pending(account)) {
        throw std::invalid_argument("Her identity has not changed: nothing to accept.");
    }
    std::vector<std::uint8_t> key;
    try {
        key = messenger_->listed_identity(account);
    } catch (const std::exception&) {
        throw std::invalid_argument(
            "Her new identity is not at the gateway yet: she has to log in on her new phone "
            "with her new recovery code first.");
    }
    std::string number =
        crypto::safety_number(messenger_->account(), messenger_->identity_key(), account, key);
    return {{"account", account}, {"new_safety_number", number}};
}

Json ConsoleService::accept_identity(const std::string& account, const std::string& safety_number,
                                     bool verified) {
    if (!identity_pending(account)) {
        throw std::invalid_argument("Her identity has not changed: nothing to accept.");
    }
    std::vector<std::uint8_t> key;
    try {
        key = messenger_->listed_identity(account);
    } catch (const std::exception&) {
        throw std::invalid_argument("Her new identity is not at the gateway yet.");
    }
    std::string number =
        crypto::safety_number(messenger_->account(), messenger_->identity_key(), account, key);
    if (!crypto::safety_numbers_match(number, safety_number)) {
        throw std::invalid_argument(
            "Not accepted: her safety number changed again since you compared it. Compare the "
            "new one first.");
    }
    {
        std::lock_guard lock(identities_mu_);
        messenger_->accept_identity(account, key);
    }
    // The old verified number no longer applies; the new one only if she compared it.
    history_->set_verified(account, verified ? number : "");
    std::vector<std::int64_t> to_clear;
    {
        std::lock_guard lock(mu_);
        untrusted_.erase(std::remove(untrusted_.begin(), untrusted_.end(), account),
                         untrusted_.end());
        device_alerts_.erase(std::remove_if(device_alerts_.begin(), device_alerts_.end(),
                                            [&](const Json& d) {
                                                return d.value("account", "") == account &&
                                                       d.value("kind", "") == "identity_changed";
                                            }),
                             device_alerts_.end());
        for (const Json& g : gateway_alerts_) {
            if (text_field(g, "kind") == "identity_changed" &&
                text_field(g, "account") == account && g["alert_id"].is_number_integer()) {
                to_clear.push_back(g["alert_id"].get<std::int64_t>());
            }
        }
    }
    for (std::int64_t id : to_clear) clear_alert(id);
    return {{"account", account},
            {"accepted", true},
            {"verified", verified},
            {"safety_number", number}};
}

Json ConsoleService::set_verified(const std::string& account, bool verified,
                                  const std::string& by) {
    if (by == "safe_word") {
        // Only where no safety number exists: her web-page and SMS threads come through the
        // gateway's edge, which holds their keys.
        Json c = contact_json(account);
        std::string kind = c["channel"].is_object() ? c["channel"].value("kind", "") : "";
        if ((kind != "web" && kind != "sms") || !safety_number_of(account).empty()) {
            throw std::invalid_argument(
                "Verification by safe word is for her web-page and SMS conversations; in her "
                "app, compare the safety number with her.");
        }
        history_->set_verified(account, verified ? kSafeWordMark : "");
        return {{"account", account}, {"verified", verified}, {"verified_by", "safe_word"}};
    }
    std::string number = safety_number_of(account);
    if (verified && number.empty()) {
        throw std::invalid_argument(
            "There is no safety number for this conversation yet: it appears after her first "
            "message.");
    }
    history_->set_verified(account, verified ? number : "");
    return {{"account", account}, {"verified", verified}, {"safety_number", number}};
}

}  // namespace ariadne::console
