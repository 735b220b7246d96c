// broker::detail::idempotency_cache: retries, keys reused for another request, fingerprints.
#include "broker/detail/idempotency_cache.hpp"

#include <gtest/gtest.h>

namespace {

using broker::publish_request;
using broker::publish_result;
using broker::detail::idempotency_cache;
using outcome = idempotency_cache::outcome;

std::uint64_t print(const publish_request& r) { return idempotency_cache::fingerprint(r); }

TEST(IdempotencyFingerprint, EachPartOfTheRequestCounts) {
  const publish_request r{"/topic/a", {{"x-a", "1"}, {"x-b", "2"}}, "body"};
  EXPECT_EQ(print(r), print(r));
  EXPECT_NE(print(r), print({"/topic/b", r.headers, r.body}));
  EXPECT_NE(print(r), print({r.destination, r.headers, "body2"}));
  EXPECT_NE(print(r), print({r.destination, {{"x-a", "1"}}, r.body}));
  EXPECT_NE(print(r), print({r.destination, {{"x-a", "1"}, {"x-b", "3"}}, r.body}));
  EXPECT_NE(print(r), print({r.destination, {{"x-a", "1"}, {"x-c", "2"}}, r.body}));
}

TEST(IdempotencyFingerprint, HeaderOrderDoesNotCount) {
  EXPECT_EQ(print({"/topic/a", {{"x-a", "1"}, {"x-b", "2"}}, "b"}),
            print({"/topic/a", {{"x-b", "2"}, {"x-a", "1"}}, "b"}));
}

TEST(IdempotencyFingerprint, PiecesDoNotRunTogether) {
  EXPECT_NE(print({"/topic/ab", {}, "c"}), print({"/topic/a", {}, "bc"}));
  EXPECT_NE(print({"/topic/a", {{"x-ab", "c"}}, ""}), print({"/topic/a", {{"x-a", "bc"}}, ""}));
}

struct Cache : ::testing::Test {
  idempotency_cache cache{std::chrono::minutes(10), 100};
  idempotency_cache::clock::time_point now = idempotency_cache::clock::now();
  std::vector<publish_result> answers;
  /// begin() with a fresh `done` (a pending key keeps the one it is given).
  outcome begin(const std::string& key, std::uint64_t print, const std::string& id,
                idempotency_cache::clock::time_point at) {
    idempotency_cache::done_fn done = [this](publish_result r) { answers.push_back(std::move(r)); };
    return cache.begin(key, print, id, at, done);
  }
  outcome begin(const std::string& key, std::uint64_t print, const std::string& id) {
    return begin(key, print, id, now);
  }
};

TEST_F(Cache, SameRequestIsARetryAnotherIsReused) {
  ASSERT_EQ(begin("k", 1, "id-1"), outcome::publish);
  // While the first is pending: a retry waits, another request is refused at once.
  EXPECT_EQ(begin("k", 2, "id-2"), outcome::reused);
  EXPECT_EQ(begin("k", 1, "id-3"), outcome::retry);
  EXPECT_TRUE(answers.empty());
  cache.finish("k", publish_result{broker::publish_status::accepted, "id-1", {}});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].message_id, "id-1");
  // Finished: the same again.
  EXPECT_EQ(begin("k", 2, "id-4"), outcome::reused);
  EXPECT_EQ(begin("k", 1, "id-5"), outcome::retry);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].message_id, "id-1");
}

TEST_F(Cache, AReusedKeyLeavesTheFirstRequestRemembered) {
  ASSERT_EQ(begin("k", 1, "id-1"), outcome::publish);
  cache.finish("k", publish_result{broker::publish_status::accepted, "id-1", {}});
  EXPECT_EQ(begin("k", 2, "id-2"), outcome::reused);
  EXPECT_EQ(begin("k", 2, "id-3"), outcome::reused);
  EXPECT_EQ(begin("k", 1, "id-4"), outcome::retry);
}

TEST_F(Cache, AfterTheWindowTheKeyIsFreeForAnyRequest) {
  ASSERT_EQ(begin("k", 1, "id-1"), outcome::publish);
  cache.finish("k", publish_result{broker::publish_status::accepted, "id-1", {}});
  EXPECT_EQ(begin("k", 2, "id-2", now + std::chrono::minutes(11)), outcome::publish);
}

}  // namespace
