// A fixed pool of threads for blocking work (Argon2id password checks, mailbox reads) that
// must not run on network threads. Tasks run in FIFO order across the pool.
//
// Errors: the constructor throws std::system_error if a thread cannot be started; the other
// methods throw nothing but std::bad_alloc. A task's own exceptions are swallowed, so a task
// must report its failures itself. Ownership: tasks are owned by the pool until they run;
// what they capture must outlive the pool or be shared. Thread safety: every method is safe
// from any thread; shutdown() called from a task does not join that task's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ariadne::gateway {

class WorkerPool {
  public:
    /// Starts `threads` threads (at least one). `max_queued`: tasks waiting (not yet
    /// started) beyond which try_post() refuses; post() ignores it.
    explicit WorkerPool(std::size_t threads, std::size_t max_queued = SIZE_MAX);
    /// Runs the tasks already queued, then joins the threads.
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// Queues `task`. Exceptions escaping a task are swallowed (a task reports its own).
    /// After shutdown() tasks are dropped.
    void post(std::function<void()> task);

    /// Queues `task` unless max_queued tasks are already waiting or the pool is shut down;
    /// returns whether it was queued.
    [[nodiscard]] bool try_post(std::function<void()> task);

    /// Tasks queued and not yet started.
    std::size_t queued();

    /// Runs the tasks already queued and joins the threads. Idempotent.
    void shutdown();

  private:
    void run();
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::size_t max_queued_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace ariadne::gateway
