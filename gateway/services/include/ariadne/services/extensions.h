// The registry adapters register with (core/extension.h), as `ariadne serve` runs it:
// routes go to the server's route table, channel senders to the check-in and notice
// dispatch of PolicyService (recorded in the database so that a plan set from the CLI
// knows them: checkin_reach.h), device channels to the consent policy's thread_channel.
//
// Ownership: `policies` and `routes` must outlive the registry and everything registered.
// Thread-safety: as ExtensionRegistry (register from one thread before serving).
#pragma once

#include <memory>
#include <utility>

#include "ariadne/core/extension.h"
#include "ariadne/services/consent_policy.h"

namespace ariadne::gateway {

class GatewayExtensions final : public ExtensionRegistry {
  public:
    GatewayExtensions(PolicyService& policies, std::shared_ptr<HttpRoutes> routes)
        : policies_(policies), routes_(std::move(routes)) {}

    HttpRoutes& routes() override { return *routes_; }
    void set_channel_sender(policies::ChannelKind kind, ChannelSender sender) override {
        policies_.set_channel_sender(kind, std::move(sender));
    }
    void set_device_channel(std::uint32_t device_id, DeviceChannel channel) override {
        policies_.set_device_channel(device_id, std::move(channel));
    }

  private:
    PolicyService& policies_;
    std::shared_ptr<HttpRoutes> routes_;
};

}  // namespace ariadne::gateway
