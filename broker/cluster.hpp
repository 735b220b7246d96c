#pragma once
// The broker's port to a cluster of nodes (issue #8). The broker tells the link what its local
// sessions need (interest) and hands it every message it routed locally (publish); the link
// brings messages of other nodes back through broker::deliver_remote. broker/ knows nothing of
// how the link talks to the other nodes (cluster/ does it over Redis pub/sub).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

#include "broker/message.hpp"

namespace broker {

/// What a node may want to hear about from the other nodes.
enum class interest_kind {
  topic,          ///< one exact topic, key = canonical name ("/topic/news.uk")
  topic_pattern,  ///< one wildcard topic subscription, key = canonical name ("/topic/news.*")
  user,           ///< every user destination of one user, key = encode_user(name)
  queue,          ///< one /queue/ with local consumers, key = canonical name ("/queue/jobs")
};

/// A link to the other nodes. Called by the broker from any thread, sometimes under the
/// registry's lock: every member must be thread-safe and must not block or call the broker
/// back (post the work to your own executor). Attached once, before the first session opens.
class cluster_link {
 public:
  virtual ~cluster_link() = default;

  /// One more (`on`) or one fewer local subscriber of `key`. The link reference-counts: it
  /// listens from the first and stops after the last. Calls for one key come in order.
  virtual void interest(interest_kind kind, const std::string& key, bool on) = 0;

  /// `m` was routed locally on this node (a topic, a user topic, or a user queue message with
  /// its store `seq`, after the commit): make the other nodes deliver it to their sessions.
  virtual void publish(const message_ptr& m, std::uint64_t seq) = 0;

  /// Clustered /queue/ (competing consumers across nodes): with a link attached, a message sent
  /// to a /queue/ on any node goes to the shared queue, never straight to local consumers.
  /// Appends `m`; `done` runs once, on any thread: {} when the shared queue holds it (`full`:
  /// it holds `max_messages` or more now, the publisher should pause), else error::queue_full
  /// (it held `refuse_at` already, `m` was not added) or error::message_not_stored.
  virtual void enqueue(const message_ptr& m, std::size_t max_messages, std::size_t refuse_at,
                       std::function<void(std::error_code, bool full)> done) = 0;

  /// Publisher flow control: call broker::shared_queue_room(name) once the shared queue `name`
  /// holds `low_watermark` entries or fewer (at once if it does already). Repeated calls for
  /// one name before that are one.
  virtual void watch_room(const std::string& name, std::size_t low_watermark) = 0;

  /// A message this node took from the shared queue (`m->cluster_ref` set, handed over through
  /// broker::deliver_remote_queued) has left the local queue: consumed (acknowledged, auto-acked
  /// or expired), or, with `give_back`, returned for other nodes' consumers (no local consumer
  /// is left to take it).
  virtual void settle(const message_ptr& m, bool give_back) = 0;

  /// The local queue `name` may take more (a consumer joined or settled): ask
  /// broker::queue_room and take that many.
  virtual void queue_room(const std::string& name) = 0;

  /// For /readyz: false while the node cannot reach the others (Redis down).
  virtual bool ready() const = 0;

  /// Prometheus text (complete families) for /metrics; empty when none.
  virtual std::string metrics_text() const = 0;
};

}  // namespace broker
