// A small blocking HTTP/1.1 client for Kannel's sendsms interface (smsbox `sendsms-port`),
// over a plain TCP socket to a loopback address — the only HTTP client of the adapters, in
// its own translation unit. The text travels in the POST body and the number in an
// X-Kannel-To header, so neither is ever part of a URL (Kannel logs URLs).
// Thread-safe (no shared state); each call opens and closes one connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ariadne::adapters::detail {

struct KannelEndpoint {
    std::string host = "127.0.0.1";  // an IPv4 loopback literal (checked by the config)
    std::uint16_t port = 13013;
    std::string username;
    std::string password;
    std::chrono::milliseconds timeout{5000};
};

struct SendSms {
    std::string to;       // normalised number
    std::string from;     // sender id; empty = Kannel's default
    std::string text;     // UTF-8, one SMS part
    bool ucs2 = false;    // coding 2 (UCS-2) instead of 0 (GSM 7-bit)
    std::string udh;      // binary user-data header (concatenation), sent hex-encoded; or ""
    int dlr_mask = 0;     // Kannel dlr-mask; 0 = no delivery report
    std::string dlr_url;  // with %d for the report type
};

struct SendSmsResult {
    int status = 0;     // HTTP status; 0 = no answer (connection refused, timeout)
    std::string error;  // why, without the number or text
    bool accepted() const { return status == 202 || status == 200; }
};

/// POST /cgi-bin/sendsms. Never throws; never logs.
SendSmsResult post_sendsms(const KannelEndpoint& endpoint, const SendSms& sms);

}  // namespace ariadne::adapters::detail
