// A fixed pool of threads running blocking tasks in FIFO order.
#include "ariadne/core/worker_pool.h"

namespace ariadne::gateway {

WorkerPool::WorkerPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    if (threads == 0) threads = 1;
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    }
}

void WorkerPool::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
}

bool WorkerPool::try_post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || tasks_.size() >= max_queued_) return false;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

std::size_t WorkerPool::queued() {
    std::lock_guard lock(mutex_);
    return tasks_.size();
}

void WorkerPool::run() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (...) {
        }
    }
}

}  // namespace ariadne::gateway
