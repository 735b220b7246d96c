#pragma once
// The broker's port to a cluster of nodes (issue #8). The broker tells the link what its local
// sessions need (interest) and hands it every message it routed locally (publish); the link
// brings messages of other nodes back through broker::deliver_remote. broker/ knows nothing of
// how the link talks to the other nodes (cluster/ does it over Redis pub/sub).

#include <cstdint>
#include <string>

#include "broker/message.hpp"

namespace broker {

/// What a node may want to hear about from the other nodes.
enum class interest_kind {
  topic,          ///< one exact topic, key = canonical name ("/topic/news.uk")
  topic_pattern,  ///< one wildcard topic subscription, key = canonical name ("/topic/news.*")
  user,           ///< every user destination of one user, key = encode_user(name)
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

  /// For /readyz: false while the node cannot reach the others (Redis down).
  virtual bool ready() const = 0;

  /// Prometheus text (complete families) for /metrics; empty when none.
  virtual std::string metrics_text() const = 0;
};

}  // namespace broker
