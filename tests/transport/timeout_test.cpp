// Handshake, CONNECT and heart-beat timeouts (short settings; the waits are generous limits).
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;
using namespace std::chrono_literals;

transport::server_config short_timeouts() {
  auto cfg = loopback_config();
  cfg.handshake_timeout = 200ms;
  cfg.connect_timeout = 300ms;
  return cfg;
}

TEST(Timeouts, SilentSocketOnWebSocketPortIsClosedAfterHandshakeTimeout) {
  test_server s(short_timeouts());
  auto raw = make_tcp_client(s.ws_port());  // TCP to the HTTP port, sends nothing
  EXPECT_TRUE(raw->wait_closed());
}

TEST(Timeouts, PartialHttpRequestIsClosedAfterHandshakeTimeout) {
  test_server s(short_timeouts());
  auto raw = make_tcp_client(s.ws_port());
  raw->send_bytes("GET /ws HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(raw->wait_closed());
}

TEST(Timeouts, NoConnectOverTcpIsClosed) {
  test_server s(short_timeouts());
  auto c = make_tcp_client(s.tcp_port());
  EXPECT_TRUE(c->wait_closed());
}

TEST(Timeouts, NoConnectOverWebSocketIsClosedWithPolicyCode) {
  test_server s(short_timeouts());
  auto c = make_ws_client(s.ws_port());
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(c->close_code(), 1008);
}

TEST(Timeouts, ConnectInTimeKeepsTheSession) {
  test_server s(short_timeouts());
  auto c = make_ws_client(s.ws_port());
  ASSERT_TRUE(c->connect());
  // Well past the CONNECT timeout the session still answers.
  std::this_thread::sleep_for(600ms);
  c->send_frame(make_frame("SEND", {{"destination", "/queue/q"}, {"receipt", "still-here"}}));
  auto r = c->read_frame();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, "RECEIPT");
}

TEST(Timeouts, SilentPeerIsClosedAfterHeartBeatTimeout) {
  broker::config b;
  b.heartbeat_receive = 100ms;
  b.heartbeat_tolerance = 2.0;
  test_server s(loopback_config(), b);
  auto c = make_ws_client(s.ws_port());
  auto reply = c->connect({{"heart-beat", "100,0"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->get("heart-beat"), "0,100");
  EXPECT_TRUE(c->wait_closed());  // we never send a heart-beat
  EXPECT_EQ(c->close_code(), 1008);
}

TEST(Timeouts, PeerSendingHeartBeatsStaysConnected) {
  broker::config b;
  b.heartbeat_receive = 100ms;
  b.heartbeat_tolerance = 3.0;
  test_server s(loopback_config(), b);
  auto c = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(c->connect({{"heart-beat", "100,0"}}));
  for (int i = 0; i < 10; ++i) {
    c->send_bytes("\n");
    std::this_thread::sleep_for(50ms);
  }
  c->send_frame(make_frame("SEND", {{"destination", "/queue/q"}, {"receipt", "ok"}}));
  auto r = c->read_frame();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, "RECEIPT");
}

}  // namespace
