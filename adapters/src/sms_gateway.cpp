// SmsGateway's life and routing: the adapter's state, the routes Kannel calls, the
// token check they share, and the hooks `ariadne serve` installs.
#include "ariadne/adapters/sms_gateway.h"

#include <mutex>
#include <string>

#include "ariadne/adapters/edge.h"
#include "ariadne/adapters/sms_text.h"
#include "ariadne/core/store.h"
#include "ariadne/crypto/bytes.h"
#include "ariadne/services/sms_numbers.h"
#include "ariadne/storage/sqlite.h"
#include "sms_gateway_impl.h"
#include "unix_clock.h"

namespace ariadne::adapters {

using Code = AdapterError::Code;
using gateway::HttpRequest;
using gateway::HttpResponse;

namespace detail {

bool equal_secret(std::string_view given, std::string_view expected) {
    if (given.size() != expected.size()) {
        (void)crypto::equal_constant_time(crypto::as_bytes(expected), crypto::as_bytes(expected));
        return false;
    }
    return crypto::equal_constant_time(crypto::as_bytes(given), crypto::as_bytes(expected));
}

}  // namespace detail

using detail::equal_secret;
using detail::invalid;
using detail::text;
using detail::unix_now_ms;

SmsGateway::Impl::Impl(gateway::Store& s, policies::PolicyStore& p, const gateway::ServerKey& k,
                       EdgeHub& h, SmsGatewayOptions o)
    : store(s),
      policies(p),
      key(k),
      hub(h),
      options(std::move(o)),
      limiter(options.inbound_per_minute, options.per_number_per_minute),
      code_limiter(options.code_checks_per_minute, options.code_checks_per_number_per_minute) {
    validate(options);
    for (const auto& id : options.on_duty) {
        auto a = store.find_account(id);
        if (!a || a->role != gateway::Role::caseworker) {
            invalid("on_duty", "no caseworker account has the id " + id);
        }
    }
    endpoint.host = options.kannel_host;
    endpoint.port = options.kannel_port;
    endpoint.username = options.kannel_username;
    endpoint.password = options.kannel_password;
    endpoint.timeout = options.kannel_timeout;
    try {
        sent_parts.emplace(policies);
    } catch (const storage::Error& e) {
        throw AdapterError(Code::storage,
                           std::string("the SMS outbox table cannot be created: ") + e.what());
    }
}

std::int64_t SmsGateway::Impl::now_ms() const { return unix_now_ms(options.clock_ms); }

bool SmsGateway::Impl::authorised(const HttpRequest& r) const {
    const std::string h = r.header("authorization");
    std::string given;
    if (h.rfind("Bearer ", 0) == 0) {
        given = h.substr(7);
    } else if (h.rfind("Basic ", 0) == 0) {
        crypto::Bytes decoded;
        try {
            decoded = crypto::base64_decode(h.substr(6));
        } catch (const std::exception&) {
            return false;
        }
        std::string pair(decoded.begin(), decoded.end());
        auto colon = pair.find(':');
        if (colon == std::string::npos) return false;
        given = pair.substr(colon + 1);
    } else {
        return false;
    }
    return equal_secret(given, options.inbound_token);
}

SmsGateway::SmsGateway(gateway::Store& store, policies::PolicyStore& policies,
                       const gateway::ServerKey& key, EdgeHub& hub, SmsGatewayOptions options)
    : impl_(std::make_unique<Impl>(store, policies, key, hub, std::move(options))) {
    hub.on_reply([impl = impl_.get()](EdgeReply& reply) { impl->on_reply(reply); });
}

SmsGateway::~SmsGateway() { impl_->hub.on_reply({}); }

void SmsGateway::register_routes(gateway::HttpRoutes& routes) {
    routes.add(
        impl_->options.path + "/", [this](const HttpRequest& r) { return handle(r); },
        gateway::HttpRouteClass::sms);
}

void SmsGateway::register_with(gateway::ExtensionRegistry& registry) {
    register_routes(registry.routes());
    registry.set_channel_sender(
        policies::ChannelKind::sms, [this](const policies::CheckinSend& send) {
            return send_notice(send.case_code, send.text) ? policies::SendOutcome::sent
                                                          : policies::SendOutcome::not_sent;
        });
    // Only the policy store is captured: the decision stays right if this adapter is gone.
    registry.set_device_channel(kEdgeDeviceId,
                                [&cases = impl_->policies](const policies::CaseCode& code) {
                                    return gateway::sms_thread_verified(cases, code).has_value()
                                               ? policies::ChannelKind::sms
                                               : policies::ChannelKind::web;
                                });
}

HttpResponse SmsGateway::handle(const HttpRequest& r) {
    const std::string& base = impl_->options.path;
    if (r.path == base + "/inbound") return impl_->inbound(r);
    if (r.path == base + "/dlr") return impl_->dlr(r);
    return text(404, "Not found.\n");
}

void SmsGateway::on_duress(std::function<void(const policies::CaseCode&)> hook) {
    std::lock_guard lock(impl_->hooks_mutex);
    impl_->duress_hook = std::move(hook);
}

void SmsGateway::on_unverified(std::function<void(const policies::CaseCode&)> hook) {
    std::lock_guard lock(impl_->hooks_mutex);
    impl_->unverified_hook = std::move(hook);
}

}  // namespace ariadne::adapters
