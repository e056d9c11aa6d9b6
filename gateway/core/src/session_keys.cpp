// A Session's key directory and address book requests: pre-key uploads and counts, bundle
// fetches, and the contacts a device may address.
#include <nlohmann/json.hpp>

#include "ariadne/core/gateway.h"
#include "session_frames.h"

namespace ariadne::gateway {

using namespace session_detail;
using nlohmann::json;

namespace {

json key_json(const PreKeyUpload& k) {
    return {{"id", k.id}, {"public_key", crypto::base64_encode(k.public_key)}};
}

}  // namespace

void Session::handle_keys_upload(std::int64_t id, KeysUploadRequest r, std::uint64_t slot) {
    auto invalid = [&](const std::string& message) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::invalid_keys, message));
    };
    if (r.signed_pre_key) {
        const auto& k = *r.signed_pre_key;
        if (k.id > kLastResortKeyId)
            return invalid("signed_pre_key.id must be between 0 and 16777215");
        if (!valid_public_key(k.public_key)) {
            return invalid(
                "signed_pre_key.public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
        if (k.signature.size() != 64 ||
            !crypto::verify_signed_pre_key(identity_key_, k.public_key, k.signature)) {
            return invalid(
                "signed_pre_key.signature is not this device's identity key's signature of the "
                "key");
        }
    }
    for (std::size_t i = 0; i < r.pre_keys.size(); ++i) {
        const auto& k = r.pre_keys[i];
        std::string field = "pre_keys[" + std::to_string(i) + "]";
        if (k.id < 1 || k.id > kMaxPreKeyId)
            return invalid(field + ".id must be between 1 and 16777214");
        if (!valid_public_key(k.public_key)) {
            return invalid(field +
                           ".public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
    }
    if (r.last_resort) {
        if (r.last_resort->id != kLastResortKeyId)
            return invalid("last_resort.id must be 16777215");
        if (!valid_public_key(r.last_resort->public_key)) {
            return invalid(
                "last_resort.public_key must be a 33-byte Curve25519 public key (type byte 5)");
        }
    }
    auto self = shared_from_this();
    gateway_.store_.upload_keys(
        account_.key, device_, std::move(r),
        [self, id, slot](CommitStatus status, std::uint32_t count) {
            if (status == CommitStatus::committed) {
                self->complete(slot, encode_ok(id, {{"pre_key_count", count}}), true, false);
            } else if (status == CommitStatus::rejected) {
                self->complete(slot,
                               error_frame(id, ErrorCode::invalid_keys,
                                           "A device may hold at most 1000 one-time pre-keys."),
                               true, false);
            } else {
                self->complete(slot, storage_unavailable(id), true, false);
            }
        });
}

std::string Session::handle_keys_count(std::int64_t id) {
    try {
        return encode_ok(id,
                         {{"pre_key_count", gateway_.store_.pre_key_count(account_.key, device_)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

void Session::handle_keys_fetch(std::int64_t id, const KeysFetchRequest& r, std::uint64_t slot) {
    std::optional<Account> target;
    try {
        target = gateway_.store_.find_account(r.account);
    } catch (const std::exception&) {
        busy_ = false;
        complete_locked(slot, storage_unavailable(id));
        return;
    }
    if (!target || !gateway_.policy_->decide(account_, device_, *target).allowed) {
        busy_ = false;
        complete_locked(slot, error_frame(id, ErrorCode::forbidden,
                                          "This account may not address that account."));
        return;
    }
    auto self = shared_from_this();
    std::string target_id = target->id;
    gateway_.store_.take_bundles(target->key, [self, id, slot, target_id](
                                                  CommitStatus status,
                                                  std::vector<Bundle> bundles) {
        if (status != CommitStatus::committed) {
            self->complete(slot, storage_unavailable(id), true, false);
            return;
        }
        json list = json::array();
        for (const auto& b : bundles) {
            list.push_back({{"registration_id", b.registration_id},
                            {"device_id", b.device_id},
                            {"identity_key", crypto::base64_encode(b.identity_key)},
                            {"signed_pre_key",
                             {{"id", b.signed_pre_key.id},
                              {"public_key", crypto::base64_encode(b.signed_pre_key.public_key)},
                              {"signature", crypto::base64_encode(b.signed_pre_key.signature)}}},
                            {"pre_key", key_json(b.pre_key)}});
        }
        self->complete(slot, encode_ok(id, {{"account", target_id}, {"bundles", std::move(list)}}),
                       true, false);
    });
}

std::string Session::handle_contacts(std::int64_t id) {
    try {
        json list = json::array();
        for (const auto& other : gateway_.store_.assignment_neighbours(account_)) {
            if (!gateway_.policy_->decide(account_, device_, other).allowed) continue;
            json entry = {{"account", other.id},
                          {"role", to_string(other.role)},
                          {"devices", gateway_.store_.ready_devices(other.key)}};
            json details = gateway_.policy_->contact_details(account_, other);
            if (details.is_object()) {
                for (auto& [k, v] : details.items()) {
                    if (!entry.contains(k)) entry[k] = v;
                }
            }
            list.push_back(std::move(entry));
        }
        return encode_ok(id, {{"contacts", std::move(list)}});
    } catch (const std::exception&) {
        return storage_unavailable(id);
    }
}

}  // namespace ariadne::gateway
