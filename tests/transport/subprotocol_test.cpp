#include "transport/detail/subprotocol.hpp"

#include <gtest/gtest.h>

#include "broker/connection.hpp"
#include "transport/detail/ws_connection.hpp"

namespace transport::detail {
namespace {

using lines = std::vector<std::string_view>;

TEST(Subprotocol, PicksHighestVersionFromChromiumCommaList) {
  EXPECT_EQ(select_subprotocol(lines{"v10.stomp, v11.stomp, v12.stomp"}), "v12.stomp");
}

TEST(Subprotocol, ServerOrderWinsOverClientOrder) {
  EXPECT_EQ(select_subprotocol(lines{"stomp,v11.stomp,v10.stomp"}), "v11.stomp");
  EXPECT_EQ(select_subprotocol(lines{"stomp, v10.stomp"}), "v10.stomp");
  EXPECT_EQ(select_subprotocol(lines{"stomp"}), "stomp");
}

TEST(Subprotocol, ReadsEveryHeaderLine) {
  EXPECT_EQ(select_subprotocol(lines{"v10.stomp", "v12.stomp", "v11.stomp"}), "v12.stomp");
  EXPECT_EQ(select_subprotocol(lines{"mqtt", "v10.stomp, stomp"}), "v10.stomp");
}

TEST(Subprotocol, ToleratesSpacesTabsAndEmptyItems) {
  EXPECT_EQ(select_subprotocol(lines{" ,\tv11.stomp\t ,, "}), "v11.stomp");
}

TEST(Subprotocol, NoneOfferedOrNoneMatchingGivesEmpty) {
  EXPECT_EQ(select_subprotocol(lines{}), "");
  EXPECT_EQ(select_subprotocol(lines{""}), "");
  EXPECT_EQ(select_subprotocol(lines{"mqtt, wamp.2.json"}), "");
}

TEST(Subprotocol, ComparesWholeTokensCaseSensitively) {
  EXPECT_EQ(select_subprotocol(lines{"V12.STOMP"}), "");
  EXPECT_EQ(select_subprotocol(lines{"v12.stompx, xv11.stomp"}), "");
}

TEST(Subprotocol, SplitTokensTrimsAndSkipsEmpty) {
  EXPECT_EQ(split_tokens(" a, b ,,c "), (lines{"a", "b", "c"}));
  EXPECT_TRUE(split_tokens(" , ").empty());
}

TEST(CloseCode, MapsReasonsToRfc6455Codes) {
  using broker::close_reason;
  EXPECT_EQ(close_code(close_reason::normal), 1000);
  EXPECT_EQ(close_code(close_reason::shutdown), 1001);
  EXPECT_EQ(close_code(close_reason::protocol_error), 1002);
  EXPECT_EQ(close_code(close_reason::auth_failed), 1002);
  EXPECT_EQ(close_code(close_reason::slow_consumer), 1002);
  EXPECT_EQ(close_code(close_reason::frame_too_large), 1009);
  EXPECT_EQ(close_code(close_reason::server_error), 1011);
}

}  // namespace
}  // namespace transport::detail
