#include "transport/detail/delivery_inbox.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using transport::detail::delivery_inbox;
using pushed = delivery_inbox::pushed;

broker::message_ptr make_message() { return std::make_shared<const broker::message>(); }

TEST(DeliveryInbox, FirstPushOfABurstAsksForOneDrainAndTakeKeepsOrder) {
  delivery_inbox inbox;
  const auto m = make_message();
  EXPECT_EQ(inbox.push(1, m), pushed::first);
  EXPECT_EQ(inbox.push(2, m), pushed::queued);
  EXPECT_EQ(inbox.push(3, m), pushed::queued);
  std::vector<delivery_inbox::delivery> batch;
  inbox.take(batch);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].handle, 1u);
  EXPECT_EQ(batch[1].handle, 2u);
  EXPECT_EQ(batch[2].handle, 3u);
  EXPECT_EQ(inbox.size(), 0u);
  // Taken: the next delivery starts a new burst, so it must post a drain of its own.
  EXPECT_EQ(inbox.push(4, m), pushed::first);
  inbox.take(batch);
  ASSERT_EQ(batch.size(), 1u);  // the earlier batch is not delivered twice
  EXPECT_EQ(batch[0].handle, 4u);
}

TEST(DeliveryInbox, ClosedInboxReleasesWhatWaitedAndRefusesMore) {
  delivery_inbox inbox;
  auto m = make_message();
  inbox.push(1, m);
  inbox.push(2, m);
  EXPECT_EQ(m.use_count(), 3);
  inbox.close();
  EXPECT_EQ(m.use_count(), 1);  // the closed connection holds no message
  EXPECT_EQ(inbox.push(3, m), pushed::refused);
  EXPECT_EQ(m.use_count(), 1);
  std::vector<delivery_inbox::delivery> batch;
  inbox.take(batch);
  EXPECT_TRUE(batch.empty());
}

// Publishers on several threads, one "strand" that drains only when a push reported `first`
// (as connection_base posts): every delivery arrives exactly once, in each publisher's order,
// and none is stranded in the inbox without a drain on its way.
TEST(DeliveryInbox, EveryDeliveryArrivesOnceInPublisherOrderAcrossThreads) {
  constexpr std::uint64_t publishers = 4;
  constexpr std::uint64_t per_publisher = 20000;
  delivery_inbox inbox;
  const auto m = make_message();
  std::atomic<std::uint64_t> drains_posted{0};
  std::vector<std::thread> threads;
  for (std::uint64_t p = 0; p < publishers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < per_publisher; ++i) {
        if (inbox.push((p << 32) | i, m) == pushed::first) drains_posted.fetch_add(1);
      }
    });
  }
  std::vector<std::uint64_t> next(publishers, 0);
  std::uint64_t received = 0;
  std::uint64_t drains_run = 0;
  std::vector<delivery_inbox::delivery> batch;
  bool in_order = true;
  // A delivery stranded without a drain would wait forever: give up after 20 s and fail.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (received < publishers * per_publisher && std::chrono::steady_clock::now() < give_up) {
    if (drains_run == drains_posted.load()) {
      std::this_thread::yield();
      continue;
    }
    ++drains_run;
    inbox.take(batch);
    for (const auto& d : batch) {
      const auto p = d.handle >> 32;
      in_order = in_order && (d.handle & 0xffffffffu) == next[p];
      ++next[p];
      ++received;
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, publishers * per_publisher);
  for (std::uint64_t p = 0; p < publishers; ++p) EXPECT_EQ(next[p], per_publisher);
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_LE(drains_run, drains_posted.load());
}

}  // namespace
