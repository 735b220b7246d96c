#pragma once
// Removes submitted but not yet confirmed by the engine: load hides them at once, so that "no
// later load returns it" holds from the moment remove() returns (store.hpp). Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace broker::store::detail {

/// Per-queue sets of seqs hidden from load until their delete is committed.
class tombstones {
 public:
  /// Hides `seq` of `queue`.
  void add(const std::string& queue, std::uint64_t seq) {
    std::lock_guard lk(mu_);
    hidden_[queue].insert(seq);
  }
  /// The delete of `seq` is committed: nothing to hide any more.
  void forget(const std::string& queue, std::uint64_t seq) {
    std::lock_guard lk(mu_);
    auto it = hidden_.find(queue);
    if (it == hidden_.end()) return;
    it->second.erase(seq);
    if (it->second.empty()) hidden_.erase(it);
  }
  /// A copy of what is hidden in `queue` (taken before reading, so a returned remove counts).
  std::unordered_set<std::uint64_t> of(std::string_view queue) const {
    std::lock_guard lk(mu_);
    auto it = hidden_.find(std::string(queue));
    return it == hidden_.end() ? std::unordered_set<std::uint64_t>{} : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unordered_set<std::uint64_t>> hidden_;
};

}  // namespace broker::store::detail
