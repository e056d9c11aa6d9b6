// The route-class worker pools that run HTTPS handlers, each with its own bounded queue.
#include "ariadne/core/http_workers.h"

#include <algorithm>

namespace ariadne::gateway {

HttpWorkers::HttpWorkers(const HttpWorkerOptions& o)
    : page_(std::max<std::uint32_t>(1, o.page_threads), o.max_queued),
      sms_(std::max<std::uint32_t>(1, o.sms_threads), o.max_queued),
      admin_(std::max<std::uint32_t>(1, o.admin_threads), o.max_queued) {}

WorkerPool& HttpWorkers::pool(HttpRouteClass route_class) {
    switch (route_class) {
        case HttpRouteClass::sms:
            return sms_;
        case HttpRouteClass::admin:
            return admin_;
        case HttpRouteClass::page:
            break;
    }
    return page_;
}

bool HttpWorkers::post(HttpRouteClass route_class, std::function<void()> task) {
    return pool(route_class).try_post(std::move(task));
}

void HttpWorkers::shutdown() {
    page_.shutdown();
    sms_.shutdown();
    admin_.shutdown();
}

}  // namespace ariadne::gateway
