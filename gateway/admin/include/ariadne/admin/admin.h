// `ariadne admin ...`: account administration working directly on a data directory's
// database (safe while `ariadne serve` runs on it: writes go through SQLite's locking).
//
//   caseworker-add --data-dir D --username U      password = first line of stdin
//       → {"account":"a_...","totp_secret":"BASE32","otpauth_uri":"otpauth://totp/..."}
//   survivor-enrol --data-dir D --caseworker a_... [--caseworker a_...]
//                  [--recovery-m-kib N [--insecure-test-params]]
//       → {"account":"a_...","recovery_code":"....."}   (shown once, never stored)
//   assign --data-dir D --survivor a_... --caseworker a_...
//       → {"survivor":"a_...","caseworker":"a_..."}
//
// Each prints exactly one JSON line on success. Logs and errors never contain passwords,
// TOTP secrets or recovery codes.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "ariadne/crypto/recovery.h"

namespace ariadne::storage {
class Store;
}

namespace ariadne::gateway {

using storage::Store;

/// Creates `dir` (mode 0700) if missing. Throws GatewayError(io) if it cannot, or if it
/// exists and is not a directory.
void ensure_data_dir(const std::filesystem::path& dir);

/// Path of the database inside a data directory.
std::filesystem::path database_path(const std::filesystem::path& data_dir);

/// The deployment's recovery parameters, created on first use with `m_kib` memory (and a
/// fresh salt) and stored in the database, so `serve` and `admin` share them.
/// Throws GatewayError(config) if the stored parameters are weaker than 64 MiB and
/// `insecure_test_params` is false.
crypto::RecoveryParams load_or_create_recovery_params(Store& store, std::uint32_t m_kib,
                                                      bool insecure_test_params);

/// Runs one admin subcommand (args after "admin"). Returns the process exit status:
/// 0 success, 1 failure (message on `err`), 2 usage error.
int run_admin(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
              std::ostream& err);

}  // namespace ariadne::gateway
