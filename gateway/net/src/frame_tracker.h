// Follows the WebSocket frame headers in the plaintext a client sends (RFC 6455 5.2), only to
// know how much of the current frame is still to come when the server closes (the lingering
// close in tls_stream.cpp reads and discards that much before it closes the socket).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ariadne::gateway::net_detail {

/// Not thread-safe: it belongs to one connection and is fed on that connection's strand.
/// Any byte sequence is accepted; it never throws.
class FrameTracker {
  public:
    /// Follows `n` more bytes of the client's plaintext, in the order received.
    void feed(const unsigned char* p, std::size_t n) noexcept;
    /// Payload bytes of the current frame not received yet (0 between frames).
    std::uint64_t unread() const noexcept { return payload_left_; }

  private:
    unsigned char header_[14] = {};
    std::size_t have_ = 0;
    std::size_t need_ = 2;
    std::uint64_t payload_left_ = 0;
};

}  // namespace ariadne::gateway::net_detail
