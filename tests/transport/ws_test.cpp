// STOMP over WebSocket against the real broker and server on 127.0.0.1, port 0.
#include <future>
#include <string>

#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"
#include "transport/server.hpp"

namespace {

using namespace test_support;

std::unique_ptr<client> connected_ws(test_server& s, ws_options opts = {}) {
  auto c = make_ws_client(s.ws_port(), opts);
  auto reply = c->connect();
  EXPECT_TRUE(reply && reply->command == "CONNECTED");
  return c;
}

void subscribe(client& c, const std::string& destination, const std::string& id = "0") {
  c.send_frame(make_frame("SUBSCRIBE", {{"id", id}, {"destination", destination},
                                        {"receipt", "sub-" + id}}));
  auto r = c.read_frame();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->command, "RECEIPT");
}

struct negotiation_case {
  std::vector<std::string> lines;
  std::string expected;
  std::string name;
  friend void PrintTo(const negotiation_case& c, std::ostream* os) { *os << c.name; }
};

class WsSubprotocol : public ::testing::TestWithParam<negotiation_case> {};

TEST_P(WsSubprotocol, ServerPicksItsPreferredOfferAndStompWorks) {
  test_server s;
  ws_options opts;
  opts.protocol_lines = GetParam().lines;
  auto c = make_ws_client(s.ws_port(), opts);
  EXPECT_EQ(subprotocol_of(*c), GetParam().expected);
  auto reply = c->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, WsSubprotocol,
    ::testing::Values(
        negotiation_case{{"v12.stomp"}, "v12.stomp", "Single"},
        negotiation_case{{"v10.stomp, v11.stomp, v12.stomp"}, "v12.stomp", "ChromiumCommaList"},
        negotiation_case{{"v10.stomp", "v11.stomp"}, "v11.stomp", "SeveralHeaderLines"},
        negotiation_case{{"stomp", "v10.stomp,stomp"}, "v10.stomp", "LinesAndLists"},
        negotiation_case{{"stomp"}, "stomp", "PlainStomp"},
        negotiation_case{{}, "", "NoneOffered"},
        negotiation_case{{"mqtt", "wamp.2.json"}, "", "NoneMatches"}),
    [](const ::testing::TestParamInfo<negotiation_case>& info) { return info.param.name; });

TEST(Ws, ConnectGetsConnected12) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  auto reply = c->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
  EXPECT_EQ(reply->get("version"), "1.2");
}

TEST(Ws, SubscribeSendReceive) {
  test_server s;
  auto sub = connected_ws(s);
  auto pub = connected_ws(s);
  subscribe(*sub, "/topic/news");
  pub->send_frame(make_frame("SEND", {{"destination", "/topic/news"}}, "hello"));
  auto m = sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->command, "MESSAGE");
  EXPECT_EQ(m->get("destination"), "/topic/news");
  EXPECT_EQ(m->get("subscription"), "0");
  EXPECT_EQ(m->body, "hello");
  EXPECT_FALSE(sub->last_was_binary());
}

TEST(Ws, FrameSplitAcrossMessages) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  const std::string connect = "CONNECT\naccept-version:1.2\nhost:/\n\n";
  c->send_bytes(connect.substr(0, 5));
  c->send_bytes(connect.substr(5, 14));
  c->send_bytes(connect.substr(19) + std::string(1, '\0'));
  auto reply = c->read_frame();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
}

TEST(Ws, ManyFramesInOneMessage) {
  test_server s;
  auto c = make_ws_client(s.ws_port());
  std::string batch = "CONNECT\naccept-version:1.2\nhost:/\n\n";
  batch += '\0';
  batch += "SUBSCRIBE\nid:1\ndestination:/topic/t\n\n";
  batch += '\0';
  batch += "\nSEND\ndestination:/topic/t\n\none";
  batch += '\0';
  batch += "SEND\ndestination:/topic/t\nreceipt:r\n\ntwo";
  batch += '\0';
  c->send_bytes(batch);
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto f = c->read_frame();
    ASSERT_TRUE(f) << "frame " << i;
    seen.push_back(f->command + ":" + f->body);
  }
  EXPECT_EQ(seen[0], "CONNECTED:");
  // The RECEIPT follows the second SEND; both MESSAGEs arrive in order around it.
  EXPECT_NE(std::find(seen.begin(), seen.end(), "MESSAGE:one"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "MESSAGE:two"), seen.end());
  EXPECT_LT(std::find(seen.begin(), seen.end(), "MESSAGE:one"),
            std::find(seen.begin(), seen.end(), "MESSAGE:two"));
  EXPECT_NE(std::find(seen.begin(), seen.end(), "RECEIPT:"), seen.end());
}

TEST(Ws, NulAndInvalidUtf8BodyGoesOutAsBinaryMessage) {
  test_server s;
  auto sub = connected_ws(s);
  auto pub = connected_ws(s);
  subscribe(*sub, "/topic/bin");
  const std::string body("a\0b\xff\xfe", 5);
  pub->send_frame(make_frame("SEND", {{"destination", "/topic/bin"}}, body), true);
  auto m = sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, body);
  EXPECT_EQ(m->get("content-length"), "5");
  EXPECT_TRUE(sub->last_was_binary());
}

TEST(Ws, OneMebibyteBody) {
  test_server s;
  auto sub = connected_ws(s);
  auto pub = connected_ws(s);
  subscribe(*sub, "/topic/big");
  std::string body(1024 * 1024, 'x');
  for (std::size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>('a' + i % 26);
  pub->send_frame(make_frame("SEND", {{"destination", "/topic/big"}}, body));
  auto m = sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, body);
}

TEST(Ws, TenThousandMessagesInOrderWithoutLoss) {
  broker::config no_send_limit;  // a flood from one publisher, faster than the default send_rate
  no_send_limit.send_rate = 0;
  test_server s(loopback_config(), no_send_limit);
  auto sub = connected_ws(s);
  auto pub = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(pub->connect());
  subscribe(*sub, "/topic/flood");
  constexpr int count = 10'000;
  auto reader = std::async(std::launch::async, [&] {
    for (int i = 0; i < count; ++i) {
      auto m = sub->read_frame();
      if (!m || m->body != std::to_string(i)) return i;
    }
    return count;
  });
  std::string batch;
  for (int i = 0; i < count; ++i) {
    batch += "SEND\ndestination:/topic/flood\n\n" + std::to_string(i) + std::string(1, '\0');
    if (batch.size() > 16 * 1024 || i + 1 == count) {
      pub->send_bytes(batch);
      batch.clear();
    }
  }
  EXPECT_EQ(reader.get(), count);
}

TEST(Ws, ServerSendsHeartBeats) {
  broker::config b;
  b.heartbeat_send = std::chrono::milliseconds(50);
  test_server s(loopback_config(), b);
  auto c = make_ws_client(s.ws_port());
  auto reply = c->connect({{"heart-beat", "0,50"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->get("heart-beat"), "50,0");
  for (int beats = 0; beats < 3; ++beats) {
    auto chunk = c->read_chunk(patience);
    ASSERT_TRUE(chunk);
    EXPECT_EQ(*chunk, "\n");  // each heart-beat is a WebSocket message of its own
  }
}

TEST(Ws, ShutdownClosesWith1001) {
  test_server s;
  auto c = connected_ws(s);
  auto stopped = std::async(std::launch::async, [&] { return s.stop(); });
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(c->close_code(), 1001);
  EXPECT_TRUE(stopped.get());  // every connection closed on its own, nothing cut
}

TEST(Http, RootServesTextPage) {
  test_server s;
  auto [status, body] = http_get(s.ws_port(), "/");
  EXPECT_EQ(status, 200u);
  EXPECT_NE(body.find(std::string("stompbox ") + transport::version()), std::string::npos);
  EXPECT_NE(body.find("/ws"), std::string::npos);
  EXPECT_NE(body.find(std::to_string(s.tcp_port())), std::string::npos);
}

TEST(Http, OtherPathIs404) {
  test_server s;
  EXPECT_EQ(http_get(s.ws_port(), "/nope").first, 404u);
  EXPECT_THROW(make_ws_client(s.ws_port(), ws_options{"/other", {"v12.stomp"}, {}, false}),
               boost::system::system_error);
}

TEST(Http, WsPathWithoutUpgradeIs426) {
  test_server s;
  EXPECT_EQ(http_get(s.ws_port(), "/ws").first, 426u);
}

TEST(Http, ConfiguredPathIsServed) {
  auto cfg = loopback_config();
  cfg.ws_path = "/stomp";
  test_server s(cfg);
  auto c = make_ws_client(s.ws_port(), ws_options{"/stomp", {"v12.stomp"}, {}, false});
  ASSERT_TRUE(c->connect());
  EXPECT_EQ(http_get(s.ws_port(), "/ws").first, 404u);
}

}  // namespace
