#include "stomp/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace stomp {
namespace {

TEST(Error, CategoryAndDistinctMessages) {
  std::set<std::string> messages;
  for (int e = static_cast<int>(error::invalid_command);
       e <= static_cast<int>(error::frame_too_large); ++e) {
    const std::error_code ec = static_cast<error>(e);
    EXPECT_STREQ(ec.category().name(), "stomp");
    EXPECT_TRUE(messages.insert(ec.message()).second) << ec.message();
  }
}

TEST(Error, EnumComparesWithErrorCode) {
  const std::error_code ec = make_error_code(error::missing_nul);
  EXPECT_EQ(ec, error::missing_nul);
  EXPECT_NE(ec, error::invalid_escape);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace stomp
