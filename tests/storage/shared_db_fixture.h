// A PolicyStore on a real SQLite file in a fresh temporary directory, for the repositories
// that share its connection (staff roles, canned replies, alerts, SMS outbox).
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ariadne/policies/store.h"

namespace ariadne::storage::testing {

class SharedDbTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               ("ariadne-" + std::string(info->test_suite_name()) + "-" +
                std::to_string(::getpid()) + "-" + info->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        open();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    /// Closes and opens the database again: what was committed must still be there.
    void reopen() {
        store_.reset();
        open();
    }
    void open() { store_ = policies::PolicyStore::open((dir_ / "ariadne.db").string()); }
    policies::PolicyStore& store() { return *store_; }
    static policies::Instant at(std::int64_t seconds) {
        return policies::Instant(std::chrono::seconds(1'800'000'000 + seconds));
    }

    std::filesystem::path dir_;
    std::unique_ptr<policies::PolicyStore> store_;
};

}  // namespace ariadne::storage::testing
