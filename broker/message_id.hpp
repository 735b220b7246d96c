#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace broker {

/// Makes identifiers unique across the broker's life and, with high probability, across restarts:
/// a random boot id (64 bits, hex) chosen at construction, then a counter. Thread-safe.
class message_id {
 public:
  message_id();

  /// "<boot>-<n>" with n counting up from 1.
  std::string next();

  /// The random part shared by every id of this instance.
  const std::string& boot() const noexcept { return boot_; }

 private:
  std::string boot_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace broker
