// Publisher flow control over SockJS xhr polling: xhr_send has no stream to stop, so the
// messages of a paused session are held and handed over, in order, once the queue drains.
#include <gtest/gtest.h>

#include "stomp/serializer.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "tests/transport/sockjs_client.hpp"

namespace {

using namespace test_support;
using namespace sockjs_test;
using namespace std::chrono_literals;

stomp::frame send_frame(const std::string& receipt) {
  return make_frame("SEND", {{"destination", "/queue/q"}, {"receipt", receipt}}, "body-" + receipt);
}

TEST(SockjsFlowControl, HeldXhrSendsReachTheQueueInOrderOnceItDrains) {
  auto cfg = loopback_config();
  cfg.allowed_origins = {"http://app.example"};  // what sockjs_client.hpp's requests send
  broker::config b;
  b.queue_max_messages = 2;
  test_server s(cfg, b);
  poller p(s.ws_port(), "flow1");
  ASSERT_EQ(p.poll(), "o\n");
  ASSERT_EQ(p.send(make_frame("CONNECT", {{"accept-version", "1.2"}, {"host", "/"},
                                          {"login", "guest"}})),
            204u);
  auto connected = p.next_frame();
  ASSERT_TRUE(connected && connected->command == "CONNECTED");
  for (const char* id : {"r1", "r2"}) {
    ASSERT_EQ(p.send(send_frame(id)), 204u);
    auto r = p.next_frame();
    ASSERT_TRUE(r && r->command == "RECEIPT");
    EXPECT_EQ(r->get("receipt-id"), id);
  }
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 1);
  ASSERT_EQ(p.send(send_frame("r3")), 204u);  // answered, held while paused
  ASSERT_EQ(p.send(send_frame("r4")), 204u);
  auto consumer = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(consumer->connect());
  consumer->send_frame(make_frame("SUBSCRIBE", {{"destination", "/queue/q"}, {"id", "s"}}));
  for (const char* id : {"r1", "r2", "r3", "r4"}) {
    auto m = consumer->read_frame();
    ASSERT_TRUE(m && m->command == "MESSAGE") << (m ? m->command : "nothing");
    EXPECT_EQ(m->body, std::string("body-") + id);
  }
  for (const char* id : {"r3", "r4"}) {
    auto r = p.next_frame();
    ASSERT_TRUE(r && r->command == "RECEIPT");
    EXPECT_EQ(r->get("receipt-id"), id);
  }
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 0);
}

}  // namespace
