// The frame decoder: every malformed frame gets the right error code and a sentence that
// names the field; valid frames decode to typed requests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ariadne/crypto/bytes.h"
#include "ariadne/gateway/codec.h"

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

}  // namespace
}  // namespace ariadne::gateway
