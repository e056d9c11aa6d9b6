// Counters and histograms exported at GET /metrics in the Prometheus text format (0.0.4).
// Every member is updated with relaxed atomics: safe from any thread, no locks, and a
// scrape may see counters a few microseconds apart (acceptable for monitoring).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace ariadne::gateway {

/// A cumulative histogram with fixed upper bounds (plus +Inf).
class Histogram {
  public:
    explicit Histogram(std::initializer_list<double> upper_bounds);
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    void observe(double value) noexcept;
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    /// Largest value observed so far (0 if none).
    double max() const noexcept;

    /// Appends `# HELP`, `# TYPE` and the _bucket/_sum/_count lines for `name`.
    void render(std::string& out, const char* name, const char* help) const;

  private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> buckets_;  // one per bound, then +Inf
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
    std::atomic<double> max_{0};
};

struct Metrics {
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> connections_refused{0};  // over a connection cap, at accept
    std::atomic<std::uint64_t> connections_cut{0};      // not logged in, cut for a newcomer
    std::atomic<std::int64_t> sessions_authenticated{0};
    std::atomic<std::uint64_t> frames_in{0};
    std::atomic<std::uint64_t> frames_out{0};
    std::atomic<std::uint64_t> slow_consumers_closed{0};
    std::atomic<std::int64_t> store_queue_depth{0};  // write jobs waiting for the writer
    std::atomic<std::uint64_t> messages_stored{0};
    std::atomic<std::uint64_t> messages_acked{0};
    std::atomic<std::uint64_t> messages_expired{0};
    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> commit_failures{0};
    std::atomic<std::uint64_t> auth_failures{0};
    std::atomic<std::uint64_t> rate_limited{0};
    Histogram commit_batch_size{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    Histogram send_commit_latency_seconds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   1};

    /// The whole exposition, ready to serve.
    std::string render_prometheus() const;
};

}  // namespace ariadne::gateway
