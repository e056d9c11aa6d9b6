// The shared-database fixture (shared_db_fixture.h) with a second, independent connection
// to the same file: what another process would see, and a way to set up rows or faults the
// repository under test does not write itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ariadne/storage/sqlite.h"
#include "shared_db_fixture.h"

namespace ariadne::storage {

class PolicyDbTest : public testing::SharedDbTest {
  protected:
    Connection outside() const { return Connection(dir_ / "ariadne.db", {}); }
    /// One integer from `sql` on an independent connection.
    std::int64_t count(const std::string& sql) const {
        auto db = outside();
        auto s = db.prepare(sql);
        EXPECT_TRUE(s.step());
        return s.integer(0);
    }
};

inline policies::Instant at_us(std::int64_t us) {
    return policies::Instant(std::chrono::microseconds(us));
}

}  // namespace ariadne::storage
