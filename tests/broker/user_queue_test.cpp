// Durable per-user queues: stored first, replayed oldest first on subscribe, live after, no
// duplicates; acks remove, unacked come back redelivered; retention; restarts; store failures.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include "broker/store/sqlite_store.hpp"
#include "tests/support/log_capture.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;

// A fresh directory, removed with its contents at the end.
struct temp_dir {
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "stompbox-broker-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

std::shared_ptr<broker::store::sqlite_store> store_in(const temp_dir& dir,
                                                       std::int64_t max_pages = 0) {
  broker::store::sqlite_options o;
  o.data_dir = dir.path.string();
  o.max_page_count = max_pages;
  return std::make_shared<broker::store::sqlite_store>(std::move(o));
}

struct UserQueue : users {
  /// Starts the broker on a store in `dir` that keeps at most `max` messages per user queue.
  std::shared_ptr<broker::store::sqlite_store> start_bounded(const temp_dir& dir,
                                                             std::size_t max) {
    auto store = store_in(dir);
    broker::config cfg;
    cfg.store = store;
    cfg.user_queue_max_messages = max;
    start(cfg);
    return store;
  }
  void send_n(client& sender, int n, const std::string& prefix = "m",
              const std::string& to = "/user/alice/queue/inbox") {
    for (int i = 0; i < n; ++i) send(sender, to, prefix + std::to_string(i));
  }
};

TEST_F(UserQueue, ReceiptComesAfterTheStoreAndOfflineMessagesWait) {
  client& sender = as("backend");
  sender.send(make("SEND", {{"destination", "/user/alice/queue/inbox"}, {"receipt", "r1"}}, "a"));
  settle();
  const auto receipts = sender.take("RECEIPT");
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].get("receipt-id"), "r1");
  EXPECT_EQ(b->stats().messages_stored.load(), 1u);
  client& alice = as("alice");
  subscribe(alice, "/user/queue/inbox");
  EXPECT_EQ(bodies(alice), strings{"a"});
}

TEST_F(UserQueue, OfflineMessagesFirstOldestFirstThenLiveWithoutDuplicates) {
  client& sender = as("backend");
  send_n(sender, 3, "old");
  client& alice = as("alice");
  subscribe(alice, "/user/queue/inbox");
  send_n(sender, 2, "new");
  EXPECT_EQ(bodies(alice), (strings{"old0", "old1", "old2", "new0", "new1"}));
}

// Appends still being committed while the subscriber replays: whichever way each one races the
// load, every message arrives exactly once and in order.
TEST_F(UserQueue, AppendsRacingTheReplayArriveOnceInOrder) {
  client& sender = as("backend");
  strings expected;
  for (int i = 0; i < 200; ++i) {
    sender.send(make("SEND", {{"destination", "/user/alice/queue/inbox"}}, std::to_string(i)));
    expected.push_back(std::to_string(i));
    if (i == 100) b->flush();
  }
  client& alice = as("alice");
  alice.send(make("SUBSCRIBE", {{"destination", "/user/queue/inbox"}, {"id", "s"}}));
  settle();
  EXPECT_EQ(bodies(alice), expected);
}

TEST_F(UserQueue, AutoAckRemovesOnceWritten) {
  client& sender = as("backend");
  send_n(sender, 1);
  client& first = as("alice");
  subscribe(first, "/user/queue/inbox");
  EXPECT_EQ(bodies(first), strings{"m0"});
  client& later = as("alice");
  subscribe(later, "/user/queue/inbox");
  EXPECT_TRUE(bodies(later).empty());
}

TEST_F(UserQueue, UnackedComeBackRedeliveredAndAnAckRemoves) {
  client& sender = as("backend");
  send_n(sender, 2);
  client& s1 = as("alice");
  subscribe(s1, "/user/queue/inbox", "s", "client-individual");
  auto first = s1.take("MESSAGE");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_FALSE(first[0].has("redelivered"));
  s1.send(make("ACK", {{"id", std::string(*first[0].get("ack"))}}));
  s1.send(make("DISCONNECT"));
  settle();
  client& s2 = as("alice");
  subscribe(s2, "/user/queue/inbox", "s", "client");
  auto again = s2.take("MESSAGE");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "m1");
  EXPECT_EQ(again[0].get("redelivered"), "true");
  s2.send(make("ACK", {{"id", std::string(*again[0].get("ack"))}}));
  settle();
  client& s3 = as("alice");
  subscribe(s3, "/user/queue/inbox", "s", "client");
  EXPECT_TRUE(bodies(s3).empty());
}

TEST_F(UserQueue, EverySessionGetsACopyAndTheFirstAckRemoves) {
  client& tab1 = as("alice");
  client& tab2 = as("alice");
  subscribe(tab1, "/user/queue/inbox", "a", "client");
  subscribe(tab2, "/user/queue/inbox", "b", "client");
  client& sender = as("backend");
  send_n(sender, 1);
  auto m1 = tab1.take("MESSAGE");
  ASSERT_EQ(m1.size(), 1u);
  EXPECT_EQ(bodies(tab2), strings{"m0"});
  tab1.send(make("ACK", {{"id", std::string(*m1[0].get("ack"))}}));
  settle();
  client& tab3 = as("alice");
  subscribe(tab3, "/user/queue/inbox", "c", "client");
  EXPECT_TRUE(bodies(tab3).empty());
}

TEST_F(UserQueue, NackKeepsTheMessageForTheNextSubscribe) {
  client& sender = as("backend");
  send_n(sender, 1);
  client& s1 = as("alice");
  subscribe(s1, "/user/queue/inbox", "s", "client");
  auto m = s1.take("MESSAGE");
  ASSERT_EQ(m.size(), 1u);
  s1.send(make("NACK", {{"id", std::string(*m[0].get("ack"))}}));
  s1.send(make("UNSUBSCRIBE", {{"id", "s"}}));
  subscribe(s1, "/user/queue/inbox", "t", "client");
  auto again = s1.take("MESSAGE");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].get("redelivered"), "true");
}

TEST_F(UserQueue, RetentionKeepsTheNewestAndCountsTheDropped) {
  temp_dir dir;
  auto store = start_bounded(dir, 3);
  client& sender = as("backend");
  send_n(sender, 5);
  client& alice = as("alice");
  subscribe(alice, "/user/queue/inbox");
  EXPECT_EQ(bodies(alice), (strings{"m2", "m3", "m4"}));
  EXPECT_EQ(store->stats().dropped_overflow, 2u);
}

// Dropped notifications are lost to their user: the log says so, once per tick that saw drops.
TEST_F(UserQueue, DroppedOverTheBoundAreLoggedOncePerTick) {
  temp_dir dir;
  start_bounded(dir, 3);
  const test_support::log_capture log;
  b->tick();
  EXPECT_TRUE(log.lines_with("user_queue_max_messages").empty());
  client& sender = as("backend");
  send_n(sender, 5);
  b->tick();
  b->tick();  // nothing dropped since: no second line
  send_n(sender, 1);
  b->tick();
  const auto lines = log.lines_with("user_queue_max_messages");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("2 oldest messages"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("user_queue_max_messages = 3"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("1 oldest message "), std::string::npos) << lines[1];
}

TEST_F(UserQueue, OtherUsersQueuesAreSeparate) {
  client& sender = as("backend");
  send_n(sender, 1, "for-bob", "/user/bob/queue/inbox");
  send_n(sender, 1, "other-queue", "/user/alice/queue/other");
  client& alice = as("alice");
  subscribe(alice, "/user/queue/inbox");
  EXPECT_TRUE(bodies(alice).empty());
}

TEST_F(UserQueue, SurvivesARestartAndIsDeliveredExactlyOnce) {
  temp_dir dir;
  {
    broker::config cfg;
    cfg.store = store_in(dir);
    start(cfg);
    client& sender = as("backend");
    sender.send(make("SEND", {{"destination", "/user/alice/queue/inbox"}, {"receipt", "r"}},
                     "durable"));
    settle();
    ASSERT_EQ(sender.take("RECEIPT").size(), 1u);
    clients.clear();
    b.reset();  // the broker and its store are gone
  }
  for (int run = 0; run < 2; ++run) {
    broker::config cfg;
    cfg.store = store_in(dir);
    start(cfg);
    client& alice = as("alice");
    subscribe(alice, "/user/queue/inbox");
    EXPECT_EQ(bodies(alice), run == 0 ? strings{"durable"} : strings{}) << "run " << run;
    settle();
    clients.clear();
    b.reset();
  }
}

TEST_F(UserQueue, StoreFailureIsAnErrorNotAReceipt) {
  temp_dir dir;
  broker::config cfg;
  cfg.store = store_in(dir, 12);  // the empty schema takes 6 pages of 4 KiB
  start(cfg);
  client& sender = as("backend");
  std::optional<stomp::frame> error;
  int receipts = 0;
  for (int i = 0; i < 200 && !error; ++i) {
    sender.send(make("SEND", {{"destination", "/user/alice/queue/inbox"},
                              {"receipt", std::to_string(i)}},
                     std::string(1500, 'x')));
    settle();
    for (stomp::frame& f : sender.take()) {
      if (f.command == "RECEIPT") {
        EXPECT_EQ(f.get("receipt-id"), std::to_string(i));
        ++receipts;
      } else {
        error = f;
        EXPECT_EQ(f.get("receipt-id"), std::to_string(i));
      }
    }
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(error->command, "ERROR");
  EXPECT_EQ(error->get("message"), "message not stored");
  EXPECT_GT(receipts, 0);
  EXPECT_EQ(sender.conn->closes(), std::vector{close_reason::server_error});
  EXPECT_GE(b->stats().messages_dropped.load(), 1u);
}

TEST_F(UserQueue, DisconnectReceiptWaitsForPendingStores) {
  client& sender = as("backend");
  sender.send(make("SEND", {{"destination", "/user/alice/queue/inbox"}, {"receipt", "s"}}, "x"));
  sender.send(make("DISCONNECT", {{"receipt", "bye"}}));
  settle();
  const auto frames = sender.take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].get("receipt-id"), "s");
  EXPECT_EQ(frames[1].get("receipt-id"), "bye");
  EXPECT_EQ(sender.conn->closes(), std::vector{close_reason::normal});
}

TEST_F(UserQueue, PublishToUserReachesEverySessionAndIsStored) {
  client& tab = as("alice");
  subscribe(tab, "/user/queue/notifications");
  const std::string id =
      b->publish_to_user("alice", "/queue/notifications", "{\"n\":1}",
                         {stomp::header{"content-type", "application/json"}});
  EXPECT_FALSE(id.empty());
  settle();
  const auto msgs = tab.take("MESSAGE");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].get("message-id"), id);
  EXPECT_EQ(msgs[0].get("content-type"), "application/json");
  EXPECT_EQ(msgs[0].get("destination"), "/user/queue/notifications");
  b->publish_to_user("bob", "/queue/notifications", "for bob later");
  settle();
  client& bob = as("bob");
  subscribe(bob, "/user/queue/notifications");
  EXPECT_EQ(bodies(bob), strings{"for bob later"});
  EXPECT_TRUE(b->publish_to_user("alice", "/exchange/x", "no").empty());
  EXPECT_TRUE(b->publish_to_user("", "/queue/x", "no").empty());
}

}  // namespace
