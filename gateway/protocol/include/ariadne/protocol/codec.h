// Frame codec of wire protocol v1 (docs/protocol.md): turns one client text frame into a
// typed `Request`, validating every field exactly (types, ranges, lengths, base64, unknown
// fields refused), and builds the server's ok / error / deliver frames. Its request and
// delivery types are what the layers above (storage, core, admin) speak.
//
// Errors: the decoders never throw on any input (only std::bad_alloc); what is wrong comes
// back as a ProtocolError whose message names the field and never echoes its value. The
// encoders throw nlohmann::json::type_error only when a string they are given is not valid
// UTF-8 (encode_error replaces such bytes instead), which callers rule out by building
// frames from decoded requests, account ids and validated templates.
//
// Thread-safety: pure functions with no I/O and no shared state; safe from any thread.
//
// Implementation: decode_request.cpp (envelope and one body decoder per operation type,
// over the field reader of frame_fields.h), decode_fast.cpp (the hot-path `send`/`ack`
// decoder), encode_frames.cpp (server frames).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

using crypto::Bytes;

inline constexpr std::size_t kMaxFrameBytes = 65536;
// Decoded body limit: its base64 (54,616 chars) plus the frame's JSON still fits the
// 65,536-byte frame limit. With Ariadne's padding buckets the longest plaintext that fits
// is 32,767 bytes (padded to 32,768, plus ~53 bytes of Signal framing).
inline constexpr std::size_t kMaxBodyBytes = 40960;
/// Longest reason code of a failed `ack` / receipt.
inline constexpr std::size_t kMaxFailureReason = 40;
inline constexpr std::size_t kMaxMessagesPerSend = 64;
inline constexpr std::size_t kMaxPreKeysPerUpload = 200;
inline constexpr std::size_t kMaxUsernameBytes = 64;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::uint32_t kMaxPreKeyId = 16777214;
inline constexpr std::uint32_t kLastResortKeyId = 16777215;
inline constexpr std::int64_t kMaxRequestId = (std::int64_t{1} << 53) - 1;
inline constexpr std::uint32_t kMaxDeviceId = 2147483647;

struct PingRequest {};
struct RecoveryParamsRequest {};
struct ChallengeRequest {};

struct RegisterDeviceRequest {
    std::string username;
    std::string password;
    std::string totp;
    Bytes identity_key;  // 33 bytes
    std::uint32_t registration_id = 0;
    Bytes signature;  // 64 bytes
};

struct AuthDeviceRequest {
    std::string account;
    std::uint32_t device_id = 0;
    Bytes signature;  // 64 bytes
};

struct AuthSurvivorRequest {
    Bytes locator;    // 32 bytes
    Bytes signature;  // 64 bytes
    Bytes identity_key;
    std::uint32_t registration_id = 0;
    /// The key pair this installation of her app generated once (33 bytes) and its signature
    /// of the challenge (64 bytes); both empty when the client sent none.
    Bytes installation_key;
    Bytes installation_signature;
};

// Key ids and public keys are checked by the key directory (bad ones are `invalid_keys`,
// not `invalid_frame`), so the codec only bounds them.
struct PreKeyUpload {
    std::uint32_t id = 0;
    Bytes public_key;
};
struct SignedPreKeyUpload {
    std::uint32_t id = 0;
    Bytes public_key;
    Bytes signature;
};
struct KeysUploadRequest {
    std::optional<SignedPreKeyUpload> signed_pre_key;
    std::vector<PreKeyUpload> pre_keys;
    std::optional<PreKeyUpload> last_resort;
};
struct KeysCountRequest {};
struct KeysFetchRequest {
    std::string account;
};
struct ContactsRequest {};

struct OutgoingMessage {
    std::uint32_t device_id = 0;
    int type = 0;  // 2 (Signal message) or 3 (pre-key message)
    Bytes body;
};
struct SendRequest {
    std::string to;
    bool receipt = false;
    std::vector<OutgoingMessage> messages;  // 1..64, distinct device ids
};
/// What an `ack` (and the receipt it queues) says about the entry: delivered to the device;
/// or, from a survivor's edge device only, failed (did not reach her), kept for her web page
/// (not seen yet), or read on her web page (docs/protocol.md 4.6).
enum class AckStatus { delivered, failed, kept, read };
struct AckRequest {
    std::int64_t server_id = 0;
    AckStatus status = AckStatus::delivered;
    /// The reason code of a "status":"failed" ack (a survivor's edge device saying the reply
    /// did not reach her on her plaintext channel); empty otherwise.
    std::string failure;
};
struct AlertsRequest {};
struct SettingsRequest {};
struct AlertClearRequest {
    std::int64_t alert_id = 0;  // 1..2^53-1
};
/// A caseworker console found one of the organisation's duress words in a message from
/// `survivor` (which only the console can read).
struct DuressReportRequest {
    std::string survivor;  // account id
};

/// When she can talk, Unix ms. The codec checks what does not depend on the time: each
/// window lasts kMinCallbackWindowMs to kMaxCallbackWindowMs; the session checks the rest.
struct CallbackWindow {
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
};
inline constexpr std::size_t kMaxCallbackWindows = 3;
inline constexpr std::int64_t kMinCallbackWindowMs = 30 * 60 * 1000;
inline constexpr std::int64_t kMaxCallbackWindowMs = 12 * 60 * 60 * 1000;
/// She asks to be called (`callback_request`, docs/protocol.md 4.9).
struct CallbackRequest {
    std::vector<CallbackWindow> windows;  // 1..3, sorted by from_ms
    std::string channel;                  // "app" | "web" | "sms"; "" when absent
};
struct CallbacksRequest {};
/// `callback_reveal`: reason is "her_request", "checkin" or "welfare_concern".
struct CallbackRevealRequest {
    std::int64_t task_id = 0;
    std::string reason;
};
/// `callback_outcome`: outcome is "done", "not_reached" or "rescheduled" (with windows).
struct CallbackOutcomeRequest {
    std::int64_t task_id = 0;
    std::string outcome;
    std::vector<CallbackWindow> windows;  // rescheduled only
};

using RequestBody =
    std::variant<PingRequest, RecoveryParamsRequest, ChallengeRequest, RegisterDeviceRequest,
                 AuthDeviceRequest, AuthSurvivorRequest, KeysUploadRequest, KeysCountRequest,
                 KeysFetchRequest, ContactsRequest, SendRequest, AckRequest, AlertsRequest,
                 AlertClearRequest, SettingsRequest, DuressReportRequest, CallbackRequest,
                 CallbacksRequest, CallbackRevealRequest, CallbackOutcomeRequest>;

struct Request {
    std::int64_t id = 0;
    RequestBody body;
};

/// Decodes one text frame. Returns the request, or the error to answer with (its `id` set
/// when the frame's id could be read). Messages name the offending field and never echo
/// field values.
std::variant<Request, ProtocolError> decode_request(std::string_view frame);

/// The two halves of decode_request, exposed for tests: the fast decoder takes only
/// well-formed `send` and `ack` frames in a strict subset of JSON (nullopt for anything
/// else); the full decoder takes everything and names what is wrong. Whatever the fast one
/// accepts, the full one decodes to the same request.
std::optional<Request> decode_request_fast(std::string_view frame);
std::variant<Request, ProtocolError> decode_request_full(std::string_view frame);

/// True if `s` is a well-formed account id: "a_" followed by 22 base64url characters.
bool is_account_id(std::string_view s) noexcept;

// ---- server frames ----

/// {"v":1,"id":ID,"type":"ok", ...fields}. `fields` must be an object or null.
std::string encode_ok(std::int64_t id, nlohmann::json fields = nullptr);

/// {"v":1,"id":ID|null,"type":"error","code":..,"message":.., ...extra}. `extra` must be an
/// object or null (e.g. retry_after_ms, missing/extra).
std::string encode_error(const ProtocolError& error, nlohmann::json extra = nullptr);

/// One mailbox entry as pushed in a `deliver` frame: a message, a receipt, or a notice (a
/// server-originated, content-free entry: the stored row holds only `notice`, `reference`,
/// `language` and `template_id`; `text` is rendered from the organisation's template when
/// the frame is built, never stored).
struct Delivery {
    std::int64_t server_id = 0;
    bool is_receipt = false;
    bool is_notice = false;
    std::string from;  // account id ("" for a notice with no sender, e.g. a check-in)
    std::uint32_t from_device = 0;
    int type = 0;          // messages only
    Bytes body;            // messages only
    std::int64_t ref = 0;  // receipts only
    std::string failure;   // receipts only: "" delivered, else the reason code
    AckStatus receipt_status = AckStatus::delivered;  // receipts only (failed: `failure` set)
    std::int64_t server_time = 0;                     // Unix ms when the server stored it
    // Notices only.
    std::string notice;       // "checkin" | "handover"
    std::string reference;    // check-in: occurrence key "<plan>:<YYYY-MM-DD>"; handover: ""
    std::string language;     // her language tag
    std::string template_id;  // the template the text is rendered from
    std::string text;         // rendered at delivery time (never stored)
};

std::string encode_deliver(const Delivery& delivery);
/// The same frame built through nlohmann::json (reference for tests; used for odd `from`).
std::string encode_deliver_json(const Delivery& delivery);

/// encode_ok(id) without fields, and the answer to a `send` ({device_id, server_id} pairs):
/// the same bytes as encode_ok, without building a JSON document.
std::string encode_ok_plain(std::int64_t id);
std::string encode_send_ok(std::int64_t id,
                           const std::vector<std::pair<std::uint32_t, std::int64_t>>& ids);

}  // namespace ariadne::gateway
