#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace broker {

/// A wildcard topic subscription pattern (the path after "/topic/"): `*` matches exactly one
/// segment, `#` zero or more; segments are separated by `.` or `/`. Immutable; thread-safe.
class topic_matcher {
 public:
  /// `pattern` is a canonical destination path (see parse_destination).
  explicit topic_matcher(std::string_view pattern);

  /// Whether the canonical path `subject` (no wildcards) matches the pattern.
  bool matches(std::string_view subject) const;

 private:
  std::vector<std::string> segments_;
};

/// Splits a path at every `.` and `/`.
std::vector<std::string_view> split_segments(std::string_view path);

}  // namespace broker
