// Publisher flow control over real sockets: a publisher that fills a queue is paused (its
// socket is not read), keeps receiving the broker's heart-beats, is not closed for its silence,
// and resumes where its parser stopped once a consumer drains the queue.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

#include "app/config.hpp"
#include "stomp/serializer.hpp"
#include "transport/detail/metrics_text.hpp"
#include "tests/support/stomp_client.hpp"
#include "tests/support/test_server.hpp"

namespace {

using namespace test_support;
using namespace std::chrono_literals;

struct FlowControl : ::testing::TestWithParam<const char*> {
  bool tls() const { return param() == "tls" || param() == "wss"; }
  std::string param() const { return GetParam(); }
  transport::server_config server_config() {
    auto cfg = loopback_config();
    if (tls()) {
      files_ = make_self_signed_cert();
      cfg.tls_cert = files_.cert;
      cfg.tls_key = files_.key;
    }
    return cfg;
  }
  void TearDown() override {
    if (!files_.dir.empty()) std::filesystem::remove_all(files_.dir);
  }
  std::unique_ptr<client> open(test_server& s) {
    if (param() == "tcp" || param() == "tls") return make_tcp_client(s.tcp_port(), tls());
    ws_options opts;
    opts.tls = tls();
    return make_ws_client(s.ws_port(), opts);
  }
  tls_files files_;
  /// A consumer drains /queue/q: reading resumes, and every id's message arrives once, in order.
  void expect_consumed(test_server& s, std::initializer_list<const char*> ids) {
    auto consumer = open(s);
    ASSERT_TRUE(consumer->connect());
    consumer->send_frame(make_frame("SUBSCRIBE", {{"destination", "/queue/q"}, {"id", "s"}}));
    for (const char* id : ids) {
      auto m = consumer->read_frame();
      ASSERT_TRUE(m && m->command == "MESSAGE") << (m ? m->command : "nothing");
      EXPECT_EQ(m->body, std::string("body-") + id);
    }
  }
  static std::string send_bytes(const std::string& receipt) {
    return stomp::serialize(make_frame("SEND", {{"destination", "/queue/q"}, {"receipt", receipt}},
                                       "body-" + receipt),
                            stomp::version::v1_2);
  }
};

broker::config small_queue_with_heart_beats() {
  broker::config b;
  b.queue_max_messages = 2;
  b.heartbeat_send = 100ms;
  b.heartbeat_receive = 100ms;
  b.heartbeat_tolerance = 2.0;  // silent for 200 ms = closed, unless paused
  return b;
}

TEST_P(FlowControl, PausedPublisherGetsHeartBeatsIsNotClosedAndResumesMidFrame) {
  test_server s(server_config(), small_queue_with_heart_beats());
  auto pub = open(s);
  auto reply = pub->connect({{"heart-beat", "100,100"}});
  ASSERT_TRUE(reply && reply->command == "CONNECTED");
  // Two SENDs fill the queue; a third is cut in half: the parser holds a partial frame when
  // reading pauses.
  const std::string third = send_bytes("r3");
  pub->send_bytes(send_bytes("r1") + send_bytes("r2") + third.substr(0, third.size() / 2));
  for (const char* id : {"r1", "r2"}) {
    auto r = pub->read_frame();
    ASSERT_TRUE(r && r->command == "RECEIPT") << (r ? r->command : "nothing");
    EXPECT_EQ(r->get("receipt-id"), id);
  }
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 1);
  pub->send_bytes(third.substr(third.size() / 2));  // waits unread in the socket
  // Silent (no heart-beats of ours) for three times the tolerance: still open, and the
  // broker's heart-beats keep coming (each read returns one EOL well within patience).
  int heart_beats = 0;
  for (auto until = std::chrono::steady_clock::now() + 600ms;
       std::chrono::steady_clock::now() < until;) {
    auto chunk = pub->read_chunk(patience);
    ASSERT_TRUE(chunk) << "closed while paused: " << pub->last_error();
    EXPECT_EQ(*chunk, "\n");
    ++heart_beats;
  }
  EXPECT_GE(heart_beats, 2);
  EXPECT_FALSE(pub->closed());
  // A consumer drains the queue: reading resumes and finishes the half-read frame.
  expect_consumed(s, {"r1", "r2", "r3"});
  auto r3 = pub->read_frame();
  ASSERT_TRUE(r3 && r3->command == "RECEIPT") << (r3 ? r3->command : "nothing");
  EXPECT_EQ(r3->get("receipt-id"), "r3");
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 0);
  EXPECT_EQ(s.broker().stats().publisher_pauses.load(), 1u);
}

// Regression: with heart-beats off no timer is armed, and a parked read loop left nothing
// holding the connection: it was destroyed, its socket closed without a word (the publisher saw
// a reset, its accepted SENDs after the pause were lost).
TEST_P(FlowControl, PausedPublisherWithoutHeartBeatsStaysOpenAndResumes) {
  broker::config b = small_queue_with_heart_beats();
  b.heartbeat_send = 0ms;
  b.heartbeat_receive = 0ms;
  test_server s(server_config(), b);
  auto pub = open(s);
  ASSERT_TRUE(pub->connect({{"heart-beat", "0,0"}}));
  pub->send_bytes(send_bytes("r1") + send_bytes("r2"));
  for (const char* id : {"r1", "r2"}) {
    auto r = pub->read_frame();
    ASSERT_TRUE(r && r->command == "RECEIPT") << (r ? r->command : "nothing");
    EXPECT_EQ(r->get("receipt-id"), id);
  }
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 1);
  pub->send_bytes(send_bytes("r3"));  // waits unread in the socket
  std::this_thread::sleep_for(300ms);  // time for a dropped connection to show
  EXPECT_FALSE(pub->closed()) << "the paused connection was dropped: " << pub->last_error();
  expect_consumed(s, {"r1", "r2", "r3"});
  auto r3 = pub->read_frame();
  ASSERT_TRUE(r3 && r3->command == "RECEIPT") << (r3 ? r3->command : "nothing");
  EXPECT_EQ(r3->get("receipt-id"), "r3");
}

TEST_P(FlowControl, ClosedWhilePausedIsCleanedUp) {
  test_server s(server_config(), small_queue_with_heart_beats());
  {
    auto pub = open(s);
    ASSERT_TRUE(pub->connect({{"heart-beat", "0,100"}}));
    pub->send_bytes(send_bytes("r1") + send_bytes("r2"));
    ASSERT_TRUE(pub->read_frame());
    ASSERT_TRUE(pub->read_frame());
  }  // the publisher goes away while paused: the broker learns it from a failed heart-beat
     // write or from the EOF once reading resumes
  auto consumer = open(s);
  ASSERT_TRUE(consumer->connect());
  consumer->send_frame(make_frame("SUBSCRIBE", {{"destination", "/queue/q"}, {"id", "s"}}));
  ASSERT_TRUE(consumer->read_frame());
  ASSERT_TRUE(consumer->read_frame());
  consumer.reset();
  EXPECT_TRUE(s.stop());  // every connection closed on its own
  EXPECT_EQ(s.broker().stats().paused_publishers.load(), 0);
  EXPECT_EQ(s.broker().stats().sessions.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, FlowControl, ::testing::Values("tcp", "ws", "tls", "wss"));

TEST(FlowControlConfig, LimitsKeysReachTheBroker) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("stompbox-flow-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << "[limits]\nflow_control = false\nmax_stores_in_flight = 7\n";
  app::settings s;
  app::load_config_file(path.string(), s);
  std::filesystem::remove(path);
  EXPECT_FALSE(s.broker.flow_control);
  EXPECT_EQ(s.broker.max_stores_in_flight, 7u);
  EXPECT_TRUE(app::settings{}.broker.flow_control);  // on unless switched off
}

TEST(FlowControlMetrics, PausedPublishersAndPausesAreRendered) {
  transport::detail::metrics_snapshot s;
  s.paused_publishers = 3;
  s.publisher_pauses = 11;
  const std::string text = transport::detail::render_metrics(s);
  EXPECT_NE(text.find("\nstompbox_paused_publishers 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nstompbox_publisher_pauses_total 11\n"), std::string::npos);
}

}  // namespace
