#include "cluster/redis_link.hpp"

#include <random>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "broker/destination.hpp"
#include "cluster/channels.hpp"
#include "cluster/envelope.hpp"

namespace cluster {
namespace {

constexpr auto ping_every = std::chrono::seconds(1);
constexpr auto ping_timeout = std::chrono::seconds(3);  // then the connection is reset
constexpr auto stop_grace = std::chrono::seconds(2);    // for the last settles' replies

std::string random_node_id() {
  std::random_device rd;
  const std::uint64_t id = (std::uint64_t{rd()} << 32) | rd();
  return fmt::format("{:016x}", id);
}

void family(std::string& out, std::string_view name, std::string_view type,
            std::string_view help, auto value) {
  fmt::format_to(std::back_inserter(out), "# HELP stompbox_{} {}\n# TYPE stompbox_{} {}\n",
                 name, help, name, type);
  fmt::format_to(std::back_inserter(out), "stompbox_{} {}\n", name, value);
}

}  // namespace

redis_link::redis_link(boost::asio::io_context& ioc, redis_endpoint ep, broker::broker& b,
                       link_options o)
    : strand_(boost::asio::make_strand(ioc)),
      ep_(std::move(ep)),
      broker_(b),
      node_id_(random_node_id()),
      queues_(std::make_shared<redis_queues>(ep_.db, node_id_, b, o.queue_claim_after)),
      options_(o),
      ping_timer_(strand_),
      room_timer_(strand_) {}

redis_link::~redis_link() = default;

void redis_link::start() {
  auto self = shared_from_this();
  std::weak_ptr<redis_link> weak = self;
  commands_ = std::make_shared<redis_connection>(
      strand_, ep_, "commands",
      [weak] {
        auto l = weak.lock();
        if (!l) return;
        l->queues_->reconnected();
        if (l->on_connected_) l->on_connected_();
      },
      nullptr);
  queues_->set_connection(commands_);
  if (options_.min_replicas > 0) {
    appends_ = std::make_shared<redis_connection>(strand_, ep_, "appends", nullptr, nullptr);
    queues_->set_replication(appends_, options_.min_replicas, options_.min_replicas_timeout);
  }
  subscriber_ = std::make_shared<redis_connection>(
      strand_, ep_, "subscriber",
      [weak] {
        if (auto l = weak.lock()) l->subscribe_all();
      },
      [weak] {
        if (auto l = weak.lock()) l->fail_pongs();  // their PINGs went with the connection
      });
  subscriber_->set_push_handler([weak](const redisReply* r) {
    if (auto l = weak.lock()) l->on_push(r);
  });
  boost::asio::post(strand_, [self] {
    self->commands_->start();
    self->subscriber_->start();
    if (self->appends_) self->appends_->start();
    self->schedule_ping();
    self->schedule_room_poll();
  });
}

void redis_link::stop() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->ping_timer_.cancel();
    self->room_timer_.cancel();
    self->stop_when_settled(std::chrono::steady_clock::now() + stop_grace);
  });
}

// Acknowledgements and give-backs of the sessions that just closed are still on their way:
// waits for their replies (at most until `deadline`) before the connections go.
void redis_link::stop_when_settled(std::chrono::steady_clock::time_point deadline) {
  if (queues_->settling() > 0 && commands_->up() && std::chrono::steady_clock::now() < deadline) {
    ping_timer_.expires_after(std::chrono::milliseconds(10));
    ping_timer_.async_wait([self = shared_from_this(), deadline](const boost::system::error_code&) {
      self->stop_when_settled(deadline);
    });
    return;
  }
  commands_->stop();
  subscriber_->stop();
  if (appends_) appends_->stop();
  fail_pongs();
}

void redis_link::interest(broker::interest_kind kind, const std::string& key, bool on) {
  std::string channel;
  std::string pattern;  // the STOMP wildcard a glob stands for
  switch (kind) {
    case broker::interest_kind::topic: channel = topic_channel(ep_.db, key); break;
    case broker::interest_kind::topic_pattern:
      channel = topic_glob(ep_.db, key);
      pattern = key;
      break;
    case broker::interest_kind::user: channel = user_channel(ep_.db, key); break;
    case broker::interest_kind::queue:  // its announcements, and the stream itself
      boost::asio::post(strand_, [self = shared_from_this(), key, on] {
        self->change(false, queue_channel(self->ep_.db, key), {}, on);
        self->queues_->interest(key, on);
      });
      return;
  }
  boost::asio::post(strand_, [self = shared_from_this(), channel = std::move(channel),
                              pattern = std::move(pattern), on] {
    self->change(!pattern.empty(), channel, pattern, on);
  });
}

// Reference counts; Redis hears only the first and the last of each channel or glob.
void redis_link::change(bool is_pattern, const std::string& channel,
                        const std::string& stomp_pattern, bool on) {
  if (!is_pattern) {
    int& refs = channels_[channel];
    refs += on ? 1 : -1;
    if (on && refs == 1) subscriber_->push_command({"SUBSCRIBE", channel});
    if (refs <= 0) {
      channels_.erase(channel);
      subscriber_->push_command({"UNSUBSCRIBE", channel});
    }
  } else {
    auto& patterns = globs_[channel];
    const bool first = patterns.empty();
    int& refs = patterns[stomp_pattern];
    refs += on ? 1 : -1;
    if (refs <= 0) patterns.erase(stomp_pattern);
    if (first && !patterns.empty()) subscriber_->push_command({"PSUBSCRIBE", channel});
    if (patterns.empty()) {
      globs_.erase(channel);
      subscriber_->push_command({"PUNSUBSCRIBE", channel});
    }
  }
  stats_.channels = static_cast<std::int64_t>(channels_.size() + globs_.size());
}

void redis_link::subscribe_all() {
  for (const auto& [channel, refs] : channels_) subscriber_->push_command({"SUBSCRIBE", channel});
  for (const auto& [glob, patterns] : globs_) subscriber_->push_command({"PSUBSCRIBE", glob});
  spdlog::info("cluster: node {} subscribed to {} channels and {} patterns", node_id_,
               channels_.size(), globs_.size());
}

void redis_link::publish(const broker::message_ptr& m, std::uint64_t seq) {
  std::string channel;
  if (m->target.kind == broker::destination_kind::topic) {
    channel = topic_channel(ep_.db, m->target.name);
  } else if (m->target.is_user()) {
    channel = user_channel(ep_.db, broker::encode_user(m->target.owner));
  } else {
    return;  // /queue/: through the shared queue (enqueue)
  }
  boost::asio::post(strand_, [self = shared_from_this(), channel = std::move(channel),
                              payload = encode_envelope(node_id_, m, seq)] {
    const bool sent = self->commands_->command(
        {"PUBLISH", channel, payload}, [self](const redisReply* r) {
          const bool ok = r && r->type != REDIS_REPLY_ERROR;
          (ok ? self->stats_.published : self->stats_.publish_errors)
              .fetch_add(1, std::memory_order_relaxed);
        });
    if (!sent) self->stats_.publish_errors.fetch_add(1, std::memory_order_relaxed);
  });
}

void redis_link::enqueue(const broker::message_ptr& m, std::size_t max_messages,
                         std::size_t refuse_at, std::function<void(std::error_code, bool)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), name = m->target.name,
                              payload = broker::stored_form(m), max_messages, refuse_at,
                              done = std::move(done)]() mutable {
    self->queues_->enqueue(name, std::move(payload), max_messages, refuse_at, std::move(done));
  });
}

void redis_link::watch_room(const std::string& name, std::size_t low_watermark) {
  boost::asio::post(strand_, [self = shared_from_this(), name, low_watermark] {
    self->queues_->watch_room(name, low_watermark);
  });
}

// 100 ms: a paused publisher resumes soon after the consumers (on any node) made room, at the
// cost of one XLEN per 100 ms per queue with paused publishers (none otherwise).
void redis_link::schedule_room_poll() {
  room_timer_.expires_after(std::chrono::milliseconds(100));
  room_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    self->queues_->poll_room();
    self->schedule_room_poll();
  });
}

void redis_link::settle(const broker::message_ptr& m, bool give_back) {
  boost::asio::post(strand_, [self = shared_from_this(), name = m->target.name,
                              id = m->cluster_ref, give_back] {
    self->queues_->settle(name, id, give_back);
  });
}

void redis_link::queue_room(const std::string& name) {
  boost::asio::post(strand_, [self = shared_from_this(), name] {
    self->queues_->room_freed(name);
  });
}

void redis_link::eval(const redis::script& s, std::vector<std::string> args,
                      std::function<void(const redisReply*)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), &s, args = std::move(args),
                              done = std::move(done)]() mutable {
    if (!self->commands_->eval(s, std::move(args), done)) done(nullptr);
  });
}

// Redis answers a subscribed connection's commands in order, so the PONG comes after the
// confirmations of every SUBSCRIBE sent before it: from then on, each message published on
// those channels reaches this node.
void redis_link::when_subscribed(std::function<void(bool)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
    if (!self->subscriber_->push_command({"PING"})) return done(false);
    self->pongs_.push_back(std::move(done));
  });
}

void redis_link::on_connected(std::function<void()> fn) {
  boost::asio::post(strand_, [self = shared_from_this(), fn = std::move(fn)]() mutable {
    self->on_connected_ = std::move(fn);
    if (self->on_connected_ && self->commands_ && self->commands_->up()) self->on_connected_();
  });
}

void redis_link::fail_pongs() {
  std::deque<std::function<void(bool)>> failed;
  failed.swap(pongs_);
  for (auto& done : failed) done(false);
}

void redis_link::on_push(const redisReply* r) {
  // PING's answer: ["pong", ""] while subscribed, +PONG otherwise.
  const bool pong = (r->type == REDIS_REPLY_STATUS && reply_text(r) == "PONG") ||
                    (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                     reply_text(r->element[0]) == "pong");
  if (pong) {
    if (pongs_.empty()) return;
    auto done = std::move(pongs_.front());
    pongs_.pop_front();
    return done(true);
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  const std::string_view kind = reply_text(r->element[0]);
  if (kind == "message") {
    // A queue's announcement: a new entry ("new"), or one given back to be claimed ("claim").
    const std::string_view queue = queue_of_channel(ep_.db, reply_text(r->element[1]));
    if (!queue.empty()) {
      return queues_->announced(std::string(queue), reply_text(r->element[2]) == "claim");
    }
    return deliver(reply_text(r->element[2]), nullptr);
  }
  if (kind == "pmessage" && r->elements == 4) {
    const std::string glob(reply_text(r->element[1]));
    deliver(reply_text(r->element[3]), &glob);
  }
}

// `glob` null: it came through an exact channel; else through that pattern subscription, and
// it goes to the wildcard subscriptions that glob stands for (each subscription exactly once).
void redis_link::deliver(std::string_view payload, const std::string* glob) {
  envelope e;
  if (!decode_envelope(payload, e)) {
    stats_.ignored.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("cluster: an envelope that does not decode ({} bytes) ignored", payload.size());
    return;
  }
  // Our own, heard back: delivered locally already; but a topic with history is delivered by
  // every node only when it comes back from Redis (with the position Redis gave it).
  if (e.origin == node_id_ && e.position.empty()) {
    stats_.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  stats_.received.fetch_add(1, std::memory_order_relaxed);
  if (!glob) return broker_.deliver_remote(e.msg, e.seq);
  auto it = globs_.find(*glob);
  if (it == globs_.end()) return;
  for (const auto& [pattern, refs] : it->second) broker_.deliver_remote(e.msg, e.seq, pattern);
}

void redis_link::schedule_ping() {
  ping_timer_.expires_after(ping_every);
  ping_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    // The PING waits behind whatever was pipelined before it: while other replies still
    // arrive the link is slow, not dead.
    if (self->ping_outstanding_ && now - self->ping_sent_ > ping_timeout &&
        now - self->commands_->last_reply() > ping_timeout) {
      self->ping_outstanding_ = false;
      // A Redis that stopped answering: reconnect both (the subscriber is not PINGed: its
      // replies are messages, and it talks to the same server).
      self->commands_->reset();
      self->subscriber_->reset();
    }
    if (!self->ping_outstanding_ && self->commands_->up()) {
      self->ping_sent_ = now;
      self->ping_outstanding_ = self->commands_->command({"PING"}, [self](const redisReply* r) {
        self->ping_outstanding_ = false;
        if (!r) return;
        const auto rtt = std::chrono::steady_clock::now() - self->ping_sent_;
        self->stats_.rtt_us =
            std::chrono::duration_cast<std::chrono::microseconds>(rtt).count();
      });
    }
    self->queues_->tick();
    self->schedule_ping();
  });
}

bool redis_link::ready() const {
  return commands_ && subscriber_ && commands_->up() && subscriber_->up() &&
         (!appends_ || appends_->up());
}

std::string redis_link::metrics_text() const {
  std::string out;
  const auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  family(out, "cluster_redis_up", "gauge", "1 when both Redis connections are up.",
         ready() ? 1 : 0);
  const std::int64_t rtt = load(stats_.rtt_us);
  family(out, "cluster_redis_rtt_seconds", "gauge", "Last Redis PING round trip (-1: none yet).",
         rtt < 0 ? -1.0 : static_cast<double>(rtt) / 1e6);
  family(out, "cluster_redis_reconnects_total", "counter",
         "Redis connections established (both connections, first ones included).",
         (commands_ ? commands_->connects() : 0) + (subscriber_ ? subscriber_->connects() : 0));
  family(out, "cluster_envelopes_published_total", "counter",
         "Messages published to the other nodes.", load(stats_.published));
  family(out, "cluster_publish_errors_total", "counter",
         "Messages not published to the other nodes (Redis down or error): lost for them.",
         load(stats_.publish_errors));
  family(out, "cluster_envelopes_received_total", "counter",
         "Messages received from other nodes.", load(stats_.received));
  family(out, "cluster_envelopes_ignored_total", "counter",
         "Envelopes ignored: this node's own heard back, or undecodable.", load(stats_.ignored));
  family(out, "cluster_channels_subscribed", "gauge",
         "Redis channels and patterns this node listens to.", load(stats_.channels));
  queues_->metrics_text(out);
  return out;
}

}  // namespace cluster
