// Shared helpers for the policies tests: a temporary directory with a real SQLite file, and
// a few fixtures that build valid records.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "ariadne/storage/policy_store.h"

namespace ariadne::policies::testing {

class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "ariadne-policies-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

// Runs SQL on the file through a separate connection, as an attacker with file access would.
inline void raw_sql(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
}

inline Instant instant(std::chrono::sys_seconds t) { return Instant{t}; }

inline const Actor kCaseworker{AccountId("cw:1"), Role::caseworker};
inline const Actor kAdmin{AccountId("admin:1"), Role::admin};

inline Survivor survivor_in(const std::string& tz) {
    return Survivor{.case_code = CaseCode("K7Q-2F9"),
                    .initials = Initials("M.K."),
                    .language = LanguageTag("ro"),
                    .time_zone = tz,
                    .caseworkers = {AccountId("cw:1")}};
}

inline ConsentRecord consent(const CaseCode& code, ChannelRef channel, Purpose purpose,
                             ConsentAction action, Instant at) {
    return ConsentRecord{.case_code = code,
                         .channel = std::move(channel),
                         .address_ref = "addr:7f3a",
                         .purpose = purpose,
                         .action = action,
                         .evidence_ref = "form:2025-001",
                         .form_language = LanguageTag("ro"),
                         .recorded_by = AccountId("cw:1"),
                         .recorded_at = at};
}

}  // namespace ariadne::policies::testing
