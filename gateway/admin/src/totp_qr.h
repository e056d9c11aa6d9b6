// The caseworker's authenticator enrolment (otpauth:// URI) as a QR code: an SVG for the admin
// API's answers and half-block characters for the terminal. Private to gateway/admin.
// Encoded by libqrencode exactly as `qrencode` encodes it by default (8-bit mode, case
// sensitive), at error correction level M. Throws AdminError{invalid_field, "otpauth_uri"}
// if the text cannot be encoded (longer than a QR code holds). Thread-safe.
#pragma once

#include <string>
#include <vector>

namespace ariadne::gateway {

/// The module matrix, `width` × `width`, row by row; true is dark. No quiet zone.
struct QrModules {
    int width = 0;
    std::vector<bool> dark;
    bool at(int x, int y) const { return dark[static_cast<std::size_t>(y * width + x)]; }
};

QrModules encode_qr(const std::string& text);

/// A standalone SVG: a white square with a 4-module quiet zone, one 1×1 black path square
/// ("M{x} {y}h1v1h-1z") per dark module, in module units (viewBox).
std::string qr_svg(const QrModules& qr);

/// Dark modules on a light background, two rows per line with '▀', '▄', '█' and ' ' drawn in
/// ANSI black on white (so a dark terminal theme cannot invert it), 4-module quiet zone.
std::string qr_terminal(const QrModules& qr);

}  // namespace ariadne::gateway
