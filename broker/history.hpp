#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

/// The port for topic history (as store::store is for user queues): the in-memory
/// implementation now, a shared one (Redis streams) later. Thread-safe. The caller (the
/// broker's detail::history_gate) serialises append with the fan-out of the same topic, so
/// offsets reach subscribers in order; implementations need not order anything themselves.
class history {
 public:
  virtual ~history() = default;

  /// Changes whenever the kept offsets start again (a restart of an in-memory history).
  virtual const std::string& epoch() const = 0;

  /// Whether the concrete topic `name` (canonical, "/topic/room.1") keeps history.
  virtual bool keeps(std::string_view name) const = 0;

  /// The offset the next message of `name` gets (last one + 1). Only under the topic's gate.
  virtual std::uint64_t next_offset(const std::string& name) = 0;

  /// Keeps `m` (of a topic that keeps() history, carrying its x-position) as `offset`, which is
  /// next_offset(name). Drops what is past its rule's bounds (count, age, the server's byte
  /// budget); when the budget has no room even for `m` alone, nothing of the topic is kept.
  virtual void append(const std::string& name, std::uint64_t offset, message_ptr m,
                      std::chrono::system_clock::time_point now) = 0;

  /// The messages of `name` after `offset` that are kept and not older than max_age at `now`,
  /// and whether they are all of them (history_read::complete).
  virtual history_read read_after(const std::string& name, std::uint64_t offset,
                                  std::chrono::system_clock::time_point now) = 0;

  /// The concrete topics with kept messages whose path `pattern` matches.
  virtual std::vector<std::string> topics_matching(const topic_matcher& pattern) = 0;
};

}  // namespace broker
