// Who may address whom. Every `send`, `keys_fetch` and `contacts` entry is decided here at
// the moment of the request, so a change (an assignment removed, consent withdrawn) takes
// effect at once. Issue 4 plugs the consent policy engine in behind this interface.
#pragma once

#include <cstdint>
#include <string>

#include "ariadne/gateway/store.h"

namespace ariadne::gateway {

struct SendDecision {
    bool allowed = false;
    std::string reason;  // a stable reason code when denied (logged, never sent to clients)

    static SendDecision allow() { return {true, {}}; }
    static SendDecision deny(std::string reason) { return {false, std::move(reason)}; }
};

/// Implementations must be thread-safe: decide() runs concurrently on network threads.
/// A policy that cannot evaluate must deny (fail closed), not throw.
class SendPolicy {
  public:
    virtual ~SendPolicy() = default;
    /// May `sender` (on `sender_device`) address `recipient`?
    virtual SendDecision decide(const Account& sender, std::uint32_t sender_device,
                                const Account& recipient) const = 0;
};

/// The default: a survivor reaches her assigned caseworkers; a caseworker reaches the
/// survivors assigned to her and the caseworkers who share one of them (handover).
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
