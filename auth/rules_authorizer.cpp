// Destination patterns, matched segment by segment (segments split on `/`):
//
//   pattern            matches                         does not match
//   /topic/**          /topic/a, /topic/a/b, /topic    /topics/a, /queue/a
//   /user/{user}/**    /user/alice/queue/x (as alice)  /user/alice2/queue/x, /user/bob/queue/x
//   /user/*/**         /user/bob/queue/x               /user (no owner segment)
//   /queue/*           /queue/a                        /queue/a/b
//
// Refused before matching, whatever the rules: /topic/../user/bob, /topic/%2Fx, /topic//a,
// /topic/a/, topic/a, control characters.
#include "auth/rules_authorizer.hpp"

#include <algorithm>
#include <stdexcept>

namespace auth {
namespace {

constexpr std::string_view placeholder = "{user}";

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // leading '/', checked by the callers
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

bool segment_matches(std::string_view pat, std::string_view seg, std::string_view user) {
  if (pat == "*") return true;
  while (true) {
    const auto pos = pat.find(placeholder);
    const auto literal = pat.substr(0, pos);
    if (!seg.starts_with(literal)) return false;
    seg.remove_prefix(literal.size());
    if (pos == std::string_view::npos) return seg.empty();
    if (user.empty() || !seg.starts_with(user)) return false;
    seg.remove_prefix(user.size());
    pat.remove_prefix(pos + placeholder.size());
  }
}

/// Glob matching over segments with backtracking to the last `**` only: O(n*m), no recursion.
bool match_segments(const std::vector<std::string_view>& pat,
                    const std::vector<std::string_view>& dest, std::string_view user) {
  std::size_t i = 0, j = 0, star = pat.size(), mark = 0;
  while (j < dest.size()) {
    if (i < pat.size() && pat[i] == "**") {
      star = i++;
      mark = j;
    } else if (i < pat.size() && segment_matches(pat[i], dest[j], user)) {
      ++i;
      ++j;
    } else if (star != pat.size()) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < pat.size() && pat[i] == "**") ++i;
  return i == pat.size();
}

bool valid_pattern(std::string_view pattern) {
  if (!is_safe_destination(pattern)) return false;  // same hygiene as destinations
  for (const auto seg : segments(pattern)) {
    if (seg == "*" || seg == "**") continue;
    std::string rest(seg);
    for (auto pos = rest.find(placeholder); pos != std::string::npos;
         pos = rest.find(placeholder)) {
      rest.erase(pos, placeholder.size());
    }
    if (rest.find_first_of("*{}") != std::string::npos) return false;
  }
  return true;
}

bool who_matches(std::string_view who, const principal& p) {
  if (who == "*") return true;
  if (who.starts_with("role:")) return p.has_role(who.substr(5));
  if (who.starts_with("user:")) who.remove_prefix(5);
  return !p.name.empty() && p.name == who;
}

acl_rule rule(std::string who, std::vector<std::string> destinations, std::vector<action> actions) {
  return acl_rule{std::move(who), std::move(destinations), std::move(actions), true};
}

}  // namespace

std::vector<acl_rule> default_acl() {
  return {
      rule("*", {"/user/{user}/**"}, {action::subscribe}),
      rule("*", {"/topic/**", "/queue/**"}, {action::subscribe, action::send}),
      rule("role:publisher", {"/user/*/**"}, {action::send}),
  };
}

bool is_safe_destination(std::string_view destination) noexcept {
  if (!destination.starts_with('/')) return false;
  for (const char c : destination) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '%' || c == '\\') return false;
  }
  std::string_view rest = destination.substr(1);
  while (true) {  // every segment non-empty and not a dot segment (RFC 3986 §5.2.4)
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

bool destination_matches(std::string_view pattern, std::string_view destination,
                         std::string_view user) noexcept {
  if (!is_safe_destination(destination) || !pattern.starts_with('/')) return false;
  try {
    return match_segments(segments(pattern), segments(destination), user);
  } catch (...) {  // std::bad_alloc only: refusing is the safe answer
    return false;
  }
}

rules_authorizer::rules_authorizer(std::vector<acl_rule> rules)
    : rules_(rules.empty() ? default_acl() : std::move(rules)) {
  for (const auto& r : rules_) {
    if (r.who.empty() || r.who == "role:" || r.who == "user:") {
      throw std::invalid_argument("acl rule: `who` must name a user, a role or `*`");
    }
    if (r.destinations.empty() || r.actions.empty()) {
      throw std::invalid_argument("acl rule for `" + r.who + "`: needs destinations and actions");
    }
    for (const auto& pattern : r.destinations) {
      if (!valid_pattern(pattern)) {
        throw std::invalid_argument("acl rule for `" + r.who + "`: bad destination pattern `" +
                                    pattern + "`");
      }
    }
  }
}

bool rules_authorizer::allowed(const principal& who, action what,
                               std::string_view destination) const {
  if (!is_safe_destination(destination)) return false;
  for (const auto& r : rules_) {
    if (!who_matches(r.who, who)) continue;
    if (std::find(r.actions.begin(), r.actions.end(), what) == r.actions.end()) continue;
    for (const auto& pattern : r.destinations) {
      if (destination_matches(pattern, destination, who.name)) return r.allow;
    }
  }
  return false;
}

}  // namespace auth
