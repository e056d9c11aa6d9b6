// How adapters plug into the gateway without the core, the services or the admin knowing
// them. An adapter (the survivor page, the edge devices, SMS) implements `Extension`; the
// composition root (gateway/app/src/main.cpp, the only place that names concrete adapters)
// calls `register_with` once per adapter before the server starts. The registry is
// implemented by the services layer (services/extensions.h).
//
// What an adapter can register:
//   - HTTP routes on the gateway's HTTPS port (e.g. /notes, /sms/…), with their worker class;
//   - a sender for one channel kind: check-ins and notices decided for that channel are
//     handed to it (e.g. `sms`);
//   - which channel a device of a survivor's account stands for (devices.h), decided per
//     case: replies to that device are decided and audited as that channel.
//
// Ownership: the registry keeps copies of the functions it is given; whatever they capture
// must outlive the server (the adapters are destroyed after it stops). Thread-safety:
// register before the server starts, from one thread; the registered functions are then
// called from network, worker and scheduler threads and must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>

#include "ariadne/core/http_routes.h"
#include "ariadne/policies/checkin.h"
#include "ariadne/policies/values.h"

namespace ariadne::gateway {

class ExtensionRegistry {
  public:
    /// Hands one check-in or notice to a channel: `sent` once durably handed over,
    /// `not_sent` if it certainly was not; throwing means "unknown" (never re-sent).
    using ChannelSender = std::function<policies::SendOutcome(const policies::CheckinSend&)>;
    /// The channel a device stands for, for the case of the account it belongs to.
    using DeviceChannel = std::function<policies::ChannelKind(const policies::CaseCode&)>;

    virtual ~ExtensionRegistry() = default;

    /// The gateway's HTTPS routes; add routes here (HttpRoutes::add).
    virtual HttpRoutes& routes() = 0;
    /// Registers the sender for check-ins and notices on `kind`, replacing an earlier one.
    virtual void set_channel_sender(policies::ChannelKind kind, ChannelSender sender) = 0;
    /// Declares that device `device_id` of every survivor account stands for the channel
    /// `channel(case)` returns, replacing an earlier declaration for that device (the SMS
    /// adapter refines the edge device's `web` into `sms` for cases with a verified number).
    /// A device nobody declared is her app.
    virtual void set_device_channel(std::uint32_t device_id, DeviceChannel channel) = 0;
};

class Extension {
  public:
    virtual ~Extension() = default;
    /// Registers this adapter's routes, senders and device channels. Called once.
    virtual void register_with(ExtensionRegistry& registry) = 0;
};

}  // namespace ariadne::gateway
