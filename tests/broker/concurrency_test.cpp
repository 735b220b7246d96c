// Many threads at once: application threads publish while sessions (each only on its own
// "strand", here one of two draining threads) subscribe, unsubscribe, ack and close. Queue
// messages must never be lost. Run under -fsanitize=thread to check for races.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "fake_connection.hpp"
#include "stomp/serializer.hpp"

namespace {

using namespace broker_test;

constexpr int publishers = 3;
constexpr int per_publisher = 1500;

// What one consumer saw; written on its strand, read after the threads are joined.
struct seen {
  std::mutex mutex;
  std::vector<std::string> ids;
};

// Records every MESSAGE; for client-individual subscriptions answers with an ACK on the strand.
void watch(client& c, seen& log, bool acks) {
  c.conn->on_send = [&c, &log, acks, conn = c.conn.get()](const broker::outgoing& out) {
    const stomp::frame f = parse(out, stomp::version::v1_2);
    if (f.command != "MESSAGE") return;
    if (f.get("destination") == "/queue/load") {
      std::lock_guard lock(log.mutex);
      log.ids.emplace_back(*f.get("message-id"));
    }
    if (acks && f.has("ack")) {
      std::string bytes =
          stomp::serialize(make("ACK", {{"id", std::string(*f.get("ack"))}}), stomp::version::v1_2);
      conn->post([&c, bytes] { c.session->on_bytes(bytes); });
    }
  };
}

TEST(Concurrency, PublishersAndChurningSubscribersLoseNoQueueMessage) {
  broker::broker b{broker::config{}};
  post_queue strands[2];
  std::vector<std::unique_ptr<client>> clients;
  std::vector<std::unique_ptr<seen>> logs;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<client>(b, strands[i % 2]));
    logs.push_back(std::make_unique<seen>());
    client& c = *clients.back();
    c.connect();
    const bool stable = i < 4;  // 0-3: client-individual consumers; 4-7 churn with auto ack
    watch(c, *logs.back(), stable);
    c.send(make("SUBSCRIBE", {{"destination", "/queue/load"}, {"id", "q0"},
                              {"ack", stable ? "client-individual" : "auto"}}));
    c.send(make("SUBSCRIBE", {{"destination", i % 2 ? "/topic/load" : "/topic/#"}, {"id", "t0"}}));
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> drainers;
  for (post_queue& s : strands) {
    drainers.emplace_back([&s, &stop] {
      while (!stop) {
        if (s.drain() == 0) std::this_thread::yield();
      }
    });
  }
  std::mutex published_mutex;
  std::set<std::string> published;
  std::vector<std::thread> senders;
  for (int p = 0; p < publishers; ++p) {
    senders.emplace_back([&] {
      for (int n = 0; n < per_publisher; ++n) {
        const std::string id = b.publish(make("SEND", {{"destination", "/queue/load"}}, "q"));
        b.publish(make("SEND", {{"destination", "/topic/load"}}, "t"));
        std::lock_guard lock(published_mutex);
        published.insert(id);
      }
    });
  }
  // Churn: subscribe/unsubscribe on each session's own strand, and one stable consumer leaves.
  for (int round = 1; round <= 200; ++round) {
    for (int i = 4; i < 8; ++i) {
      client* c = clients[i].get();
      c->conn->post([c, round] {
        const std::string old_id = std::to_string(round - 1);
        const std::string id = std::to_string(round);
        std::string bytes = stomp::serialize(make("UNSUBSCRIBE", {{"id", "q" + old_id}}),
                                             stomp::version::v1_2);
        bytes += stomp::serialize(make("UNSUBSCRIBE", {{"id", "t" + old_id}}), stomp::version::v1_2);
        bytes += stomp::serialize(
            make("SUBSCRIBE", {{"destination", "/queue/load"}, {"id", "q" + id}}),
            stomp::version::v1_2);
        bytes += stomp::serialize(
            make("SUBSCRIBE", {{"destination", "/topic/load"}, {"id", "t" + id}}),
            stomp::version::v1_2);
        c->session->on_bytes(bytes);
      });
    }
    if (round == 100) {
      client* leaving = clients[0].get();
      leaving->conn->post([leaving] {
        leaving->conn->close(broker::close_reason::peer_gone);
        leaving->session->on_closed(broker::close_reason::peer_gone);
      });
    }
    std::this_thread::yield();
  }
  for (auto& t : senders) t.join();
  stop = true;
  for (auto& t : drainers) t.join();
  // Quiesce on this thread, now the only strand.
  while (strands[0].drain() + strands[1].drain() > 0) {
  }

  for (const auto& c : clients) EXPECT_LE(c->conn->closes().size(), 1u);
  for (int i = 1; i < 8; ++i) EXPECT_TRUE(clients[i]->conn->closes().empty()) << i;
  std::set<std::string> received;
  for (const auto& log : logs) received.insert(log->ids.begin(), log->ids.end());
  EXPECT_EQ(published.size(), std::size_t{publishers * per_publisher});
  EXPECT_EQ(received, published);

  // Everything was acked or auto-acked: once every consumer leaves, nothing is left behind.
  for (auto& c : clients) c->session->on_closed(broker::close_reason::shutdown);
  post_queue last_q;
  client last(b, last_q);
  last.connect();
  last.send(make("SUBSCRIBE", {{"destination", "/queue/load"}, {"id", "0"}}));
  last_q.drain();
  EXPECT_TRUE(last.take("MESSAGE").empty());
}

}  // namespace
