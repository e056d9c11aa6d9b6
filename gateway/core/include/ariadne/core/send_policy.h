// Who may address whom. Every `send`, `keys_fetch` and `contacts` entry is decided here at
// the moment of the request, so a change (an assignment removed, consent withdrawn) takes
// effect at once. The core ships AssignmentPolicy; the services layer's ConsentPolicy
// (ariadne/services/consent_policy.h) adds consent, check-ins and duress behind the same
// interface.
//
// Errors: decide, decide_message and contact_details must not throw: a policy that cannot
// evaluate denies (fail closed); should one throw anyway, the session sends nothing and
// answers `storage_unavailable`. report_duress may throw any std::exception on a storage
// failure (the session answers `storage_unavailable`); on_login's exceptions are dropped.
// Thread safety: every method runs concurrently on network and worker threads.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ariadne/core/store.h"

namespace ariadne::gateway {

struct SendDecision {
    bool allowed = false;
    std::string reason;  // a stable reason code when denied
    /// Set for a consent-policy denial of one message: the client gets error `policy_denied`
    /// with `reason` and this sentence (docs/policies.md). Empty: the client sees `forbidden`
    /// and no reason (no existence oracle).
    std::string message;

    static SendDecision allow() { return {true, {}, {}}; }
    static SendDecision deny(std::string reason) { return {false, std::move(reason), {}}; }
    static SendDecision deny_policy(std::string reason, std::string message) {
        return {false, std::move(reason), std::move(message)};
    }
};

/// The interface the Session asks. Implementations must be thread-safe.
class SendPolicy {
  public:
    virtual ~SendPolicy() = default;
    /// May `sender` (on `sender_device`) address `recipient`?
    virtual SendDecision decide(const Account& sender, std::uint32_t sender_device,
                                const Account& recipient) const = 0;
    /// The decision for one `send` (after decide() allowed the pair), taken at the moment
    /// of sending and recorded by the implementation. Default: allowed.
    virtual SendDecision decide_message(const Account& /*sender*/, std::uint32_t /*device*/,
                                        const Account& /*recipient*/) const {
        return SendDecision::allow();
    }
    /// Extra fields of `other`'s entry in `viewer`'s `contacts` answer (a JSON object;
    /// docs/protocol.md 4.5). Default: none. Must not throw.
    virtual nlohmann::json contact_details(const Account& /*viewer*/,
                                           const Account& /*other*/) const {
        return nlohmann::json::object();
    }
    /// Called (on a worker thread) after `account` logged in; `new_installation` when a
    /// survivor logged in from an installation of her app other than the one on file
    /// (Store::bind_survivor_device). Default: nothing.
    virtual void on_login(const Account& /*account*/, bool /*new_installation*/) const {}

    /// What became of a console's duress report (`duress_report`, docs/protocol.md 4.7).
    enum class DuressReport {
        raised,     // her duress lock is set and the urgent alert raised (or already open)
        forbidden,  // the reporter is not a caseworker assigned to this survivor's case
    };
    /// A caseworker's console found a duress word in a message from `survivor`. Runs on a
    /// worker thread (it commits). Default: forbidden (no policy records to lock). Throws
    /// on a storage failure (nothing was raised).
    virtual DuressReport report_duress(const Account& /*reporter*/,
                                       const Account& /*survivor*/) const {
        return DuressReport::forbidden;
    }
};

/// The default: a survivor reaches her assigned caseworkers; a caseworker reaches the
/// survivors assigned to her and the caseworkers who share one of them (handover). A store
/// read that fails denies (reason `policy_unavailable`).
class AssignmentPolicy final : public SendPolicy {
  public:
    /// `store` must outlive the policy.
    explicit AssignmentPolicy(const Store& store) : store_(store) {}
    SendDecision decide(const Account& sender, std::uint32_t sender_device,
                        const Account& recipient) const override;

  private:
    const Store& store_;
};

}  // namespace ariadne::gateway
