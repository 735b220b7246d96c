// The pending-bytes cap: a client that stops reading must not hold up the others.
#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;

constexpr std::size_t body_size = 8 * 1024;
constexpr int max_messages = 20'000;  // bound on the publishing loop (~160 MiB)

void subscribe(client& c, const std::string& destination) {
  c.send_frame(make_frame("SUBSCRIBE", {{"id", "s"}, {"destination", destination},
                                        {"receipt", "r"}}));
  auto r = c.read_frame();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->command, "RECEIPT");
}

stomp::frame numbered(int i) {
  auto f = make_frame("SEND", {{"destination", "/topic/load"}, {"seq", std::to_string(i)}},
                      std::string(body_size, 'm'));
  return f;
}

/// A reader on its own thread that must receive every message published, in order.
struct fast_reader {
  explicit fast_reader(client& c) : c_(c) {
    done_ = std::async(std::launch::async, [this] {
      for (int expect = 0;; ++expect) {
        auto m = c_.read_frame();
        if (!m || m->command != "MESSAGE") return false;
        if (m->get("seq") == "end") return true;
        if (m->get("seq") != std::to_string(expect)) return false;
        received.store(expect + 1);
      }
    });
  }
  client& c_;
  std::atomic<int> received{0};
  std::future<bool> done_;
};

/// Publishes, keeping the fast reader close behind, until `until()` holds. Returns the count.
template <class Pred>
int publish_until(test_server& s, fast_reader& fast, Pred until) {
  int published = 0;
  while (!until() && published < max_messages) {
    s.broker().publish(numbered(published++));
    while (fast.received.load() + 4 < published && fast.done_.wait_for(std::chrono::seconds(0)) !=
                                                       std::future_status::ready)
      std::this_thread::yield();
  }
  return published;
}

TEST(Backpressure, SlowConsumerIsDisconnectedWhileOthersKeepReceiving) {
  auto cfg = loopback_config();
  cfg.max_pending_bytes = 256 * 1024;
  cfg.close_timeout = std::chrono::seconds(30);  // time for the test to read the ERROR
  test_server s(cfg);
  auto slow = make_tcp_client(s.tcp_port(), false, 4096);
  auto fast_client = make_ws_client(s.ws_port());
  ASSERT_TRUE(slow->connect());
  ASSERT_TRUE(fast_client->connect());
  subscribe(*slow, "/topic/load");
  subscribe(*fast_client, "/topic/load");
  fast_reader fast(*fast_client);
  const auto& stats = s.server().statistics();
  const int published = publish_until(s, fast, [&] { return stats.slow_consumers.load() > 0; });
  ASSERT_GT(stats.slow_consumers.load(), 0u) << "published " << published;
  s.broker().publish(make_frame("SEND", {{"destination", "/topic/load"}, {"seq", "end"}}));
  EXPECT_TRUE(fast.done_.get());
  EXPECT_EQ(fast.received.load(), published);
  // The slow one drains what was already on its way, gets the ERROR, and is closed.
  EXPECT_TRUE(slow->wait_closed());
  ASSERT_FALSE(slow->frames_before_close().empty());
  EXPECT_EQ(slow->frames_before_close().back().command, "ERROR");
  EXPECT_LT(static_cast<int>(slow->frames_before_close().size()), published);
}

TEST(Backpressure, DropOldestKeepsTheConnectionAndOrder) {
  auto cfg = loopback_config();
  cfg.max_pending_bytes = 256 * 1024;
  cfg.close_timeout = std::chrono::seconds(30);  // time for the test to read the ERROR
  cfg.slow_consumer = transport::slow_consumer_policy::drop_oldest;
  test_server s(cfg);
  auto slow = make_tcp_client(s.tcp_port(), false, 4096);
  auto fast_client = make_ws_client(s.ws_port());
  ASSERT_TRUE(slow->connect());
  ASSERT_TRUE(fast_client->connect());
  subscribe(*slow, "/topic/load");
  subscribe(*fast_client, "/topic/load");
  fast_reader fast(*fast_client);
  const auto& stats = s.server().statistics();
  const int published = publish_until(s, fast, [&] { return stats.dropped_frames.load() > 0; });
  ASSERT_GT(stats.dropped_frames.load(), 0u);
  s.broker().publish(make_frame("SEND", {{"destination", "/topic/load"}, {"seq", "end"}}));
  EXPECT_TRUE(fast.done_.get());
  EXPECT_EQ(fast.received.load(), published);
  EXPECT_EQ(stats.slow_consumers.load(), 0u);
  // Still connected: a receipt comes back after whatever survived, in increasing order.
  slow->send_frame(make_frame("SEND", {{"destination", "/queue/x"}, {"receipt", "alive"}}));
  int last = -1, got = 0;
  for (;;) {
    auto f = slow->read_frame();
    ASSERT_TRUE(f) << "after " << got << " messages";
    if (f->command == "RECEIPT") break;
    ASSERT_EQ(f->command, "MESSAGE");
    const auto seq = std::string(f->get("seq").value_or("end"));
    if (seq == "end") continue;
    EXPECT_GT(std::stoi(seq), last);
    last = std::stoi(seq);
    ++got;
  }
  EXPECT_LT(got, published);
  EXPECT_FALSE(slow->closed());
}

}  // namespace
