#pragma once
// What the broker tells an operator's console about its destinations and user inboxes: plain
// values copied out under the owners' locks, never references into live state.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace broker {

/// One destination with local subscribers (a topic, a wildcard pattern) or a /queue/.
struct destination_summary {
  std::string name;             ///< canonical, e.g. "/topic/news.uk", "/queue/jobs"
  std::string kind;             ///< "topic", "pattern" (wildcard subscriptions) or "queue"
  std::size_t subscribers = 0;  ///< local subscriptions (queue: consumers)
  /// Messages routed to it since it got its first subscriber (topic) or was created (queue);
  /// not counted for patterns (a message counts once, on its topic).
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;  ///< MESSAGE deliveries posted to subscribers
  std::size_t waiting = 0;         ///< queue: messages waiting for a consumer
  std::size_t in_flight = 0;       ///< queue: delivered, not yet acked
};

/// The first `max` destinations (most subscribers first, then by name) and how many there are.
struct destination_list {
  std::vector<destination_summary> destinations;
  std::size_t total = 0;
};

/// The stored messages of one user (all of their durable /user/{name}/queue/ queues).
struct inbox_summary {
  std::string user;                    ///< the owner's name as it is encoded in the store key
  std::uint64_t messages = 0;          ///< committed messages, expired ones not yet purged too
  std::int64_t oldest_stored_at_ms = 0;  ///< wall clock of the oldest (ms since the epoch)
  std::size_t queues = 0;              ///< how many queues hold them
};

}  // namespace broker
