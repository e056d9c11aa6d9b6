#include "ariadne/protocol/metrics.h"

#include <cstdio>

#include "ariadne/protocol/build_info.h"

namespace ariadne::gateway {

namespace {

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

void add_double(std::atomic<double>& target, double value) noexcept {
    double current = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(current, current + value, std::memory_order_relaxed)) {
    }
}

template <class T>
void scalar(std::string& out, const char* name, const char* type, const char* help,
            const std::atomic<T>& value) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += ' ';
    out += std::to_string(value.load(std::memory_order_relaxed));
    out += '\n';
}

}  // namespace

Histogram::Histogram(std::initializer_list<double> upper_bounds)
    : bounds_(upper_bounds), buckets_(bounds_.size() + 1) {}

void Histogram::observe(double value) noexcept {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    add_double(sum_, value);
    double current = max_.load(std::memory_order_relaxed);
    while (value > current &&
           !max_.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
    }
}

double Histogram::max() const noexcept { return max_.load(std::memory_order_relaxed); }

void Histogram::render(std::string& out, const char* name, const char* help) const {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
        out +=
            std::string(name) + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += std::string(name) + "_sum " + number(sum_.load(std::memory_order_relaxed)) + "\n";
    out += std::string(name) + "_count " + std::to_string(cumulative) + "\n";
}

std::string Metrics::render_prometheus() const {
    std::string out;
    out.reserve(4096);
    // The version and commit are label values (a character set CMake checked): a dashboard
    // shows what runs, and an upgrade is seen as a change of labels.
    out +=
        "# HELP ariadne_build_info The release and commit of the running binary.\n"
        "# TYPE ariadne_build_info gauge\n"
        "ariadne_build_info{version=\"";
    out += build_version();
    out += "\",commit=\"";
    out += build_commit();
    out += "\"} 1\n";
    scalar(out, "ariadne_connections_open", "gauge", "Open TLS connections.", connections_open);
    scalar(out, "ariadne_connections_total", "counter", "Accepted TCP connections.",
           connections_total);
    scalar(out, "ariadne_connections_refused_total", "counter",
           "Connections refused at accept by a connection cap (total or per address).",
           connections_refused);
    scalar(out, "ariadne_connections_cut_total", "counter",
           "Connections not logged in yet, closed to make room for a new one.", connections_cut);
    scalar(out, "ariadne_sessions_authenticated", "gauge", "Authenticated WebSocket sessions.",
           sessions_authenticated);
    scalar(out, "ariadne_frames_in_total", "counter", "WebSocket frames received.", frames_in);
    scalar(out, "ariadne_frames_out_total", "counter", "WebSocket frames sent.", frames_out);
    scalar(out, "ariadne_slow_consumers_closed_total", "counter",
           "Connections closed because their outbound queue exceeded 1 MiB.",
           slow_consumers_closed);
    scalar(out, "ariadne_store_queue_depth", "gauge", "Write jobs waiting for the store writer.",
           store_queue_depth);
    scalar(out, "ariadne_messages_stored_total", "counter", "Mailbox entries committed.",
           messages_stored);
    scalar(out, "ariadne_messages_acked_total", "counter", "Mailbox entries deleted on ack.",
           messages_acked);
    scalar(out, "ariadne_messages_expired_total", "counter",
           "Undelivered mailbox entries purged after their time to live.", messages_expired);
    scalar(out, "ariadne_commits_total", "counter", "Group commits of the store.", commits);
    scalar(out, "ariadne_commit_failures_total", "counter", "Group commits that failed.",
           commit_failures);
    scalar(out, "ariadne_auth_failures_total", "counter", "Failed authentication attempts.",
           auth_failures);
    scalar(out, "ariadne_rate_limited_total", "counter", "Requests refused by a rate limit.",
           rate_limited);
    commit_batch_size.render(out, "ariadne_commit_batch_size",
                             "Write jobs (messages count individually) per group commit.");
    send_commit_latency_seconds.render(out, "ariadne_send_commit_latency_seconds",
                                       "Time from a send being queued to its durable commit.");
    return out;
}

}  // namespace ariadne::gateway
