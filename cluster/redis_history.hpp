#pragma once
// Topic history shared by the nodes of a cluster (issue #18, docs/recovery.md "In a cluster"):
// Redis assigns each message of a topic with history its offset, keeps it in a stream and
// publishes it, in one Lua script, so offsets are global per topic and every node (the origin
// too) delivers the message when it comes back on its pub/sub subscription. Keys:
// cluster/channels.hpp.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/history.hpp"

namespace cluster {

class redis_link;

/// broker::history over Redis streams (shared() is true). Created before the broker (it is
/// config::history_store), given its link by attach() before the first session opens; until
/// then every call fails (message not stored, recovery incomplete). Thread-safe.
class redis_history final : public broker::history {
 public:
  /// `rules` as config::history; `db` the cluster's Redis database (in every key name).
  redis_history(std::vector<broker::history_rule> rules, int db);

  /// The link whose connections run the scripts. Once, before the first session opens.
  /// Also compares this node's rules with those the first node wrote (a warning if they
  /// differ: every node must have the same [[history]]). Null at shutdown, before the link's
  /// io_context goes: the history (which the broker keeps) must not keep the link.
  void attach(std::shared_ptr<redis_link> link);

  bool keeps(std::string_view name) const override;
  bool shared() const override { return true; }
  void append_shared(const broker::message_ptr& m,
                     std::function<void(std::error_code)> done) override;
  void read_after_async(const std::string& name, const broker::history_position& from,
                        std::chrono::system_clock::time_point now,
                        std::function<void(broker::history_read)> done) override;
  void topics_matching_async(const broker::topic_matcher& pattern,
                             std::function<void(std::vector<std::string>)> done) override;

  // The synchronous calls of the in-memory path are never made for a shared history
  // (history_gate::shared): they keep nothing and recover nothing.
  broker::history_position next_position(const std::string&) override { return {}; }
  void append(const std::string&, const broker::history_position&, broker::message_ptr,
              std::chrono::system_clock::time_point) override {}
  broker::history_read read_after(const std::string&, const broker::history_position&,
                                  std::chrono::system_clock::time_point) override {
    return {};
  }
  std::vector<std::string> topics_matching(const broker::topic_matcher&) override { return {}; }
  void purge(std::chrono::system_clock::time_point) override {}  // Redis expires keys itself

 private:
  const broker::history_rule* rule_for(std::string_view name) const;
  std::shared_ptr<redis_link> link() const;

  const std::vector<broker::history_rule> rules_;
  const std::vector<broker::topic_matcher> matchers_;  // rules_[i]'s pattern
  const int db_;
  mutable std::mutex mutex_;  // link_
  std::shared_ptr<redis_link> link_;
};

}  // namespace cluster
