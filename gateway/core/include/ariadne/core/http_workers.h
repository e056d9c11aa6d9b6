// The threads that run HTTPS route handlers (http_routes.h): one WorkerPool per
// HttpRouteClass, each with its own bounded queue. A flood of survivor-page sign-ins (an
// Argon2id check each) fills only the page queue; the admin API and Kannel's inbound SMS and
// delivery reports keep their own threads.
//
// Errors: the constructor throws std::system_error if a thread cannot be started. Ownership:
// the network layer owns one HttpWorkers per server; what a task captures must outlive it
// (shutdown() runs the queued tasks first). Thread safety: every method is safe from any
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "ariadne/core/http_routes.h"
#include "ariadne/core/worker_pool.h"

namespace ariadne::gateway {

struct HttpWorkerOptions {
    std::uint32_t page_threads = 2;   // survivor page (sign-ins cost one Argon2id each)
    std::uint32_t sms_threads = 1;    // /sms/inbound, /sms/dlr
    std::uint32_t admin_threads = 1;  // /v1/admin/
    std::size_t max_queued = 64;      // per class: requests waiting beyond it get 503
};

class HttpWorkers {
  public:
    explicit HttpWorkers(const HttpWorkerOptions& options);
    HttpWorkers(const HttpWorkers&) = delete;
    HttpWorkers& operator=(const HttpWorkers&) = delete;

    /// Queues `task` on the pool of `route_class`; false when that pool's queue is full (the
    /// caller answers 503) or the pools are shut down.
    [[nodiscard]] bool post(HttpRouteClass route_class, std::function<void()> task);

    /// Runs the tasks already queued and joins every thread. Idempotent.
    void shutdown();

  private:
    WorkerPool& pool(HttpRouteClass route_class);
    WorkerPool page_;
    WorkerPool sms_;
    WorkerPool admin_;
};

}  // namespace ariadne::gateway
