#include "ariadne/services/sms_numbers.h"

#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/error.h"
#include "ariadne/storage/address_book.h"
#include "policy_storage.h"

namespace ariadne::gateway {

std::optional<std::string> normalize_phone_number(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') continue;
        if (c == '+' && out.empty()) {
            out.push_back(c);
        } else if (c >= '0' && c <= '9') {
            out.push_back(c);
        } else {
            return std::nullopt;
        }
        if (out.size() > 24) return std::nullopt;
    }
    if (out.rfind("00", 0) == 0) out = "+" + out.substr(2);
    const std::size_t digits = out.size() - (!out.empty() && out[0] == '+' ? 1 : 0);
    if (digits < 3 || digits > 20) return std::nullopt;
    return out;
}

std::string address_ref_of(const ServerKey& key, std::string_view number) {
    auto mac = key.mac("address", crypto::as_bytes(number));
    std::string ref = "k:" + crypto::base64_encode(mac).substr(0, 43);
    for (char& c : ref) {
        if (c == '+' || c == '/') c = '_';
    }
    return ref;
}

std::string link_sms_number(policies::PolicyStore& store, const ServerKey& key,
                            std::string_view number, const policies::CaseCode& code,
                            bool verified) {
    auto normal = normalize_phone_number(number);
    if (!normal) {
        throw policies::Error(policies::ErrorCode::invalid_field, "address",
                              "address: not a phone number (an optional '+' and 3 to 20 "
                              "digits; spaces and dashes are ignored).");
    }
    const std::string ref = address_ref_of(key, *normal);
    crypto::Bytes sealed = key.seal("address:" + ref, crypto::as_bytes(*normal));
    crypto::wipe(normal->data(), normal->size());
    policy_storage("SMS number tables", [&] {
        storage::AddressBook(store).link_number({ref, std::move(sealed)}, code, verified);
    });
    return ref;
}

std::optional<SmsLink> find_sms_link(const policies::PolicyStore& store,
                                     const std::string& address_ref) {
    return policy_storage("SMS number tables",
                          [&] { return storage::AddressBook(store).find_link(address_ref); });
}

std::optional<SmsNumber> verified_sms_number(const policies::PolicyStore& store,
                                             const ServerKey& key, const policies::CaseCode& code) {
    auto sealed = policy_storage("SMS number tables",
                                 [&] { return storage::AddressBook(store).verified_number(code); });
    if (!sealed) return std::nullopt;
    SmsNumber n;
    n.address_ref = sealed->address_ref;
    auto plain = key.open("address:" + n.address_ref, sealed->sealed);
    auto v = plain.view();
    n.number.assign(reinterpret_cast<const char*>(v.data()), v.size());
    return n;
}

std::optional<bool> sms_thread_verified(const policies::PolicyStore& store,
                                        const policies::CaseCode& code) {
    return policy_storage("SMS number tables",
                          [&] { return storage::AddressBook(store).thread_verified(code); });
}

}  // namespace ariadne::gateway
