#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stomp {

/// One header line, already unescaped.
struct header {
  std::string name;
  std::string value;
  friend bool operator==(const header&, const header&) = default;
};

/// A STOMP frame: command, headers in wire order, body bytes (may contain NUL).
/// A plain value type; not thread-safe to mutate concurrently.
struct frame {
  std::string command;
  /// Wire order. When a name repeats, the first one is the frame's value (STOMP 1.2 §Repeated
  /// Header Entries); the parser drops later ones, so a parsed frame has each name once.
  std::vector<header> headers;
  std::string body;

  /// The value of the first header called `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// True when a header called `name` is present.
  bool has(std::string_view name) const noexcept { return get(name).has_value(); }
  /// Replaces the value of the first header called `name`, or appends one.
  void set(std::string name, std::string value);
  /// Appends a header (even if one of that name exists).
  void add(std::string name, std::string value);
  /// Removes every header called `name`.
  void erase(std::string_view name);

  friend bool operator==(const frame&, const frame&) = default;
};

}  // namespace stomp
