// The frame decoder: every malformed frame gets the right error code and a sentence that
// names the field; valid frames decode to typed requests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/bytes.h"
#include "ariadne/protocol/codec.h"

namespace ariadne::gateway {
namespace {

using nlohmann::json;

ProtocolError error_of(std::string_view frame) {
    auto r = decode_request(frame);
    if (!std::holds_alternative<ProtocolError>(r)) {
        ADD_FAILURE() << "decoded although it should not: " << frame;
        return {};
    }
    return std::get<ProtocolError>(r);
}

Request request_of(std::string_view frame) {
    auto r = decode_request(frame);
    if (!std::holds_alternative<Request>(r)) {
        ADD_FAILURE() << "refused: " << std::get<ProtocolError>(r).message;
        return {};
    }
    return std::get<Request>(r);
}

std::string b64(std::size_t n, std::uint8_t fill = 5) {
    return crypto::base64_encode(crypto::Bytes(n, fill));
}

TEST(FrameCodec, DecodesPing) {
    Request r = request_of(R"({"v":1,"id":7,"type":"ping"})");
    EXPECT_EQ(r.id, 7);
    EXPECT_TRUE(std::holds_alternative<PingRequest>(r.body));
}

TEST(FrameCodec, DecodesAlertsAlertClearAndSettings) {
    EXPECT_TRUE(std::holds_alternative<AlertsRequest>(
        request_of(R"({"v":1,"id":1,"type":"alerts"})").body));
    EXPECT_TRUE(std::holds_alternative<SettingsRequest>(
        request_of(R"({"v":1,"id":1,"type":"settings"})").body));
    Request r = request_of(R"({"v":1,"id":2,"type":"alert_clear","alert_id":9007199254740991})");
    ASSERT_TRUE(std::holds_alternative<AlertClearRequest>(r.body));
    EXPECT_EQ(std::get<AlertClearRequest>(r.body).alert_id, 9007199254740991);
    for (const char* bad : {R"({"v":1,"id":3,"type":"alert_clear"})",
                            R"({"v":1,"id":3,"type":"alert_clear","alert_id":0})",
                            R"({"v":1,"id":3,"type":"alert_clear","alert_id":"7"})",
                            R"({"v":1,"id":3,"type":"alert_clear","alert_id":9007199254740992})",
                            R"({"v":1,"id":3,"type":"alert_clear","alert_id":-5})"}) {
        auto e = error_of(bad);
        EXPECT_EQ(e.code, ErrorCode::invalid_frame) << bad;
        EXPECT_NE(e.message.find("alert_id"), std::string::npos) << e.message;
        EXPECT_EQ(e.id, 3);
    }
    EXPECT_EQ(error_of(R"({"v":1,"id":4,"type":"alerts","case_code":"K7Q-2F9"})").code,
              ErrorCode::invalid_frame);
    EXPECT_EQ(error_of(R"({"v":1,"id":4,"type":"settings","retention_days":1})").code,
              ErrorCode::invalid_frame);
}

// Each operation type of docs/protocol.md decodes to its own request, and only to it.
TEST(FrameCodec, EveryOperationTypeDecodesToItsOwnRequest) {
    const std::string id = R"("a_AAAAAAAAAAAAAAAAAAAAAA")";
    const std::vector<std::pair<std::string, std::size_t>> frames = {
        {R"({"v":1,"id":1,"type":"ping"})", 0},
        {R"({"v":1,"id":1,"type":"recovery_params"})", 1},
        {R"({"v":1,"id":1,"type":"challenge"})", 2},
        {R"({"v":1,"id":1,"type":"register_device","username":"mara","password":"pw","totp":"123456","identity_key":")" +
             b64(33) + R"(","registration_id":7,"signature":")" + b64(64) + R"("})",
         3},
        {R"({"v":1,"id":1,"type":"auth_device","account":)" + id +
             R"(,"device_id":1,"signature":")" + b64(64) + R"("})",
         4},
        {R"({"v":1,"id":1,"type":"auth_survivor","locator":")" + b64(32) + R"(","signature":")" +
             b64(64) + R"(","identity_key":")" + b64(33) + R"(","registration_id":9})",
         5},
        {R"({"v":1,"id":1,"type":"keys_upload"})", 6},
        {R"({"v":1,"id":1,"type":"keys_count"})", 7},
        {R"({"v":1,"id":1,"type":"keys_fetch","account":)" + id + "}", 8},
        {R"({"v":1,"id":1,"type":"contacts"})", 9},
        {R"({"v":1,"id":1,"type":"send","to":)" + id +
             R"(,"messages":[{"device_id":1,"type":2,"body":"AA=="}]})",
         10},
        {R"({"v":1,"id":1,"type":"ack","server_id":5})", 11},
        {R"({"v":1,"id":1,"type":"alerts"})", 12},
        {R"({"v":1,"id":1,"type":"alert_clear","alert_id":5})", 13},
        {R"({"v":1,"id":1,"type":"settings"})", 14},
        {R"({"v":1,"id":1,"type":"duress_report","survivor":)" + id + "}", 15},
        {R"({"v":1,"id":1,"type":"callback_request","windows":[{"from":0,"to":3600000}]})", 16},
        {R"({"v":1,"id":1,"type":"callbacks"})", 17},
        {R"({"v":1,"id":1,"type":"callback_reveal","task_id":3,"reason":"checkin"})", 18},
        {R"({"v":1,"id":1,"type":"callback_outcome","task_id":3,"outcome":"done"})", 19},
    };
    ASSERT_EQ(frames.size(), std::variant_size_v<RequestBody>);
    for (const auto& [frame, index] : frames) {
        EXPECT_EQ(request_of(frame).body.index(), index) << frame;
        // Through the full decoder too: the fast one takes only send and ack.
        auto full = decode_request_full(frame);
        ASSERT_TRUE(std::holds_alternative<Request>(full)) << frame;
        EXPECT_EQ(std::get<Request>(full).body.index(), index) << frame;
    }
    auto e = error_of(R"({"v":1,"id":1,"type":"Ping"})");
    EXPECT_EQ(e.code, ErrorCode::unknown_type);
    EXPECT_EQ(e.message, "unknown operation type");
}

// Clients written from docs/protocol.md match these sentences.
TEST(FrameCodec, AccountIdFieldsSayWhatAnAccountIdIs) {
    const std::string sig = b64(64);
    const std::vector<std::pair<std::string, std::string>> frames = {
        {R"({"v":1,"id":1,"type":"auth_device","account":"mara","device_id":1,"signature":")" +
             sig + R"("})",
         "account"},
        {R"({"v":1,"id":1,"type":"keys_fetch","account":"a_AAAAAAAAAAAAAAAAAAAAA+"})", "account"},
        {R"({"v":1,"id":1,"type":"send","to":"a_short","messages":[{"device_id":1,"type":2,"body":"AA=="}]})",
         "to"},
        {R"({"v":1,"id":1,"type":"duress_report","survivor":"b_AAAAAAAAAAAAAAAAAAAAAA"})",
         "survivor"},
    };
    for (const auto& [frame, field] : frames) {
        auto e = error_of(frame);
        EXPECT_EQ(e.code, ErrorCode::invalid_frame) << frame;
        EXPECT_EQ(e.message, "field '" + field +
                                 "' must be an account id ('a_' followed by 22 base64url "
                                 "characters)")
            << frame;
    }
    EXPECT_EQ(error_of(R"({"v":1,"id":1,"type":"keys_fetch","account":""})").message,
              "field 'account' must not be empty");
}

TEST(FrameCodec, NonJsonIsMalformedWithNullId) {
    auto e = error_of("{not json");
    EXPECT_EQ(e.code, ErrorCode::malformed_json);
    EXPECT_FALSE(e.id.has_value());
    EXPECT_EQ(error_of("[1,2]").code, ErrorCode::malformed_json);
    EXPECT_EQ(error_of("\"text\"").code, ErrorCode::malformed_json);
    EXPECT_EQ(error_of("").code, ErrorCode::malformed_json);
}

TEST(FrameCodec, DeepNestingIsRefusedBeforeParsing) {
    std::string deep(5000, '[');
    EXPECT_EQ(error_of(deep).code, ErrorCode::malformed_json);
}

TEST(FrameCodec, MissingOrWrongVersionIsUnsupported) {
    auto e = error_of(R"({"id":3,"type":"ping"})");
    EXPECT_EQ(e.code, ErrorCode::unsupported_version);
    EXPECT_EQ(e.id, 3);
    EXPECT_EQ(error_of(R"({"v":2,"id":3,"type":"ping"})").code, ErrorCode::unsupported_version);
    EXPECT_EQ(error_of(R"({"v":"1","id":3,"type":"ping"})").code, ErrorCode::unsupported_version);
}

TEST(FrameCodec, UnknownOrMissingTypeIsUnknownType) {
    EXPECT_EQ(error_of(R"({"v":1,"id":3,"type":"launch"})").code, ErrorCode::unknown_type);
    EXPECT_EQ(error_of(R"({"v":1,"id":3})").code, ErrorCode::unknown_type);
    EXPECT_EQ(error_of(R"({"v":1,"id":3,"type":5})").code, ErrorCode::unknown_type);
}

TEST(FrameCodec, IdMustBeAnIntegerInRange) {
    for (const char* frame :
         {R"({"v":1,"type":"ping"})", R"({"v":1,"id":-1,"type":"ping"})",
          R"({"v":1,"id":1.5,"type":"ping"})", R"({"v":1,"id":"7","type":"ping"})",
          R"({"v":1,"id":9007199254740992,"type":"ping"})"}) {
        auto e = error_of(frame);
        EXPECT_EQ(e.code, ErrorCode::invalid_frame) << frame;
        EXPECT_FALSE(e.id.has_value()) << frame;
        EXPECT_NE(e.message.find("'id'"), std::string::npos) << e.message;
    }
    EXPECT_EQ(request_of(R"({"v":1,"id":9007199254740991,"type":"ping"})").id, 9007199254740991);
}

TEST(FrameCodec, UnknownFieldsAreRefusedByName) {
    auto e = error_of(R"({"v":1,"id":3,"type":"ping","extra":true})");
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    EXPECT_NE(e.message.find("'extra'"), std::string::npos) << e.message;
    e = error_of(R"({"v":1,"id":3,"type":"ack","server_id":4,"sever_id":4})");
    EXPECT_NE(e.message.find("'sever_id'"), std::string::npos) << e.message;
}

TEST(FrameCodec, AFailedAckCarriesAReasonCodeAndAFailedReceiptSaysSo) {
    auto ack = std::get<AckRequest>(
        request_of(
            R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"failed","reason":"sms_rejected"})")
            .body);
    EXPECT_EQ(ack.server_id, 4);
    EXPECT_EQ(ack.failure, "sms_rejected");
    EXPECT_TRUE(
        std::get<AckRequest>(
            request_of(R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"delivered"})").body)
            .failure.empty());
    for (const char* frame :
         {R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"failed"})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"failed","reason":""})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"failed","reason":"SMS lost"})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"failed","reason":7})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"gone","reason":"x"})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"delivered","reason":"x"})",
          R"({"v":1,"id":3,"type":"ack","server_id":4,"reason":"x"})"}) {
        EXPECT_EQ(error_of(frame).code, ErrorCode::invalid_frame) << frame;
    }
    Delivery d;
    d.server_id = 9;
    d.is_receipt = true;
    d.from = "a_AAAAAAAAAAAAAAAAAAAAAA";
    d.from_device = 2;
    d.ref = 7;
    d.server_time = 1;
    json plain = json::parse(encode_deliver(d));
    EXPECT_FALSE(plain["message"].contains("status"));
    d.failure = "sms_not_delivered";
    json failed = json::parse(encode_deliver(d));
    EXPECT_EQ(failed["message"]["status"], "failed");
    EXPECT_EQ(failed["message"]["reason"], "sms_not_delivered");
    EXPECT_EQ(failed["message"]["ref"], 7);
}

TEST(FrameCodec, AnAckMaySayKeptOrReadAndTheirReceiptsSaySo) {
    EXPECT_EQ(std::get<AckRequest>(
                  request_of(R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"kept"})").body)
                  .status,
              AckStatus::kept);
    EXPECT_EQ(std::get<AckRequest>(
                  request_of(R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"read"})").body)
                  .status,
              AckStatus::read);
    EXPECT_EQ(
        error_of(R"({"v":1,"id":3,"type":"ack","server_id":4,"status":"read","reason":"x"})").code,
        ErrorCode::invalid_frame);
    Delivery d;
    d.server_id = 9;
    d.is_receipt = true;
    d.from = "a_AAAAAAAAAAAAAAAAAAAAAA";
    d.from_device = 2;
    d.ref = 7;
    d.server_time = 1;
    d.receipt_status = AckStatus::kept;
    json kept = json::parse(encode_deliver(d));
    EXPECT_EQ(kept["message"]["status"], "kept");
    EXPECT_FALSE(kept["message"].contains("reason"));
    d.receipt_status = AckStatus::read;
    EXPECT_EQ(json::parse(encode_deliver(d))["message"]["status"], "read");
}

TEST(FrameCodec, UnknownFieldNamesAreNotEchoedWhenUnprintable) {
    auto e = error_of(R"({"v":1,"id":3,"type":"ping","<script>alert(1)</script>":1})");
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    EXPECT_EQ(e.message.find("script"), std::string::npos) << e.message;
}

TEST(FrameCodec, WrongTypesNameTheField) {
    auto e = error_of(R"({"v":1,"id":3,"type":"ack","server_id":"12"})");
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    EXPECT_NE(e.message.find("'server_id'"), std::string::npos) << e.message;
    e = error_of(
        R"({"v":1,"id":3,"type":"auth_device","account":"a_AAAAAAAAAAAAAAAAAAAAAA","device_id":0,"signature":")" +
        b64(64) + "\"}");
    EXPECT_NE(e.message.find("'device_id'"), std::string::npos) << e.message;
    e = error_of(R"({"v":1,"id":3,"type":"send","to":"a_AAAAAAAAAAAAAAAAAAAAAA","messages":{}})");
    EXPECT_NE(e.message.find("'messages'"), std::string::npos) << e.message;
}

TEST(FrameCodec, BadBase64NamesTheField) {
    auto e =
        error_of(R"({"v":1,"id":3,"type":"auth_survivor","locator":"not base64!","signature":")" +
                 b64(64) + R"(","identity_key":")" + b64(33) + R"(","registration_id":1})");
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    EXPECT_NE(e.message.find("'locator'"), std::string::npos) << e.message;
    // Unpadded base64 is refused too.
    std::string unpadded = b64(32);
    unpadded.pop_back();
    e = error_of(R"({"v":1,"id":3,"type":"auth_survivor","locator":")" + unpadded +
                 R"(","signature":")" + b64(64) + R"(","identity_key":")" + b64(33) +
                 R"(","registration_id":1})");
    EXPECT_NE(e.message.find("'locator'"), std::string::npos) << e.message;
}

TEST(FrameCodec, WrongBinaryLengthNamesTheField) {
    auto e = error_of(R"({"v":1,"id":3,"type":"auth_survivor","locator":")" + b64(31) +
                      R"(","signature":")" + b64(64) + R"(","identity_key":")" + b64(33) +
                      R"(","registration_id":1})");
    EXPECT_NE(e.message.find("'locator'"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("32"), std::string::npos) << e.message;
}

std::string send_frame(const std::string& messages) {
    return R"({"v":1,"id":9,"type":"send","to":"a_AAAAAAAAAAAAAAAAAAAAAA","messages":)" + messages +
           "}";
}

TEST(FrameCodec, DecodesSend) {
    Request r =
        request_of(send_frame(R"([{"device_id":1,"type":3,"body":")" + b64(100) +
                              R"("},{"device_id":2,"type":2,"body":")" + b64(10) + R"("}])"));
    auto& s = std::get<SendRequest>(r.body);
    EXPECT_EQ(s.to, "a_AAAAAAAAAAAAAAAAAAAAAA");
    EXPECT_FALSE(s.receipt);
    ASSERT_EQ(s.messages.size(), 2u);
    EXPECT_EQ(s.messages[0].type, 3);
    EXPECT_EQ(s.messages[0].body.size(), 100u);
    EXPECT_EQ(s.messages[1].device_id, 2u);
}

TEST(FrameCodec, HugeBase64IsRefused) {
    // A body of more than 40,960 bytes is refused (its base64 would crowd the frame limit).
    auto e = error_of(send_frame(R"([{"device_id":1,"type":3,"body":")" + b64(40961) + R"("}])"));
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    e = error_of(R"({"v":1,"id":3,"type":"auth_survivor","locator":")" + b64(40000) +
                 R"(","signature":")" + b64(64) + R"(","identity_key":")" + b64(33) +
                 R"(","registration_id":1})");
    EXPECT_EQ(e.code, ErrorCode::invalid_frame);
    EXPECT_NE(e.message.find("'locator'"), std::string::npos) << e.message;
    EXPECT_EQ(
        request_of(send_frame(R"([{"device_id":1,"type":3,"body":")" + b64(40960) + R"("}])")).id,
        9);
}

TEST(FrameCodec, SendChecksEachMessage) {
    EXPECT_NE(error_of(send_frame("[]")).message.find("'messages'"), std::string::npos);
    auto e = error_of(send_frame(R"([{"device_id":1,"type":1,"body":"AAAA"}])"));
    EXPECT_NE(e.message.find("'messages[0].type'"), std::string::npos) << e.message;
    e = error_of(send_frame(R"([{"device_id":1,"type":3,"body":"AAAA","x":1}])"));
    EXPECT_NE(e.message.find("'messages[0].x'"), std::string::npos) << e.message;
    e = error_of(send_frame(
        R"([{"device_id":1,"type":3,"body":"AAAA"},{"device_id":1,"type":3,"body":"AAAA"}])"));
    EXPECT_NE(e.message.find("'messages[1].device_id'"), std::string::npos) << e.message;
    std::string many = "[";
    for (int i = 1; i <= 65; ++i)
        many += std::string(i > 1 ? "," : "") + R"({"device_id":)" + std::to_string(i) +
                R"(,"type":2,"body":"AAAA"})";
    many += "]";
    EXPECT_NE(error_of(send_frame(many)).message.find("at most 64"), std::string::npos);
}

TEST(FrameCodec, AccountIdsAreChecked) {
    EXPECT_TRUE(is_account_id("a_Vq3m0Cw7T5y1bq8PpX0s2A"));
    EXPECT_FALSE(is_account_id("a_Vq3m0Cw7T5y1bq8PpX0s2"));
    EXPECT_FALSE(is_account_id("b_Vq3m0Cw7T5y1bq8PpX0s2A"));
    EXPECT_FALSE(is_account_id("a_Vq3m0Cw7T5y1bq8PpX0s+A"));
    auto e = error_of(R"({"v":1,"id":3,"type":"keys_fetch","account":"mara"})");
    EXPECT_NE(e.message.find("'account'"), std::string::npos) << e.message;
}

TEST(FrameCodec, KeysUploadBoundsButLeavesIdsToTheDirectory) {
    std::string frame = R"({"v":1,"id":3,"type":"keys_upload","pre_keys":[{"id":0,"public_key":")" +
                        b64(33) + R"("}]})";
    Request r = request_of(frame);
    EXPECT_EQ(std::get<KeysUploadRequest>(r.body).pre_keys.at(0).id, 0u);
    auto e =
        error_of(R"({"v":1,"id":3,"type":"keys_upload","signed_pre_key":{"id":1,"public_key":")" +
                 b64(33) + R"("}})");
    EXPECT_NE(e.message.find("'signed_pre_key.signature'"), std::string::npos) << e.message;
}

TEST(FrameCodec, LongStringsAreRefused) {
    std::string frame = R"({"v":1,"id":3,"type":"register_device","username":")" +
                        std::string(65, 'u') +
                        R"(","password":"p","totp":"123456","identity_key":")" + b64(33) +
                        R"(","registration_id":1,"signature":")" + b64(64) + R"("})";
    auto e = error_of(frame);
    EXPECT_NE(e.message.find("'username'"), std::string::npos) << e.message;
}

TEST(FrameCodec, EncodesErrorsWithNullIdWhenUnknown) {
    json j =
        json::parse(encode_error(ProtocolError{ErrorCode::malformed_json, "bad", std::nullopt}));
    EXPECT_TRUE(j["id"].is_null());
    EXPECT_EQ(j["code"], "malformed_json");
    EXPECT_EQ(j["type"], "error");
    EXPECT_EQ(j["v"], 1);
}

TEST(FrameCodec, EncodesDeliveries) {
    Delivery d;
    d.server_id = 1841;
    d.from = "a_H1xAAAAAAAAAAAAAAAAAAA";
    d.from_device = 1;
    d.type = 3;
    d.body = crypto::Bytes{1, 2, 3};
    d.server_time = 1795350000123;
    json j = json::parse(encode_deliver(d));
    EXPECT_FALSE(j.contains("id"));
    EXPECT_EQ(j["type"], "deliver");
    EXPECT_EQ(j["message"]["kind"], "message");
    EXPECT_EQ(j["message"]["body"], "AQID");
    d.is_receipt = true;
    d.ref = 1842;
    j = json::parse(encode_deliver(d));
    EXPECT_EQ(j["message"]["kind"], "receipt");
    EXPECT_EQ(j["message"]["ref"], 1842);
    EXPECT_FALSE(j["message"].contains("body"));
}

TEST(FrameCodec, EncodesNoticesWithTheirTextAndNoMessageFields) {
    Delivery d;
    d.server_id = 1950;
    d.is_notice = true;
    d.notice = "checkin";
    d.reference = "12:2026-05-04";
    d.language = "ro";
    d.template_id = "neutral_checkin";
    d.text = "Bun\"a \\ <b>";
    d.server_time = 1795350002000;
    json j = json::parse(encode_deliver(d));
    const json& m = j["message"];
    EXPECT_EQ(m["kind"], "notice");
    EXPECT_EQ(m["notice"], "checkin");
    EXPECT_EQ(m["reference"], "12:2026-05-04");
    EXPECT_EQ(m["language"], "ro");
    EXPECT_EQ(m["text"], "Bun\"a \\ <b>");
    for (const char* absent : {"from", "from_device", "type", "body", "ref", "template_id"}) {
        EXPECT_FALSE(m.contains(absent)) << absent;
    }
    d.notice = "handover";
    d.from = "a_H1xAAAAAAAAAAAAAAAAAAA";
    EXPECT_EQ(json::parse(encode_deliver(d))["message"]["from"], d.from);
}

// ---- the hot-path codec must agree with the full one ----

bool same_request(const Request& a, const Request& b) {
    if (a.id != b.id || a.body.index() != b.body.index()) return false;
    if (auto* x = std::get_if<AckRequest>(&a.body)) {
        return x->server_id == std::get<AckRequest>(b.body).server_id;
    }
    if (auto* x = std::get_if<SendRequest>(&a.body)) {
        const auto& y = std::get<SendRequest>(b.body);
        if (x->to != y.to || x->receipt != y.receipt || x->messages.size() != y.messages.size())
            return false;
        for (std::size_t i = 0; i < x->messages.size(); ++i) {
            const auto &m = x->messages[i], &n = y.messages[i];
            if (m.device_id != n.device_id || m.type != n.type || m.body != n.body) return false;
        }
        return true;
    }
    return false;  // the fast decoder takes nothing else
}

// Whatever the fast decoder accepts, the full decoder decodes to the same request.
void expect_agreement(std::string_view frame, bool* fast_took = nullptr) {
    auto fast = decode_request_fast(frame);
    if (fast_took) *fast_took = fast.has_value();
    if (!fast) return;
    auto full = decode_request_full(frame);
    ASSERT_TRUE(std::holds_alternative<Request>(full))
        << "fast accepted what the full decoder refuses (" << std::get<ProtocolError>(full).message
        << "): " << frame;
    EXPECT_TRUE(same_request(*fast, std::get<Request>(full))) << frame;
}

std::vector<std::string> hot_frames() {
    return {
        R"({"v":1,"id":7,"type":"send","to":"a_AAAAAAAAAAAAAAAAAAAAAA","messages":[{"device_id":1,"type":3,"body":")" +
            b64(200) + R"("}]})",
        R"({"type":"send","messages":[{"body":")" + b64(5) +
            R"(","type":2,"device_id":4},{"device_id":2,"type":3,"body":"AQID"}],"receipt":true,"to":"a_-_zZ09AAAAAAAAAAAAAAAA","id":0,"v":1})",
        " {\n\t\"v\" : 1 , \"id\" : 9007199254740991 , \"type\" : \"send\" , \"receipt\" : false, "
        "\"to\" : \"a_AAAAAAAAAAAAAAAAAAAAAA\" , \"messages\" : [ { \"device_id\" : 2147483647 , "
        "\"type\" : 2 , \"body\" : \"AA==\" } ] }\r\n",
        R"({"v":1,"id":12,"type":"ack","server_id":1841})",
        R"({"server_id":9007199254740991,"type":"ack","id":1,"v":1})",
    };
}

TEST(FastCodec, TakesTheHotFramesAndAgreesWithTheFullDecoder) {
    for (const auto& frame : hot_frames()) {
        bool took = false;
        expect_agreement(frame, &took);
        EXPECT_TRUE(took) << "the fast path should take " << frame;
    }
}

TEST(FastCodec, LeavesEverythingUnusualToTheFullDecoder) {
    const std::string to = R"("to":"a_AAAAAAAAAAAAAAAAAAAAAA")";
    const std::string msgs = R"("messages":[{"device_id":1,"type":3,"body":"AQID"}])";
    const std::vector<std::string> odd = {
        // repeated keys, at the top and inside a message
        R"({"v":1,"id":1,"id":2,"type":"ack","server_id":5})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"device_id":2,"type":3,"body":"AQID"}]})",
        // numbers the full decoder must judge: leading zeros, fractions, exponents, signs, 2^53
        R"({"v":1,"id":01,"type":"ack","server_id":5})",
        R"({"v":1,"id":1.0,"type":"ack","server_id":5})",
        R"({"v":1,"id":1e2,"type":"ack","server_id":5})",
        R"({"v":1,"id":-1,"type":"ack","server_id":5})",
        R"({"v":1,"id":9007199254740992,"type":"ack","server_id":5})",
        R"({"v":1,"id":1,"type":"ack","server_id":0})",
        R"({"v":1.0,"id":1,"type":"ack","server_id":5})",
        R"({"v":2,"id":1,"type":"ack","server_id":5})",
        // escapes and non-ASCII in strings (the full decoder unescapes and checks UTF-8)
        R"({"v":1,"id":1,"type":"send","to":"\u0061_AAAAAAAAAAAAAAAAAAAAAA",)" + msgs + "}",
        "{\"v\":1,\"id\":1,\"type\":\"send\",\"to\":\"a_AAAAAAAAAAAAAAAAAAAAA\xc3\xa9\"," + msgs +
            "}",
        // missing, unknown and misplaced fields
        R"({"v":1,"id":1,"type":"ack"})",
        R"({"v":1,"id":1,"type":"ack","server_id":5,"extra":1})",
        R"({"v":1,"id":1,"type":"send",)" + to + R"(,"server_id":5,)" + msgs + "}",
        R"({"v":1,"id":1,"type":"send",)" + to + "}",
        R"({"v":1,"id":1,"type":"send",)" + to + R"(,"messages":[]})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"type":3,"body":"AQID"},{"device_id":1,"type":2,"body":"AQID"}]})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"type":4,"body":"AQID"}]})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"type":3,"body":""}]})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"type":3,"body":"AQI"}]})",
        R"({"v":1,"id":1,"type":"send",)" + to +
            R"(,"messages":[{"device_id":1,"type":3,"body":")" + b64(kMaxBodyBytes + 1) + R"("}]})",
        R"({"v":1,"id":1,"type":"send","receipt":1,)" + to + "," + msgs + "}",
        R"({"v":1,"id":1,"type":"send","to":"b_AAAAAAAAAAAAAAAAAAAAAA",)" + msgs + "}",
        R"({"v":1,"id":1,"type":"ping"})",
        // trailing garbage, two objects, truncation
        R"({"v":1,"id":1,"type":"ack","server_id":5}x)",
        R"({"v":1,"id":1,"type":"ack","server_id":5}{})",
        R"({"v":1,"id":1,"type":"ack","server_id":5)",
        R"({"v":1,"id":1,"type":"ack","server_id":5,})",
    };
    for (const auto& frame : odd) {
        bool took = true;
        expect_agreement(frame, &took);
        EXPECT_FALSE(took) << "the fast path should leave this to the full decoder: " << frame;
    }
    // 65 messages: over the limit.
    std::string many = R"({"v":1,"id":1,"type":"send",)" + to + R"(,"messages":[)";
    for (int i = 1; i <= 65; ++i) {
        many += (i > 1 ? "," : "") + std::string(R"({"device_id":)") + std::to_string(i) +
                R"(,"type":3,"body":"AQID"})";
    }
    many += "]}";
    bool took = true;
    expect_agreement(many, &took);
    EXPECT_FALSE(took);
}

TEST(FastCodec, MutatedHotFramesNeverMakeTheTwoDecodersDisagree) {
    // Deterministic single and double mutations of each hot frame: replaced, deleted and
    // inserted bytes, with characters JSON cares about.
    const std::string alphabet = "{}[]:,\"\\ 0129.-eE+atfnulx\x01\xc3\xa9";
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    int taken = 0;
    for (const auto& base : hot_frames()) {
        for (int round = 0; round < 3000; ++round) {
            std::string f = base;
            int edits = 1 + static_cast<int>(next() % 2);
            for (int e = 0; e < edits; ++e) {
                std::size_t at = next() % (f.size() + 1);
                char c = alphabet[next() % alphabet.size()];
                switch (next() % 3) {
                    case 0:
                        if (at < f.size()) f[at] = c;
                        break;
                    case 1:
                        if (at < f.size()) f.erase(at, 1);
                        break;
                    default:
                        f.insert(at, 1, c);
                }
            }
            bool took = false;
            expect_agreement(f, &took);
            taken += took ? 1 : 0;
            if (HasFailure()) return;
        }
    }
    // Some mutations keep the frame valid (whitespace, digits in ids): both paths were used.
    EXPECT_GT(taken, 0);
}

TEST(FastCodec, EncodersWriteWhatNlohmannWrites) {
    std::uint64_t state = 12345;
    auto next = [&state] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return state >> 11;
    };
    for (int i = 0; i < 500; ++i) {
        Delivery d;
        d.server_id = static_cast<std::int64_t>(next() % kMaxRequestId) + 1;
        d.is_receipt = (i % 3) == 0;
        d.from = "a_" + std::string(22, "AZaz09-_"[i % 8]);
        d.from_device = static_cast<std::uint32_t>(next() % kMaxDeviceId);
        d.type = 2 + (i % 2);
        d.body = crypto::Bytes(next() % 300, static_cast<std::uint8_t>(i));
        d.ref = static_cast<std::int64_t>(next() % kMaxRequestId);
        d.server_time = static_cast<std::int64_t>(next() % 4102444800000ull);
        ASSERT_EQ(encode_deliver(d), encode_deliver_json(d));
        std::int64_t id = static_cast<std::int64_t>(next() % kMaxRequestId);
        ASSERT_EQ(encode_ok_plain(id), encode_ok(id));
        std::vector<std::pair<std::uint32_t, std::int64_t>> ids;
        json list = json::array();
        for (std::size_t k = 0; k < next() % 4; ++k) {
            ids.emplace_back(static_cast<std::uint32_t>(next() % kMaxDeviceId), d.server_id + k);
            list.push_back({{"device_id", ids.back().first}, {"server_id", ids.back().second}});
        }
        ASSERT_EQ(encode_send_ok(id, ids), encode_ok(id, {{"server_ids", list}}));
    }
    // A sender id that needs escaping goes through nlohmann (never produced, but safe).
    Delivery odd;
    odd.from = "a\"b\\c\x01";
    EXPECT_EQ(encode_deliver(odd), encode_deliver_json(odd));
    // Notices keep the nlohmann path.
    Delivery notice;
    notice.is_notice = true;
    notice.notice = "checkin";
    notice.text = "Hi";
    EXPECT_EQ(encode_deliver(notice), encode_deliver_json(notice));
}

}  // namespace
}  // namespace ariadne::gateway
