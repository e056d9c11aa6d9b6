// Follows WebSocket frame headers to know how much of a frame is still to come.
#include "frame_tracker.h"

#include <algorithm>

namespace ariadne::gateway::net_detail {

void FrameTracker::feed(const unsigned char* p, std::size_t n) noexcept {
    while (n > 0) {
        if (payload_left_ > 0) {
            std::uint64_t k = std::min<std::uint64_t>(n, payload_left_);
            payload_left_ -= k;
            p += k;
            n -= static_cast<std::size_t>(k);
            continue;
        }
        header_[have_++] = *p++;
        --n;
        if (have_ == 2) {
            unsigned len7 = header_[1] & 0x7f;
            need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header_[1] & 0x80) ? 4 : 0);
        }
        if (have_ >= 2 && have_ == need_) {
            unsigned len7 = header_[1] & 0x7f;
            std::uint64_t length = len7;
            if (len7 >= 126) {
                length = 0;
                std::size_t bytes = len7 == 126 ? 2 : 8;
                for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | header_[2 + i];
            }
            payload_left_ = length;
            have_ = 0;
            need_ = 2;
        }
    }
}

}  // namespace ariadne::gateway::net_detail
