#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::malformed_json:
            return "malformed_json";
        case ErrorCode::unsupported_version:
            return "unsupported_version";
        case ErrorCode::unknown_type:
            return "unknown_type";
        case ErrorCode::invalid_frame:
            return "invalid_frame";
        case ErrorCode::not_authenticated:
            return "not_authenticated";
        case ErrorCode::already_authenticated:
            return "already_authenticated";
        case ErrorCode::auth_failed:
            return "auth_failed";
        case ErrorCode::rate_limited:
            return "rate_limited";
        case ErrorCode::invalid_keys:
            return "invalid_keys";
        case ErrorCode::forbidden:
            return "forbidden";
        case ErrorCode::stale_devices:
            return "stale_devices";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::storage_unavailable:
            return "storage_unavailable";
        case ErrorCode::overloaded:
            return "overloaded";
        case ErrorCode::internal:
            return "internal";
        case ErrorCode::policy_denied:
            return "policy_denied";
        case ErrorCode::callback_refused:
            return "callback_refused";
        case ErrorCode::account_disabled:
            return "account_disabled";
        case ErrorCode::quota_exceeded:
            return "quota_exceeded";
    }
    return "internal";
}

const char* to_string(GatewayErrorCode code) noexcept {
    switch (code) {
        case GatewayErrorCode::config:
            return "config";
        case GatewayErrorCode::storage:
            return "storage";
        case GatewayErrorCode::io:
            return "io";
        case GatewayErrorCode::not_found:
            return "not_found";
        case GatewayErrorCode::conflict:
            return "conflict";
        case GatewayErrorCode::internal:
            return "internal";
    }
    return "internal";
}

}  // namespace ariadne::gateway
