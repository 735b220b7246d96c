// User destinations (Spring semantics): parsing, resolution, fan-out to every session of the
// owner and to nobody else, by any spelling.
#include <gtest/gtest.h>

#include "broker/destination.hpp"
#include "broker/error.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::destination;
using broker::destination_kind;
using broker::destination_use;
using broker::error;

destination parsed(std::string_view raw, destination_use use = destination_use::send) {
  destination d;
  EXPECT_FALSE(broker::parse_destination(raw, d, use)) << raw;
  return d;
}

std::error_code failure(std::string_view raw, destination_use use = destination_use::send) {
  destination d;
  return broker::parse_destination(raw, d, use);
}

TEST(UserDestination, SendFormNamesTheOwner) {
  const destination d = parsed("/user/bob/queue/notifications");
  EXPECT_EQ(d.kind, destination_kind::user_queue);
  EXPECT_EQ(d.owner, "bob");
  EXPECT_EQ(d.name, "/user/queue/notifications");
  EXPECT_EQ(d.path(), "notifications");
  EXPECT_EQ(d.resolved(), "/user/bob/queue/notifications");
  const destination t = parsed("/user/bob/topic/news.uk");
  EXPECT_EQ(t.kind, destination_kind::user_topic);
  EXPECT_EQ(t.name, "/user/topic/news.uk");
}

TEST(UserDestination, SubscribeFormIsResolvedToTheSubscriber) {
  destination d = parsed("/user/queue/x", destination_use::subscribe);
  EXPECT_EQ(d.kind, destination_kind::user_queue);
  EXPECT_TRUE(d.owner.empty());
  broker::resolve_owner(d, "alice");
  EXPECT_EQ(d.resolved(), "/user/alice/queue/x");
  // An explicit owner in SUBSCRIBE is parsed (the authorizer decides).
  EXPECT_EQ(parsed("/user/bob/queue/x", destination_use::subscribe).owner, "bob");
  // In SEND the first segment is always the owner: a user called "queue".
  EXPECT_EQ(parsed("/user/queue/queue/x").owner, "queue");
  EXPECT_EQ(failure("/user/queue/x"), error::invalid_destination);  // owner "queue", then "/x"
}

TEST(UserDestination, OwnerIsPercentDecodedExactlyOnce) {
  EXPECT_EQ(parsed("/user/a%2Fb/queue/x").owner, "a/b");  // Spring's encoding of "/"
  EXPECT_EQ(parsed("/user/a%2Fb/queue/x").resolved(), "/user/a%2Fb/queue/x");
  EXPECT_EQ(parsed("/user/b%6Fb/queue/x").owner, "bob");
  EXPECT_EQ(parsed("/user/a%252Fb/queue/x").owner, "a%2Fb");  // not decoded twice
  EXPECT_EQ(parsed("/user/a%252Fb/queue/x").resolved(), "/user/a%252Fb/queue/x");
  EXPECT_EQ(broker::encode_user("50%/x"), "50%25%2Fx");
}

TEST(UserDestination, CollapsesDoubledSlashes) {
  EXPECT_EQ(parsed("//user//bob///queue//x").resolved(), "/user/bob/queue/x");
  EXPECT_EQ(parsed("/user//queue/x", destination_use::subscribe).owner, "");
}

TEST(UserDestination, RejectsTricks) {
  for (std::string_view raw :
       {"/user", "/user/", "/user/bob", "/user/bob/queue/", "/user/bob/exchange/x",
        "/user/%2e%2e/queue/x", "/user/%2E/queue/x", "/user/../queue/x", "/user/./queue/x",
        "/user/bob/../alice/queue/x", "/user/bob/queue/../x", "/user/bob/queue/a%2F..",
        "/user/bob/queue/a%20b", "/user/bob/queue/%2e%2e", "/user/%zz/queue/x", "/user/%2/queue/x",
        "/user/%00/queue/x", "/user/a%0Ab/queue/x", "/user/*/queue/x", "/user/#/queue/x",
        "/user/bob/queue/*", "/user/bob/topic/#", "/user/bob/topic/a.*", "/topic/%2e%2e",
        "/topic/a/%2E%2E/b"}) {
    EXPECT_EQ(failure(raw), error::invalid_destination) << raw;
  }
  for (std::string_view raw : {"/user/#", "/user/queue/#", "/user/topic/*", "/user/queue/a.*",
                               "/user/queue/", "/user/queue/..", "/user/queue/a%2Fb"}) {
    EXPECT_EQ(failure(raw, destination_use::subscribe), error::invalid_destination) << raw;
  }
}

struct UserRouting : users {};

TEST_F(UserRouting, ConnectedCarriesTheUserName) {
  as("alice");
  EXPECT_EQ(last_reply.get("user-name"), "alice");
}

TEST_F(UserRouting, EverySessionOfTheUserReceivesOthersNothing) {
  client& tab1 = as("alice");
  client& tab2 = as("alice");
  client& bob = as("bob");
  client& sender = as("backend");
  subscribe(tab1, "/user/queue/notifications", "n1");
  subscribe(tab2, "/user/queue/notifications", "n2");
  subscribe(bob, "/user/queue/notifications", "n");
  send(sender, "/user/alice/queue/notifications", "hi alice", "r1");
  EXPECT_EQ(sender.take("RECEIPT").size(), 1u);
  for (auto [c, id] : {std::pair{&tab1, "n1"}, std::pair{&tab2, "n2"}}) {
    const auto msgs = c->take("MESSAGE");
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].get("destination"), "/user/queue/notifications");
    EXPECT_EQ(msgs[0].get("subscription"), id);
    EXPECT_EQ(msgs[0].body, "hi alice");
  }
  EXPECT_TRUE(bob.take("MESSAGE").empty());
}

TEST_F(UserRouting, UserTopicsAreLiveOnly) {
  client& alice = as("alice");
  client& sender = as("backend");
  send(sender, "/user/alice/topic/ticks", "missed");
  subscribe(alice, "/user/topic/ticks");
  EXPECT_TRUE(alice.take("MESSAGE").empty());
  send(sender, "/user/alice/topic/ticks", "live");
  const auto msgs = alice.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].get("destination"), "/user/topic/ticks");
  EXPECT_EQ(msgs[0].body, "live");
}

TEST_F(UserRouting, AnonymousSessionsMayNotSubscribeToUserDestinations) {
  client& anon = anonymous();
  anon.send(make("SUBSCRIBE", {{"destination", "/user/queue/x"}, {"id", "1"}}));
  const stomp::frame e = anon.take_one();
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_EQ(e.get("message"), "user destinations need a user");
  EXPECT_EQ(anon.conn->closes(), std::vector{broker::close_reason::protocol_error});
}

TEST_F(UserRouting, PercentEncodedOwnerReachesThatUser) {
  client& alice = as("alice");
  client& sender = as("backend");
  subscribe(alice, "/user/queue/x");
  send(sender, "/user/%61lice/queue/x", "encoded");
  EXPECT_EQ(bodies(alice), strings{"encoded"});
}

// A name holding "/" travels as %2F; the default rules refuse such names (a `%` in a resolved
// destination), a custom authorizer may allow them, and they never mix with "a" or "b".
class allow_all : public auth::authorizer {
 public:
  bool allowed(const auth::principal&, auth::action, std::string_view) const override {
    return true;
  }
};

TEST_F(UserRouting, NameWithSlashIsOneUser) {
  broker::config cfg;
  cfg.authorizer = std::make_shared<allow_all>();
  start(cfg);
  client& ab = as("a/b");
  client& a = as("a");
  client& sender = as("backend");
  subscribe(ab, "/user/queue/x");
  subscribe(a, "/user/queue/b/queue/x");
  send(sender, "/user/a%2Fb/queue/x", "for a/b");
  EXPECT_EQ(bodies(ab), strings{"for a/b"});
  EXPECT_TRUE(bodies(a).empty());
}

// Alice tries every spelling of Bob's queue; each is refused or names something else, and
// Bob's message reaches Bob only.
TEST_F(UserRouting, NoSpellingReadsAnotherUsersMessages) {
  client& bob = as("bob");
  subscribe(bob, "/user/queue/inbox");
  std::vector<std::string> refused;
  std::vector<client*> spies;
  for (std::string spelling :
       {"/user/bob/queue/inbox", "/user//bob/queue/inbox", "//user/bob//queue/inbox",
        "/user/b%6Fb/queue/inbox", "/user/alice%2F..%2Fbob/queue/inbox",
        "/user/alice/../bob/queue/inbox", "/user/%2e%2e/bob/queue/inbox",
        "/user/queue/../../bob/queue/inbox", "/user/#", "/user/*/queue/inbox", "/USER/bob/queue/inbox",
        "/User/queue/inbox", "/user/queue/inbox%2F..%2F..%2Fbob", "/topic/user/bob/queue/inbox"}) {
    client& alice = as("alice");
    alice.send(make("SUBSCRIBE", {{"destination", spelling}, {"id", "spy"}}));
    settle();
    if (!alice.conn->closes().empty()) refused.push_back(spelling);
    spies.push_back(&alice);
  }
  EXPECT_EQ(refused.size(), 13u);  // only the plain topic is a legal (unrelated) subscription
  client& wild = as("alice");
  subscribe(wild, "/topic/#", "all");
  subscribe(wild, "/queue/inbox-userbob", "spring-style");
  client& sender = as("backend");
  send(sender, "/user/bob/queue/inbox", "secret");
  EXPECT_EQ(bodies(bob), strings{"secret"});
  for (client* spy : spies) EXPECT_TRUE(bodies(*spy).empty());
  EXPECT_TRUE(bodies(wild).empty());
}

// Spring's relay sends `/queue/x-user{session}`: a plain queue, never a user's queue.
TEST_F(UserRouting, SpringSessionQueuesDoNotCollideWithUserQueues) {
  client& alice = as("alice");
  client& relay = as("relay");
  subscribe(alice, "/user/queue/x", "u");
  subscribe(relay, "/queue/x-useralice", "q");
  send(relay, "/queue/x-useralice", "plain");
  send(relay, "/user/alice/queue/x", "user");
  EXPECT_EQ(bodies(alice), strings{"user"});
  EXPECT_EQ(bodies(relay), strings{"plain"});
}

TEST_F(UserRouting, UnsubscribedSessionsStopReceiving) {
  client& alice = as("alice");
  client& sender = as("backend");
  subscribe(alice, "/user/topic/t", "t");
  alice.send(make("UNSUBSCRIBE", {{"id", "t"}}));
  send(sender, "/user/alice/topic/t", "late");
  EXPECT_TRUE(bodies(alice).empty());
  EXPECT_EQ(b->stats().subscriptions.load(), 0);
}

}  // namespace
