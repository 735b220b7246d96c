#pragma once
// Writes submitted but not yet confirmed by the engine, kept so that load reflects them at once:
// removes (hidden from load, so that "no later load returns it" holds from the moment remove()
// returns, store.hpp) and delivered marks (loaded as delivered). Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace broker::store::detail {

/// Per-queue sets of seqs with a write in flight, forgotten once the engine confirmed it.
class pending_seqs {
 public:
  /// Records `seq` of `queue`.
  void add(const std::string& queue, std::uint64_t seq) {
    std::lock_guard lk(mu_);
    pending_[queue].insert(seq);
  }
  /// The write for `seq` is committed (or moot): load no longer needs to know.
  void forget(const std::string& queue, std::uint64_t seq) {
    std::lock_guard lk(mu_);
    auto it = pending_.find(queue);
    if (it == pending_.end()) return;
    it->second.erase(seq);
    if (it->second.empty()) pending_.erase(it);
  }
  /// A copy of what is pending in `queue`. Taken before reading the engine, so that a write
  /// confirmed (and forgotten) during the read is seen there instead.
  std::unordered_set<std::uint64_t> of(std::string_view queue) const {
    std::lock_guard lk(mu_);
    auto it = pending_.find(std::string(queue));
    return it == pending_.end() ? std::unordered_set<std::uint64_t>{} : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unordered_set<std::uint64_t>> pending_;
};

}  // namespace broker::store::detail
