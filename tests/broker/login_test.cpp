// Password checks off the I/O threads: the login pool (bounded, "server busy" past its queue)
// and the asynchronous CONNECT (nothing after it runs before the answer; a connection closed
// meanwhile gets nothing).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>

#include "broker/detail/login_pool.hpp"
#include "stomp/serializer.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;
using broker::detail::login_pool;
using namespace std::chrono_literals;

/// Spins until `pred` holds (at most 10 s).
template <typename Pred>
bool eventually(Pred pred) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(LoginPool, RunsJobsAndRefusesPastItsQueue) {
  login_pool pool(1, 2);
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_submit([&] {
    open.wait();
    ++ran;
  }));
  ASSERT_TRUE(eventually([&] { return pool.waiting() == 0; }));  // the worker holds it
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_FALSE(pool.try_submit([&] { ++ran; })) << "two already wait";
  EXPECT_EQ(pool.waiting(), 2u);
  gate.set_value();
  EXPECT_TRUE(eventually([&] { return ran == 3; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; })) << "room again";
  EXPECT_TRUE(eventually([&] { return ran == 4; }));
}

TEST(LoginPool, StopDropsWhatWaitsAndRefusesMore) {
  login_pool pool(1, 10);
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_submit([&] {
    open.wait();
    ++ran;
  }));
  ASSERT_TRUE(eventually([&] { return pool.waiting() == 0; }));
  ASSERT_TRUE(pool.try_submit([&] { ++ran; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    gate.set_value();
  });
  pool.stop();  // waits for the running job, drops the waiting one
  releaser.join();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));
}

/// A password check that takes as long as the test wants: slow() is true, authenticate waits
/// for the gate.
class gated_authenticator final : public auth::authenticator {
 public:
  std::optional<auth::principal> authenticate(const auth::credentials& creds,
                                              std::error_code&) const override {
    ++started;
    open.wait();
    ++finished;
    return auth::principal{creds.login, {"user"}, std::nullopt};
  }
  bool slow(const auth::credentials&) const override { return true; }

  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  mutable std::atomic<int> started{0};
  mutable std::atomic<int> finished{0};
};

struct AsyncConnect : users {
  AsyncConnect() {
    broker::config cfg;
    cfg.authenticator = checker;
    cfg.verify_threads = 1;
    cfg.verify_queue = 1;
    start(cfg);
  }
  // A failed assertion must not leave the login thread waiting forever (the broker joins it).
  ~AsyncConnect() override {
    try {
      checker->gate.set_value();
    } catch (const std::future_error&) {  // already open
    }
  }
  client& open() {
    clients.push_back(std::make_unique<client>(*b, q));
    return *clients.back();
  }
  void send_connect(client& c, const std::string& login, std::string more = {}) {
    c.raw(stomp::serialize(make("CONNECT", {{"accept-version", "1.2"}, {"login", login},
                                            {"passcode", "pw"}}),
                           stomp::version::v1_2) +
          more);
  }
  std::shared_ptr<gated_authenticator> checker = std::make_shared<gated_authenticator>();
};

TEST_F(AsyncConnect, FramesAfterConnectWaitForItsAnswer) {
  client& c = open();
  const std::string subscribe = stomp::serialize(
      make("SUBSCRIBE", {{"destination", "/topic/t"}, {"id", "s"}, {"receipt", "r1"}}),
      stomp::version::v1_2);
  send_connect(c, "alice", subscribe.substr(0, 20));
  c.raw(subscribe.substr(20));  // the rest of the read in progress when reading paused
  settle();
  EXPECT_EQ(c.conn->paused(), 1) << "reading paused while the password is checked";
  EXPECT_TRUE(c.take().empty()) << "nothing answered, the SUBSCRIBE not run";
  checker->gate.set_value();
  ASSERT_TRUE(settle_until([&] { return c.conn->sent().size() >= 2; }));
  const auto frames = c.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].command, "CONNECTED");
  EXPECT_EQ(frames[0].get("user-name"), "alice");
  EXPECT_EQ(frames[1].command, "RECEIPT");
  EXPECT_EQ(frames[1].get("receipt-id"), "r1");
  EXPECT_EQ(c.conn->paused(), 0);
}

TEST_F(AsyncConnect, PastTheQueueConnectGetsServerBusy) {
  client& first = open();
  send_connect(first, "a");
  ASSERT_TRUE(eventually([&] { return checker->started == 1; }));
  client& second = open();
  send_connect(second, "b");  // waits in the queue (verify_queue = 1)
  client& third = open();
  send_connect(third, "c", stomp::serialize(make("CONNECT", {{"receipt", "x"}}),
                                            stomp::version::v1_2));
  const stomp::frame busy = third.take_one();
  EXPECT_EQ(busy.command, "ERROR");
  EXPECT_EQ(busy.get("message"), "server busy");
  EXPECT_EQ(third.conn->closes(), std::vector{close_reason::server_error});
  EXPECT_EQ(third.conn->paused(), 0) << "refused at once, never paused";
  checker->gate.set_value();
  ASSERT_TRUE(settle_until([&] { return !second.conn->sent().empty(); }));
  EXPECT_EQ(first.take_one().command, "CONNECTED");
  EXPECT_EQ(second.take_one().command, "CONNECTED");
}

TEST_F(AsyncConnect, PublishApiVerifiesOnTheLoginThreadsAnd503sWhenTheyAreFull) {
  std::atomic<int> answered{0};
  std::optional<broker::publish_result> first, busy;
  b->api_publish({"backend", "pw", "", "10.0.0.1:1"}, {"/topic/t", {}, "x"}, "",
                 [&](broker::publish_result r) {
                   first = std::move(r);
                   ++answered;
                 });
  EXPECT_EQ(answered, 0) << "the password check waits on the login thread, not in the caller";
  ASSERT_TRUE(eventually([&] { return checker->started == 1; }));
  client& queued = open();
  send_connect(queued, "b");  // fills verify_queue = 1
  b->api_publish({"backend", "pw", "", "10.0.0.1:1"}, {"/topic/t", {}, "x"}, "",
                 [&](broker::publish_result r) { busy = std::move(r); });
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, broker::publish_status::unavailable);
  EXPECT_EQ(busy->error, "server busy");
  checker->gate.set_value();
  ASSERT_TRUE(eventually([&] { return answered == 1; }));
  EXPECT_EQ(first->status, broker::publish_status::accepted);
}

TEST_F(AsyncConnect, BytesPastOneFrameBeforeTheAnswerAreRefused) {
  client& c = open();  // as over SockJS, whose transport cannot pause reading
  send_connect(c, "alice");
  const std::size_t max = broker::config{}.frame_limits.max_frame;
  c.raw(std::string(max, '\n'));  // heart-beat EOLs, one frame's worth: kept
  EXPECT_TRUE(c.conn->closes().empty());
  c.raw("\n");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::frame_too_large});
  EXPECT_EQ(c.take_one().get("message"), "frame too large");
}

TEST_F(AsyncConnect, AConnectionClosedWhileCheckedGetsNothing) {
  client& c = open();
  send_connect(c, "alice", stomp::serialize(make("SEND", {{"destination", "/topic/t"}}, "x"),
                                            stomp::version::v1_2));
  ASSERT_TRUE(eventually([&] { return checker->started == 1; }));
  c.conn->close(close_reason::connect_timeout);  // as the transport's CONNECT timeout does
  c.session->on_closed(close_reason::connect_timeout);
  checker->gate.set_value();
  ASSERT_TRUE(eventually([&] { return checker->finished == 1; }));
  std::this_thread::sleep_for(20ms);  // its answer is posted right after
  settle();
  EXPECT_TRUE(c.take().empty());
  EXPECT_EQ(b->stats().messages_published.load(), 0u);
}

}  // namespace
