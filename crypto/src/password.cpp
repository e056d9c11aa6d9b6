#include "ariadne/crypto/password.h"

#include "argon2id_phc.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"

namespace ariadne::crypto {

namespace {
constexpr const char* kWhat = "password hash";

void check_password(std::string_view password) {
    if (password.empty()) throw Error(ErrorCode::invalid_argument, "the password is empty");
    if (password.size() > kMaxPasswordBytes) {
        throw Error(ErrorCode::invalid_argument, "the password is longer than 1024 bytes");
    }
}
}  // namespace

std::string hash_password(std::string_view password, const PasswordParams& params) {
    check_password(password);
    if (params.salt_length < detail::kGeneratedSaltLength ||
        params.salt_length > detail::kMaxSaltLength) {
        throw Error(ErrorCode::invalid_argument, "a password salt must be 16 to 64 bytes");
    }
    const detail::Argon2idCost cost{params.t_cost, params.m_kib, params.parallelism};
    Bytes salt = random_bytes(params.salt_length);
    SecretBytes hash = detail::argon2id(as_bytes(password), salt, cost, params.hash_length);
    return detail::phc_encode(cost, salt, hash.view());
}

bool verify_password(std::string_view password, std::string_view encoded) {
    check_password(password);
    detail::PhcRecord stored = detail::phc_decode(encoded, /*with_hash=*/true, kWhat);
    SecretBytes hash =
        detail::argon2id(as_bytes(password), stored.salt, stored.cost, stored.hash.size());
    return equal_constant_time(hash.view(), stored.hash);
}

bool password_needs_rehash(std::string_view encoded, const PasswordParams& params) {
    detail::PhcRecord stored = detail::phc_decode(encoded, /*with_hash=*/true, kWhat);
    return stored.cost.t_cost != params.t_cost || stored.cost.m_kib != params.m_kib ||
           stored.cost.parallelism != params.parallelism ||
           stored.salt.size() != params.salt_length || stored.hash.size() != params.hash_length;
}

}  // namespace ariadne::crypto
