#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "broker/broker.hpp"
#include "broker/cluster.hpp"
#include "cluster/redis_connection.hpp"
#include "cluster/redis_queues.hpp"
#include "cluster/redis_url.hpp"

namespace cluster {

/// Counters for /metrics. Any thread.
struct link_stats {
  std::atomic<std::uint64_t> published{0};       ///< envelopes PUBLISHed (Redis said OK)
  std::atomic<std::uint64_t> publish_errors{0};  ///< envelopes not published: Redis down or error
  std::atomic<std::uint64_t> received{0};        ///< envelopes of other nodes received
  std::atomic<std::uint64_t> ignored{0};         ///< own envelopes heard back, bad envelopes
  std::atomic<std::int64_t> channels{0};         ///< channels + patterns subscribed now
  std::atomic<std::int64_t> rtt_us{-1};          ///< last PING round trip; -1 = none yet
};

/// Tuning of a link.
struct link_options {
  /// A /queue/ entry taken by a node and pending this long (the node stopped renewing it: it
  /// died) is claimed by another node and redelivered; given-back entries are claimed at once.
  std::chrono::milliseconds queue_claim_after{30'000};
  /// > 0: a /queue/ append succeeds only once `WAIT min_replicas min_replicas_timeout` confirms
  /// it (on a third connection, see redis_queues::set_replication); 0 = no WAIT.
  int min_replicas = 0;
  std::chrono::milliseconds min_replicas_timeout{1000};
};

/// The broker's cluster link over Redis pub/sub (issue #8, docs/cluster.md); /queue/
/// destinations over Redis streams (redis_queues). Two connections:
/// commands (PUBLISH, PING every second for the round trip) and subscriptions (SUBSCRIBE,
/// PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE), both on one strand of the server's io_context,
/// nothing blocking. Interest is reference-counted per channel and pattern; after a reconnect
/// everything still wanted is subscribed again. Messages published while Redis is down are
/// counted in publish_errors and lost for the other nodes (local delivery is unaffected).
class redis_link final : public broker::cluster_link,
                         public std::enable_shared_from_this<redis_link> {
 public:
  /// `b` must outlive the link; envelopes received are handed to b.deliver_remote.
  redis_link(boost::asio::io_context& ioc, redis_endpoint ep, broker::broker& b,
             link_options o = {});
  ~redis_link() override;

  /// Connects (and keeps reconnecting). Call once, then attach to the broker.
  void start();
  /// Disconnects once the settles already sent have their replies (at most 2 s); nothing is
  /// delivered afterwards. After the sessions closed, before the io_context stops running.
  void stop();

  void interest(broker::interest_kind kind, const std::string& key, bool on) override;
  void publish(const broker::message_ptr& m, std::uint64_t seq) override;
  void enqueue(const broker::message_ptr& m, std::size_t max_messages, std::size_t refuse_at,
               std::function<void(std::error_code, bool)> done) override;
  void watch_room(const std::string& name, std::size_t low_watermark) override;
  void settle(const broker::message_ptr& m, bool give_back) override;
  void queue_room(const std::string& name) override;
  bool ready() const override;
  std::string metrics_text() const override;

  /// For redis_history: runs script `s` on the commands connection; `done` runs once on the
  /// link's strand with the reply, null when Redis could not be asked or the connection was
  /// lost. Any thread.
  void eval(const redis::script& s, std::vector<std::string> args,
            std::function<void(const struct redisReply*)> done);
  /// For redis_history: `done(true)` on the strand once every pub/sub subscription asked for
  /// before this call is in effect in Redis (a PING on the subscriber connection, answered
  /// after their confirmations); false when that connection is down or drops meanwhile.
  /// Any thread.
  void when_subscribed(std::function<void(bool)> done);

  /// For redis_history: `fn` runs on the strand after every (re)connect of the commands
  /// connection (and at once if it is up now). One at a time: a new call replaces it; null
  /// clears it. Any thread.
  void on_connected(std::function<void()> fn);

  /// This process's node id (random, 16 hex digits).
  const std::string& node_id() const noexcept { return node_id_; }
  const link_stats& stats() const noexcept { return stats_; }

 private:
  void change(bool pattern, const std::string& channel, const std::string& stomp_pattern, bool on);
  void subscribe_all();
  void on_push(const struct redisReply* reply);
  void fail_pongs();
  void deliver(std::string_view payload, const std::string* glob);
  void schedule_ping();
  void schedule_room_poll();
  void stop_when_settled(std::chrono::steady_clock::time_point deadline);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  redis_endpoint ep_;
  broker::broker& broker_;
  std::string node_id_;
  std::shared_ptr<redis_connection> commands_;
  std::shared_ptr<redis_connection> subscriber_;
  std::shared_ptr<redis_connection> appends_;  // min_replicas > 0: /queue/ appends and WAIT
  std::shared_ptr<redis_queues> queues_;
  link_options options_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer room_timer_;  // flow control: polls the queues publishers wait on
  bool ping_outstanding_ = false;
  std::chrono::steady_clock::time_point ping_sent_;
  // Strand only: references per exact channel, and per glob the STOMP patterns it stands for.
  std::map<std::string, int> channels_;
  std::map<std::string, std::map<std::string, int>> globs_;
  std::function<void()> on_connected_;          // strand
  std::deque<std::function<void(bool)>> pongs_;  // strand: when_subscribed, in PING order
  link_stats stats_;
};

}  // namespace cluster
