#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "broker/message.hpp"

namespace transport::detail {

/// Topic deliveries waiting for a connection's strand (broker::connection::deliver_later).
/// Publishers on any thread append; the strand takes the whole batch at once, so a burst of
/// deliveries to one connection costs one strand hand-off instead of one posted closure each.
/// Thread-safe. Order is kept: take() returns deliveries in the order push() accepted them.
class delivery_inbox {
 public:
  struct delivery {
    std::uint64_t handle = 0;  ///< the registry's subscription handle
    broker::message_ptr message;
  };
  enum class pushed : std::uint8_t {
    first,   ///< the inbox was empty: the caller posts one drain to the strand
    queued,  ///< a drain is already on its way and will take this one too
    refused  ///< closed: dropped
  };

  /// Appends one delivery unless closed. Any thread.
  pushed push(std::uint64_t handle, const broker::message_ptr& m) {
    guard g(lock_);
    if (closed_) return pushed::refused;
    items_.push_back(delivery{handle, m});
    return items_.size() == 1 ? pushed::first : pushed::queued;
  }

  /// Moves every waiting delivery into `out` (cleared first; its capacity is reused, so a busy
  /// connection does not allocate per batch). The next push() reports `first` again. Any thread.
  void take(std::vector<delivery>& out) {
    out.clear();
    guard g(lock_);
    items_.swap(out);
  }

  /// Drops what waits and refuses every later push (the connection closed). Any thread.
  void close() {
    std::vector<delivery> dropped;  // released outside the lock
    guard g(lock_);
    closed_ = true;
    items_.swap(dropped);
  }

  /// Deliveries waiting (for tests and the console). Any thread.
  std::size_t size() const {
    guard g(lock_);
    return items_.size();
  }

 private:
  // A spin lock, not a std::mutex: held for a push_back or a swap only, and one byte instead of
  // forty in every connection (most connections are idle).
  class guard {
   public:
    explicit guard(std::atomic<bool>& l) noexcept : l_(l) {
      while (l_.exchange(true, std::memory_order_acquire)) {
        while (l_.load(std::memory_order_relaxed)) std::this_thread::yield();
      }
    }
    ~guard() { l_.store(false, std::memory_order_release); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

   private:
    std::atomic<bool>& l_;
  };

  mutable std::atomic<bool> lock_{false};
  bool closed_ = false;
  std::vector<delivery> items_;
};

}  // namespace transport::detail
