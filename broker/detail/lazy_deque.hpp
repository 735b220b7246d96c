#pragma once

#include <deque>
#include <memory>
#include <utility>

namespace broker::detail {

/// A FIFO that holds no memory while empty. libstdc++'s std::deque allocates its map and a
/// 512-byte block as soon as it is constructed, empty or not: for a per-session queue that is
/// empty for nearly every session (an idle connection's), that is most of the session's bytes.
/// The deque is made on the first push and freed when the last element leaves. (The transport's
/// frame_queue does the same for the write queue.)
template <class T>
class lazy_deque {
 public:
  using iterator = typename std::deque<T>::iterator;

  bool empty() const noexcept { return !q_ || q_->empty(); }
  T& front() { return q_->front(); }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (!q_) q_ = std::make_unique<std::deque<T>>();
    return q_->emplace_back(std::forward<Args>(args)...);
  }
  void push_back(T v) { emplace_back(std::move(v)); }
  void pop_front() {
    q_->pop_front();
    if (q_->empty()) q_.reset();
  }
  void clear() noexcept { q_.reset(); }

  iterator begin() { return q_ ? q_->begin() : iterator(); }
  iterator end() { return q_ ? q_->end() : iterator(); }

 private:
  std::unique_ptr<std::deque<T>> q_;
};

}  // namespace broker::detail
