#include "ariadne/services/audit_checkpoints.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

namespace {

policies::Instant now_utc() {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

policies::AuditCheckpoint from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
        !j.contains("head") || !j["head"].is_string() || !j.contains("mac") ||
        !j["mac"].is_string()) {
        throw GatewayError(GatewayErrorCode::config,
                           "a checkpoint is {\"seq\":N,\"head\":HEX,\"mac\":HEX}");
    }
    policies::AuditCheckpoint c;
    c.seq = j["seq"].get<std::uint64_t>();
    auto head = policies::hash_from_hex(j["head"].get<std::string>());
    auto mac = policies::hash_from_hex(j["mac"].get<std::string>());
    if (!head || !mac) {
        throw GatewayError(GatewayErrorCode::config,
                           "a checkpoint's head and mac are 64 hexadecimal digits each");
    }
    c.head = *head;
    c.mac = *mac;
    return c;
}

}  // namespace

policies::AuditKey audit_key(const ServerKey& key) {
    auto bytes = key.mac("ariadne.audit.key.v1", crypto::as_bytes("audit"));
    policies::AuditKey k{};
    if (bytes.size() != k.size()) {
        throw GatewayError(GatewayErrorCode::internal, "deriving the audit key failed");
    }
    std::memcpy(k.data(), bytes.data(), k.size());
    return k;
}

void key_audit_chain(policies::PolicyStore& store, const ServerKey& key,
                     const std::filesystem::path& data_dir, bool mark) {
    if (store.set_audit_key(audit_key(key), now_utc(), mark)) {
        publish_audit_checkpoint(store, data_dir);
    }
}

std::filesystem::path audit_checkpoint_file(const std::filesystem::path& data_dir) {
    return data_dir / "audit-checkpoints";
}

nlohmann::json to_json(const policies::AuditCheckpoint& c) {
    return {{"seq", c.seq}, {"head", policies::to_hex(c.head)}, {"mac", policies::to_hex(c.mac)}};
}

policies::AuditCheckpoint publish_audit_checkpoint(policies::PolicyStore& store,
                                                   const std::filesystem::path& data_dir) {
    auto c = store.audit_checkpoint();
    auto line = to_json(c);
    line["at"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    std::string text = line.dump() + "\n";
    auto path = audit_checkpoint_file(data_dir);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw GatewayError(GatewayErrorCode::io,
                           "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    int saved = errno;
    ::close(fd);
    if (!ok) {
        throw GatewayError(GatewayErrorCode::io,
                           "cannot write " + path.string() + ": " + std::strerror(saved));
    }
    return c;
}

std::vector<policies::AuditCheckpoint> read_audit_checkpoints(const std::filesystem::path& file) {
    std::vector<policies::AuditCheckpoint> out;
    std::ifstream in(file);
    if (!in) return out;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line, nullptr, false);
        try {
            if (j.is_discarded()) throw GatewayError(GatewayErrorCode::config, "it is not JSON");
            out.push_back(from_json(j));
        } catch (const GatewayError& e) {
            throw GatewayError(GatewayErrorCode::config, file.string() + " line " +
                                                             std::to_string(number) +
                                                             " is not a checkpoint: " + e.what());
        }
    }
    return out;
}

policies::AuditCheckpoint parse_audit_checkpoint(const std::string& text) {
    if (!text.empty() && text.front() == '{') {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) {
            throw GatewayError(GatewayErrorCode::config, "--checkpoint: not a JSON object");
        }
        return from_json(j);
    }
    auto first = text.find(':');
    auto second = first == std::string::npos ? first : text.find(':', first + 1);
    if (second == std::string::npos) {
        throw GatewayError(GatewayErrorCode::config, "--checkpoint: expected SEQ:HEAD:MAC");
    }
    nlohmann::json j;
    try {
        std::size_t used = 0;
        auto seq_text = text.substr(0, first);
        auto seq = std::stoull(seq_text, &used);
        if (used != seq_text.size() || seq_text.front() == '-') throw std::invalid_argument("");
        j = {{"seq", seq},
             {"head", text.substr(first + 1, second - first - 1)},
             {"mac", text.substr(second + 1)}};
    } catch (const std::logic_error&) {
        throw GatewayError(GatewayErrorCode::config,
                           "--checkpoint: SEQ must be a non-negative integer");
    }
    return from_json(j);
}

}  // namespace ariadne::gateway
