// SMS text encoding and segmentation (3GPP TS 23.038 / 23.040), so a long reply is split the
// way the network will count it, before it is handed to Kannel.
//
//   GSM 7-bit default alphabet: 160 septets in one SMS, 153 per part of a concatenated SMS
//   (the user-data header takes 7); characters of the extension table ( ^ { } \ [ ~ ] | € and
//   form feed) take two septets and are never split from their escape.
//   Otherwise UCS-2: 70 UTF-16 code units in one SMS, 67 per part; a surrogate pair (an
//   emoji) is never split.
//
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::adapters {

enum class SmsEncoding { gsm7, ucs2 };

struct SmsSegments {
    SmsEncoding encoding = SmsEncoding::gsm7;
    std::vector<std::string> parts;  // UTF-8 text of each part, in order
};

/// The encoding a text needs: gsm7 if every character is in the GSM default alphabet or its
/// extension table, else ucs2. Invalid UTF-8 throws AdapterError(invalid_input).
SmsEncoding sms_encoding(std::string_view utf8);

/// Splits `utf8` into the parts the network will deliver (one part if it fits in a single
/// SMS). An empty text gives no parts. Invalid UTF-8 throws AdapterError(invalid_input).
SmsSegments split_sms(std::string_view utf8);

}  // namespace ariadne::adapters
