// The HTTPS surfaces the upgrade fixture is written and read through, driven with curl
// against the real server: the survivor page (/notes, a browser with a cookie jar) and the
// admin API (/v1/admin/, bearer tokens). Also the fixture's file helpers (base64 files in
// secrets.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace ariadne::upgrade {

using e2e::Json;

/// One entry of her thread on the survivor page, oldest first.
struct PageEntry {
    bool from_her = false;  // "me" on the page; otherwise her caseworkers' reply
    std::string text;
    bool operator==(const PageEntry&) const = default;
};

/// Her browser on /notes: a cookie jar in `jar`, the form token read from each page.
/// Throws std::runtime_error when a page does not look like the survivor page.
class NotesPage {
  public:
    NotesPage(std::uint16_t port, std::filesystem::path jar);
    /// Signs in with her recovery code; returns the page's HTTP status and body.
    e2e::ProcessResult login(const std::string& recovery_code);
    /// Sends `text` from the page (she must be signed in).
    e2e::ProcessResult send(const std::string& text);
    /// Her thread as the page shows it now.
    std::vector<PageEntry> thread();

  private:
    e2e::ProcessResult post(const std::string& form);
    std::string base_;
    std::filesystem::path jar_;
};

/// Her thread parsed from the page's HTML (entries of <ol id="thread">, unescaped).
std::vector<PageEntry> parse_thread(const std::string& html);

struct HttpAnswer {
    int status = 0;
    Json body;
};
/// One admin API request on 127.0.0.1:`port` (JSON body when not empty; bearer `token`).
HttpAnswer admin_api(std::uint16_t port, const std::string& method, const std::string& path,
                     const std::string& body = "", const std::string& token = "");

std::string read_binary(const std::filesystem::path& path);
void write_binary(const std::filesystem::path& path, const std::string& bytes);
std::string base64(const std::string& bytes);
std::string unbase64(const std::string& text);

}  // namespace ariadne::upgrade
