#include "broker/destination.hpp"

#include <gtest/gtest.h>

#include "broker/error.hpp"
#include "broker/topic_matcher.hpp"

namespace {

using broker::destination;
using broker::destination_kind;
using broker::error;

destination parsed(std::string_view raw) {
  destination d;
  EXPECT_FALSE(broker::parse_destination(raw, d)) << raw;
  return d;
}

std::error_code failure(std::string_view raw) {
  destination d;
  return broker::parse_destination(raw, d);
}

TEST(Destination, ClassifiesTopicsAndQueues) {
  const destination t = parsed("/topic/news.uk");
  EXPECT_EQ(t.kind, destination_kind::topic);
  EXPECT_EQ(t.name, "/topic/news.uk");
  EXPECT_EQ(t.path(), "news.uk");
  EXPECT_FALSE(t.wildcard);
  const destination q = parsed("/queue/jobs");
  EXPECT_EQ(q.kind, destination_kind::queue);
  EXPECT_EQ(q.path(), "jobs");
}

TEST(Destination, CollapsesDoubledSlashes) {
  EXPECT_EQ(parsed("//topic///a//b").name, "/topic/a/b");
  EXPECT_EQ(parsed("/queue//jobs").name, "/queue/jobs");
}

TEST(Destination, RejectsInvalidNames) {
  for (std::string_view raw : {"/topic/", "/topic", "/queue/", "/topic/a/../b", "/topic/..",
                               "/topic/a..b", "/topic/a/", "/topic/a%2Fb", "/topic/a%2fb",
                               "/queue/a%5Cb", "/topic/a\nb", "/topic/a\x01", "/topic/a\x7f",
                               "/topic/news*", "/topic/a#b"}) {
    EXPECT_EQ(failure(raw), error::invalid_destination) << raw;
  }
}

TEST(Destination, RejectsUnknownPrefixes) {
  for (std::string_view raw : {"", "topic/a", "/exchange/x", "/amq/queue/x", "/User/bob/queue/x",
                               "/USER/queue/x", "/Topic/a", "/QUEUE/a", "/users/bob/queue/x",
                               "/topics/a", "/queues/a"}) {
    EXPECT_EQ(failure(raw), error::unknown_destination_prefix) << raw;
  }
  EXPECT_EQ(broker::known_prefixes(), "/topic/, /queue/, /user/");
}

TEST(Destination, FlagsWildcardSegments) {
  EXPECT_TRUE(parsed("/topic/news.*").wildcard);
  EXPECT_TRUE(parsed("/topic/a/#").wildcard);
  EXPECT_TRUE(parsed("/queue/*").wildcard);  // parsed; SUBSCRIBE refuses it
  EXPECT_FALSE(parsed("/topic/news.uk").wildcard);
}

bool matches(std::string_view pattern, std::string_view subject) {
  return broker::topic_matcher(pattern).matches(subject);
}

TEST(TopicMatcher, StarMatchesExactlyOneSegment) {
  EXPECT_TRUE(matches("news.*", "news.uk"));
  EXPECT_TRUE(matches("news.*", "news/uk"));
  EXPECT_FALSE(matches("news.*", "news"));
  EXPECT_FALSE(matches("news.*", "news.uk.london"));
  EXPECT_TRUE(matches("*.err", "db.err"));
  EXPECT_FALSE(matches("*.err", "db.x.err"));
  EXPECT_TRUE(matches("a/*/c", "a.b.c"));
}

TEST(TopicMatcher, HashMatchesZeroOrMoreSegments) {
  EXPECT_TRUE(matches("a/#", "a"));
  EXPECT_TRUE(matches("a/#", "a/b"));
  EXPECT_TRUE(matches("a/#", "a/b/c"));
  EXPECT_TRUE(matches("a.#", "a/b.c"));
  EXPECT_FALSE(matches("a/#", "ab"));
  EXPECT_FALSE(matches("a/#", "b/a"));
  EXPECT_TRUE(matches("#", "anything.at.all"));
  EXPECT_TRUE(matches("#.err", "err"));
  EXPECT_TRUE(matches("#.err", "x.y.err"));
  EXPECT_FALSE(matches("#.err", "x.err.y"));
  EXPECT_TRUE(matches("a.#.z", "a.z"));
  EXPECT_TRUE(matches("a.#.z", "a.b.c.z"));
  EXPECT_TRUE(matches("a.#.*.z", "a.b.z"));
  EXPECT_FALSE(matches("a.#.*.z", "a.z"));
}

TEST(TopicMatcher, LiteralSegmentsMustBeEqual) {
  EXPECT_TRUE(matches("a.b", "a/b"));
  EXPECT_FALSE(matches("a.b", "a.c"));
  EXPECT_FALSE(matches("a.b", "a.bb"));
}

}  // namespace
