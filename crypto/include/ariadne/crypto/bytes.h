// Byte strings, encodings and randomness shared by every area of Ariadne.
// All functions are thread-safe (they hold no state; randomness comes from OpenSSL's
// thread-safe default DRBG).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Views a string's characters as bytes (no copy).
inline ByteView as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(ByteView data);

/// Strict base64 decode: standard alphabet, padding required, no whitespace.
/// Throws Error(invalid_argument) naming the problem on any malformed input.
Bytes base64_decode(std::string_view text);

/// Lower-case hexadecimal.
std::string hex_encode(ByteView data);

/// `n` bytes from a cryptographically secure generator. Throws Error(internal) on failure.
Bytes random_bytes(std::size_t n);

/// Uniform random integer in [0, bound) without modulo bias. `bound` must be > 0.
std::uint32_t random_uniform(std::uint32_t bound);

/// Constant-time comparison (length is not secret).
bool equal_constant_time(ByteView a, ByteView b) noexcept;

/// Overwrites memory in a way the compiler cannot elide.
void wipe(void* data, std::size_t size) noexcept;

/// A byte buffer that is wiped when destroyed: use it for keys and derived secrets.
class SecretBytes {
  public:
    SecretBytes() = default;
    explicit SecretBytes(Bytes b) : bytes_(std::move(b)) {}
    explicit SecretBytes(std::size_t n) : bytes_(n) {}
    SecretBytes(const SecretBytes&) = default;
    SecretBytes& operator=(const SecretBytes&) = default;
    SecretBytes(SecretBytes&&) noexcept = default;
    SecretBytes& operator=(SecretBytes&& o) noexcept {
        if (this != &o) {
            wipe(bytes_.data(), bytes_.size());
            bytes_ = std::move(o.bytes_);
        }
        return *this;
    }
    ~SecretBytes() { wipe(bytes_.data(), bytes_.size()); }

    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return bytes_.empty(); }
    ByteView view() const noexcept { return {bytes_.data(), bytes_.size()}; }

  private:
    Bytes bytes_;
};

}  // namespace ariadne::crypto
