#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/byte_budget.hpp"
#include "broker/history.hpp"

namespace broker {

/// The in-memory history: per concrete topic a ring bounded by its rule's max_messages and
/// max_age, every kept message charged to the server's byte budget (config::max_held_bytes).
/// Lost at exit: the epoch is drawn at random (8 hex digits) at construction; a topic forgotten
/// by purge and published to again gets that epoch + "." + the number of purges that forgot
/// something. Each topic's own cost (name, ring) is charged too, until purge forgets it.
/// Thread-safe (one mutex, held only to touch the map and one ring).
class memory_history final : public history {
 public:
  /// `rules` in config order: a topic follows the first rule that matches it. `held` may be
  /// null (nothing charged); `epoch` empty = a random one.
  memory_history(std::vector<history_rule> rules, std::shared_ptr<byte_budget> held,
                 std::string epoch = {});

  bool keeps(std::string_view name) const override;
  history_position next_position(const std::string& name) override;
  void append(const std::string& name, const history_position& at, message_ptr m,
              std::chrono::system_clock::time_point now) override;
  history_read read_after(const std::string& name, const history_position& from,
                          std::chrono::system_clock::time_point now) override;
  std::vector<std::string> topics_matching(const topic_matcher& pattern) override;
  void purge(std::chrono::system_clock::time_point now) override;

  /// What a known topic is charged besides its messages and its name's bytes: map node, ring,
  /// epoch (rounded up).
  static constexpr std::size_t topic_overhead = 256;

  /// The epoch of topics first published to in this process (8 hex digits).
  const std::string& epoch() const noexcept { return epoch_; }
  /// Topics known (with kept messages, or not purged yet).
  std::size_t topics() const;
  /// Messages kept across all topics (for tests and the memory benchmark).
  std::size_t kept() const;

 private:
  struct rule_entry {
    history_rule rule;
    topic_matcher matcher;
  };
  struct entry {
    kept_message kept;
    held_bytes bytes;
  };
  struct ring {
    const history_rule* rule = nullptr;
    std::string epoch;
    held_bytes own;          // the topic's own cost: name, map node, ring
    std::uint64_t last = 0;  // offset of the last message appended (0: none yet)
    std::deque<entry> entries;
  };

  const history_rule* rule_for(std::string_view name) const;
  ring* find_or_add_locked(const std::string& name);
  void trim_locked(ring& r, std::chrono::system_clock::time_point now);
  bool charge_locked(ring& r, std::size_t bytes, std::optional<held_bytes>& out);

  const std::vector<rule_entry> rules_;
  const std::shared_ptr<byte_budget> held_;
  const std::string epoch_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ring> topics_;
  std::size_t kept_ = 0;
  std::uint64_t purges_ = 0;  // purges that forgot a topic: new epochs for topics after them
};

}  // namespace broker
