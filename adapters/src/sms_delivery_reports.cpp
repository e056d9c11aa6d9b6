// Delivery reports (`{path}/dlr`): Kannel's report for one part of a reply, authorised by
// the mac of its URL, recorded in the outbox; the reply is settled once every part is
// delivered or one part failed.
#include <algorithm>
#include <string>
#include <string_view>

#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/hkdf.h"
#include "ariadne/storage/sms_outbox.h"
#include "sms_gateway_impl.h"

namespace ariadne::adapters {

using Code = AdapterError::Code;
using gateway::HttpRequest;
using gateway::HttpResponse;

using detail::equal_secret;
using detail::text;

namespace {

/// Value of `name` in an undecoded query string, or "" (values here are digits only).
std::string query_value(const std::string& query, const std::string& name) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t end = query.find('&', pos);
        if (end == std::string::npos) end = query.size();
        std::string_view pair(query.data() + pos, end - pos);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            return std::string(pair.substr(name.size() + 1));
        }
        pos = end + 1;
    }
    return {};
}

bool all_digits(std::string_view s, std::size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string dlr_mac(std::string_view inbound_token, std::string_view ref) {
    // HKDF-Expand is HMAC-SHA256 keyed by the extracted token: a PRF of `ref`.
    return crypto::hex_encode(crypto::hkdf_sha256(crypto::as_bytes(inbound_token),
                                                  crypto::as_bytes("ariadne/v1/sms-dlr-mac"),
                                                  crypto::as_bytes(ref), 16)
                                  .view());
}

HttpResponse SmsGateway::Impl::dlr(const HttpRequest& r) {
    if (r.method != "GET" && r.method != "POST") return text(405, "Use GET.\n");
    if (!limiter.allow_total(now_ms())) return text(429, "Too many requests: retry later.\n");
    const std::string ref = query_value(r.query, "ref");
    // Kannel calls the dlr-url Ariadne gave it, whose `mac` authorises this one ref (the
    // token is not in it: Kannel writes URLs it cannot fetch into its error log). The
    // token in a header is accepted too.
    if (!equal_secret(query_value(r.query, "mac"), dlr_mac(options.inbound_token, ref)) &&
        !authorised(r)) {
        return text(401, "mac: missing or wrong for this ref (or the token is wrong).\n");
    }
    const std::string type = query_value(r.query, "type");
    const auto dash = ref.find('-');
    if (dash == std::string::npos || !all_digits(ref.substr(0, dash), 18) ||
        !all_digits(ref.substr(dash + 1), 2)) {
        return text(400, "ref: must be <server id>-<part>.\n");
    }
    if (!all_digits(type, 3)) return text(400, "type: must be a Kannel DLR type number.\n");
    const std::int64_t server_id = std::stoll(ref.substr(0, dash));
    const std::int64_t part = std::stoll(ref.substr(dash + 1));
    const int t = std::stoi(type);
    std::string state;
    if (t & 1) {
        state = "delivered";
    } else if (t & 2) {
        state = "sms_not_delivered";  // the network could not deliver it to her phone
    } else if (t & 16) {
        state = "sms_rejected";  // the SMS centre refused it
    }
    OutboxState before = outbox(server_id);
    if (before.parts == 0 || part >= before.parts) {
        return text(404, "ref: no SMS is waiting for this report.\n");
    }
    if (state.empty()) return text(200, "");  // buffered / accepted by the SMSC: not final
    // The first final report of a part counts; a repeated or contradicting one is ignored.
    outbox_call(
        [&](storage::SmsOutbox& o) { return o.set_final(server_id, part, before.account, state); });
    OutboxState after = outbox(server_id);
    if (!after.failure.empty()) {
        // One part lost is the reply lost: the caseworker learns it now, nothing is resent.
        settle(server_id, after.account, after.failure);
    } else if (after.parts > 0 && after.delivered == after.parts) {
        settle(server_id, after.account, "");
    }
    return text(200, "");
}

}  // namespace ariadne::adapters
