// The device ids of a survivor's account, a contract between the core, the services and
// the adapters (docs/protocol.md: a survivor account's devices):
//
//   kAppDevice  (1)  her own app (the first installation that logs in with her code)
//   kEdgeDevice (2)  the edge device the gateway runs for her in process (adapters/edge.h):
//                    it stands for the survivor page and SMS, decrypts replies for them and
//                    keeps her sealed page history.
//
// Which channel her edge device stands for at run time (web, or sms when the SMS adapter runs
// and her number is verified) is registered by the adapters through extension.h.
#pragma once

#include <cstdint>

namespace ariadne::gateway {

inline constexpr std::uint32_t kAppDevice = 1;
inline constexpr std::uint32_t kEdgeDevice = 2;

}  // namespace ariadne::gateway
