// Feeding user-queue subscriptions from the store: paced by the connection's writes and by
// prefetch-count, removed only once written (auto) or acked, nothing lost when a connection ends
// with deliveries in flight; and COMMIT's RECEIPT after the stores of its SENDs.
#include <gtest/gtest.h>

#include <mutex>

#include "broker/store/sqlite_store.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;

constexpr std::size_t window = 8;

// A real (in-memory SQLite) store whose append completions wait for release(): a slow commit.
class gated_store final : public broker::store::store {
 public:
  gated_store() : inner_(std::make_shared<broker::store::sqlite_store>(options())) {}

  std::uint64_t append(std::string queue, std::string id, std::string payload, std::int64_t expires,
                       broker::store::append_handler done) override {
    return inner_->append(std::move(queue), std::move(id), std::move(payload), expires,
                          [this, done = std::move(done)](std::error_code ec, std::uint64_t seq) {
                            std::lock_guard lock(mutex_);
                            held_.push_back([done, ec, seq] { done(ec, seq); });
                          });
  }
  /// Runs the held completions (on the caller's thread); returns how many.
  std::size_t release() {
    inner_->flush();
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex_);
      ready.swap(held_);
    }
    for (auto& fn : ready) fn();
    return ready.size();
  }
  using store::load;
  std::vector<broker::store::stored_message> load(std::string_view q, std::uint64_t after,
                                                  std::size_t max, std::error_code& ec) override {
    return inner_->load(q, after, max, ec);
  }
  void remove(std::string q, std::uint64_t seq) override { inner_->remove(std::move(q), seq); }
  void mark_delivered(std::string q, std::uint64_t seq) override {
    inner_->mark_delivered(std::move(q), seq);
  }
  void set_retention(broker::store::retention r) override { inner_->set_retention(r); }
  broker::store::store_stats stats() const override { return inner_->stats(); }
  void flush() override { inner_->flush(); }
  bool writable() const override { return inner_->writable(); }

 private:
  static broker::store::sqlite_options options() {
    broker::store::sqlite_options o;
    o.data_dir = ":memory:";
    o.policy.max_count = 0;
    return o;
  }
  std::shared_ptr<broker::store::sqlite_store> inner_;
  std::mutex mutex_;
  std::vector<std::function<void()>> held_;
};

struct UserFeed : users {
  UserFeed() {
    broker::config cfg;
    cfg.delivery_window = window;
    cfg.user_queue_max_messages = 0;
    start(cfg);
  }
  void store_n(int n, const std::string& prefix = "m") {
    client& sender = as("backend");
    for (int i = 0; i < n; ++i) {
      sender.send(
          make("SEND", {{"destination", "/user/alice/queue/in"}}, prefix + std::to_string(i)));
    }
    settle();
  }
  static strings numbered(int from, int to, const std::string& prefix = "m") {
    strings out;
    for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }
  /// Restarts the broker on a gated_store, which it returns.
  std::shared_ptr<gated_store> start_gated() {
    auto gated = std::make_shared<gated_store>();
    broker::config cfg;
    cfg.store = gated;
    start(cfg);
    return gated;
  }
  void subscribe_with(client& c, const std::string& ack, const std::string& prefetch = "") {
    stomp::frame f =
        make("SUBSCRIBE", {{"destination", "/user/queue/in"}, {"id", "s"}, {"ack", ack}});
    if (!prefetch.empty()) f.add("prefetch-count", prefetch);
    c.send(f);
    settle();
  }
};

TEST_F(UserFeed, ASlowReaderIsFedAsItsConnectionWritesAndNothingLeavesTheStoreUnwritten) {
  store_n(100);
  client& alice = as("alice");
  alice.conn->hold_writes(true);
  subscribe_with(alice, "auto");
  EXPECT_EQ(bodies(alice), numbered(0, window));  // the window, not the whole backlog
  b->flush();
  EXPECT_EQ(b->durable_store().stats().removed, 0u);  // nothing written yet: all still stored
  strings got;
  for (int round = 0; round < 100 && got.size() < 100; ++round) {
    alice.conn->write_held();
    settle();
    for (auto& body : bodies(alice)) got.push_back(body);
  }
  EXPECT_EQ(got, numbered(window, 100));
  EXPECT_TRUE(alice.conn->closes().empty());
  b->flush();
  EXPECT_EQ(b->durable_store().stats().removed, 100u);
}

TEST_F(UserFeed, AConnectionEndingWithUnwrittenDeliveriesLeavesThemStoredAndRedelivered) {
  store_n(20);
  client& first = as("alice");
  first.conn->hold_writes(true);
  subscribe_with(first, "auto");
  EXPECT_EQ(bodies(first).size(), window);
  first.session->on_closed(close_reason::peer_gone);  // the socket died mid-write
  first.conn->ended = true;
  settle();
  client& next = as("alice");
  subscribe_with(next, "auto");
  const auto again = next.take("MESSAGE");
  ASSERT_EQ(again.size(), 20u);
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].body, "m" + std::to_string(i));
    EXPECT_EQ(again[i].has("redelivered"), i < window) << i;
  }
}

TEST_F(UserFeed, PrefetchCountBoundsTheUnackedMessagesAndEachAckLetsOneMoreThrough) {
  store_n(30);
  client& alice = as("alice");
  subscribe_with(alice, "client-individual", "5");
  auto first = alice.take("MESSAGE");
  ASSERT_EQ(first.size(), 5u);
  alice.send(make("ACK", {{"id", std::string(*first[0].get("ack"))}}));
  settle();
  auto next = alice.take("MESSAGE");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].body, "m5");
  // NACK frees a place too (the NACKed message stays stored for the next subscribe).
  alice.send(make("NACK", {{"id", std::string(*first[1].get("ack"))}}));
  settle();
  EXPECT_EQ(bodies(alice), strings{"m6"});
}

TEST_F(UserFeed, ClientModeCumulativeAckFreesEveryPlaceItSettles) {
  store_n(30);
  client& alice = as("alice");
  subscribe_with(alice, "client", "10");
  auto first = alice.take("MESSAGE");
  ASSERT_EQ(first.size(), 10u);
  alice.send(make("ACK", {{"id", std::string(*first.back().get("ack"))}}));
  settle();
  EXPECT_EQ(bodies(alice), numbered(10, 20));
}

TEST_F(UserFeed, LiveMessagesWithoutRoomWaitInTheStoreAndFollowInOrder) {
  client& alice = as("alice");
  alice.conn->hold_writes(true);
  subscribe_with(alice, "auto");
  store_n(50, "live");
  strings got = bodies(alice);
  EXPECT_EQ(got.size(), window);
  for (int round = 0; round < 100 && got.size() < 50; ++round) {
    alice.conn->write_held();
    settle();
    for (auto& body : bodies(alice)) got.push_back(body);
  }
  EXPECT_EQ(got, numbered(0, 50, "live"));
  alice.conn->hold_writes(false);
  alice.conn->write_held();
  store_n(3, "after");
  EXPECT_EQ(bodies(alice), numbered(0, 3, "after"));
}

TEST_F(UserFeed, TheWindowInBytesAlwaysLetsOneMessageThrough) {
  broker::config cfg;
  cfg.delivery_window = 100;
  cfg.delivery_window_bytes = 1000;
  start(cfg);
  client& sender = as("backend");
  for (int i = 0; i < 5; ++i) {
    sender.send(make("SEND", {{"destination", "/user/alice/queue/in"}}, std::string(3000, 'a')));
  }
  settle();
  client& alice = as("alice");
  alice.conn->hold_writes(true);
  subscribe_with(alice, "auto");
  EXPECT_EQ(bodies(alice).size(), 1u);  // one over the byte window alone
  alice.conn->write_held();
  settle();
  EXPECT_EQ(bodies(alice).size(), 1u);
}

TEST_F(UserFeed, CommitReceiptWaitsForTheStoresOfItsSends) {
  auto gated = start_gated();
  client& sender = as("backend");
  sender.send(make("BEGIN", {{"transaction", "t"}}));
  for (int i = 0; i < 3; ++i) {
    sender.send(make("SEND", {{"destination", "/user/alice/queue/in"}, {"transaction", "t"}},
                     "tx" + std::to_string(i)));
  }
  sender.send(make("COMMIT", {{"transaction", "t"}, {"receipt", "done"}}));
  q.drain();
  EXPECT_TRUE(sender.take("RECEIPT").empty()) << "COMMIT receipted before its SENDs were stored";
  EXPECT_EQ(gated->release(), 3u);
  q.drain();
  const auto receipts = sender.take("RECEIPT");
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].get("receipt-id"), "done");
}

TEST_F(UserFeed, CommitWithoutDurableSendsIsReceiptedAtOnce) {
  client& sender = as("backend");
  sender.send(make("BEGIN", {{"transaction", "t"}}));
  sender.send(make("SEND", {{"destination", "/topic/x"}, {"transaction", "t"}}, "x"));
  sender.send(make("COMMIT", {{"transaction", "t"}, {"receipt", "done"}}));
  q.drain();
  EXPECT_EQ(sender.take("RECEIPT").size(), 1u);
}

TEST_F(UserFeed, AnUnsubscribeWithDeliveriesInFlightStillRemovesThemOnceWritten) {
  store_n(20);
  client& alice = as("alice");
  alice.conn->hold_writes(true);
  subscribe_with(alice, "auto");
  EXPECT_EQ(bodies(alice).size(), window);
  alice.send(make("UNSUBSCRIBE", {{"id", "s"}}));
  settle();
  alice.conn->write_held();  // the in-flight deliveries now own the subscription's feed
  settle();
  b->flush();
  EXPECT_EQ(b->durable_store().stats().removed, window);
  client& later = as("alice");
  subscribe_with(later, "auto");
  EXPECT_EQ(bodies(later), numbered(window, 20));
}

TEST_F(UserFeed, ACommitReceiptWaitingForItsStoresIsSentBeforeADeferredDisconnects) {
  auto gated = start_gated();
  client& sender = as("backend");
  sender.send(make("BEGIN", {{"transaction", "t"}}));
  sender.send(make("SEND", {{"destination", "/user/alice/queue/in"}, {"transaction", "t"}}, "x"));
  sender.send(make("COMMIT", {{"transaction", "t"}, {"receipt", "committed"}}));
  sender.send(make("DISCONNECT", {{"receipt", "bye"}}));
  q.drain();
  EXPECT_TRUE(sender.take("RECEIPT").empty());
  gated->release();
  q.drain();
  const auto receipts = sender.take("RECEIPT");
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_EQ(receipts[0].get("receipt-id"), "committed");
  EXPECT_EQ(receipts[1].get("receipt-id"), "bye");
}

}  // namespace
