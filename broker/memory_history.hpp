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
/// Lost at exit: the epoch is drawn at random (8 hex digits) at construction. Thread-safe (one
/// mutex, held only to touch the map and one ring).
class memory_history final : public history {
 public:
  /// `rules` in config order: a topic follows the first rule that matches it. `held` may be
  /// null (nothing charged); `epoch` empty = a random one.
  memory_history(std::vector<history_rule> rules, std::shared_ptr<byte_budget> held,
                 std::string epoch = {});

  const std::string& epoch() const override { return epoch_; }
  bool keeps(std::string_view name) const override;
  std::uint64_t next_offset(const std::string& name) override;
  void append(const std::string& name, std::uint64_t offset, message_ptr m,
              std::chrono::system_clock::time_point now) override;
  history_read read_after(const std::string& name, std::uint64_t offset,
                          std::chrono::system_clock::time_point now) override;
  std::vector<std::string> topics_matching(const topic_matcher& pattern) override;

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
    std::uint64_t last = 0;  // offset of the last message appended (0: none yet)
    std::deque<entry> entries;
  };

  const history_rule* rule_for(std::string_view name) const;
  void trim_locked(ring& r, std::chrono::system_clock::time_point now);
  bool charge_locked(ring& r, std::size_t bytes, std::optional<held_bytes>& out);

  const std::vector<rule_entry> rules_;
  const std::shared_ptr<byte_budget> held_;
  const std::string epoch_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ring> topics_;
  std::size_t kept_ = 0;
};

}  // namespace broker
