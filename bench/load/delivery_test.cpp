// The generator's exactly-once verdict and message stamps (bench/load/delivery.hpp).
#include "bench/load/delivery.hpp"

#include <gtest/gtest.h>

namespace load {
namespace {

receiver_state receiver(std::size_t publishers) {
  return receiver_state{std::vector<std::uint64_t>(publishers, 1)};
}

delivery_report verdict(const receiver_state& r, std::vector<std::uint64_t> sent) {
  delivery_report rep;
  rep.add(r, sent);
  return rep;
}

TEST(Delivery, BodyRoundTripsAndHasTheRequestedSize) {
  std::string body;
  append_body(stamp{3, 123456789, 987654321012}, 100, body);
  EXPECT_EQ(body.size(), 100u);
  stamp s;
  ASSERT_TRUE(parse_body(body, s));
  EXPECT_EQ(s.publisher, 3u);
  EXPECT_EQ(s.seq, 123456789u);
  EXPECT_EQ(s.sent_ns, 987654321012);
  EXPECT_FALSE(parse_body("hello world", s));
}

TEST(Delivery, InOrderFromTwoPublishersIsOk) {
  auto r = receiver(2);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    r.on_message({0, i, 0});
    r.on_message({1, i, 0});
  }
  const auto rep = verdict(r, {3, 3});
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.received, 6u);
}

TEST(Delivery, MissingTailIsLoss) {
  auto r = receiver(1);
  r.on_message({0, 1, 0});
  const auto rep = verdict(r, {2});
  EXPECT_FALSE(rep.ok());
  EXPECT_EQ(rep.lost, 1u);
}

TEST(Delivery, RepeatIsDuplicate) {
  auto r = receiver(1);
  r.on_message({0, 1, 0});
  r.on_message({0, 1, 0});
  const auto rep = verdict(r, {1});
  EXPECT_EQ(rep.duplicates, 1u);
  EXPECT_EQ(rep.lost, 0u);
  EXPECT_FALSE(rep.ok());
}

TEST(Delivery, SwappedPairIsOutOfOrder) {
  auto r = receiver(1);
  r.on_message({0, 2, 0});
  r.on_message({0, 1, 0});
  const auto rep = verdict(r, {2});
  EXPECT_EQ(rep.out_of_order, 1u);
  EXPECT_FALSE(rep.ok());
}

TEST(Delivery, UnknownPublisherIsMalformed) {
  auto r = receiver(1);
  r.on_message({7, 1, 0});
  EXPECT_EQ(verdict(r, {0}).malformed, 1u);
}

// A /queue/: messages split between consumers; gaps at one consumer are another's share.
delivery_report competing(const std::vector<std::vector<std::uint64_t>>& per_consumer,
                          std::uint64_t sent) {
  std::vector<consumer_log> logs;
  for (const auto& seqs : per_consumer) {
    consumer_log c{std::vector<std::vector<std::uint64_t>>(1)};
    for (std::uint64_t s : seqs) c.on_message({0, s, 0});
    logs.push_back(std::move(c));
  }
  delivery_report rep;
  rep.add_competing(logs, {sent});
  return rep;
}

TEST(Delivery, CompetingConsumersSplittingEveryMessageOnceIsOk) {
  const auto rep = competing({{1, 3, 4}, {2, 5}}, 5);
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.expected, 5u);
  EXPECT_EQ(rep.received, 5u);
}

TEST(Delivery, CompetingConsumersLossDuplicateAndDisorder) {
  EXPECT_EQ(competing({{1, 2}, {4}}, 4).lost, 1u);           // 3 reached nobody
  EXPECT_EQ(competing({{1, 2}, {2, 3}}, 3).duplicates, 1u);  // 2 reached both
  EXPECT_EQ(competing({{2, 1}, {3}}, 3).out_of_order, 1u);   // one consumer saw 2 before 1
  EXPECT_EQ(competing({{1, 9}}, 1).malformed, 1u);           // never sent
}

TEST(Delivery, PercentilesFollowTheRecordedValues) {
  latency_histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(i * 1000);  // 1 us .. 1 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 500e3, 500e3 * 0.04);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 990e3, 990e3 * 0.04);
  EXPECT_EQ(latency_histogram{}.percentile(0.5), 0);
}

}  // namespace
}  // namespace load
