// Command-line checks shared by `ariadne serve` (app/config) and `ariadne admin` (admin.h).
// Plain functions without state; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ariadne::gateway {

/// The first "%word%" in `text` (letters and '_' between two '%'), or "" if none.
/// Boost.Program_options 1.74 loops forever formatting an error about an option or value that
/// holds one of its own placeholders (e.g. "%canonical_option%"), so such text is refused
/// before it is parsed: `serve` (arguments and --config lines) and `ariadne admin`.
std::string program_options_placeholder(std::string_view text);

/// Shared by admin commands that create recovery parameters: same rule as serve.
/// Throws GatewayError(config) naming --recovery-m-kib.
void check_recovery_m_kib(std::uint32_t m_kib, bool insecure_test_params);

}  // namespace ariadne::gateway
