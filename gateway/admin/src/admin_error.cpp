// AdminError's names and statuses, and the translation of lower layers' errors into it.
#include "admin_errors.h"

namespace ariadne::gateway {

const char* to_string(AdminErrorCode code) noexcept {
    switch (code) {
        case AdminErrorCode::invalid_field:
            return "invalid_field";
        case AdminErrorCode::time_zone:
            return "time_zone";
        case AdminErrorCode::refused:
            return "refused";
        case AdminErrorCode::conflict:
            return "conflict";
        case AdminErrorCode::not_found:
            return "not_found";
        case AdminErrorCode::storage:
            return "storage";
    }
    return "storage";
}

int AdminError::http_status() const noexcept {
    switch (code_) {
        case AdminErrorCode::refused:
            return 422;
        case AdminErrorCode::not_found:
            return 404;
        case AdminErrorCode::conflict:
            return 409;
        case AdminErrorCode::storage:
            return 500;
        case AdminErrorCode::invalid_field:
        case AdminErrorCode::time_zone:
            break;
    }
    return 400;
}

int AdminError::exit_status() const noexcept {
    // Bad input (any field, a taken username, a rule) is a usage error; the rest a failure.
    return code_ == AdminErrorCode::not_found || code_ == AdminErrorCode::storage ? 1 : 2;
}

AdminError to_admin_error(const policies::Error& e) {
    AdminErrorCode code = AdminErrorCode::storage;
    switch (e.code()) {
        case policies::ErrorCode::invalid_field:
            code = AdminErrorCode::invalid_field;
            break;
        case policies::ErrorCode::time_zone:
            code = AdminErrorCode::time_zone;
            break;
        case policies::ErrorCode::refused:
            code = AdminErrorCode::refused;
            break;
        case policies::ErrorCode::conflict:
            code = AdminErrorCode::conflict;
            break;
        case policies::ErrorCode::not_found:
            code = AdminErrorCode::not_found;
            break;
        case policies::ErrorCode::storage:
            code = AdminErrorCode::storage;
            break;
    }
    return AdminError(code, e.field(), e.what());
}

AdminError to_admin_error(const storage::Error& e) {
    return AdminError(e.kind() == storage::ErrorKind::not_found ? AdminErrorCode::not_found
                                                                : AdminErrorCode::storage,
                      "", e.what());
}

}  // namespace ariadne::gateway
