#include "ariadne/admin/arguments.h"

#include <cctype>

#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

std::string program_options_placeholder(std::string_view text) {
    for (std::size_t open = text.find('%'); open != std::string_view::npos;
         open = text.find('%', open + 1)) {
        std::size_t end = open + 1;
        while (end < text.size() &&
               (std::isalpha(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
            ++end;
        }
        if (end > open + 1 && end < text.size() && text[end] == '%') {
            return std::string(text.substr(open, end - open + 1));
        }
    }
    return "";
}

void check_recovery_m_kib(std::uint32_t m_kib, bool insecure_test_params) {
    if (m_kib < 65536 && !insecure_test_params) {
        throw GatewayError(
            GatewayErrorCode::config,
            "Configuration refused: "
            "--recovery-m-kib below 65536 weakens every recovery code against offline "
            "guessing; it is only accepted together with --insecure-test-params (tests).");
    }
    if (m_kib < 8 || m_kib > 4u * 1024 * 1024) {
        throw GatewayError(GatewayErrorCode::config,
                           "Configuration refused: --recovery-m-kib must be between 8 and " +
                               std::to_string(4u * 1024 * 1024) + ", got " + std::to_string(m_kib) +
                               ".");
    }
}

}  // namespace ariadne::gateway
