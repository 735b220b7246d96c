#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

namespace broker {

/// The server-wide budget for the bytes peers make the broker hold: messages waiting in queues
/// or in transactions, partial frames being read, request bodies being received. Holders
/// charge what they keep and release it when they let go; the budget itself refuses nothing:
/// whoever adds bytes checks over() (or try_charge) and pauses or refuses its peer, so bytes
/// already accepted are never dropped. Thread-safe and lock-free.
class byte_budget {
 public:
  /// `limit` 0 = unlimited (never over).
  explicit byte_budget(std::size_t limit) noexcept : limit_(limit) {}
  byte_budget(const byte_budget&) = delete;
  byte_budget& operator=(const byte_budget&) = delete;

  /// Adds `n` held bytes, even past the limit (for bytes already accepted).
  void charge(std::size_t n) noexcept { used_.fetch_add(n, std::memory_order_relaxed); }
  /// Adds `n` only if the total stays within the limit; false (nothing charged) otherwise.
  bool try_charge(std::size_t n) noexcept;
  /// Gives back `n` bytes charged earlier.
  void release(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }

  /// More than the limit is held: new bytes should wait or be refused.
  bool over() const noexcept { return limit_ != 0 && used() > limit_; }
  /// Held bytes are back under 90% of the limit: what waited may go on.
  bool relieved() const noexcept { return limit_ == 0 || used() <= limit_ - limit_ / 10; }

  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const noexcept { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

/// Bytes charged to a byte_budget for as long as this object lives (move-only).
class held_bytes {
 public:
  held_bytes() = default;
  held_bytes(byte_budget& budget, std::size_t n) noexcept : budget_(&budget), n_(n) {
    budget.charge(n);
  }
  /// Holds `n` bytes only if the budget has room for them (byte_budget::try_charge).
  static std::optional<held_bytes> try_hold(byte_budget& budget, std::size_t n) noexcept {
    if (!budget.try_charge(n)) return std::nullopt;
    held_bytes h;
    h.budget_ = &budget;
    h.n_ = n;
    return h;
  }
  held_bytes(held_bytes&& o) noexcept
      : budget_(std::exchange(o.budget_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  held_bytes& operator=(held_bytes&& o) noexcept {
    if (this != &o) {
      reset();
      budget_ = std::exchange(o.budget_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~held_bytes() { reset(); }

  /// Releases what is held now.
  void reset() noexcept {
    if (budget_ != nullptr && n_ != 0) budget_->release(n_);
    n_ = 0;
  }
  /// Charges `n` more (to the budget given at construction).
  void add(std::size_t n) noexcept {
    if (budget_ == nullptr) return;
    budget_->charge(n);
    n_ += n;
  }
  /// Gives back `n` of the bytes held (at most bytes()).
  void release(std::size_t n) noexcept {
    if (n > n_) n = n_;
    if (budget_ != nullptr && n != 0) budget_->release(n);
    n_ -= n;
  }
  std::size_t bytes() const noexcept { return n_; }

 private:
  byte_budget* budget_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace broker
