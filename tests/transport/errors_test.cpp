// Bad input over both transports: ERROR frame, then close with the right WebSocket code.
#include <string>

#include <gtest/gtest.h>

#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;

/// Waits for the close and returns the ERROR frame read before it (empty command if none).
stomp::frame error_then_close(client& c) {
  EXPECT_TRUE(c.wait_closed());
  for (const auto& f : c.frames_before_close())
    if (f.command == "ERROR") return f;
  return {};
}

TEST(Errors, GarbageBytesGetErrorAndClose1002) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  c->send_bytes("\x01\x02 hello?\n\n");
  auto e = error_then_close(*c);
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_TRUE(e.has("message"));
  EXPECT_EQ(c->close_code(), 1002);
}

TEST(Errors, GarbageOverTcpGetsErrorAndClose) {
  test_server s;
  auto c = make_tcp_client(s.tcp_port());
  c->send_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(error_then_close(*c).command, "ERROR");
}

TEST(Errors, FrameBeforeConnect) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  c->send_frame(make_frame("SEND", {{"destination", "/topic/x"}}, "early"));
  EXPECT_EQ(error_then_close(*c).command, "ERROR");
  EXPECT_EQ(c->close_code(), 1002);
}

TEST(Errors, SubscribeWithoutId) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  ASSERT_TRUE(c->connect());
  c->send_frame(make_frame("SUBSCRIBE", {{"destination", "/topic/x"}}));
  EXPECT_EQ(error_then_close(*c).command, "ERROR");
  EXPECT_EQ(c->close_code(), 1002);
}

TEST(Errors, UnknownCommand) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  ASSERT_TRUE(c->connect());
  c->send_bytes(std::string("FROBNICATE\n\n") + '\0');
  EXPECT_EQ(error_then_close(*c).command, "ERROR");
  EXPECT_EQ(c->close_code(), 1002);
}

TEST(Errors, StompFrameOverLimitGetsErrorAnd1009) {
  test_server s;  // before CONNECT frames are limited to 64 KiB
  auto c = make_ws_client(s.ws_port());
  const std::string big(128 * 1024, 'x');
  c->send_bytes("CONNECT\naccept-version:1.2\nhost:/\nx:" + big + "\n\n" + std::string(1, '\0'));
  EXPECT_EQ(error_then_close(*c).command, "ERROR");
  EXPECT_EQ(c->close_code(), 1009);
}

TEST(Errors, WebSocketMessageOverMaxIs1009) {
  auto cfg = loopback_config();
  cfg.max_message_bytes = 32 * 1024;
  test_server s(cfg);
  auto c = make_ws_client(s.ws_port());
  ASSERT_TRUE(c->connect());
  c->send_bytes(std::string(64 * 1024, 'y'));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(c->close_code(), 1009) << c->last_error();
}

}  // namespace
