#include "auth/rules_authorizer.hpp"

#include <gtest/gtest.h>

namespace {

using auth::action;

const auth::principal alice{"alice", {"user"}, std::nullopt};
const auth::principal alice2{"alice2", {"user"}, std::nullopt};
const auth::principal publisher{"pub", {"publisher"}, std::nullopt};
const auth::principal anonymous{"", {}, std::nullopt};

bool sub(const auth::authorizer& a, const auth::principal& p, std::string_view d) {
  return a.allowed(p, action::subscribe, d);
}
bool send(const auth::authorizer& a, const auth::principal& p, std::string_view d) {
  return a.allowed(p, action::send, d);
}

TEST(DefaultRules, UserMaySubscribeToOwnUserDestinationsOnly) {
  const auth::rules_authorizer rules;
  EXPECT_TRUE(sub(rules, alice, "/user/alice/queue/notifications"));
  EXPECT_TRUE(sub(rules, alice, "/user/alice/topic/x/y"));
  EXPECT_FALSE(sub(rules, alice, "/user/bob/queue/notifications"));
  EXPECT_FALSE(sub(rules, alice, "/user/alice2/queue/notifications"));
  EXPECT_FALSE(sub(rules, alice2, "/user/alice/queue/notifications"));
  EXPECT_FALSE(sub(rules, anonymous, "/user//queue/x"));
}

TEST(DefaultRules, AnyoneMaySubscribeAndSendToTopicsAndQueues) {
  const auth::rules_authorizer rules;
  for (const auto* d : {"/topic/news", "/topic/a/b/c", "/queue/jobs", "/queue/a.b"}) {
    EXPECT_TRUE(sub(rules, alice, d)) << d;
    EXPECT_TRUE(send(rules, alice, d)) << d;
    EXPECT_TRUE(send(rules, publisher, d)) << d;
  }
}

TEST(DefaultRules, OnlyPublishersMaySendToUserDestinations) {
  const auth::rules_authorizer rules;
  EXPECT_FALSE(send(rules, alice, "/user/bob/queue/x"));
  EXPECT_FALSE(send(rules, alice, "/user/alice/queue/x"));
  EXPECT_TRUE(send(rules, publisher, "/user/bob/queue/x"));
  EXPECT_TRUE(send(rules, publisher, "/user/alice/topic/a/b"));
  EXPECT_FALSE(sub(rules, publisher, "/user/bob/queue/x"));
}

TEST(DefaultRules, EverythingElseIsDenied) {
  const auth::rules_authorizer rules;
  for (const auto* d : {"/exchange/amq.topic/x", "/amq/queue/x", "/temp-queue/x", "/topics/x",
                        "/topics", "/user", "/other"}) {
    EXPECT_FALSE(send(rules, publisher, d)) << d;
    EXPECT_FALSE(sub(rules, alice, d)) << d;
  }
}

TEST(DefaultRules, AdversarialSpellingsAreRefused) {
  const auth::rules_authorizer rules;
  for (const auto* d :
       {"/user/alice/../bob/queue/x", "/user/alice2/..", "/topic/../user/bob/queue/x", "/topic/..",
        "/topic/./x", "/topic/%2Fx", "/topic%2F..%2Fuser%2Fbob", "/topic//x", "//topic/x",
        "/topic/x/", "/topic/x\n", "/topic/x\r", "/topic/\x01", "/topic/a\\b", "topic/x", "",
        "/"}) {
    EXPECT_FALSE(sub(rules, alice, d)) << d;
    EXPECT_FALSE(send(rules, publisher, d)) << d;
    EXPECT_FALSE(auth::is_safe_destination(d)) << d;
  }
  EXPECT_FALSE(sub(rules, alice, std::string_view("/topic/a\0b", 10)));
}

TEST(CustomRules, FirstMatchWinsAndNoMatchDenies) {
  const auth::rules_authorizer rules({
      {"*", {"/topic/secret/**"}, {action::subscribe, action::send}, false},
      {"role:user", {"/topic/**"}, {action::subscribe}, true},
      {"alice", {"/queue/alice-only"}, {action::send}, true},
  });
  EXPECT_FALSE(sub(rules, alice, "/topic/secret/plans"));
  EXPECT_TRUE(sub(rules, alice, "/topic/news"));
  EXPECT_FALSE(send(rules, alice, "/topic/news"));     // rule 2 covers subscribe only
  EXPECT_FALSE(sub(rules, publisher, "/topic/news"));  // not role:user
  EXPECT_TRUE(send(rules, alice, "/queue/alice-only"));
  EXPECT_FALSE(send(rules, alice2, "/queue/alice-only"));
  EXPECT_FALSE(sub(rules, alice, "/queue/jobs"));  // configured rules replace the defaults
}

TEST(CustomRules, UserPlaceholderMatchesTheWholeSegment) {
  const auth::rules_authorizer rules({
      {"*", {"/user/{user}/**", "/topic/chat.{user}"}, {action::subscribe, action::send}, true},
  });
  EXPECT_TRUE(sub(rules, alice, "/user/alice/queue/x"));
  EXPECT_FALSE(sub(rules, alice, "/user/alice2/queue/x"));
  EXPECT_FALSE(sub(rules, alice2, "/user/alice/queue/x"));
  EXPECT_FALSE(sub(rules, alice, "/user/xalice/queue/x"));
  EXPECT_FALSE(sub(rules, alice, "/user/alice2/../alice/queue/x"));
  EXPECT_TRUE(send(rules, alice, "/topic/chat.alice"));
  EXPECT_FALSE(send(rules, alice, "/topic/chat.alice2"));
  EXPECT_FALSE(send(rules, alice2, "/topic/chat.alice"));
  EXPECT_FALSE(send(rules, anonymous, "/topic/chat."));
  EXPECT_FALSE(sub(rules, anonymous, "/user/{user}/queue/x"));
}

TEST(CustomRules, UserSelectorsByNameExplicitNameRoleAndStar) {
  const auth::rules_authorizer rules({
      {"user:pub", {"/queue/a"}, {action::send}, true},
      {"role:publisher", {"/queue/b"}, {action::send}, true},
      {"*", {"/queue/c"}, {action::send}, true},
  });
  EXPECT_TRUE(send(rules, publisher, "/queue/a"));
  EXPECT_FALSE(send(rules, alice, "/queue/a"));
  EXPECT_TRUE(send(rules, publisher, "/queue/b"));
  EXPECT_FALSE(send(rules, alice, "/queue/b"));
  EXPECT_TRUE(send(rules, anonymous, "/queue/c"));
}

TEST(Patterns, StarIsOneSegmentDoubleStarAnyNumber) {
  EXPECT_TRUE(auth::destination_matches("/queue/*", "/queue/a", ""));
  EXPECT_FALSE(auth::destination_matches("/queue/*", "/queue/a/b", ""));
  EXPECT_FALSE(auth::destination_matches("/queue/*", "/queue", ""));
  EXPECT_TRUE(auth::destination_matches("/queue/**", "/queue", ""));
  EXPECT_TRUE(auth::destination_matches("/queue/**", "/queue/a/b/c", ""));
  EXPECT_TRUE(auth::destination_matches("/**", "/anything/at/all", ""));
  EXPECT_TRUE(auth::destination_matches("/a/**/z", "/a/z", ""));
  EXPECT_TRUE(auth::destination_matches("/a/**/z", "/a/b/c/z", ""));
  EXPECT_FALSE(auth::destination_matches("/a/**/z", "/a/b/c/z/y", ""));
  EXPECT_TRUE(auth::destination_matches("/a/**/*/z", "/a/b/z", ""));
  EXPECT_FALSE(auth::destination_matches("/a/**/*/z", "/a/z", ""));
  EXPECT_FALSE(auth::destination_matches("/queue/a", "/queue/ab", ""));
  EXPECT_FALSE(auth::destination_matches("/queue/**", "/queues/a", ""));
}

TEST(Patterns, MalformedRulesAreRefusedAtConstruction) {
  for (const auto* pattern :
       {"/a*", "/a/**b", "/a/{owner}", "/a/../b", "/a//b", "a", "/a/%2F", ""}) {
    EXPECT_THROW(auth::rules_authorizer({{"*", {pattern}, {action::send}, true}}),
                 std::invalid_argument)
        << pattern;
  }
  EXPECT_THROW(auth::rules_authorizer({{"", {"/a"}, {action::send}, true}}), std::invalid_argument);
  EXPECT_THROW(auth::rules_authorizer({{"*", {}, {action::send}, true}}), std::invalid_argument);
  EXPECT_THROW(auth::rules_authorizer({{"*", {"/a"}, {}, true}}), std::invalid_argument);
}

}  // namespace
