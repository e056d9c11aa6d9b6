// LISTEN/NOTIFY for gateway nodes sharing a PostgreSQL database (notifications.h): a listener
// thread polls its connection's socket (and a pipe that stops it), re-listens after a lost
// connection and then reports a possible gap with an empty payload.
#include "ariadne/sqlite/notifications.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>

#include "postgres.h"

namespace ariadne::sqlite {

namespace {

/// The channel name as an SQL identifier: lower-case letters, digits and _ only.
std::string checked_channel(std::string channel) {
    for (char c : channel) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            throw Error(ErrorKind::other, 0,
                        "A notification channel is named in lower-case letters, digits and _.");
        }
    }
    return channel;
}

PGconn* open_listener(const std::string& uri, const std::string& channel) {
    const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
    const char* values[] = {"ariadne-listen", "10", uri.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (conn == nullptr) return nullptr;
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return nullptr;
    }
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn, ("LISTEN " + channel).c_str());
    const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(conn);
        return nullptr;
    }
    return conn;
}

}  // namespace

Notifications::Notifications(std::string uri, std::string channel,
                             std::function<void(std::string_view)> on_message)
    : uri_(std::move(uri)),
      channel_(checked_channel(std::move(channel))),
      on_message_(std::move(on_message)) {
    ConnectionOptions options;
    sender_ = std::make_unique<Connection>(uri_, options);  // throws if unreachable
    if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw Error(ErrorKind::other, 0, "A pipe for the notification listener cannot be made.");
    }
    PGconn* first = open_listener(uri_, channel_);
    if (first == nullptr) {
        ::close(wake_pipe_[0]);
        ::close(wake_pipe_[1]);
        throw Error(ErrorKind::busy, 5,
                    "The database cannot be reached to listen for other nodes' news.",
                    Operation::open, "LISTEN failed");
    }
    listener_ = std::thread([this, first] {
        PGconn* conn = first;
        while (!stopping_.load()) {
            if (conn == nullptr) {
                conn = open_listener(uri_, channel_);
                if (conn == nullptr) {
                    pollfd p{wake_pipe_[0], POLLIN, 0};
                    ::poll(&p, 1, 1000);
                    continue;
                }
                on_message_("");  // re-listening: news may have been missed meanwhile
            }
            pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
            if (::poll(fds, 2, 1000) < 0) continue;
            if (fds[1].revents != 0) break;
            if (fds[0].revents == 0) continue;
            if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = nullptr;
                continue;
            }
            while (PGnotify* n = PQnotifies(conn)) {
                std::string payload = n->extra != nullptr ? n->extra : "";
                PQfreemem(n);
                try {
                    on_message_(payload);
                } catch (...) {
                    // A callback's failure must not stop the listener.
                }
            }
        }
        if (conn != nullptr) PQfinish(conn);
    });
}

Notifications::~Notifications() {
    stopping_.store(true);
    const char byte = 1;
    [[maybe_unused]] auto written = ::write(wake_pipe_[1], &byte, 1);
    if (listener_.joinable()) listener_.join();
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
}

bool Notifications::notify(std::string_view payload) noexcept {
    if (payload.size() > kMaxPayload) return false;
    std::lock_guard lock(send_mutex_);
    try {
        sender_->prepare("SELECT pg_notify(?1, ?2)").bind(1, channel_).bind(2, payload).run();
        return true;
    } catch (const std::exception&) {
        return false;  // the Connection reconnects on its next use
    }
}

}  // namespace ariadne::sqlite
