#include "broker/topic_matcher.hpp"

#include <cstddef>

namespace broker {

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find_first_of("./", start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

topic_matcher::topic_matcher(std::string_view pattern) {
  for (std::string_view seg : split_segments(pattern)) segments_.emplace_back(seg);
}

// Glob matching with `#` as the multi-segment star: remember the last `#` and, on a mismatch,
// let it swallow one more segment. Linear in practice, never exponential.
bool topic_matcher::matches(std::string_view subject) const {
  const std::vector<std::string_view> s = split_segments(subject);
  const std::vector<std::string>& p = segments_;
  std::size_t pi = 0;
  std::size_t si = 0;
  std::size_t star_p = p.size();  // p.size() = no `#` seen yet
  std::size_t star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == "#") {
      star_p = pi++;
      star_s = si;
    } else if (pi < p.size() && (p[pi] == "*" || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (star_p != p.size()) {
      pi = star_p + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == "#") ++pi;
  return pi == p.size();
}

}  // namespace broker
