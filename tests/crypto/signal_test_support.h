// Shared helpers for the Signal-core tests: temporary directories and file scanning.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ariadne/crypto/bytes.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/session.h"

namespace ariadne::crypto::testing {

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ariadne-crypto-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline Bytes read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline bool contains(const Bytes& haystack, ByteView needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
           haystack.end();
}

/// A store key that is cheap to use (no Argon2): most tests are not about key derivation.
inline StoreKey fast_key() { return StoreKey::from_bytes(random_bytes(32)); }

/// Runs `f`, expecting Error with `code`; returns the message for further checks.
template <typename F>
std::string expect_error(ErrorCode code, F&& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(to_string(e.code()), std::string(to_string(code))) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected Error(" << to_string(code) << ")";
    return {};
}

}  // namespace ariadne::crypto::testing
