// Accounts for the Ariadne mode of the load driver (ariadne_load.cpp): one survivor assigned
// to `pairs` caseworkers, each caseworker with one registered console device (keys
// uploaded). Created once per data directory through the `ariadne admin` commands and the
// running server, then saved as JSON (bench secrets only: the data directory is a throwaway).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ariadne::bench {

struct ProvisionRequest {
    std::string server_binary;        // the `ariadne` program (for `ariadne admin`)
    std::filesystem::path data_dir;   // the running server's --data-dir
    std::filesystem::path state_dir;  // where device stores and state.json live
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string fingerprint;  // of the running server's certificate
    std::size_t pairs = 1;
};

/// Returns the saved state (state_dir/state.json) if it holds at least `pairs` receivers,
/// else creates the accounts and devices and saves it. Format:
///   {"survivor":{"locator","auth_key","identity_key","registration_id"},
///    "receivers":[{"account","device_id","private_key"}...]}  (binary fields base64)
/// Throws std::runtime_error naming the step that failed.
nlohmann::json provision(const ProvisionRequest& request);

}  // namespace ariadne::bench
