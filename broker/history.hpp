#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "broker/message.hpp"
#include "broker/topic_matcher.hpp"

namespace broker {

/// One `[[history]]` table: concrete topics whose path matches `pattern` keep their last
/// messages, so a subscriber that lost its connection can recover what it missed.
struct history_rule {
  std::string pattern;              ///< canonical topic destination, may hold `*`/`#`
  std::size_t max_messages = 1000;  ///< kept per concrete topic (at least 1)
  std::chrono::seconds max_age{300};  ///< older messages are dropped; 0 = no age limit
};

/// A place in one topic's history, the `x-position:EPOCH:OFFSET` header of a MESSAGE. OFFSET
/// counts the messages published to that topic since EPOCH began (the first is 1).
struct history_position {
  std::string epoch;
  std::uint64_t offset = 0;
};

/// Parses "EPOCH:OFFSET" (epoch non-empty, no ':'; offset decimal). False when malformed.
bool parse_position(std::string_view text, history_position& out);
/// "EPOCH:OFFSET".
std::string format_position(std::string_view epoch, std::uint64_t offset);

/// One kept message with the offset it was published as.
struct kept_message {
  std::uint64_t offset = 0;
  std::chrono::system_clock::time_point appended;  ///< when it was kept (the broker's clock)
  message_ptr msg;  ///< carries its x-position header
};

/// What read_after found for one topic.
struct history_read {
  /// The history reaches back to the message after the asked offset (or nothing was published
  /// since): `messages` are exactly the ones after it. False also for an offset never reached.
  bool complete = false;
  std::vector<kept_message> messages;  ///< in offset order
  /// When the message at the asked offset itself was kept, if it still is (wildcard recovery
  /// uses it as the moment the client was last in step).
  std::optional<std::chrono::system_clock::time_point> seen_at;
};

/// The port for topic history (as store::store is for user queues): in memory on one node
/// (memory_history), or shared by the nodes of a cluster (shared(): cluster::redis_history,
/// Redis streams). Thread-safe. The caller (the
/// broker's detail::history_gate) serialises next_position + append with the fan-out of the same
/// topic, so offsets reach subscribers in order; implementations need not order anything.
class history {
 public:
  virtual ~history() = default;

  /// Whether the concrete topic `name` (canonical, "/topic/room.1") keeps history.
  virtual bool keeps(std::string_view name) const = 0;

  /// Where the next message of `name` goes: the topic's epoch (it changes whenever the topic's
  /// offsets start again at 1) and its last offset + 1. Only under the topic's gate.
  virtual history_position next_position(const std::string& name) = 0;

  /// Keeps `m` (of a topic that keeps() history, carrying its x-position) at `at`, which is
  /// next_position(name). Drops what is past its rule's bounds (count, age, the server's byte
  /// budget); when the budget has no room even for `m` alone, nothing of the topic is kept.
  virtual void append(const std::string& name, const history_position& at, message_ptr m,
                      std::chrono::system_clock::time_point now) = 0;

  /// The messages of `name` after `from` that are kept and not older than max_age at `now`,
  /// and whether they are all of them (history_read::complete; false when `from.epoch` is not
  /// the topic's). An empty `from.epoch`: every kept message, whatever the epoch.
  virtual history_read read_after(const std::string& name, const history_position& from,
                                  std::chrono::system_clock::time_point now) = 0;

  /// The concrete topics with kept messages whose path `pattern` matches.
  virtual std::vector<std::string> topics_matching(const topic_matcher& pattern) = 0;

  /// Forgets the topics with nothing kept any more (aged out, or dropped at the byte budget),
  /// so that what a topic costs ends with its messages; such a topic's next message starts a
  /// new epoch at offset 1. Only while no topic step runs (the gate held exclusively).
  virtual void purge(std::chrono::system_clock::time_point now) = 0;

  /// A history shared by the nodes of a cluster: the shared store assigns positions (so
  /// next_position/append are not used) and hands each message, stamped, back to every node's
  /// subscribers, this node's included, through broker::deliver_remote. False: in memory.
  virtual bool shared() const { return false; }

  /// shared() only: keeps `m` (of a topic that keeps() history) at the topic's next position
  /// and has it delivered on every node. `done` runs once, on any thread: {} once kept, else
  /// error::message_not_stored (then no node delivers it).
  virtual void append_shared(const message_ptr& m, std::function<void(std::error_code)> done);

  /// read_after answered through `done` (once, on any thread), for an implementation that reads
  /// over the network. Called after the recovering subscription was registered: a shared
  /// history first makes sure this node hears the topic's live messages (its pub/sub
  /// subscription is in effect), so the read and the live messages held meanwhile overlap and
  /// nothing falls between them. Default: read_after at once.
  virtual void read_after_async(const std::string& name, const history_position& from,
                                std::chrono::system_clock::time_point now,
                                std::function<void(history_read)> done) {
    done(read_after(name, from, now));
  }

  /// topics_matching answered through `done` (once, on any thread); the same ordering promise
  /// as read_after_async. Default: topics_matching at once.
  virtual void topics_matching_async(const topic_matcher& pattern,
                                     std::function<void(std::vector<std::string>)> done) {
    done(topics_matching(pattern));
  }
};

}  // namespace broker
