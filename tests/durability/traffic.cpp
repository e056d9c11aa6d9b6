#include "traffic.h"

#include <algorithm>
#include <deque>
#include <sstream>
#include <thread>

#include "ariadne/crypto/bytes.h"

namespace ariadne::durability {

using crypto::base64_decode;
using crypto::base64_encode;

Json numbered_send(const std::string& to, const std::vector<std::uint32_t>& devices, int sender,
                   std::uint32_t seq) {
    Json messages = Json::array();
    for (auto device : devices) {
        crypto::Bytes body = crypto::random_bytes(kBodySize);
        body[0] = 0x33;
        body[1] = static_cast<std::uint8_t>(sender);
        for (int i = 0; i < 4; ++i) body[2 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
        messages.push_back({{"device_id", device}, {"type", 3}, {"body", base64_encode(body)}});
    }
    return {{"type", "send"}, {"to", to}, {"messages", std::move(messages)}};
}

Cluster::Cluster(const std::filesystem::path& d, std::size_t survivor_count,
                 std::vector<std::string> server_args)
    : gateway(d / "data", std::move(server_args)), dir(d) {
    caseworker = gateway.add_caseworker("durability.cw");
    std::vector<e2e::Gateway::Survivor> enrolled;
    for (std::size_t i = 0; i < survivor_count; ++i) {
        enrolled.push_back(gateway.enrol_survivor(caseworker.account));
    }
    gateway.start();
    for (int i = 0; i < 2; ++i) {
        auto device_dir = dir / ("console" + std::to_string(i));
        auto device = e2e::make_raw_device(device_dir);
        auto conn = gateway.connect();
        // Each registration needs a TOTP step above the last one used by this account; steps 0
        // and +1 stay inside the server's ±1 window even when the 30-s step turns between
        // computing the code and the check (step -1 did not: a rare auth_failed).
        Json reg = e2e::register_raw(*conn, caseworker, device, e2e::totp_for(caseworker, i));
        if (reg["type"] != "ok") throw std::runtime_error("register_device: " + reg.dump());
        auto id = reg["device_id"].get<std::uint32_t>();
        Json up = conn->request(e2e::keys_upload_frame(device_dir, id, 5));
        if (up["type"] != "ok") throw std::runtime_error("keys_upload: " + up.dump());
        console_devices.push_back(device);
        console_ids.push_back(id);
    }
    std::sort(console_ids.begin(), console_ids.end());
    for (std::size_t i = 0; i < enrolled.size(); ++i) {
        auto conn = gateway.connect();
        auto login = e2e::derive_survivor_login(*conn, enrolled[i].recovery_code,
                                                dir / ("survivor" + std::to_string(i)));
        Json ok = e2e::auth_survivor_raw(*conn, login);
        if (ok["type"] != "ok") throw std::runtime_error("auth_survivor: " + ok.dump());
        survivors.push_back(std::move(login));
    }
}

std::unique_ptr<client::Connection> Cluster::console(std::size_t index) const {
    // console_devices are in registration order, console_ids sorted: registration order is
    // id order (the server numbers devices upwards).
    auto conn = gateway.connect();
    Json ok = e2e::auth_device_raw(*conn, caseworker.account, console_ids.at(index),
                                   console_devices.at(index));
    if (ok["type"] != "ok") throw std::runtime_error("auth_device: " + ok.dump());
    return conn;
}

std::unique_ptr<client::Connection> Cluster::survivor(std::size_t index) const {
    auto conn = gateway.connect();
    Json ok = e2e::auth_survivor_raw(*conn, survivors.at(index));
    if (ok["type"] != "ok") throw std::runtime_error("auth_survivor: " + ok.dump());
    return conn;
}

// ---- Ledger ----

void Ledger::sent(int sender, std::uint32_t seq) {
    std::lock_guard lock(mutex_);
    sends_[{sender, seq}] = SendRecord{};
}

void Ledger::acked(int sender, std::uint32_t seq,
                   const std::map<std::uint32_t, std::int64_t>& ids) {
    std::lock_guard lock(mutex_);
    auto& r = sends_[{sender, seq}];
    r.outcome = Outcome::acked;
    r.server_ids = ids;
}

void Ledger::refused(int sender, std::uint32_t seq, const std::string& code) {
    std::lock_guard lock(mutex_);
    auto& r = sends_[{sender, seq}];
    r.outcome = Outcome::refused;
    r.code = code;
    ++refusal_codes_[code];
}

void Ledger::unknown(int sender, std::uint32_t seq) {
    std::lock_guard lock(mutex_);
    sends_[{sender, seq}].outcome = Outcome::unknown;
}

void Ledger::delivered(std::uint32_t device, const Json& message) {
    auto sid = message.at("server_id").get<std::int64_t>();
    auto body = base64_decode(message.at("body").get<std::string>());
    Received r;
    if (body.size() == kBodySize && body[0] == 0x33) {
        r.sender = body[1];
        r.seq = (std::uint32_t{body[2]} << 24) | (std::uint32_t{body[3]} << 16) |
                (std::uint32_t{body[4]} << 8) | body[5];
    }
    std::lock_guard lock(mutex_);
    if (confirmed_[device].count(sid)) {
        live_violations_.push_back("device " + std::to_string(device) + " received server_id " +
                                   std::to_string(sid) + " again after its ack was confirmed");
    }
    auto [it, inserted] = received_[device].emplace(sid, r);
    if (!inserted && (it->second.sender != r.sender || it->second.seq != r.seq)) {
        live_violations_.push_back("server_id " + std::to_string(sid) +
                                   " was delivered with two different bodies");
    }
}

void Ledger::ack_confirmed(std::uint32_t device, std::int64_t server_id) {
    std::lock_guard lock(mutex_);
    confirmed_[device].insert(server_id);
}

std::vector<std::string> Ledger::violations(const std::vector<std::uint32_t>& devices) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out = live_violations_;
    auto name = [](std::pair<int, std::uint32_t> key) {
        return "message " + std::to_string(key.second) + " of sender " + std::to_string(key.first);
    };
    for (auto device : devices) {
        const auto empty = std::map<std::int64_t, Received>{};
        auto found = received_.find(device);
        const auto& got = found == received_.end() ? empty : found->second;
        std::map<std::pair<int, std::uint32_t>, std::int64_t> by_message;
        std::map<int, std::uint32_t> last_seq;
        for (const auto& [sid, r] : got) {  // server_id order
            auto key = std::make_pair(r.sender, r.seq);
            auto send = sends_.find(key);
            if (r.sender < 0 || send == sends_.end()) {
                out.push_back("device " + std::to_string(device) + " received server_id " +
                              std::to_string(sid) + " that nobody sent");
                continue;
            }
            if (auto [it, inserted] = by_message.emplace(key, sid); !inserted) {
                out.push_back(name(key) + " was stored twice for device " + std::to_string(device) +
                              " (server_ids " + std::to_string(it->second) + " and " +
                              std::to_string(sid) + ")");
            }
            if (send->second.outcome == Outcome::refused) {
                out.push_back(name(key) + " was refused with " + send->second.code +
                              " but delivered to device " + std::to_string(device));
            }
            if (send->second.outcome == Outcome::acked) {
                auto want = send->second.server_ids.find(device);
                if (want == send->second.server_ids.end() || want->second != sid) {
                    out.push_back(name(key) + " arrived on device " + std::to_string(device) +
                                  " under server_id " + std::to_string(sid) +
                                  ", not the one acknowledged to the sender");
                }
            }
            auto last = last_seq.find(r.sender);
            if (last != last_seq.end() && last->second >= r.seq) {
                out.push_back("device " + std::to_string(device) + " received " + name(key) +
                              " after message " + std::to_string(last->second) + " (out of order)");
            }
            last_seq[r.sender] = r.seq;
        }
        for (const auto& [key, send] : sends_) {
            if (send.outcome == Outcome::acked && !by_message.count(key)) {
                out.push_back(name(key) +
                              " was acknowledged to its sender but never reached device " +
                              std::to_string(device));
            }
        }
    }
    return out;
}

std::size_t Ledger::count(Outcome outcome) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(sends_.begin(), sends_.end(),
                      [&](const auto& kv) { return kv.second.outcome == outcome; }));
}

std::map<std::string, std::size_t> Ledger::refusal_codes() const {
    std::lock_guard lock(mutex_);
    return refusal_codes_;
}

std::size_t Ledger::received(std::uint32_t device) const {
    std::lock_guard lock(mutex_);
    auto it = received_.find(device);
    return it == received_.end() ? 0 : it->second.size();
}

std::size_t Ledger::ack_confirmed_count(std::uint32_t device) const {
    std::lock_guard lock(mutex_);
    auto it = confirmed_.find(device);
    return it == confirmed_.end() ? 0 : it->second.size();
}

// ---- traffic ----

void run_sender(client::Connection& conn, const Cluster& cluster, int sender,
                std::uint32_t& next_seq, Ledger& ledger, const std::atomic<bool>& stop,
                std::size_t window) {
    std::deque<std::pair<std::uint64_t, std::uint32_t>> outstanding;  // request id, seq
    try {
        while (!stop.load()) {
            while (outstanding.size() < window && !stop.load()) {
                Json frame = numbered_send(cluster.caseworker.account, cluster.console_ids, sender,
                                           next_seq);
                ledger.sent(sender, next_seq);
                outstanding.emplace_back(conn.send_request(frame), next_seq);
                ++next_seq;
            }
            if (outstanding.empty()) break;
            auto [id, seq] = outstanding.front();
            Json answer = conn.await_response(id, 15s);
            outstanding.pop_front();
            if (answer["type"] == "ok") {
                std::map<std::uint32_t, std::int64_t> ids;
                for (const auto& s : answer.at("server_ids")) {
                    ids[s.at("device_id").get<std::uint32_t>()] =
                        s.at("server_id").get<std::int64_t>();
                }
                ledger.acked(sender, seq, ids);
            } else {
                auto code = answer.value("code", std::string("?"));
                ledger.refused(sender, seq, code);
                if (code == "rate_limited" || code == "overloaded") {
                    auto wait =
                        std::clamp<std::int64_t>(answer.value("retry_after_ms", 20), 5, 500);
                    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
                }
            }
        }
        // Stopped: collect the answers still due (the server is alive).
        while (!outstanding.empty()) {
            auto [id, seq] = outstanding.front();
            Json answer = conn.await_response(id, 15s);
            outstanding.pop_front();
            if (answer["type"] == "ok") {
                std::map<std::uint32_t, std::int64_t> ids;
                for (const auto& s : answer.at("server_ids")) {
                    ids[s.at("device_id").get<std::uint32_t>()] =
                        s.at("server_id").get<std::int64_t>();
                }
                ledger.acked(sender, seq, ids);
            } else {
                ledger.refused(sender, seq, answer.value("code", std::string("?")));
            }
        }
    } catch (const std::exception&) {
        // The connection died (the gateway was killed): the answers are unknown.
    }
    for (const auto& [id, seq] : outstanding) ledger.unknown(sender, seq);
}

void run_receiver(client::Connection& conn, const Cluster& cluster, std::size_t index,
                  Ledger& ledger, const std::atomic<bool>& stop,
                  std::optional<std::chrono::milliseconds> idle_exit) {
    const std::uint32_t device = cluster.console_ids.at(index);
    std::deque<std::pair<std::uint64_t, std::int64_t>> pending_acks;  // request id, server_id
    auto settle_acks = [&] {
        while (!pending_acks.empty()) {
            auto [id, sid] = pending_acks.front();
            Json answer = conn.await_response(id, 15s);
            pending_acks.pop_front();
            if (answer["type"] == "ok") ledger.ack_confirmed(device, sid);
        }
    };
    auto last_arrival = std::chrono::steady_clock::now();
    try {
        while (!stop.load()) {
            auto frame = conn.next_unsolicited(20ms);
            if (!frame) {
                if (!conn.is_open()) break;
                settle_acks();
                if (idle_exit && std::chrono::steady_clock::now() - last_arrival > *idle_exit)
                    break;
                continue;
            }
            if (!frame->is_object() || frame->value("type", "") != "deliver") continue;
            last_arrival = std::chrono::steady_clock::now();
            const Json& message = frame->at("message");
            ledger.delivered(device, message);
            Json ack = {{"type", "ack"}, {"server_id", message.at("server_id")}};
            pending_acks.emplace_back(conn.send_request(ack),
                                      message.at("server_id").get<std::int64_t>());
            if (pending_acks.size() >= 32) settle_acks();
        }
        settle_acks();
    } catch (const std::exception&) {
        // The connection died: acks not answered stay unconfirmed (redelivery is allowed).
    }
}

std::string send_numbered(client::Connection& conn, const Cluster& cluster, Ledger& ledger,
                          std::uint32_t& seq) {
    for (;;) {
        ledger.sent(0, seq);
        Json answer = conn.request(
            numbered_send(cluster.caseworker.account, cluster.console_ids, 0, seq), 30s);
        if (answer["type"] == "ok") {
            std::map<std::uint32_t, std::int64_t> ids;
            for (const auto& s : answer.at("server_ids")) {
                ids[s.at("device_id").get<std::uint32_t>()] = s.at("server_id").get<std::int64_t>();
            }
            ledger.acked(0, seq++, ids);
            return "ok";
        }
        std::string code = answer.value("code", "?");
        ledger.refused(0, seq++, code);
        if (code != "rate_limited") return code;
        std::this_thread::sleep_for(std::chrono::milliseconds(answer.value("retry_after_ms", 100)));
    }
}

}  // namespace ariadne::durability
