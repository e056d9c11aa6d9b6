// Outbound SMS: a caseworker's reply decided again as it leaves, split into parts and handed
// to Kannel one by one, each part tracked in the outbox (storage::SmsOutbox) until the reply
// is settled once; and check-in notices, which are sent without tracking.
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_gateway.h"
#include "ariadne/adapters/sms_text.h"
#include "ariadne/core/server_key.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/policies/clock.h"
#include "ariadne/services/consent_policy.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/policy_store.h"
#include "ariadne/storage/sms_outbox.h"
#include "kannel_client.h"
#include "sms_gateway_impl.h"

namespace ariadne::adapters {

namespace {

constexpr std::size_t kMaxReplyParts = 10;
// Delivery reports Kannel sends: 1 delivered to phone, 2 not delivered, 16 refused by SMSC.
constexpr int kDlrMask = 1 | 2 | 16;

/// The user-data header of part `sequence` (1-based) of `total`: one information element,
/// IEI 0x00 "concatenated short messages, 8-bit reference" (6 octets in all, so a part holds
/// 153 GSM-7 septets or 67 UCS-2 units: sms_text.h splits accordingly).
std::string concatenation_udh(unsigned char reference, std::size_t total, std::size_t sequence) {
    return std::string{0x05,
                       0x00,
                       0x03,
                       static_cast<char>(reference),
                       static_cast<char>(total),
                       static_cast<char>(sequence)};
}

}  // namespace

SmsGateway::Impl::OutboxState SmsGateway::Impl::outbox(std::int64_t server_id) {
    OutboxState st;
    auto parts = outbox_call([&](storage::SmsOutbox& o) { return o.parts(server_id); });
    for (const auto& p : parts) {
        st.account = p.account;
        ++st.parts;
        if (p.state == "delivered") {
            ++st.delivered;
        } else if (p.state == "sending") {
            ++st.sending;
        } else if (p.state != "sent" && st.failure.empty()) {
            st.failure = p.state;
        }
    }
    return st;
}

void SmsGateway::Impl::settle(std::int64_t server_id, const std::string& account,
                              const std::string& failure) {
    {
        std::lock_guard lock(settling_mutex);
        if (!settling.insert(server_id).second) return;
    }
    if (outbox(server_id).parts > 0) {
        if (hub.acknowledge(account, server_id, failure)) {
            outbox_call([&](storage::SmsOutbox& o) { o.forget(server_id, account); });
            if (!failure.empty()) {
                spdlog::warn(
                    "sms: a reply to account {} was not delivered ({}); the caseworker got a "
                    "failed receipt",
                    account, failure);
            }
        } else {
            spdlog::warn("sms: the reply {} to account {} could not be settled yet", server_id,
                         account);
        }
    }
    std::lock_guard lock(settling_mutex);
    settling.erase(server_id);
}

std::string SmsGateway::Impl::dlr_url(std::int64_t server_id, std::size_t part) const {
    const std::string ref = std::to_string(server_id) + "-" + std::to_string(part);
    return options.callback_base + options.path + "/dlr?ref=" + ref +
           "&mac=" + dlr_mac(options.inbound_token, ref) + "&type=%d";
}

std::size_t SmsGateway::Impl::send_parts(const std::string& number, std::string_view text,
                                         std::int64_t server_id, const std::string& account) {
    SmsSegments segments = split_sms(text);
    if (segments.parts.empty() || segments.parts.size() > kMaxReplyParts) return 0;
    if (server_id > 0) {
        for (std::size_t i = 0; i < segments.parts.size(); ++i) {
            outbox_call([&](storage::SmsOutbox& o) {
                o.add_sending(server_id, static_cast<std::int64_t>(i), account);
            });
        }
    }
    std::size_t accepted = 0;
    const std::size_t total = segments.parts.size();
    // One reference number per concatenated message (3GPP TS 23.040 9.2.3.24.1): her phone
    // joins the parts with the same reference, in sequence order, into one message.
    const auto reference = static_cast<unsigned char>(next_concat_reference++);
    for (std::size_t i = 0; i < total; ++i) {
        detail::SendSms sms;
        sms.to = number;
        sms.from = options.sender;
        sms.text = std::move(segments.parts[i]);
        sms.ucs2 = segments.encoding == SmsEncoding::ucs2;
        if (total > 1) sms.udh = concatenation_udh(reference, total, i + 1);
        if (server_id > 0) {
            sms.dlr_mask = kDlrMask;
            sms.dlr_url = dlr_url(server_id, i);
        }
        auto result = detail::post_sendsms(endpoint, sms);
        crypto::wipe(sms.text.data(), sms.text.size());
        crypto::wipe(sms.to.data(), sms.to.size());
        if (!result.accepted()) {
            spdlog::error(
                "sms: Kannel did not take part {} of a message to account {}: {} "
                "(HTTP {})",
                i + 1, account, result.error, result.status);
            if (server_id > 0) {
                // 403 is Kannel's "Not routable. Do not try again.": the network side
                // refused it (as a DLR 16 would say); anything else: Kannel not usable now.
                outbox_call([&](storage::SmsOutbox& o) {
                    o.fail_from(server_id, static_cast<std::int64_t>(i), account,
                                result.status == 403 ? "sms_rejected" : "sms_unavailable");
                });
            }
            break;
        }
        if (server_id > 0) {
            // Kannel has it: from now on only its delivery report settles this part (a
            // report may already have come in, so only 'sending' changes).
            outbox_call([&](storage::SmsOutbox& o) {
                o.mark_sent(server_id, static_cast<std::int64_t>(i), account);
            });
        }
        ++accepted;
    }
    for (auto& p : segments.parts) crypto::wipe(p.data(), p.size());
    return accepted;
}

void SmsGateway::Impl::on_reply(EdgeReply& reply) {
    auto c = gateway::find_survivor_case(policies, reply.survivor_account);
    if (!c || c->duress_account) return;
    auto verified = gateway::sms_thread_verified(policies, c->case_code);
    if (!verified) return;  // not an SMS thread (the web page reads her history)
    // From here on this handler settles the reply itself (EdgeHub::acknowledge, through
    // settle()) or leaves it for the delivery reports: never a "delivered" receipt for an
    // SMS that did not reach her phone.
    reply.acknowledge_later = true;
    OutboxState already = outbox(reply.server_id);
    if (already.parts > 0) {
        // Handed to Kannel before a restart: never twice. Settle what the reports said,
        // or keep waiting for them.
        if (!already.failure.empty()) {
            settle(reply.server_id, reply.survivor_account, already.failure);
        } else if (already.delivered == already.parts) {
            settle(reply.server_id, reply.survivor_account, "");
        } else if (already.sending > 0) {
            // The gateway stopped while Kannel was being handed a part: whether Kannel
            // took it is unknown, so it is neither resent nor reported delivered.
            settle(reply.server_id, reply.survivor_account, "sms_unconfirmed");
        }
        return;
    }
    auto not_sent = [&](const std::string& reason) {
        // Refused as it was about to leave: the caseworker gets a failed receipt with
        // the reason instead of silence; nothing is retried.
        if (!hub.acknowledge(reply.survivor_account, reply.server_id, reason)) {
            spdlog::warn("sms: the refused reply {} to account {} could not be settled yet",
                         reply.server_id, reply.survivor_account);
        }
    };
    if (!*verified) {
        spdlog::warn("sms: reply for case {} not sent: the number is not verified",
                     c->case_code.str());
        not_sent(policies::to_string(policies::ReasonCode::no_consent));
        return;
    }
    auto number = gateway::verified_sms_number(policies, key, c->case_code);
    if (!number) {
        not_sent(policies::to_string(policies::ReasonCode::no_consent));
        return;
    }
    // Decided again at the moment it leaves for the carrier (consent for sms/replies,
    // withdrawal, quiet hours, duress lock), audited without content.
    auto d = policies.decide_and_record(
        c->case_code, policies::ChannelRef::make(policies::ChannelKind::sms), number->address_ref,
        policies::Purpose::replies, policies::now_utc(), reply.from_account);
    if (!d.allowed) {
        crypto::wipe(number->number.data(), number->number.size());
        spdlog::warn("sms: reply for case {} not sent: {}", c->case_code.str(),
                     policies::to_string(d.reason));
        not_sent(policies::to_string(d.reason));
        return;
    }
    std::size_t sent =
        send_parts(number->number, reply.text, reply.server_id, reply.survivor_account);
    crypto::wipe(number->number.data(), number->number.size());
    if (sent > 0) {
        spdlog::info("sms: reply for case {} handed to Kannel ({} part(s))", c->case_code.str(),
                     sent);
    }
    // Acknowledged when the delivery reports say every part reached her phone; a part
    // Kannel did not take, or a failed report, settles it as not delivered.
    OutboxState now = outbox(reply.server_id);
    if (now.parts == 0 && sent == 0) {
        not_sent("sms_too_long");  // over kMaxReplyParts: nothing was handed to Kannel
    } else if (!now.failure.empty()) {
        settle(reply.server_id, reply.survivor_account, now.failure);
    }
}

bool SmsGateway::send_notice(const policies::CaseCode& code, std::string_view text) {
    auto number = gateway::verified_sms_number(impl_->policies, impl_->key, code);
    if (!number) return false;
    const std::size_t parts = split_sms(text).parts.size();
    std::size_t sent = impl_->send_parts(number->number, text, 0, code.str());
    crypto::wipe(number->number.data(), number->number.size());
    return parts > 0 && sent == parts;
}

}  // namespace ariadne::adapters
