// STOMP over plain TCP against the real broker and server on 127.0.0.1, port 0.
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "broker/broker.hpp"
#include "stomp/serializer.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;

TEST(Tcp, ConnectGetsConnected) {
  test_server s;
  auto c = make_tcp_client(s.tcp_port());
  auto reply = c->connect();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, "CONNECTED");
  EXPECT_EQ(reply->get("version"), "1.2");
}

TEST(Tcp, TcpAndWebSocketClientsShareDestinations) {
  test_server s;
  auto tcp_sub = make_tcp_client(s.tcp_port());
  auto ws_pub = make_ws_client(s.ws_port());
  ASSERT_TRUE(tcp_sub->connect());
  ASSERT_TRUE(ws_pub->connect());
  tcp_sub->send_frame(make_frame("SUBSCRIBE", {{"id", "s"}, {"destination", "/queue/jobs"},
                                               {"receipt", "r"}}));
  auto receipt = tcp_sub->read_frame();
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->command, "RECEIPT");
  ws_pub->send_frame(make_frame("SEND", {{"destination", "/queue/jobs"}}, "job-1"));
  auto m = tcp_sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->command, "MESSAGE");
  EXPECT_EQ(m->body, "job-1");
}

TEST(Tcp, FrameSplitAcrossWritesAndOneMebibyteBody) {
  test_server s;
  auto sub = make_tcp_client(s.tcp_port());
  auto pub = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(sub->connect());
  ASSERT_TRUE(pub->connect());
  sub->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/big"},
                                           {"receipt", "r"}}));
  ASSERT_TRUE(sub->read_frame());
  const std::string body(1024 * 1024, 'z');
  const std::string wire = "SEND\ndestination:/topic/big\ncontent-length:" +
                           std::to_string(body.size()) + "\n\n" + body + std::string(1, '\0');
  for (std::size_t at = 0; at < wire.size(); at += 100'000) pub->send_bytes(wire.substr(at, 100'000));
  auto m = sub->read_frame();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, body);
}

// A subscriber that stops reading gets a backlog; the writes that catch up copy runs of small
// frames into one buffer and write large ones in place. Every frame must arrive whole, in
// order, whatever mix of sizes (and up to 600 frames, more than one write's worth).
void backlog_arrives_in_order(std::uint16_t port, bool tls) {
  auto sub = make_tcp_client(port, tls, 4096);
  auto pub = make_tcp_client(port, tls);
  ASSERT_TRUE(sub->connect());
  ASSERT_TRUE(pub->connect());
  sub->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/mix"},
                                           {"receipt", "r"}}));
  ASSERT_TRUE(sub->read_frame());
  const auto body_of = [](int i) {
    const std::size_t size = i % 50 == 7 ? 10'000 : 20 + (i * 37) % 300;  // 1 in 50 is large
    std::string b = std::to_string(i) + ":";
    b.resize(size, static_cast<char>('a' + i % 26));
    return b;
  };
  constexpr int count = 600;
  for (int i = 0; i < count; ++i) {
    std::vector<stomp::header> headers{{"destination", "/topic/mix"}};
    if (i == count - 1) headers.push_back({"receipt", "all-sent"});
    pub->send_frame(make_frame("SEND", headers, body_of(i)));
  }
  const auto receipt = pub->read_frame();
  ASSERT_TRUE(receipt);
  ASSERT_EQ(receipt->command, "RECEIPT");
  for (int i = 0; i < count; ++i) {
    const auto m = sub->read_frame();
    ASSERT_TRUE(m) << "frame " << i;
    ASSERT_EQ(m->command, "MESSAGE");
    ASSERT_EQ(m->body, body_of(i));
  }
}

TEST(Tcp, BackloggedSmallAndLargeFramesArriveWholeAndInOrder) {
  test_server s;
  backlog_arrives_in_order(s.tcp_port(), false);
}

TEST(Tcp, BackloggedFramesOverTlsArriveWholeAndInOrder) {
  const auto files = make_self_signed_cert();
  auto cfg = loopback_config();
  cfg.tls_cert = files.cert;
  cfg.tls_key = files.key;
  {
    test_server s(cfg);
    backlog_arrives_in_order(s.tcp_port(), true);
  }
  std::filesystem::remove_all(files.dir);
}

// The deliveries of one read reach each subscriber once the read is handled, as one batch
// (hold_drains): every subscriber gets every message of the read, in send order, across
// destinations that both go through the delivery inbox.
TEST(Tcp, OneReadOfManySendsReachesEverySubscriberInOrder) {
  test_server s;
  auto pub = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(pub->connect());
  std::vector<std::unique_ptr<client>> subs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(make_tcp_client(s.tcp_port()));
    ASSERT_TRUE(subs.back()->connect());
    subs.back()->send_frame(make_frame("SUBSCRIBE", {{"id", "a"}, {"destination", "/topic/a"}}));
    subs.back()->send_frame(make_frame("SUBSCRIBE", {{"id", "b"}, {"destination", "/topic/b"},
                                                     {"receipt", "r"}}));
    ASSERT_TRUE(subs.back()->read_frame());
  }
  std::vector<std::pair<std::string, std::string>> sends;
  for (int i = 0; i < 40; ++i) {
    sends.emplace_back(i % 3 == 0 ? "/topic/b" : "/topic/a", std::to_string(i));
  }
  std::string one_write;
  for (const auto& [destination, body] : sends) {
    one_write += stomp::serialize(make_frame("SEND", {{"destination", destination}}, body),
                                  stomp::version::v1_2);
  }
  pub->send_bytes(one_write);
  for (auto& sub : subs) {
    for (const auto& [destination, body] : sends) {
      const auto m = sub->read_frame();
      ASSERT_TRUE(m);
      EXPECT_EQ(m->get("destination"), destination);
      EXPECT_EQ(m->body, body);
    }
  }
}

TEST(Tcp, DisconnectWithReceiptThenClose) {
  test_server s;
  auto c = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(c->connect());
  c->send_frame(make_frame("DISCONNECT", {{"receipt", "bye"}}));
  auto r = c->read_frame();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, "RECEIPT");
  EXPECT_EQ(r->get("receipt-id"), "bye");
  EXPECT_TRUE(c->wait_closed());
}

TEST(Tcp, ServerSendsHeartBeatsAsEol) {
  broker::config b;
  b.heartbeat_send = std::chrono::milliseconds(50);
  test_server s(loopback_config(), b);
  auto c = make_tcp_client(s.tcp_port());
  auto reply = c->connect({{"heart-beat", "0,50"}});
  ASSERT_TRUE(reply);
  std::string seen;
  while (seen.size() < 3) {
    auto chunk = c->read_chunk(patience);
    ASSERT_TRUE(chunk);
    seen += *chunk;
  }
  EXPECT_EQ(seen.substr(0, 3), "\n\n\n");
}

TEST(Tcp, ShutdownClosesTheSocket) {
  test_server s;
  auto c = make_tcp_client(s.tcp_port());
  ASSERT_TRUE(c->connect());
  auto stopped = std::async(std::launch::async, [&] { return s.stop(); });
  EXPECT_TRUE(c->wait_closed());
  EXPECT_TRUE(stopped.get());
}

// --threads N runs one event loop per thread and places connections on them in turn
// (server::run_connections_on): clients on different loops exchange messages, and after stop()
// every loop runs out of work once its connections are gone.
TEST(EventLoops, ConnectionsOnEveryLoopExchangeMessagesAndStopEndsEveryLoop) {
  namespace net = boost::asio;
  broker::broker b{broker::config{}};
  net::io_context first(1);
  net::io_context second(1);
  auto second_busy = net::make_work_guard(second);
  transport::server server(first, b, loopback_config());
  server.run_connections_on({&first, &second});
  server.start();
  auto first_ran = std::async(std::launch::async, [&] { return first.run(); });
  auto second_ran = std::async(std::launch::async, [&] { return second.run(); });

  std::vector<std::unique_ptr<client>> subs;
  for (int i = 0; i < 4; ++i) {  // two on each loop
    subs.push_back(i % 2 == 0 ? make_tcp_client(server.tcp_port())
                              : make_ws_client(server.ws_port()));
    ASSERT_TRUE(subs.back()->connect());
    subs.back()->send_frame(make_frame("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/x"},
                                                     {"receipt", "r"}}));
    ASSERT_TRUE(subs.back()->read_frame());
  }
  auto pub = make_tcp_client(server.tcp_port());
  ASSERT_TRUE(pub->connect());
  for (int i = 0; i < 20; ++i) {
    pub->send_frame(make_frame("SEND", {{"destination", "/topic/x"}}, std::to_string(i)));
  }
  for (auto& sub : subs) {
    for (int i = 0; i < 20; ++i) {
      const auto m = sub->read_frame();
      ASSERT_TRUE(m);
      EXPECT_EQ(m->body, std::to_string(i));
    }
  }

  server.stop();
  for (auto& sub : subs) EXPECT_TRUE(sub->wait_closed());
  EXPECT_TRUE(pub->wait_closed());
  ASSERT_EQ(first_ran.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  second_busy.reset();
  ASSERT_EQ(second_ran.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_GT(second_ran.get(), 0u);  // connections ran there: it was not left idle
  EXPECT_GT(first_ran.get(), 0u);
}

}  // namespace
