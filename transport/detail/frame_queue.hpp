#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "broker/connection.hpp"

namespace transport::detail {

/// A connection's write queue: a deque created on first use and released when it empties again.
/// (libstdc++'s std::deque allocates ~600 bytes even when empty; most connections are idle and
/// their queues empty.) Not thread-safe: the connection's strand only.
class frame_queue {
 public:
  using deque = std::deque<broker::outgoing>;

  bool empty() const noexcept { return !q_ || q_->empty(); }
  std::size_t size() const noexcept { return q_ ? q_->size() : 0; }
  broker::outgoing& front() { return q_->front(); }
  broker::outgoing& back() { return q_->back(); }
  broker::outgoing& operator[](std::size_t i) { return (*q_)[i]; }
  const broker::outgoing& operator[](std::size_t i) const { return (*q_)[i]; }

  void push_back(broker::outgoing f) {
    if (!q_) q_ = std::make_unique<deque>();
    q_->push_back(std::move(f));
  }
  void pop_front() {
    q_->pop_front();
    if (q_->empty()) q_.reset();
  }
  void pop_back() {
    q_->pop_back();
    if (q_->empty()) q_.reset();
  }
  void clear() noexcept { q_.reset(); }

  /// Removes the frames at positions [from, size) for which `drop(frame)` returns true, oldest
  /// first, while `more()` holds. Returns how many were removed.
  template <class Drop, class More>
  std::size_t erase_if_from(std::size_t from, Drop drop, More more) {
    if (!q_) return 0;
    std::size_t removed = 0;
    for (auto it = q_->begin() + static_cast<std::ptrdiff_t>(from); it != q_->end() && more();) {
      if (drop(*it)) {
        it = q_->erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    if (q_->empty()) q_.reset();
    return removed;
  }

 private:
  std::unique_ptr<deque> q_;
};

}  // namespace transport::detail
