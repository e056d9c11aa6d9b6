#include "totp_qr.h"

#include <qrencode.h>

#include <memory>

#include "ariadne/admin/admin_error.h"

namespace ariadne::gateway {

namespace {

constexpr int kQuietZone = 4;

}  // namespace

QrModules encode_qr(const std::string& text) {
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!code) {
        throw AdminError(AdminErrorCode::invalid_field, "otpauth_uri",
                         "otpauth_uri: cannot be drawn as a QR code.");
    }
    QrModules qr;
    qr.width = code->width;
    qr.dark.resize(static_cast<std::size_t>(qr.width) * static_cast<std::size_t>(qr.width));
    for (std::size_t i = 0; i < qr.dark.size(); ++i) qr.dark[i] = (code->data[i] & 1) != 0;
    return qr;
}

std::string qr_svg(const QrModules& qr) {
    const int size = qr.width + 2 * kQuietZone;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 " +
                    std::to_string(size) + " " + std::to_string(size) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"" + std::to_string(size) +
                    "\" height=\"" + std::to_string(size) + "\" fill=\"#ffffff\"/><path d=\"";
    for (int y = 0; y < qr.width; ++y) {
        for (int x = 0; x < qr.width; ++x) {
            if (!qr.at(x, y)) continue;
            s += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) +
                 "h1v1h-1z";
        }
    }
    s += "\" fill=\"#000000\"/></svg>";
    return s;
}

std::string qr_terminal(const QrModules& qr) {
    const int size = qr.width + 2 * kQuietZone;
    auto dark = [&](int x, int y) {
        x -= kQuietZone;
        y -= kQuietZone;
        return x >= 0 && y >= 0 && x < qr.width && y < qr.width && qr.at(x, y);
    };
    std::string s;
    for (int y = 0; y < size; y += 2) {
        s += "\x1b[30;47m";  // black on white
        for (int x = 0; x < size; ++x) {
            bool top = dark(x, y), bottom = y + 1 < size && dark(x, y + 1);
            s += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        s += "\x1b[0m\n";
    }
    return s;
}

}  // namespace ariadne::gateway
