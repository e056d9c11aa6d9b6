// SealedStore as libsignal's session, pre-key, signed pre-key, identity and sender-key stores:
// C callbacks that call the store and keep any Error for the caller instead of letting it
// cross into C.
#include <signal_protocol.h>

#include <ctime>

#include "ariadne/crypto/store.h"

namespace ariadne::crypto {

// libsignal callbacks. They never let an exception cross into C: the Error is kept and a
// code below SG_ERR_MINIMUM is returned, so callers can tell it from libsignal's own codes.

constexpr int kCallbackFailed = SG_ERR_MINIMUM - 1;

struct StoreCallbacks {
    static SealedStore& self(void* user_data) { return *static_cast<SealedStore*>(user_data); }
    static Address address(const signal_protocol_address* a) {
        return Address{std::string(a->name, a->name_len), a->device_id};
    }

    template <typename F>
    static int guard(void* user_data, F&& body) {
        try {
            return body();
        } catch (const Error& e) {
            self(user_data).callback_error_ = e;
        } catch (const std::exception&) {
            self(user_data).callback_error_ =
                Error(ErrorCode::internal, "the key store failed unexpectedly");
        }
        return kCallbackFailed;
    }

    static int output(signal_buffer** out, const SecretBytes& data) {
        *out = signal_buffer_create(data.data(), data.size());
        return *out ? SG_SUCCESS : SG_ERR_NOMEM;
    }

    // session store
    static int load_session(signal_buffer** record, signal_buffer**,
                            const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_session(address(a));
            if (!data) return 0;
            return output(record, *data) == SG_SUCCESS ? 1 : SG_ERR_NOMEM;
        });
    }
    static int sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len,
                                   void* ud) {
        return guard(ud, [&] {
            auto ids = self(ud).session_device_ids(std::string_view(name, name_len));
            signal_int_list* list = signal_int_list_alloc();
            if (list == nullptr) return SG_ERR_NOMEM;
            for (auto id : ids) {
                if (signal_int_list_push_back(list, id) != 0) {
                    signal_int_list_free(list);
                    return SG_ERR_NOMEM;
                }
            }
            *sessions = list;
            return static_cast<int>(ids.size());
        });
    }
    static int store_session(const signal_protocol_address* a, uint8_t* record, size_t len,
                             uint8_t*, size_t, void* ud) {
        return guard(ud, [&] {
            self(ud).store_session(address(a), ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int contains_session(const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] { return self(ud).contains_session(address(a)) ? 1 : 0; });
    }
    static int delete_session(const signal_protocol_address* a, void* ud) {
        return guard(ud, [&] { return self(ud).delete_session(address(a)) ? 1 : 0; });
    }
    static int delete_all_sessions(const char* name, size_t name_len, void* ud) {
        return guard(
            ud, [&] { return self(ud).delete_all_sessions(std::string_view(name, name_len)); });
    }

    // pre-key store
    static int load_pre_key(signal_buffer** record, uint32_t id, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_pre_key(id);
            if (!data) return SG_ERR_INVALID_KEY_ID;
            return output(record, *data);
        });
    }
    static int store_pre_key(uint32_t id, uint8_t* record, size_t len, void* ud) {
        return guard(ud, [&] {
            self(ud).store_pre_key(id, ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int contains_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] { return self(ud).contains_pre_key(id) ? 1 : 0; });
    }
    static int remove_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] {
            self(ud).remove_pre_key(id);
            return SG_SUCCESS;
        });
    }

    // signed pre-key store
    static int load_signed_pre_key(signal_buffer** record, uint32_t id, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_signed_pre_key(id);
            if (!data) return SG_ERR_INVALID_KEY_ID;
            return output(record, *data);
        });
    }
    static int store_signed_pre_key(uint32_t id, uint8_t* record, size_t len, void* ud) {
        return guard(ud, [&] {
            self(ud).store_signed_pre_key(id, ByteView(record, len),
                                          static_cast<std::int64_t>(::time(nullptr)));
            return SG_SUCCESS;
        });
    }
    static int contains_signed_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] { return self(ud).contains_signed_pre_key(id) ? 1 : 0; });
    }
    static int remove_signed_pre_key(uint32_t id, void* ud) {
        return guard(ud, [&] {
            self(ud).remove_signed_pre_key(id);
            return SG_SUCCESS;
        });
    }

    // identity store
    static int identity_key_pair(signal_buffer** public_data, signal_buffer** private_data,
                                 void* ud) {
        return guard(ud, [&] {
            auto identity = self(ud).local_identity();
            if (!identity) {
                self(ud).callback_error_ =
                    Error(ErrorCode::internal, "the key store holds no local identity");
                return kCallbackFailed;
            }
            *public_data =
                signal_buffer_create(identity->public_key.data(), identity->public_key.size());
            if (*public_data == nullptr) return SG_ERR_NOMEM;
            if (output(private_data, identity->private_key) != SG_SUCCESS) {
                signal_buffer_free(*public_data);
                *public_data = nullptr;
                return SG_ERR_NOMEM;
            }
            return SG_SUCCESS;
        });
    }
    static int local_registration_id(void* ud, uint32_t* registration_id) {
        return guard(ud, [&] {
            auto identity = self(ud).local_identity();
            if (!identity) {
                self(ud).callback_error_ =
                    Error(ErrorCode::internal, "the key store holds no local identity");
                return kCallbackFailed;
            }
            *registration_id = identity->registration_id;
            return SG_SUCCESS;
        });
    }
    static int save_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* ud) {
        return guard(ud, [&] {
            if (key == nullptr) {
                self(ud).save_remote_identity(address(a), std::nullopt);
            } else {
                self(ud).save_remote_identity(address(a), ByteView(key, len));
            }
            return SG_SUCCESS;
        });
    }
    static int is_trusted_identity(const signal_protocol_address* a, uint8_t* key, size_t len,
                                   void* ud) {
        return guard(ud, [&] {
            auto known = self(ud).remote_identity(address(a));
            if (!known) return 1;  // trust on first use
            return equal_constant_time(*known, ByteView(key, len)) ? 1 : 0;
        });
    }

    // sender key store
    static int store_sender_key(const signal_protocol_sender_key_name* name, uint8_t* record,
                                size_t len, uint8_t*, size_t, void* ud) {
        return guard(ud, [&] {
            self(ud).store_sender_key(
                ByteView(reinterpret_cast<const std::uint8_t*>(name->group_id), name->group_id_len),
                address(&name->sender), ByteView(record, len));
            return SG_SUCCESS;
        });
    }
    static int load_sender_key(signal_buffer** record, signal_buffer**,
                               const signal_protocol_sender_key_name* name, void* ud) {
        return guard(ud, [&] {
            auto data = self(ud).load_sender_key(
                ByteView(reinterpret_cast<const std::uint8_t*>(name->group_id), name->group_id_len),
                address(&name->sender));
            if (!data) return 0;
            return output(record, *data) == SG_SUCCESS ? 1 : SG_ERR_NOMEM;
        });
    }
};

void SealedStore::install_callbacks(signal_protocol_store_context* context) {
    signal_protocol_session_store sessions{};
    sessions.load_session_func = StoreCallbacks::load_session;
    sessions.get_sub_device_sessions_func = StoreCallbacks::sub_device_sessions;
    sessions.store_session_func = StoreCallbacks::store_session;
    sessions.contains_session_func = StoreCallbacks::contains_session;
    sessions.delete_session_func = StoreCallbacks::delete_session;
    sessions.delete_all_sessions_func = StoreCallbacks::delete_all_sessions;
    sessions.user_data = this;

    signal_protocol_pre_key_store pre_keys{};
    pre_keys.load_pre_key = StoreCallbacks::load_pre_key;
    pre_keys.store_pre_key = StoreCallbacks::store_pre_key;
    pre_keys.contains_pre_key = StoreCallbacks::contains_pre_key;
    pre_keys.remove_pre_key = StoreCallbacks::remove_pre_key;
    pre_keys.user_data = this;

    signal_protocol_signed_pre_key_store signed_pre_keys{};
    signed_pre_keys.load_signed_pre_key = StoreCallbacks::load_signed_pre_key;
    signed_pre_keys.store_signed_pre_key = StoreCallbacks::store_signed_pre_key;
    signed_pre_keys.contains_signed_pre_key = StoreCallbacks::contains_signed_pre_key;
    signed_pre_keys.remove_signed_pre_key = StoreCallbacks::remove_signed_pre_key;
    signed_pre_keys.user_data = this;

    signal_protocol_identity_key_store identities{};
    identities.get_identity_key_pair = StoreCallbacks::identity_key_pair;
    identities.get_local_registration_id = StoreCallbacks::local_registration_id;
    identities.save_identity = StoreCallbacks::save_identity;
    identities.is_trusted_identity = StoreCallbacks::is_trusted_identity;
    identities.user_data = this;

    signal_protocol_sender_key_store sender_keys{};
    sender_keys.store_sender_key = StoreCallbacks::store_sender_key;
    sender_keys.load_sender_key = StoreCallbacks::load_sender_key;
    sender_keys.user_data = this;

    if (signal_protocol_store_context_set_session_store(context, &sessions) != 0 ||
        signal_protocol_store_context_set_pre_key_store(context, &pre_keys) != 0 ||
        signal_protocol_store_context_set_signed_pre_key_store(context, &signed_pre_keys) != 0 ||
        signal_protocol_store_context_set_identity_key_store(context, &identities) != 0 ||
        signal_protocol_store_context_set_sender_key_store(context, &sender_keys) != 0) {
        throw Error(ErrorCode::internal, "libsignal refused the store callbacks");
    }
}

std::optional<Error> SealedStore::take_callback_error() {
    std::optional<Error> e;
    e.swap(callback_error_);
    return e;
}

}  // namespace ariadne::crypto
