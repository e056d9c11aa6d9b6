#include "ariadne/storage/edge_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

namespace {

constexpr std::size_t kTagLength = 32;  // hex of a 16-byte keyed hash

[[noreturn]] void fail_dir(const std::filesystem::path& dir, const char* what,
                           const std::error_code& ec) {
    throw Error(
        ErrorKind::other, 0,
        "The edge directory " + dir.string() + " cannot be " + what + ": " + ec.message() + ".");
}

}  // namespace

bool EdgeFiles::is_tag(std::string_view tag) noexcept {
    return tag.size() == kTagLength && std::all_of(tag.begin(), tag.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

void EdgeFiles::create_directory() const {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) fail_dir(dir_, "created", ec);
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) fail_dir(dir_, "made private", ec);
}

std::filesystem::path EdgeFiles::identity_store(std::string_view tag) const {
    if (!is_tag(tag)) {
        throw std::invalid_argument("An edge device's tag must be 32 lowercase hex digits.");
    }
    return dir_ / (std::string(tag) + ".db");
}

std::filesystem::path EdgeFiles::working_copy(std::string_view tag, std::uint64_t n) const {
    if (!is_tag(tag)) {
        throw std::invalid_argument("An edge device's tag must be 32 lowercase hex digits.");
    }
    return dir_ / "work" / (std::string(tag) + "-" + std::to_string(n) + ".db");
}

void EdgeFiles::reset_working_directory() const {
    const auto work = dir_ / "work";
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    if (ec) fail_dir(work, "emptied", ec);
    std::filesystem::create_directories(work, ec);
    if (ec) fail_dir(work, "created", ec);
    std::filesystem::permissions(work, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) fail_dir(work, "made private", ec);
}

void EdgeFiles::remove_working_copy(const std::filesystem::path& path) noexcept {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ec;
        std::filesystem::remove(path.string() + suffix, ec);
    }
}

void EdgeFiles::write_working_copy(const std::filesystem::path& path,
                                   const std::vector<std::uint8_t>& image) {
    remove_working_copy(path);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    std::size_t written = 0;
    while (fd >= 0 && written < image.size()) {
        const auto n = ::write(fd, image.data() + written, image.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (fd < 0 || written != image.size()) {
        remove_working_copy(path);
        throw Error(ErrorKind::other, 0,
                    "A working copy of an edge store cannot be written: " +
                        std::string(std::strerror(err)) + ".");
    }
}

std::vector<std::filesystem::path> EdgeFiles::identity_stores() const {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir_, ec)) return out;
    std::filesystem::directory_iterator it(dir_, ec);
    if (ec) fail_dir(dir_, "listed", ec);
    while (it != std::filesystem::directory_iterator()) {
        const auto& p = it->path();
        std::error_code type_ec;
        if (p.extension() == ".db" && is_tag(p.stem().string()) && it->is_regular_file(type_ec)) {
            out.push_back(p);
        }
        it.increment(ec);
        if (ec) fail_dir(dir_, "listed", ec);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace ariadne::storage
