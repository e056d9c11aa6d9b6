// A caseworker console device for tests, speaking protocol v1 to the gateway core in process
// (the same LocalLink the edge uses): register_device with password + TOTP, pre-keys, send,
// receive + decrypt + ack. In process because linking the Beast server (ariadne_net) and the
// Beast client (ariadne_client) into one binary is not possible: they are compiled with
// different Beast string_view settings.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ariadne/crypto/session.h"
#include "ariadne/core/gateway.h"
#include "local_link.h"

namespace ariadne::adapters::test {

struct Received {
    std::string from;
    std::uint32_t from_device = 0;
    std::string plaintext;
    bool receipt = false;  // a delivery receipt (no plaintext)
    std::int64_t ref = 0;  // receipts: the server_id of the delivered message
    std::string failure;   // receipts: "" delivered, else the reason of a failed receipt
};

class LocalConsole {
  public:
    /// Registers a new device of `username` (throws std::runtime_error if refused).
    LocalConsole(gateway::Gateway& gateway, const std::filesystem::path& store_dir,
                 const std::string& username, const std::string& password, const std::string& totp);
    ~LocalConsole();

    /// Encrypts `text` for every ready device of `account` and sends it (throws if refused,
    /// with the gateway's answer in what()). Returns the server ids, one per device.
    std::vector<std::int64_t> send_text(const std::string& account, const std::string& text,
                                        bool receipt = false);
    /// The `contacts` answer.
    detail::Json contacts();
    /// The next message, decrypted and acknowledged, or nullopt after `timeout`.
    std::optional<Received> receive(std::chrono::milliseconds timeout);

  private:
    detail::Json call(detail::Json request);
    gateway::Gateway& gateway_;
    std::unique_ptr<crypto::Party> party_;
    std::shared_ptr<detail::LocalLink> link_;
    std::shared_ptr<gateway::Session> session_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<detail::Json> pushes_;
};

}  // namespace ariadne::adapters::test
