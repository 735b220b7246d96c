#pragma once

#include <atomic>
#include <cstdint>

namespace transport::detail {

/// At most one log line a second for one kind of event (refused connections, fd exhaustion),
/// with the number of lines held back since the last one, so a flood of refusals costs a few
/// lines instead of filling the disk. Thread-safe (lock-free).
class log_throttle {
 public:
  /// True when a line may be written now; then `suppressed` is how many calls were refused since
  /// the last true.
  bool allow(std::uint64_t& suppressed) noexcept;

 private:
  std::atomic<std::int64_t> last_second_{-1};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace transport::detail
