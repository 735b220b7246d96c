// The broker's side of the cluster (broker/cluster.hpp), with a recording link: which interest
// and publish calls a node makes, and where deliver_remote hands messages. No Redis involved.
#include <gtest/gtest.h>

#include <mutex>
#include <tuple>
#include <vector>

#include "../broker/fake_connection.hpp"
#include "broker/cluster.hpp"
#include "broker/destination.hpp"
#include "broker/error.hpp"
#include "broker/queue.hpp"

namespace {

using namespace broker_test;

struct recording_link : broker::cluster_link {
  using call = std::tuple<broker::interest_kind, std::string, bool>;
  void interest(broker::interest_kind k, const std::string& key, bool on) override {
    std::lock_guard lock(mutex);
    calls.emplace_back(k, key, on);
  }
  void publish(const broker::message_ptr& m, std::uint64_t seq) override {
    std::lock_guard lock(mutex);
    published.emplace_back(m, seq);
  }
  void enqueue(const broker::message_ptr& m, std::size_t max, std::size_t refuse_at,
               std::function<void(std::error_code, bool)> done) override {
    std::lock_guard lock(mutex);
    enqueued.push_back({m, max, refuse_at, std::move(done)});
  }
  void watch_room(const std::string& name, std::size_t low_watermark) override {
    std::lock_guard lock(mutex);
    watched.emplace_back(name, low_watermark);
  }
  void settle(const broker::message_ptr& m, bool give_back) override {
    std::lock_guard lock(mutex);
    settled.emplace_back(m->cluster_ref, give_back);
  }
  void queue_room(const std::string& name) override {
    std::lock_guard lock(mutex);
    room_calls.push_back(name);
  }
  bool ready() const override { return up; }
  std::string metrics_text() const override { return "stompbox_test_metric 1\n"; }

  std::mutex mutex;
  std::vector<call> calls;
  std::vector<std::pair<broker::message_ptr, std::uint64_t>> published;
  struct append {
    broker::message_ptr m;
    std::size_t max;
    std::size_t refuse_at;
    std::function<void(std::error_code, bool)> done;
  };
  std::vector<std::pair<std::string, std::size_t>> watched;  // name, low watermark
  std::vector<append> enqueued;
  std::vector<std::pair<std::string, bool>> settled;  // cluster_ref, give_back
  std::vector<std::string> room_calls;
  bool up = true;
};

struct ClusterHook : ::testing::Test {
  ClusterHook() { b.attach_cluster(link); }

  client& session(std::string login) {
    clients.push_back(std::make_unique<client>(b, q));
    clients.back()->connect("1.2", {{"login", login}});
    return *clients.back();
  }
  void subscribe(client& c, std::string dest, std::string id) {
    c.send(make("SUBSCRIBE", {{"destination", dest}, {"id", id}}));
    q.drain();
  }
  // A message the link took from the shared queue, entry `ref`.
  broker::message_ptr taken(std::string dest, std::string body, std::string ref) {
    auto m = std::make_shared<broker::message>(*remote(dest, body, "id-" + ref));
    m->cluster_ref = ref;
    return m;
  }
  // A message as another node would have built it.
  broker::message_ptr remote(std::string dest, std::string body, std::string id) {
    broker::destination d;
    EXPECT_FALSE(broker::parse_destination(dest, d));
    broker::message_ptr m;
    EXPECT_FALSE(broker::make_message(make("SEND", {}, body), d, id, m));
    return m;
  }

  std::shared_ptr<recording_link> link = std::make_shared<recording_link>();
  broker::broker b{broker::config{}};
  post_queue q;
  std::vector<std::unique_ptr<client>> clients;
};

using broker::interest_kind;

TEST_F(ClusterHook, InterestFollowsEverySubscriptionAndItsEnd) {
  client& a = session("ann");
  client& c = session("cid");
  subscribe(a, "/topic/news", "1");
  subscribe(c, "/topic/news", "1");
  subscribe(a, "/topic/news.*", "2");
  subscribe(a, "/user/queue/n", "3");
  a.send(make("UNSUBSCRIBE", {{"id", "1"}}));
  q.drain();
  a.send(make("DISCONNECT"));
  q.drain();
  const std::vector<recording_link::call> expected = {
      {interest_kind::topic, "/topic/news", true},
      {interest_kind::topic, "/topic/news", true},
      {interest_kind::topic_pattern, "/topic/news.*", true},
      {interest_kind::user, "ann", true},
      {interest_kind::topic, "/topic/news", false},
  };
  ASSERT_GE(link->calls.size(), expected.size() + 2);
  EXPECT_EQ(std::vector(link->calls.begin(), link->calls.begin() + 5), expected);
  // The disconnect ends the pattern and the user subscription (in either order).
  std::vector tail(link->calls.begin() + 5, link->calls.end());
  EXPECT_EQ(tail.size(), 2u);
  for (const auto& [kind, key, on] : tail) {
    EXPECT_FALSE(on);
    EXPECT_TRUE((kind == interest_kind::topic_pattern && key == "/topic/news.*") ||
                (kind == interest_kind::user && key == "ann"));
  }
}

TEST_F(ClusterHook, LocalSendsArePublishedOnceQueuesGoToTheSharedQueue) {
  client& p = session("pub");
  p.send(make("SEND", {{"destination", "/topic/t"}}, "x"));
  p.send(make("SEND", {{"destination", "/queue/q"}}, "y"));
  p.send(make("SEND", {{"destination", "/user/bob/topic/t"}}, "z"));
  p.send(make("SEND", {{"destination", "/user/bob/queue/n"}}, "w"));
  b.flush();
  q.drain();
  ASSERT_EQ(link->enqueued.size(), 1u);
  EXPECT_EQ(link->enqueued[0].m->target.name, "/queue/q");
  EXPECT_EQ(link->enqueued[0].max, broker::config{}.queue_max_messages);
  // Flow control (the default): refused only at twice the bound, as a local queue.
  EXPECT_EQ(link->enqueued[0].refuse_at,
            broker::queue::hard_max_for(broker::config{}.queue_max_messages));
  ASSERT_EQ(link->published.size(), 3u);
  EXPECT_EQ(link->published[0].first->target.name, "/topic/t");
  EXPECT_EQ(link->published[0].second, 0u);
  EXPECT_EQ(link->published[1].first->target.kind, broker::destination_kind::user_topic);
  EXPECT_EQ(link->published[2].first->target.kind, broker::destination_kind::user_queue);
  EXPECT_NE(link->published[2].second, 0u);  // the store's seq, after the commit
}

TEST_F(ClusterHook, RemoteTopicMessagesReachEachSubscriptionOnceAndAreNotRepublished) {
  client& a = session("ann");
  subscribe(a, "/topic/news.uk", "exact");
  subscribe(a, "/topic/news.*", "star");
  subscribe(a, "/topic/news.#", "hash");
  a.take();
  const auto m = remote("/topic/news.uk", "hello", "other-node-7");
  b.deliver_remote(m, 0);                   // through the exact channel
  b.deliver_remote(m, 0, "/topic/news.*");  // through one pattern
  b.deliver_remote(m, 0, "/topic/news.#");  // through the other
  b.deliver_remote(m, 0, "/topic/sport.*");  // a pattern nobody here spells: nothing
  q.drain();
  std::vector<std::string> subs;
  for (const stomp::frame& f : a.take("MESSAGE")) {
    EXPECT_EQ(f.get("message-id"), "other-node-7");
    subs.emplace_back(*f.get("subscription"));
  }
  EXPECT_EQ(subs, (std::vector<std::string>{"exact", "star", "hash"}));
  EXPECT_TRUE(link->published.empty());
}

TEST_F(ClusterHook, RemoteUserQueueCopiesOutOfSeqOrderAreAllDelivered) {
  client& a = session("ann");
  subscribe(a, "/user/queue/n", "q");
  a.take();
  b.deliver_remote(remote("/user/ann/queue/n", "late", "n2-1"), 10);
  b.deliver_remote(remote("/user/ann/queue/n", "early", "n1-1"), 7);  // another node's, older
  q.drain();
  std::vector<std::string> bodies;
  for (const stomp::frame& f : a.take("MESSAGE")) bodies.push_back(f.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"late", "early"}));
}

TEST_F(ClusterHook, RemoteCopyOfAReplayedMessageIsDropped) {
  client& p = session("pub");
  p.send(make("SEND", {{"destination", "/user/ann/queue/n"}}, "stored"));
  b.flush();
  q.drain();
  ASSERT_EQ(link->published.size(), 1u);
  const auto [m, seq] = link->published[0];
  client& a = session("ann");
  subscribe(a, "/user/queue/n", "q");
  b.deliver_remote(m, seq);  // the same message arriving late through Redis
  q.drain();
  const auto got = a.take("MESSAGE");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "stored");
}

// A clustered /queue/ SEND is durable like a user-queue one: RECEIPT once the shared queue has
// it, ERROR when it refused it. Nothing goes straight to local consumers.
TEST_F(ClusterHook, QueueSendIsReceiptedOnlyAfterTheSharedQueueHasIt) {
  client& c = session("con");
  subscribe(c, "/queue/q", "1");
  client& p = session("pub");
  p.send(make("SEND", {{"destination", "/queue/q"}, {"receipt", "r1"}}, "a"));
  q.drain();
  EXPECT_TRUE(p.take().empty());
  EXPECT_TRUE(c.take("MESSAGE").empty());
  ASSERT_EQ(link->enqueued.size(), 1u);
  link->enqueued[0].done({}, false);
  q.drain();
  EXPECT_EQ(p.take_one().get("receipt-id"), "r1");

  p.send(make("SEND", {{"destination", "/queue/q"}, {"receipt", "r2"}}, "b"));
  ASSERT_EQ(link->enqueued.size(), 2u);
  link->enqueued[1].done(broker::error::queue_full, false);
  q.drain();
  const stomp::frame e = p.take_one();
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_EQ(e.get("receipt-id"), "r2");
  EXPECT_EQ(e.get("message"), make_error_code(broker::error::queue_full).message());
  EXPECT_NE(e.body.find("/queue/q holds twice its bound"), std::string::npos) << e.body;
}

// Publisher flow control on the shared queue: the SEND that fills it is receipted, then the
// publisher's reading pauses until the link reports the shared queue drained.
TEST_F(ClusterHook, FullSharedQueuePausesThePublisherUntilItDrains) {
  client& p = session("pub");
  p.send(make("SEND", {{"destination", "/queue/q"}, {"receipt", "r1"}}, "a"));
  ASSERT_EQ(link->enqueued.size(), 1u);
  link->enqueued[0].done({}, true);
  q.drain();
  EXPECT_EQ(p.take_one().get("receipt-id"), "r1");
  EXPECT_EQ(p.conn->paused(), 1);
  ASSERT_EQ(link->watched.size(), 1u);
  EXPECT_EQ(link->watched[0].first, "/queue/q");
  const std::size_t bound = broker::config{}.queue_max_messages;
  EXPECT_EQ(link->watched[0].second, bound - bound / 10);
  b.shared_queue_room("/queue/other");  // another queue's room resumes nothing
  q.drain();
  EXPECT_EQ(p.conn->paused(), 1);
  b.shared_queue_room("/queue/q");
  q.drain();
  EXPECT_EQ(p.conn->paused(), 0);
  EXPECT_EQ(b.stats().paused_publishers.load(), 0);
}

TEST_F(ClusterHook, RedisDownMeansErrorNotReceipt) {
  client& p = session("pub");
  p.send(make("SEND", {{"destination", "/queue/q"}, {"receipt", "r"}}, "a"));
  ASSERT_EQ(link->enqueued.size(), 1u);
  link->enqueued[0].done(broker::error::message_not_stored, false);
  q.drain();
  const stomp::frame e = p.take_one();
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_EQ(e.get("receipt-id"), "r");
}

// What the link took goes to one local consumer; acknowledged, it is settled with the link;
// when the last consumer leaves, what is still here is given back.
TEST_F(ClusterHook, TakenQueueMessagesAreSettledOrGivenBack) {
  client& c = session("con");
  c.send(make("SUBSCRIBE", {{"destination", "/queue/jobs"},
                            {"id", "1"},
                            {"ack", "client-individual"},
                            {"prefetch-count", "2"}}));
  q.drain();
  EXPECT_EQ(link->calls.back(), (recording_link::call{interest_kind::queue, "/queue/jobs", true}));
  EXPECT_EQ(link->room_calls, std::vector<std::string>{"/queue/jobs"});
  EXPECT_EQ(b.queue_room("/queue/jobs"), 2u);
  b.deliver_remote_queued(taken("/queue/jobs", "one", "1-0"));
  b.deliver_remote_queued(taken("/queue/jobs", "two", "2-0"));
  b.deliver_remote_queued(taken("/queue/jobs", "three", "3-0"));  // waits: prefetch 2
  q.drain();
  EXPECT_EQ(b.queue_room("/queue/jobs"), 0u);
  const auto got = c.take("MESSAGE");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].get("message-id"), "id-1-0");
  c.send(make("ACK", {{"id", std::string(*got[0].get("ack"))}}));
  q.drain();
  EXPECT_EQ(link->settled, (std::vector<std::pair<std::string, bool>>{{"1-0", false}}));
  EXPECT_EQ(c.take("MESSAGE").size(), 1u);  // "three", in the place "one" left
  c.send(make("UNSUBSCRIBE", {{"id", "1"}}));
  q.drain();
  // "two" and "three" were delivered and not acknowledged: back to the shared queue.
  EXPECT_EQ(link->settled, (std::vector<std::pair<std::string, bool>>{
                               {"1-0", false}, {"2-0", true}, {"3-0", true}}));
  EXPECT_EQ(link->calls.back(),
            (recording_link::call{interest_kind::queue, "/queue/jobs", false}));
}

TEST_F(ClusterHook, ReadinessAndMetricsComeFromTheLink) {
  EXPECT_TRUE(b.ready());
  link->up = false;
  EXPECT_FALSE(b.ready());
  EXPECT_EQ(b.cluster_metrics(), "stompbox_test_metric 1\n");
}

}  // namespace
