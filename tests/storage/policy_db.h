// A policy store on a real SQLite file in a fresh temporary directory, for the tests of the
// repositories that share its connection.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/policies/store.h"
#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

class PolicyDbTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-" + std::string(info->test_suite_name()) + "-" +
                std::to_string(::getpid()) + "-" + info->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        reopen();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    /// Closes and reopens the store: what a test reads afterwards was on disk.
    void reopen() {
        store_.reset();
        store_ = policies::PolicyStore::open((dir_ / "ariadne.db").string());
    }
    /// A second, independent connection to the same file (what another process would see).
    Connection outside() const { return Connection(dir_ / "ariadne.db", {}); }
    /// One integer from `sql` on an independent connection.
    std::int64_t count(const std::string& sql) const {
        auto db = outside();
        auto s = db.prepare(sql);
        EXPECT_TRUE(s.step());
        return s.integer(0);
    }
    policies::PolicyStore& store() { return *store_; }

    std::filesystem::path dir_;
    std::unique_ptr<policies::PolicyStore> store_;
};

inline policies::Instant at_us(std::int64_t us) {
    return policies::Instant(std::chrono::microseconds(us));
}

}  // namespace ariadne::storage
