// The one timer every connection's deadline shares (transport/detail/shared_timer).
#include "transport/detail/shared_timer.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using transport::detail::shared_timer;
using clock_type = shared_timer::clock;

struct deadline : shared_timer::client {
  deadline() : client(&deadline::on_expired) {}
  static void on_expired(shared_timer::client& c) noexcept {
    auto& d = static_cast<deadline&>(c);
    d.fired_at = clock_type::now();
    d.fired.fetch_add(1);
  }
  std::atomic<int> fired{0};
  clock_type::time_point fired_at{};
};

TEST(SharedTimer, FiresEachDeadlineOnceNeverEarlyAndAtMostAResolutionLate) {
  boost::asio::io_context ioc;
  auto timer = std::make_shared<shared_timer>(ioc);
  deadline a, b, c;
  const auto start = clock_type::now();
  timer->schedule(a, start + 60ms);
  timer->schedule(b, start + 20ms);
  timer->schedule(c, start + 40ms);
  ioc.run();  // returns once nothing is scheduled: the timer is the only work
  for (auto* d : {&a, &b, &c}) EXPECT_EQ(d->fired.load(), 1);
  EXPECT_GE(b.fired_at, start + 20ms);
  EXPECT_GE(c.fired_at, start + 40ms);
  EXPECT_GE(a.fired_at, start + 60ms);
  EXPECT_LT(b.fired_at, c.fired_at);
  EXPECT_LT(c.fired_at, a.fired_at);
  EXPECT_EQ(timer->size(), 0u);
}

TEST(SharedTimer, ScheduleReplacesTheDeadlineAndCancelForgetsIt) {
  boost::asio::io_context ioc;
  auto timer = std::make_shared<shared_timer>(ioc);
  deadline moved, cancelled;
  const auto start = clock_type::now();
  timer->schedule(moved, start + 10ms);
  timer->schedule(moved, start + 50ms);  // later: the earlier deadline is gone
  timer->schedule(cancelled, start + 20ms);
  timer->cancel(cancelled);
  timer->cancel(cancelled);  // idempotent
  EXPECT_EQ(timer->size(), 1u);
  ioc.run();
  EXPECT_EQ(moved.fired.load(), 1);
  EXPECT_GE(moved.fired_at, start + 50ms);
  EXPECT_EQ(cancelled.fired.load(), 0);
}

TEST(SharedTimer, AnEarlierDeadlineRearmsTheTimer) {
  boost::asio::io_context ioc;
  auto timer = std::make_shared<shared_timer>(ioc);
  deadline late, early;
  const auto start = clock_type::now();
  timer->schedule(late, start + 10s);
  timer->schedule(early, start + 20ms);
  ioc.run_for(300ms);
  EXPECT_EQ(early.fired.load(), 1);
  EXPECT_EQ(late.fired.load(), 0);
  timer->cancel(late);  // the last one: the timer stops and run() has no more work
  const auto before = clock_type::now();
  ioc.restart();
  ioc.run();
  EXPECT_LT(clock_type::now() - before, 1s);
}

TEST(SharedTimer, CancelledLastDeadlineLetsRunReturn) {
  boost::asio::io_context ioc;
  auto timer = std::make_shared<shared_timer>(ioc);
  deadline d;
  timer->schedule(d, clock_type::now() + 10s);
  timer->cancel(d);
  const auto before = clock_type::now();
  ioc.run();
  EXPECT_LT(clock_type::now() - before, 1s);
}

// Many threads schedule and cancel while two run the io_context (TSan's case): every deadline
// left scheduled fires exactly once, none that was cancelled fires after its cancel.
TEST(SharedTimer, ConcurrentScheduleAndCancel) {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  auto timer = std::make_shared<shared_timer>(ioc);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { ioc.run(); });
  constexpr int per_thread = 200;
  std::vector<deadline> kept(4 * per_thread), dropped(4 * per_thread);
  std::vector<std::thread> users;
  for (int t = 0; t < 4; ++t) {
    users.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const auto k = static_cast<std::size_t>(t * per_thread + i);
        timer->schedule(kept[k], clock_type::now() + std::chrono::milliseconds(i % 30));
        timer->schedule(dropped[k], clock_type::now() + std::chrono::milliseconds(i % 7));
        timer->cancel(dropped[k]);  // it may have fired already (0 ms): at most once
      }
    });
  }
  for (auto& u : users) u.join();
  const auto until = clock_type::now() + 5s;
  while (timer->size() > 0 && clock_type::now() < until) std::this_thread::sleep_for(5ms);
  guard.reset();
  for (auto& r : runners) r.join();
  for (auto& d : kept) EXPECT_EQ(d.fired.load(), 1);
  for (auto& d : dropped) EXPECT_LE(d.fired.load(), 1);
}

}  // namespace
