#include "ustar.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage::ustar {

namespace {

constexpr std::size_t kBlock = 512;
using Block = std::array<unsigned char, kBlock>;

[[noreturn]] void damaged(const std::string& why) {
    throw Error(ErrorKind::corrupt, 0, "The backup file is damaged: " + why + ".");
}

void write_all(std::FILE* out, const void* data, std::size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, out) != n) {
        throw Error(ErrorKind::full, 0, "The backup file cannot be written (disk full?).");
    }
}

void octal(unsigned char* field, std::size_t width, std::uint64_t value) {
    // width - 1 zero-padded octal digits and a NUL (callers keep values in range). Written
    // by hand: snprintf's "%0*llo" cannot be proven to fit, which -O2 warns about.
    field[width - 1] = '\0';
    for (std::size_t i = width - 1; i-- > 0;) {
        field[i] = static_cast<unsigned char>('0' + (value & 7));
        value >>= 3;
    }
}

unsigned checksum(const Block& b) {
    unsigned sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : b[i];
    return sum;
}

std::uint64_t parse_number(const unsigned char* field, std::size_t width, const char* what) {
    if (field[0] & 0x80) {  // GNU base-256: big-endian in the remaining bytes
        std::uint64_t v = 0;
        for (std::size_t i = 1; i < width; ++i) {
            if (v >> 56) damaged(std::string("a header's ") + what + " is out of range");
            v = (v << 8) | field[i];
        }
        return v;
    }
    std::uint64_t v = 0;
    std::size_t i = 0;
    while (i < width && field[i] == ' ') ++i;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
        if (v >> 60) damaged(std::string("a header's ") + what + " is out of range");
        v = v * 8 + (field[i] - '0');
    }
    if (i < width && field[i] != 0 && field[i] != ' ') {
        damaged(std::string("a header's ") + what + " is not a number");
    }
    return v;
}

}  // namespace

void Writer::header(const std::string& name, std::uint64_t size, std::int64_t mtime) {
    if (name.empty() || name.size() >= 100) {
        throw Error(ErrorKind::other, 0, "The member name " + name + " is too long for ustar.");
    }
    Block b{};
    std::memcpy(b.data(), name.data(), name.size());
    octal(b.data() + 100, 8, 0600);
    octal(b.data() + 108, 8, 0);
    octal(b.data() + 116, 8, 0);
    if (size < (std::uint64_t{1} << 33)) {
        octal(b.data() + 124, 12, size);
    } else {
        b[124] = 0x80;
        for (int i = 0; i < 8; ++i) b[135 - i] = static_cast<unsigned char>(size >> (8 * i));
    }
    octal(b.data() + 136, 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)));
    b[156] = '0';
    std::memcpy(b.data() + 257, "ustar", 6);
    std::memcpy(b.data() + 263, "00", 2);
    std::snprintf(reinterpret_cast<char*>(b.data() + 148), 8, "%06o", checksum(b));
    b[155] = ' ';
    write_all(out_, b.data(), kBlock);
}

void Writer::pad(std::uint64_t size) {
    static const Block zeros{};
    if (size % kBlock) write_all(out_, zeros.data(), kBlock - size % kBlock);
}

void Writer::add(const std::string& name, std::uint64_t size, std::FILE* in, std::int64_t mtime) {
    header(name, size, mtime);
    std::array<char, 1 << 16> buf;
    std::uint64_t left = size;
    while (left > 0) {
        std::size_t n = std::fread(buf.data(), 1, std::min<std::uint64_t>(left, buf.size()), in);
        if (n == 0) {
            throw Error(ErrorKind::other, 0, "The member " + name + " cannot be read back.");
        }
        write_all(out_, buf.data(), n);
        left -= n;
    }
    pad(size);
}

void Writer::add(const std::string& name, const std::string& content, std::int64_t mtime) {
    header(name, content.size(), mtime);
    write_all(out_, content.data(), content.size());
    pad(content.size());
}

void Writer::finish() {
    static const Block zeros{};
    write_all(out_, zeros.data(), kBlock);
    write_all(out_, zeros.data(), kBlock);
}

std::optional<Entry> Reader::next() {
    // Skip what is left of the previous member and its padding.
    std::uint64_t skip = remaining_ + padding_;
    if (skip != 0 && std::fseek(in_, static_cast<long>(skip), SEEK_CUR) != 0) {
        damaged("it ends in the middle of a member");
    }
    remaining_ = padding_ = 0;
    Block b;
    if (std::fread(b.data(), 1, kBlock, in_) != kBlock) damaged("it ends without an end marker");
    if (std::all_of(b.begin(), b.end(), [](unsigned char c) { return c == 0; })) {
        return std::nullopt;
    }
    if (std::memcmp(b.data() + 257, "ustar", 5) != 0) damaged("a header is not a ustar header");
    if (parse_number(b.data() + 148, 8, "checksum") != checksum(b)) {
        damaged("a header's checksum does not match");
    }
    if (b[156] != '0' && b[156] != 0) damaged("a member is not a regular file");
    Entry e;
    e.name.assign(reinterpret_cast<const char*>(b.data()),
                  strnlen(reinterpret_cast<const char*>(b.data()), 100));
    if (b[345] != 0) {  // ustar prefix: we never write one
        damaged("the member " + e.name + " has a name prefix");
    }
    e.size = parse_number(b.data() + 124, 12, "size");
    remaining_ = e.size;
    padding_ = e.size % kBlock ? kBlock - e.size % kBlock : 0;
    return e;
}

std::size_t Reader::read(void* buf, std::size_t n) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
    if (want == 0) return 0;
    std::size_t got = std::fread(buf, 1, want, in_);
    if (got != want) damaged("it ends in the middle of a member");
    remaining_ -= got;
    return got;
}

}  // namespace ariadne::storage::ustar
