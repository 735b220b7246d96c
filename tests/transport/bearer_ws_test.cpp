// The handshake's bearer token reaches the broker's authenticator through peer_info.
#include <memory>

#include <gtest/gtest.h>

#include "auth/authenticator.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;

/// Accepts exactly the bearer token "secret-token".
class token_authenticator : public auth::authenticator {
 public:
  std::optional<auth::principal> authenticate(const auth::credentials& creds,
                                              std::error_code& ec) const override {
    if (creds.bearer == "secret-token") return auth::principal{"alice", {}, std::nullopt};
    ec = std::make_error_code(std::errc::permission_denied);
    return std::nullopt;
  }
};

broker::config token_broker() {
  broker::config b;
  b.authenticator = std::make_shared<token_authenticator>();
  return b;
}

std::string connect_reply(test_server& s, const ws_options& opts) {
  auto c = make_ws_client(s.ws_port(), opts);
  auto reply = c->connect({}, "");
  return reply ? reply->command : "";
}

TEST(HandshakeToken, AuthorizationHeader) {
  test_server s(loopback_config(), token_broker());
  ws_options opts;
  opts.headers = {{"Authorization", "Bearer secret-token"}};
  EXPECT_EQ(connect_reply(s, opts), "CONNECTED");
}

TEST(HandshakeToken, QueryParameter) {
  test_server s(loopback_config(), token_broker());
  ws_options opts;
  opts.target = "/ws?access_token=secret-token";
  EXPECT_EQ(connect_reply(s, opts), "CONNECTED");
}

TEST(HandshakeToken, Cookie) {
  test_server s(loopback_config(), token_broker());
  ws_options opts;
  opts.headers = {{"Cookie", "theme=dark; stompbox_token=secret-token"}};
  EXPECT_EQ(connect_reply(s, opts), "CONNECTED");
}

TEST(HandshakeToken, WrongOrMissingTokenIsRefusedWith1002) {
  test_server s(loopback_config(), token_broker());
  ws_options opts;
  opts.headers = {{"Cookie", "other_cookie=secret-token"}};
  auto c = make_ws_client(s.ws_port(), opts);
  auto reply = c->connect({}, "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "ERROR");
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(c->close_code(), 1002);
}

}  // namespace
